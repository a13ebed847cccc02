"""The local safety classifier: a transparent rule set shipped with Lantern.

Used when the school's provider has no moderation endpoint (the offline provider, most
OpenAI-compatible servers), and always on the request side so that checking a question is
fast and never leaves the server. Every rule is a phrase in the lists below, in English and
Simplified Chinese, so a school can read exactly what is checked (docs/safety.md lists the
limits: it sees words, not meaning).

Matching:
- text is normalised first: Unicode NFKC (full-width letters become ASCII), curly quotes
  become straight ones, zero-width characters are removed, case is folded;
- English phrases match whole words (``stab him`` does not match ``establish``), with any
  run of spaces between the words;
- Chinese phrases match anywhere, also when spaces were typed between the characters.

The phrases are chosen to catch first-person statements and direct threats, not the
topics themselves: "why did Romeo kill himself?" in a literature lesson is not matched,
"I want to kill myself" is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

# category -> language -> phrases. Keep each list sorted by theme; add, never silently drop
# (a removed phrase is a behaviour change that schools rely on; note it in docs/safety.md).
# fmt: off
PHRASES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "self_harm": {
        "en": (
            "kill myself", "killing myself", "kill my self", "end my life", "ending my life",
            "take my own life", "want to die", "wanna die", "wish i was dead",
            "wish i were dead", "better off dead", "don't want to live", "dont want to live",
            "don't want to be alive", "no reason to live", "suicidal",
            "thinking about suicide", "thoughts of suicide", "hurt myself", "hurting myself",
            "harm myself", "harming myself", "self harm", "self-harm", "cut myself",
            "cutting myself", "starve myself",
        ),
        "zh": (
            "我想死", "我要自杀", "想自杀", "不想活了", "不想活下去", "活着没意思",
            "活着没有意义", "结束自己的生命", "结束我的生命", "伤害自己", "自残", "割腕",
        ),
    },
    "violence": {
        "en": (
            "i will kill", "i'll kill", "i am going to kill", "i'm going to kill",
            "gonna kill", "kill you", "kill him", "kill her", "kill them", "stab you",
            "stab him", "stab her", "stab them", "shoot you", "shoot him", "shoot her",
            "shoot them", "shoot up the school", "gun to school", "knife to school",
            "beat you up", "beat him up", "beat her up", "beat them up", "make a bomb",
            "build a bomb", "blow up the school", "hurt someone",
        ),
        "zh": (
            "杀了你", "杀了他", "杀了她", "杀死你", "杀死他", "杀死她", "弄死你", "弄死他",
            "打死你", "打死他", "捅死", "炸学校", "炸掉学校", "带刀去学校", "带枪去学校",
            "做炸弹", "制造炸弹",
        ),
    },
    "sexual": {
        "en": (
            "porn", "porno", "pornography", "send nudes", "nudes", "naked pics",
            "naked pictures", "naked photos", "sex video", "sexting", "blowjob", "horny",
            "have sex with",
        ),
        "zh": ("色情", "黄片", "黄色网站", "裸照", "做爱", "约炮", "发裸照"),
    },
    "harassment": {
        "en": (
            "you're stupid", "you are stupid", "you're ugly", "you are ugly", "you're fat",
            "you are fat", "nobody likes you", "no one likes you", "everyone hates you",
            "kill yourself", "kys", "go die", "being bullied", "bullying me", "they bully me",
            "bullied me",
        ),
        "zh": (
            "傻逼", "你真蠢", "你去死", "去死吧", "没人喜欢你", "大家都讨厌你", "被欺负",
            "欺负我", "霸凌",
        ),
    },
    "hate": {
        "en": (
            "nigger", "faggot", "retard", "tranny", "spic", "kike", "wetback", "gook",
            "raghead", "towelhead", "white power", "heil hitler", "gas the jews",
            "go back to your country", "inferior race",
        ),
        "zh": ("支那", "黑鬼", "死基佬", "滚回你的国家", "劣等民族", "劣等种族"),
    },
    "personal_data": {
        "en": (
            "my address is", "i live at", "my home address", "my phone number is",
            "my phone number's", "my cell number", "my mobile number", "call me at",
            "text me at", "my email is", "my e-mail is", "my email address is",
            "my password is", "meet me at", "add me on", "my snapchat", "my instagram",
        ),
        "zh": (
            "我的地址是", "我家住在", "我的电话是", "我的电话号码", "我的手机号", "我的邮箱是",
            "我的密码是", "加我微信", "我的微信", "我的qq",
        ),
    },
}
# fmt: on

CATEGORIES: tuple[str, ...] = tuple(PHRASES)

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """The text the rules see: NFKC, straight quotes, no zero-width characters, casefolded."""
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).translate(_QUOTES)
    return _SPACES.sub(" ", text.casefold())


def _english_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    parts = [r"\s+".join(re.escape(word) for word in p.split()) for p in phrases]
    # Longest first, so the reported phrase is the most specific one.
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9'])(?:" + "|".join(parts) + r")(?![a-z0-9])")


@lru_cache(maxsize=1)
def _compiled() -> dict[str, tuple[re.Pattern[str] | None, tuple[str, ...]]]:
    return {
        category: (
            _english_pattern(tuple(normalise(p) for p in languages.get("en", ()))),
            tuple(normalise(p).replace(" ", "") for p in languages.get("zh", ())),
        )
        for category, languages in PHRASES.items()
    }


def classify(text: str) -> dict[str, list[str]]:
    """The categories whose phrases occur in `text`, each with the phrases found.

    Pure and fast (a few regular expressions); an empty dict means nothing matched.
    """
    clean = normalise(text)
    squeezed = clean.replace(" ", "")
    found: dict[str, list[str]] = {}
    for category, (english, chinese) in _compiled().items():
        hits: list[str] = []
        if english is not None:
            hits.extend(m.group(0) for m in english.finditer(clean))
        hits.extend(phrase for phrase in chinese if phrase in squeezed)
        if hits:
            found[category] = sorted(set(hits))
    return found


__all__ = ["CATEGORIES", "PHRASES", "classify", "normalise"]
