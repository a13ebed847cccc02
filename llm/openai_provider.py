"""`Provider` backed by the official `openai` SDK (3.x, sync client) — with
`llm.openai_errors` (its failure translation), the only modules that import `openai`.

Works against api.openai.com and any OpenAI-compatible server (a school's proxy, the fake
server in tests). The SDK's own retries are off: retrying is decided by the Celery layer
from the typed errors raised here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import openai
from openai.types.chat import ChatCompletionChunk

from llm.base import Completion, CompletionRequest, LLMError, ModerationResult, redact
from llm.moderation_queue import moderation_queue_for
from llm.openai_errors import SDK_FAILURES, permanent_error, transient_error, translate
from llm.outbound import GuardedTransport

__all__ = ["DEFAULT_BASE_URL", "MODERATION_MODEL", "OpenAIProvider"]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
MODERATION_MODEL = "omni-moderation-latest"

_T = TypeVar("_T")


class _Secret:
    """Holds the API key so that repr(), vars() dumps and debuggers show a mask, not the key."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


# One SDK client per (key, base URL, guarded): each owns an httpx2 connection pool, and
# sharing it across threads and provider instances is what keeps connections warm. httpx2
# clients are thread-safe. Keyed by a key digest so the mapping never holds a key in its keys.
_clients: dict[tuple[str, str, bool], openai.OpenAI] = {}
_clients_lock = threading.Lock()


def _client_for(api_key: str, base_url: str, *, guarded: bool) -> openai.OpenAI:
    cache_key = (hashlib.sha256(api_key.encode()).hexdigest(), base_url, guarded)
    with _clients_lock:
        client = _clients.get(cache_key)
        if client is None:
            client = openai.OpenAI(
                api_key=api_key,
                # Explicit, so OPENAI_BASE_URL in the environment can never redirect a
                # school's key somewhere else.
                base_url=base_url,
                max_retries=0,
                # A school-chosen address: every request and connection (chat, moderation,
                # redirects) is checked by the outbound rule. No environment proxies, which
                # would connect out of the check's sight.
                http_client=(
                    openai.DefaultHttpxClient(transport=GuardedTransport(), trust_env=False)
                    if guarded
                    else None
                ),
            )
            _clients[cache_key] = client
        return client


