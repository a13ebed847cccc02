"""The provider-neutral LLM interface: request/response types, typed errors, the Provider protocol.

Nothing here imports a vendor SDK. Services, tasks and the offline provider depend on this
module only; `openai_provider.py` (with `openai_errors.py`) is the one place that knows
about `openai`.

Error contract, relied on by the Celery layer:

- `LLMTransientError` means "the same request may succeed later": retry it, honouring
  `retry_after` when set. Codes: `rate_limited`, `provider_unavailable`, `timeout`,
  `malformed_response`.
- `LLMPermanentError` means "retrying the same request cannot help": surface it. Codes:
  `missing_api_key`, `invalid_api_key`, `permission_denied`, `model_not_found`, `quota_exhausted`,
  `context_too_long`, `bad_request`, `provider_error`, `provider_address_refused` (a
  school-chosen base URL the outbound rule refuses), `own_key_required` (a school-chosen
  base URL without the school's own key).
- `user_message` is safe to show to a student or teacher; `detail` is for operator logs.
  Neither ever contains an API key: both pass through `redact()` on construction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "Completion",
    "CompletionRequest",
    "Grounding",
    "LLMError",
    "LLMPermanentError",
    "LLMTransientError",
    "ModerationResult",
    "Provider",
    "redact",
]


@dataclass(frozen=True)
class Grounding:
    """Structured lesson context for one request.

    The offline provider builds its answer from these fields; network providers ignore them
    because the same context is already rendered into `CompletionRequest.messages`.
    """

    question: str
    lesson_title: str
    material: str
    worked_examples: str
    misconceptions: str
    key_concepts: str
    language: str
    reading_level: str
    exercise_prompt: str = ""
    student_answer: str = ""


@dataclass(frozen=True)
class CompletionRequest:
    """One chat completion to generate.

    `safety_identifier` is a pseudonymous, stable per-user id (never a name or e-mail) that
    lets the provider attribute abuse to a user without learning who they are.
    """

    messages: list[dict[str, str]]
    model: str
    max_tokens: int = 800
    temperature: float | None = 0.3
    safety_identifier: str | None = None
    grounding: Grounding | None = None


@dataclass(frozen=True)
class Completion:
    """A finished completion.

    Token counts come from the provider's usage report; when a provider omits it they are
    estimated (about four characters per token) so budgets still move.
    """

    content: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    request_id: str | None
    finish_reason: str | None
    latency_ms: int


@dataclass(frozen=True)
class ModerationResult:
    """A moderation verdict: `categories` maps category name (the provider's spelling, e.g.
    `self-harm`) to score, and always contains every category the provider flagged."""

    flagged: bool
    categories: dict[str, float]


# Anything shaped like an OpenAI-style secret key or a bearer credential. Provider code also
# redacts the exact key it holds; this pattern is the backstop for keys it does not know
# about (e.g. an upstream proxy echoing a different key).
_SECRET_PATTERN = re.compile(r"\bsk-[A-Za-z0-9_\-*.]{6,}|(?i:bearer)\s+[A-Za-z0-9_\-.~+/=*]{6,}")
_REDACTED = "[redacted]"


def redact(text: str, *secrets: str) -> str:
    """Return `text` with every given secret and anything key-shaped replaced by a marker."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return _SECRET_PATTERN.sub(_REDACTED, text)


class LLMError(Exception):
    """Base of every error a provider raises.

    `code` is machine readable, `user_message` is shown to people, `detail` goes to operator
    logs. All three are free of API keys. `str(error)` is the user message.
    """

    code: str
    user_message: str
    detail: str

    def __init__(self, code: str, user_message: str, *, detail: str = "") -> None:
        self.code = code
        self.user_message = redact(user_message)
        self.detail = redact(detail)
        # (code, user_message) as args lets `cls(*args)` rebuild the error, which is how
        # Celery's JSON result backend deserialises exceptions.
        super().__init__(code, self.user_message)

    def __str__(self) -> str:
        return self.user_message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, user_message={self.user_message!r}, "
            f"detail={self.detail!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps keyword-only state (detail, retry_after) across pickling, e.g. Celery's
        # pickle serializer or multiprocessing.
        return (type(self), (self.code, self.user_message), self.__dict__.copy())


class LLMTransientError(LLMError):
    """The same request may succeed later; `retry_after` is the provider's hint in seconds."""

    retry_after: float | None

    def __init__(
        self,
        code: str,
        user_message: str,
        *,
        detail: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(code, user_message, detail=detail)
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, retry_after={self.retry_after!r})"


class LLMPermanentError(LLMError):
    """Retrying the same request cannot succeed (bad key, no quota, prompt too long, ...)."""


@runtime_checkable
class Provider(Protocol):
    """What services and tasks need from a language model backend.

    Implementations must be safe to call from many threads at once.
    """

    name: str

    def complete(
        self,
        request: CompletionRequest,
        *,
        on_delta: Callable[[str], None] | None = None,
    ) -> Completion:
        """Generate a completion.

        When `on_delta` is given the provider streams and calls it with each new piece of
        text, in order; the pieces concatenate to `Completion.content`. Exceptions raised by
        `on_delta` propagate unchanged. Raises `LLMTransientError` or `LLMPermanentError`.
        """
        ...

    def moderate(self, text: str) -> ModerationResult:
        """Classify `text`. Raises `LLMTransientError` or `LLMPermanentError`."""
        ...
