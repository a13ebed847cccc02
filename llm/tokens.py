"""Offline token counting for budgets and prompt trimming.

Contract: nothing here touches the network. OpenAI models are counted exactly with the
`bpe_openai` tokenizer, whose encodings ship inside the package (tiktoken would download
them on first use, which a worker without network cannot do). Every other model — llama,
qwen, mistral behind Ollama, vLLM or llama.cpp, and the `offline` provider — gets a
character estimate:

- one token per CJK character (Han, kana, Hangul, CJK punctuation), because BPE vocabularies
  of the common open models spend about one token on each of them;
- `ceil(n / 3.5)` tokens for the remaining `n` characters, the usual ratio for Latin-script
  text and code.

The estimate errs on the generous side for English, so a budget computed with it is rarely
exceeded by the real tokenizer.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import bpe_openai

__all__ = [
    "CHARS_PER_TOKEN_ESTIMATE",
    "MESSAGE_OVERHEAD_TOKENS",
    "REPLY_PRIMING_TOKENS",
    "count_message_tokens",
    "count_tokens",
    "encoding_name_for_model",
    "estimate_tokens",
]

CHARS_PER_TOKEN_ESTIMATE = 3.5
# Chat formats wrap every message in a few control tokens (start, role, separator, end) and
# prime the reply with a few more; OpenAI documents 3-4 per message and 3 for the reply.
MESSAGE_OVERHEAD_TOKENS = 4
REPLY_PRIMING_TOKENS = 3

_O200K = "o200k_base"
_CL100K = "cl100k_base"

# Checked in order, so the gpt-4o / gpt-4.1 families win over the plain gpt-4 prefix.
_ENCODING_BY_MODEL_PREFIX: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(chatgpt-4o|gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss)"), _O200K),
    (re.compile(r"^o[1-9](?:$|-)"), _O200K),
    (re.compile(r"^(gpt-4|gpt-3\.5|gpt-35|text-embedding-3|text-embedding-ada-002)"), _CL100K),
)

_CJK = re.compile(
    "["
    "\u2e80-\u2fdf"  # CJK radicals, Kangxi radicals
    "\u3000-\u303f"  # CJK symbols and punctuation (。、「」…)
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3100-\u31ff"  # Bopomofo, Hangul compatibility jamo, kana extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff00-\uffef"  # full-width forms (？！，)
    "\U00020000-\U0002fa1f"  # CJK extensions B-F and compatibility supplement
    "]"
)

# bpe_openai refuses single inputs of 1,000,000 characters or more and results above 200,000
# tokens. A UTF-8 character is at most 4 bytes and a byte-level BPE never emits more tokens
# than bytes, so 50,000 characters stay below both limits.
_CHUNK_CHARS = 50_000


@lru_cache(maxsize=64)
def encoding_name_for_model(model: str) -> str | None:
    """The `bpe_openai` encoding for an OpenAI model name, or None for any other model.

    Accepts gateway-style prefixes (`openai/gpt-4o-mini`) and is case-insensitive.
    """
    name = model.strip().lower().rsplit("/", 1)[-1]
    for pattern, encoding in _ENCODING_BY_MODEL_PREFIX:
        if pattern.match(name):
            return encoding
    return None


@lru_cache(maxsize=4)
def _encoding(name: str) -> bpe_openai.Encoding:
    # Importing bpe_openai parses its bundled rank tables (about a second and 80 MB), so it
    # happens on the first exact count, not when a web process imports this module; each
    # process then keeps the encoding, which is safe to share between threads.
    with warnings.catch_warnings():
        # bpe_openai reads its files with importlib.resources.open_binary, which warns on
        # every load; the warning is about the library, not about anything we can change.
        warnings.simplefilter("ignore", DeprecationWarning)
        import bpe_openai

        return bpe_openai.get_encoding(name)


def count_tokens(text: str, model: str) -> int:
    """How many tokens `text` costs for `model`: exact for OpenAI models, else an estimate.

    Never raises for long or odd input (special-token text like `<|endoftext|>` counts as
    ordinary text, as it does when a student types it) and never uses the network.
    """
    if not text:
        return 0
    encoding_name = encoding_name_for_model(model)
    if encoding_name is None:
        return estimate_tokens(text)
    if len(text) > _CACHED_CHARS_MAX:
        return _count_exact(encoding_name, text)
    return _count_cached(encoding_name, text)


def _count_exact(encoding_name: str, text: str) -> int:
    encoding = _encoding(encoding_name)
    return sum(len(encoding.encode_ordinary(chunk)) for chunk in _chunks(text))


# Prompts repeat the same long texts: one explanation's prompt is counted several times while
# it is fitted to its budget, and the next explanation of the same lesson and student has the
# same system message. Counting a 3,000-token prompt costs far more than hashing it. Bounded:
# at most _CACHED_TEXTS texts of at most _CACHED_CHARS_MAX characters stay in memory.
_CACHED_TEXTS = 512
_CACHED_CHARS_MAX = 32_000
_count_cached = lru_cache(maxsize=_CACHED_TEXTS)(_count_exact)


def count_message_tokens(messages: list[dict[str, str]], model: str) -> int:
    """Tokens a chat request with `messages` costs for `model`, including the chat format.

    Each message costs its content plus `MESSAGE_OVERHEAD_TOKENS` (its role included), plus
    its `name` when present; the request adds `REPLY_PRIMING_TOKENS` once.
    """
    total = REPLY_PRIMING_TOKENS
    for message in messages:
        total += MESSAGE_OVERHEAD_TOKENS + count_tokens(message.get("content", ""), model)
        if message.get("name"):
            total += 1 + count_tokens(message["name"], model)
    return total


def estimate_tokens(text: str) -> int:
    """The character estimate described in the module docstring."""
    cjk = len(_CJK.findall(text))
    return cjk + math.ceil((len(text) - cjk) / CHARS_PER_TOKEN_ESTIMATE)


def _chunks(text: str) -> Iterator[str]:
    # Cut at whitespace where possible so a word is not split in two, which would add a token.
    start = 0
    while len(text) - start > _CHUNK_CHARS:
        end = start + _CHUNK_CHARS
        space = text.rfind(" ", start + _CHUNK_CHARS // 2, end)
        if space != -1:
            end = space
        yield text[start:end]
        start = end
    yield text[start:]
