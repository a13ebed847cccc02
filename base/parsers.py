"""What a request may carry, checked once at the edge: body size, JSON depth, text encoding.

Hostile input (a 10 MB body, JSON nested 1,000 deep, a NUL byte that PostgreSQL refuses,
bytes that are not UTF-8) must get a 4xx before any view or the database sees it, never a
500. `base.middleware.RequestInputMiddleware` runs these checks on every request (query
string, form and JSON bodies) and answers in the interface's own form; `CheckedJSONParser`
is DRF's parser on the same checks, reusing the edge's result.

Limits (config/settings.py): REQUEST_BODY_MAX_BYTES (default 1 MiB, any content type;
Django's DATA_UPLOAD_MAX_MEMORY_SIZE is the same number) and REQUEST_JSON_MAX_DEPTH
(default 32). The errors are part of the API's error codes (docs/api.md): 413
`payload_too_large`, 400 `json_too_deep`, 400 `invalid_encoding`, 400 `bad_request`
(what Django itself refuses); malformed JSON stays 400 `parse_error`. `INPUT_ERRORS`
lists them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import IO, Any
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from base.errors import LanternError

# --- Errors: part of the API's error codes ----------------------------------------------


class InputRejected(LanternError, exceptions.APIException):
    """Base of the request-input errors: domain errors (LanternError, mapped by the API's
    one handler) that DRF also accepts from a parser. `default_code` and `status_code`
    (DRF's names, which the edge middleware reads) are the envelope's `code` and status."""

    status_code = 400
    default_code = "invalid_input"
    code = "invalid_input"
    default_detail: Any = _("This request cannot be accepted.")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # One spelling per subclass (DRF's); LanternError's names follow it.
        cls.code = str(cls.default_code)
        cls.status = cls.status_code

    def __init__(self, detail: Any = None) -> None:
        # LanternError keeps the message; DRF's APIException (next in the MRO) the detail.
        super().__init__(detail or self.default_detail)


class PayloadTooLarge(InputRejected):
    status_code = 413
    default_code = "payload_too_large"
    default_detail = _("The request is too large.")

    def __init__(self) -> None:
        limit = settings.REQUEST_BODY_MAX_BYTES
        super().__init__(
            _("The request body is too large: at most %(size)s bytes are accepted.")
            % {"size": limit}
        )


class JsonTooDeep(InputRejected):
    default_code = "json_too_deep"
    default_detail = _("The JSON is nested too deeply.")

    def __init__(self) -> None:
        depth = settings.REQUEST_JSON_MAX_DEPTH
        super().__init__(
            _("The JSON is nested too deeply: at most %(depth)s levels are accepted.")
            % {"depth": depth}
        )


class BadRequest(InputRejected):
    """A request Django itself refused (too many fields, a bad Host header, …)."""

    default_code = "bad_request"
    default_detail = _("This request could not be understood.")


class InvalidEncoding(InputRejected):
    default_code = "invalid_encoding"
    default_detail = _("The request contains text that is not valid UTF-8.")


# Every error the edge can answer, for the docs and the schema.
INPUT_ERRORS: tuple[type[exceptions.APIException], ...] = (
    PayloadTooLarge,
    JsonTooDeep,
    InvalidEncoding,
    BadRequest,
    exceptions.ParseError,
)

NUL_IN_QUERY = _("The address contains a NUL character, which is not allowed.")
BAD_QUERY = _("The address contains characters that are not valid UTF-8 text.")
NUL_IN_BODY = _("The request contains a NUL character, which is not allowed.")
BAD_BODY = _("The request body is not valid UTF-8 text.")
NUL_IN_PATH = NUL_IN_QUERY

# --- Checks -------------------------------------------------------------------------------


def declared_length(request: HttpRequest) -> int:
    """The body size the client announced (0 when none, or when it is not a number)."""
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def check_text(data: bytes, *, nul: Any, invalid: Any) -> None:
    """Raise InvalidEncoding (with `nul` or `invalid` as its message) unless `data` is
    UTF-8 text without NUL. Strict UTF-8 also refuses encoded surrogates."""
    if b"\x00" in data:
        raise InvalidEncoding(nul)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidEncoding(invalid) from None


def check_urlencoded(raw: bytes, *, nul: Any, invalid: Any) -> None:
    """A query string or form body: its percent-decoded bytes must be UTF-8 text without
    NUL (Django would otherwise replace bad bytes silently and pass NUL to the database)."""
    check_text(unquote_to_bytes(raw), nul=nul, invalid=invalid)


# A JSON string once its escape pairs are gone (see json_depth_exceeds). The closing quote
# is optional so an unterminated string matches to the end instead of failing (a failed
# match would be retried from every later quote).
_JSON_STRING = re.compile(r'"[^"]*"?')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")
# After json.loads: NUL (PostgreSQL refuses it) and lone surrogates (`"\ud800"`, which
# cannot be encoded to UTF-8 on the way to the database).
_FORBIDDEN_CHARACTER = re.compile("[\x00\ud800-\udfff]")


def json_depth_exceeds(text: str, max_depth: int) -> bool:
    """True when `text` nests arrays/objects deeper than `max_depth`, found before parsing:
    Python's json recurses once per level and raises RecursionError on very deep input.

    Escape pairs go first (`\\\\`, then `\\"`: in valid JSON every other backslash escapes
    the character after it), then strings, then everything but brackets; each pass of
    `_INNERMOST` removes one level. All in C: at most `max_depth + 3` linear passes.
    Malformed text may be judged either way; json.loads refuses it next."""
    unescaped = text.replace("\\\\", "").replace('\\"', "")
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", unescaped))
    if len(brackets) <= 2 * max_depth:
        return False  # every level takes two brackets
    for _level in range(max_depth):
        if not brackets:
            return False
        reduced = _INNERMOST.sub("", brackets)
        if reduced == brackets:
            return False  # mismatched brackets: malformed JSON, json.loads says so
        brackets = reduced
    return bool(_INNERMOST.search(brackets))


def _strict_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _check_strings(data: Any) -> None:
    if isinstance(data, str):
        if _FORBIDDEN_CHARACTER.search(data):
            raise InvalidEncoding(NUL_IN_BODY if "\x00" in data else BAD_BODY)
    elif isinstance(data, Mapping):
        for key, value in data.items():
            _check_strings(key)
            _check_strings(value)
    elif isinstance(data, list):
        for item in data:
            _check_strings(item)


def parse_json(raw: bytes) -> Any:
    """The JSON document in `raw`, or InvalidEncoding / JsonTooDeep / ParseError.

    JSON must be UTF-8 (RFC 8259 §8.1), whatever charset the client declared. Recursion in
    `_check_strings` is bounded by REQUEST_JSON_MAX_DEPTH, checked before."""
    check_text(raw, nul=NUL_IN_BODY, invalid=BAD_BODY)
    text = raw.decode("utf-8")
    if json_depth_exceeds(text, settings.REQUEST_JSON_MAX_DEPTH):
        raise JsonTooDeep()
    try:
        data = json.loads(text, parse_constant=_strict_constant)
    except RecursionError:
        raise JsonTooDeep() from None  # deep and malformed (unclosed brackets)
    except ValueError as exc:
        raise exceptions.ParseError(f"JSON parse error - {exc}") from None
    if "\\u" in text:  # NUL and surrogates can only arrive escaped
        _check_strings(data)
    return data


def read_capped(stream: IO[bytes]) -> bytes:
    """At most REQUEST_BODY_MAX_BYTES from `stream`, or PayloadTooLarge (reads one more
    byte to know, never the whole of an oversized body)."""
    limit = settings.REQUEST_BODY_MAX_BYTES
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge()
    return raw


# Set in the ASGI scope by config/asgi.py when a body without a (truthful) Content-Length
# went past the limit: the read stopped there, and the middleware answers 413.
BODY_TOO_LARGE_SCOPE_KEY = "lantern.body_too_large"

# Where the middleware leaves the JSON it parsed, for the DRF parser.
CHECKED_JSON_ATTRIBUTE = "_lantern_checked_json"


def is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


class CheckedJSONParser(JSONParser):
    """DRF's JSON parser on the edge's checks (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]).

    The middleware has usually parsed the body already: that result is reused. Otherwise
    (a request built without the middleware, a body without Content-Length) the same
    checks run here, reading at most the size limit."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        request = (parser_context or {}).get("request")
        django_request = getattr(request, "_request", None)
        checked = getattr(django_request, CHECKED_JSON_ATTRIBUTE, None)
        if checked is not None:
            return checked[0]
        return parse_json(read_capped(stream))
