"""The Simplified Chinese catalogue is complete, compiled and keeps every placeholder.

No database: the .po file is parsed here, the .mo file is loaded with the standard
library's `gettext`, and Django's own lookup is checked through `translation.override`.
"""

from __future__ import annotations

import gettext
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"

# Python's %-format placeholders: "%(name)s", "%(limit_value)d", "%s", and the literal "%%".
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")
BRACE_PLACEHOLDER = re.compile(r"\{\w*\}")

# Strings whose translation may legitimately equal the English: a bare placeholder.
SAME_AS_ENGLISH_ALLOWED = {"%(label)s"}

KNOWN = {
    "Sign out": "退出",
    "Sign in": "登录",
    "Password": "密码",
    "Lessons": "课程",
    "Student": "学生",
    "Simplified Chinese": "简体中文",
}

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def label(self) -> str:
        return f"django.po:{self.line} {self.msgid!r}"


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """A small PO reader: msgctxt, msgid, msgid_plural, msgstr[n], flags; skips obsolete."""
    entries: list[Entry] = []
    current = Entry()
    target: tuple[str, int] | None = None
    started = False

    def finish() -> None:
        nonlocal current, target, started
        if started:
            entries.append(current)
        current, target, started = Entry(), None, False

    keyword = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(\".*\")$")
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~") or line.startswith("#|"):
            continue
        if line.startswith("#"):
            if started and target is not None and target[0] == "msgstr":
                finish()
            if line.startswith("#,"):
                current.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        match = keyword.match(line)
        if match:
            name, index, value = match.group(1), match.group(2), _unquote(match.group(3))
            if name in ("msgctxt", "msgid") and target is not None and target[0] == "msgstr":
                finish()
            if not started:
                current.line = number
            started = True
            if name == "msgctxt":
                current.msgctxt = value
            elif name == "msgid":
                current.msgid = value
            elif name == "msgid_plural":
                current.msgid_plural = value
            else:
                slot = int(index) if index is not None else 0
                current.msgstr[slot] = value
            target = (name, int(index or 0))
            continue
        assert line.startswith('"') and target is not None, f"django.po:{number}: {raw!r}"
        value = _unquote(line)
        name, slot = target
        if name == "msgctxt":
            current.msgctxt = (current.msgctxt or "") + value
        elif name == "msgid":
            current.msgid += value
        elif name == "msgid_plural":
            current.msgid_plural = (current.msgid_plural or "") + value
        else:
            current.msgstr[slot] += value
    finish()
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return parse_po(PO_PATH)


@pytest.fixture(scope="module")
def messages(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if e.msgid != "" or e.msgctxt is not None]


@pytest.fixture(scope="module")
def compiled() -> gettext.GNUTranslations:
    with MO_PATH.open("rb") as handle:
        return gettext.GNUTranslations(handle)


def _headers(entries: list[Entry]) -> dict[str, str]:
    header = next(e for e in entries if e.msgid == "" and e.msgctxt is None)
    assert "fuzzy" not in header.flags, "the header is marked fuzzy"
    pairs = (line.split(":", 1) for line in header.msgstr[0].splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def test_header_declares_simplified_chinese(entries: list[Entry]) -> None:
    headers = _headers(entries)
    assert headers["Language"] == "zh_Hans"
    assert headers["Plural-Forms"] == "nplurals=1; plural=0;"
    assert "charset=UTF-8" in headers["Content-Type"]


def test_catalogue_is_not_empty(messages: list[Entry]) -> None:
    assert len(messages) > 100


def test_every_message_is_translated_and_not_fuzzy(messages: list[Entry]) -> None:
    fuzzy = [e.label for e in messages if "fuzzy" in e.flags]
    untranslated = [e.label for e in messages if not e.msgstr or not all(e.msgstr.values())]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not untranslated, f"untranslated entries: {untranslated}"


def test_plural_entries_fill_the_single_chinese_form(messages: list[Entry]) -> None:
    plurals = [e for e in messages if e.msgid_plural is not None]
    assert plurals
    for entry in plurals:
        assert sorted(entry.msgstr) == [0], f"{entry.label}: zh has one plural form"


def test_translations_are_not_copies_of_the_english(messages: list[Entry]) -> None:
    copied = [
        e.label
        for e in messages
        if e.msgid not in SAME_AS_ENGLISH_ALLOWED and e.msgstr.get(0) == e.msgid
    ]
    assert not copied, f"left in English: {copied}"


def _placeholders(text: str) -> Counter[str]:
    return Counter(match.group(0) for match in PLACEHOLDER.finditer(text))


def test_python_format_placeholders_are_kept(messages: list[Entry]) -> None:
    broken = []
    for entry in messages:
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        # zh uses its one form for every n, so it follows msgid_plural when there is one.
        wanted = _placeholders(sources[-1])
        for text in entry.msgstr.values():
            found = _placeholders(text)
            if found != wanted:
                broken.append(f"{entry.label}: expected {dict(wanted)}, got {dict(found)}")
        if any("%(" in s for s in sources):
            if "python-format" not in entry.flags and "no-python-format" not in entry.flags:
                broken.append(f"{entry.label}: has placeholders but no python-format flag")
    assert not broken, "\n".join(broken)


def test_brace_placeholders_are_kept(messages: list[Entry]) -> None:
    broken = [
        e.label
        for e in messages
        if Counter(BRACE_PLACEHOLDER.findall(e.msgid))
        != Counter(BRACE_PLACEHOLDER.findall(e.msgstr.get(0, "")))
    ]
    assert not broken, f"{{name}} placeholders changed: {broken}"


def test_compiled_catalogue_matches_the_po_file(
    messages: list[Entry], compiled: gettext.GNUTranslations
) -> None:
    """The .mo is compiled from the current .po: every entry comes back with its msgstr."""
    stale = []
    for entry in messages:
        if entry.msgid_plural is not None:
            if entry.msgctxt is not None:
                got = compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 1)
            else:
                got = compiled.ngettext(entry.msgid, entry.msgid_plural, 1)
        elif entry.msgctxt is not None:
            got = compiled.pgettext(entry.msgctxt, entry.msgid)
        else:
            got = compiled.gettext(entry.msgid)
        if got != entry.msgstr[0]:
            stale.append(f"{entry.label}: .mo has {got!r}")
    assert not stale, "run `manage.py compilemessages`:\n" + "\n".join(stale)
    assert compiled.info().get("language") == "zh_Hans"
    assert compiled.info().get("plural-forms") == "nplurals=1; plural=0;"


@pytest.mark.parametrize(("english", "chinese"), sorted(KNOWN.items()))
def test_known_strings_translate(
    compiled: gettext.GNUTranslations, english: str, chinese: str
) -> None:
    assert compiled.gettext(english) == chinese


def test_plural_lookup_uses_the_single_form(compiled: gettext.GNUTranslations) -> None:
    for n in (0, 1, 2, 5):
        text = compiled.ngettext("%(n)s student", "%(n)s students", n) % {"n": n}
        assert text == f"{n} 名学生"


def test_django_serves_the_catalogue_for_zh_hans() -> None:
    with translation.override("zh-hans"):
        assert translation.gettext("Sign out") == "退出"
        assert translation.ngettext("%(n)s helpful", "%(n)s helpful", 3) % {"n": 3} == (
            "3 个有帮助"
        )
    with translation.override("en"):
        assert translation.gettext("Sign out") == "Sign out"
