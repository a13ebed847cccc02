"""Moderation calls of one provider client, sent together by the threads that need them.

Texts asked for while a request is out go together in the next one (the moderation
endpoint takes a list). Used by `OpenAIProvider.moderate`; knows nothing of the SDK.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from llm.base import LLMError, ModerationResult

__all__ = [
    "MODERATION_BATCH_CHARS",
    "MODERATION_BATCH_TEXTS",
    "ModerationQueue",
    "moderation_queue_for",
]

# Texts per request, and characters, at most: a burst goes out as several requests.
MODERATION_BATCH_TEXTS = 16
MODERATION_BATCH_CHARS = 64_000


class _Waiter:
    __slots__ = ("done", "leads", "outcome", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.done = threading.Event()
        self.leads = False  # woken to send the next request rather than with a result
        self.outcome: ModerationResult | BaseException | None = None


class ModerationQueue:
    """Moderation calls of one SDK client, sent together: group commit.

    A thread that finds no request out sends its text at once (no added wait when the
    worker is quiet). Threads that arrive while a request is out queue up; when it comes
    back, its sender hands over to the first of them, which sends everything queued so far
    (up to MODERATION_BATCH_TEXTS) in one request. Under load one request carries many
    texts; each caller still gets its own result, or the error of its request.
    """

    def __init__(self, send: Callable[[list[str]], list[ModerationResult | LLMError]]) -> None:
        self._send = send
        self._lock = threading.Lock()
        self._queue: list[_Waiter] = []
        self._sending = False

    def moderate(self, text: str) -> ModerationResult:
        me = _Waiter(text)
        with self._lock:
            self._queue.append(me)
            leads = not self._sending
            self._sending = True
        if not leads:
            me.done.wait()
        if me.leads or leads:
            self._lead()
        outcome = me.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None
        return outcome

    def _lead(self) -> None:
        with self._lock:
            batch: list[_Waiter] = []
            chars = 0
            while self._queue and len(batch) < MODERATION_BATCH_TEXTS:
                chars += len(self._queue[0].text)
                if batch and chars > MODERATION_BATCH_CHARS:
                    break
                batch.append(self._queue.pop(0))
        try:
            outcomes: list[ModerationResult | BaseException] = list(
                self._send([waiter.text for waiter in batch])
            )
        except BaseException as exc:  # noqa: BLE001 - every caller re-raises it as its own
            outcomes = [exc] * len(batch)
        finally:
            with self._lock:
                following = self._queue[0] if self._queue else None
                self._sending = following is not None
            if following is not None:
                following.leads = True
                following.done.set()
        for waiter, outcome in zip(batch, outcomes, strict=True):
            waiter.outcome = outcome
            waiter.leads = False
            waiter.done.set()


_queues: dict[tuple[Any, ...], ModerationQueue] = {}
_queues_lock = threading.Lock()


def moderation_queue_for(
    key: tuple[Any, ...], send: Callable[[list[str]], list[ModerationResult | LLMError]]
) -> ModerationQueue:
    """The queue of one SDK client and timeout; `send` is the first provider's own (every
    provider of that key sends the same way)."""
    with _queues_lock:
        queue = _queues.get(key)
        if queue is None:
            queue = _queues[key] = ModerationQueue(send)
        return queue
