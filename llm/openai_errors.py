"""Translation of `openai` SDK failures into the typed `LLMTransientError` /
`LLMPermanentError` (with the server's Retry-After), for `llm.openai_provider`.

Every detail is redacted of the API key; the readable messages come from llm/messages.py.
"""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime

import httpx2
import openai

from llm.base import LLMError, LLMPermanentError, LLMTransientError, redact
from llm.messages import PROVIDER_MESSAGES
from llm.outbound import REFUSED_CODE, OutboundRefused, is_refusal

__all__ = ["SDK_FAILURES", "permanent_error", "transient_error", "translate"]

# Errors the SDK can surface from a call or from iterating a stream. JSONDecodeError escapes
# the SDK unwrapped when a 200 response claims JSON but is not; httpx2 errors can escape from
# a stream that breaks after the response started.
SDK_FAILURES: tuple[type[Exception], ...] = (
    openai.OpenAIError,
    json.JSONDecodeError,
    httpx2.HTTPError,
)

# The readable message of each provider error code (llm/messages.py, a leaf
# so that showing a stored failure does not import this SDK adapter).
_MESSAGES = PROVIDER_MESSAGES


def transient_error(code: str, detail: str, retry_after: float | None = None) -> LLMTransientError:
    """The retryable error `code`, with its readable message and the operator's `detail`."""
    return LLMTransientError(code, str(_MESSAGES[code]), detail=detail, retry_after=retry_after)


def permanent_error(code: str, detail: str) -> LLMPermanentError:
    """The non-retryable error `code`, with its readable message and the operator's `detail`."""
    return LLMPermanentError(code, str(_MESSAGES[code]), detail=detail)


def translate(exc: Exception, api_key: str, *, mid_stream: bool) -> LLMError:
    """The typed error for one SDK failure, its detail redacted of `api_key`.

    A failure once a stream has started is a cut-off answer (`mid_stream`); an outbound
    refusal is the permanent `provider_address_refused`; HTTP statuses map by
    `_translate_status`.
    """
    detail = redact(f"{type(exc).__name__}: {exc}", api_key)
    if is_refusal(exc):
        return permanent_error(REFUSED_CODE, f"{detail} ({_refusal_reason(exc)})")
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
        return transient_error("timeout", detail)
    if isinstance(exc, openai.APIConnectionError | httpx2.HTTPError):
        # A connection that drops after the answer started is a cut-off answer.
        code = "malformed_response" if mid_stream else "provider_unavailable"
        return transient_error(code, detail)
    if isinstance(exc, openai.APIStatusError):
        return _translate_status(exc, detail)
    if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError):
        return transient_error("malformed_response", detail)
    if isinstance(exc, openai.APIError):
        # An error event inside a stream (no HTTP status): the server failed mid-answer.
        return transient_error("provider_unavailable", detail)
    return permanent_error("provider_error", detail)


def _refusal_reason(exc: BaseException | None) -> str:
    """The operator-only reason of an outbound refusal (which address, which rule)."""
    while exc is not None and not isinstance(exc, OutboundRefused):
        exc = exc.__cause__ or exc.__context__
    return exc.reason if exc is not None else "refused"


def _translate_status(exc: openai.APIStatusError, detail: str) -> LLMError:
    status = exc.status_code
    code = exc.code or ""
    kind = exc.type or ""
    detail = f"{detail} (status={status}, request_id={exc.request_id})"
    # OpenAI reports an empty prepaid balance as a 429, but retrying cannot refill it.
    if "insufficient_quota" in (code, kind):
        return permanent_error("quota_exhausted", detail)
    if status == 429:
        return transient_error("rate_limited", detail, _retry_after(exc.response.headers))
    if status in (408, 409) or status >= 500:
        return transient_error("provider_unavailable", detail, _retry_after(exc.response.headers))
    if status == 400 and (
        code == "context_length_exceeded" or "maximum context length" in exc.message
    ):
        return permanent_error("context_too_long", detail)
    if status == 401:
        return permanent_error("invalid_api_key", detail)
    if status == 403:
        return permanent_error("permission_denied", detail)
    if status == 404:
        return permanent_error("model_not_found", detail)
    return permanent_error("bad_request", detail)


def _retry_after(headers: httpx2.Headers) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `retry-after` as seconds or an HTTP date."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(float(milliseconds) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
