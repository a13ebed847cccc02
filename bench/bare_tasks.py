"""The baseline of bench/pipeline.py: a bare Celery task making the same SDK call.

Registered on the application's own Celery app (the worker starts with
`--include bench.bare_tasks`), so it runs in the same worker, pool and settings as the
pipeline; it only skips what the pipeline adds: the database, budgets, prompt building and
live deltas. Never loaded by the application itself.
"""

from __future__ import annotations

from functools import lru_cache

import redis
from celery import shared_task
from django.conf import settings

from llm import CompletionRequest, LLMError, OpenAIProvider

DONE_KEY = "bench:bare:done"
FAILED_KEY = "bench:bare:failed"


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


@shared_task(name="bench.bare_complete", ignore_result=True)
def bare_complete(messages: list[dict[str, str]], model: str, max_tokens: int) -> None:
    provider = OpenAIProvider(
        settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL, timeout=settings.LLM_TIMEOUT_SECONDS
    )
    parts: list[str] = []
    try:
        # Streams like the pipeline does; the deltas are only kept, not published.
        provider.complete(
            CompletionRequest(messages=messages, model=model, max_tokens=max_tokens),
            on_delta=parts.append,
        )
    except LLMError:
        _redis().incr(FAILED_KEY)
        return
    _redis().incr(DONE_KEY)