class OpenAIProvider:
    """Chat completions and moderation through the official SDK.

    Thread-safe; cheap to construct (the SDK client and its pool are shared per key and
    base URL). `timeout` bounds each wait for bytes from the server (not the whole
    answer, so a long stream that keeps producing is not cut off); `connect_timeout` bounds
    opening a connection. Every failure is raised as `LLMTransientError` or
    `LLMPermanentError` whose messages never contain the key.

    `school_chosen_url=True` marks `base_url` as typed by a school admin: requests then go
    only to addresses the outbound rule allows (llm/outbound.py) and a refused or
    unresolvable one fails with the permanent `provider_address_refused`. The operator's
    own base URL is trusted and left unchecked (it may well be a private address).
    """

    name = "openai"

    def __init__(
        self,
        api_key: str,
        base_url: str | None,
        *,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        max_retries: int = 0,
        school_chosen_url: bool = False,
    ) -> None:
        if not api_key:
            raise permanent_error(
                "missing_api_key", "OpenAIProvider constructed without an API key"
            )
        self._api_key = _Secret(api_key)
        self._base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._timeout = openai.Timeout(timeout, connect=connect_timeout)
        client = _client_for(api_key, self._base_url, guarded=school_chosen_url)
        # Default 0: retries belong to the Celery layer. A non-zero value gets a copy of the
        # client that shares the same connection pool.
        self._client = client.with_options(max_retries=max_retries) if max_retries else client
        # Keyed by the shared client (kept for the life of the process), not by a copy.
        self._moderation = moderation_queue_for(
            (id(client), max_retries, timeout, connect_timeout), self._moderate_batch
        )

    def __repr__(self) -> str:
        return (
            f"OpenAIProvider(base_url={redact(self._base_url, self._api_key.reveal())!r}, "
            f"timeout={self._timeout.read!r}, "
            f"connect_timeout={self._timeout.connect!r})"
        )

    # -- public API --------------------------------------------------------------------

    def complete(
        self,
        request: CompletionRequest,
        *,
        on_delta: Callable[[str], None] | None = None,
    ) -> Completion:
        """Generate a completion; stream through `on_delta` when given.

        Guarantees: streamed pieces arrive in order and concatenate to `content`; token
        counts are the provider's, or estimates when it reports none. Raises
        `LLMTransientError`/`LLMPermanentError`; exceptions from `on_delta` propagate
        unchanged and close the stream. Not idempotent (each call is billed).
        """
        started = time.monotonic()
        if on_delta is None:
            return self._complete_once(request, started)
        return self._complete_streaming(request, on_delta, started)

    def moderate(self, text: str) -> ModerationResult:
        """Classify `text` with `omni-moderation-latest`.

        Returns every category score the provider reported, flagged ones always included.
        Raises `LLMTransientError`/`LLMPermanentError`. Texts asked for by several threads
        at once go in one request (`ModerationQueue`); each caller gets its own result.
        """
        return self._moderation.moderate(text)

    def _moderate_batch(self, texts: list[str]) -> list[ModerationResult | LLMError]:
        """One moderation request for `texts` (a plain string when there is one, as every
        OpenAI-compatible server accepts): a result, or the error, per text."""
        body = self._call(
            lambda: json.loads(
                self._client.moderations.with_raw_response.create(
                    input=texts[0] if len(texts) == 1 else texts,
                    model=MODERATION_MODEL,
                    timeout=self._timeout,
                ).content
            )
        )
        # The body is read as plain JSON: building the SDK's typed models for every category
        # of every result cost more CPU than the request itself (docs/performance.md).
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) != len(texts):
            raise transient_error("malformed_response", "moderation response without its results")
        return [_moderation_result(result) for result in results]

    # -- completions -------------------------------------------------------------------

    def _params(self, request: CompletionRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": request.model,
            "messages": request.messages,
            # `max_tokens` is deprecated and rejected by reasoning models.
            "max_completion_tokens": request.max_tokens,
            "timeout": self._timeout,
        }
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.safety_identifier:
            params["safety_identifier"] = request.safety_identifier
        return params

    def _complete_once(self, request: CompletionRequest, started: float) -> Completion:
        completion = self._call(
            lambda: self._client.chat.completions.create(**self._params(request))
        )
        choices = getattr(completion, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise transient_error("malformed_response", "chat completion without choices")
        message = getattr(choices[0], "message", None)
        content = getattr(message, "content", None)
        if content is None:
            # A refusal arrives in its own field with `content` null; show it as the answer.
            content = getattr(message, "refusal", None) or ""
        if not isinstance(content, str):
            raise transient_error("malformed_response", "chat completion content is not text")
        finish_reason = getattr(choices[0], "finish_reason", None)
        return self._build(
            request,
            content=content,
            model=getattr(completion, "model", None),
            usage=getattr(completion, "usage", None),
            request_id=getattr(completion, "_request_id", None),
            finish_reason=finish_reason if isinstance(finish_reason, str) else None,
            started=started,
        )

    def _complete_streaming(
        self,
        request: CompletionRequest,
        on_delta: Callable[[str], None],
        started: float,
    ) -> Completion:
        stream = self._call(
            lambda: self._client.chat.completions.create(
                **self._params(request),
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        request_id = stream.response.headers.get("x-request-id")
        parts: list[str] = []
        usage: object = None
        model: object = None
        finish_reason: str | None = None
        with stream:
            for chunk in self._chunks(iter(stream)):
                model = getattr(chunk, "model", None) or model
                usage = getattr(chunk, "usage", None) or usage
                choices = getattr(chunk, "choices", None)
                if not isinstance(choices, list):
                    raise transient_error("malformed_response", "stream chunk without choices")
                for choice in choices:
                    if getattr(choice, "index", 0) != 0:
                        continue
                    text = getattr(getattr(choice, "delta", None), "content", None)
                    if isinstance(text, str) and text:
                        parts.append(text)
                        on_delta(text)
                    reason = getattr(choice, "finish_reason", None)
                    if isinstance(reason, str):
                        finish_reason = reason
        if finish_reason is None:
            # Every complete stream ends its choice with a finish_reason; without one the
            # text is a truncated answer that must not be stored as if it were whole.
            raise transient_error(
                "malformed_response",
                f"stream ended without finish_reason (request_id={request_id})",
            )
        return self._build(
            request,
            content="".join(parts),
            model=model,
            usage=usage,
            request_id=request_id,
            finish_reason=finish_reason,
            started=started,
        )

    def _chunks(self, iterator: Iterator[ChatCompletionChunk]) -> Iterator[ChatCompletionChunk]:
        """Yield stream chunks, translating SDK failures; the caller's code runs between
        yields, so its own exceptions are never mistaken for provider failures."""
        while True:
            chunk = self._call(lambda: next(iterator, None), mid_stream=True)
            if chunk is None:
                return
            yield chunk

    def _build(
        self,
        request: CompletionRequest,
        *,
        content: str,
        model: object,
        usage: object,
        request_id: object,
        finish_reason: str | None,
        started: float,
    ) -> Completion:
        prompt_tokens = getattr(usage, "prompt_tokens", None)
        completion_tokens = getattr(usage, "completion_tokens", None)
        cached_tokens = getattr(getattr(usage, "prompt_tokens_details", None), "cached_tokens", 0)
        if not isinstance(prompt_tokens, int) or not isinstance(completion_tokens, int):
            # Some OpenAI-compatible servers omit usage; an estimate keeps budgets honest
            # enough, and the warning tells operators their numbers are approximate.
            logger.warning(
                "LLM response without usage; estimating tokens (request_id=%s)", request_id
            )
            prompt_chars = sum(len(message.get("content") or "") for message in request.messages)
            prompt_tokens = prompt_chars // 4
            completion_tokens = len(content) // 4
            cached_tokens = 0
        return Completion(
            content=content,
            model=model if isinstance(model, str) and model else request.model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cached_tokens=cached_tokens if isinstance(cached_tokens, int) else 0,
            request_id=request_id if isinstance(request_id, str) else None,
            finish_reason=finish_reason,
            latency_ms=int((time.monotonic() - started) * 1000),
        )

    # -- error translation ---------------------------------------------------------------

    def _call(self, operation: Callable[[], _T], *, mid_stream: bool = False) -> _T:
        """Run one SDK operation, translating its failures into typed errors.

        The typed error is raised outside the `except` block on purpose: it then carries no
        `__context__`, so a traceback can never print the SDK exception (whose request holds
        the Authorization header and whose message may quote the key).
        """
        try:
            return operation()
        except SDK_FAILURES as exc:
            failure = translate(exc, self._api_key.reveal(), mid_stream=mid_stream)
        raise failure


def _moderation_result(result: object) -> ModerationResult | LLMError:
    """One result of a moderation response body (keyed by API names: `self-harm`)."""
    if not isinstance(result, dict) or not isinstance(result.get("flagged"), bool):
        return transient_error("malformed_response", "moderation result without `flagged`")
    flagged: bool = result["flagged"]
    scores = result.get("category_scores")
    flags = result.get("categories")
    scores = scores if isinstance(scores, dict) else {}
    flags = flags if isinstance(flags, dict) else {}
    categories = {
        name: float(score)
        for name, score in scores.items()
        if isinstance(score, int | float) and not isinstance(score, bool)
    }
    for name, is_flagged in flags.items():
        # A flagged category must never disappear just because its score is missing.
        if is_flagged is True and name not in categories:
            categories[name] = 1.0
    return ModerationResult(flagged=flagged, categories=categories)
