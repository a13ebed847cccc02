"""Live explanation text over Redis: the worker publishes, pages and the API subscribe.

Per explanation the worker APPENDs each delta to a key (the live prefix) and PUBLISHes it
with its offset. A reader subscribes first, then reads the prefix, then skips deltas whose
offset is below what it has, so nothing is lost or doubled in between.

Deltas are batched by time: the first goes out at once, later ones at most every
DELTA_FLUSH_SECONDS (a background thread sends a held tail when the model pauses). A model
streams one token per chunk; one Redis round trip per token was the pipeline's largest
cost per explanation (bench/pipeline.py, docs/performance.md). The final text is
always in the database; Redis only carries the live part (and may be empty after a
restart: readers then fall back to the stored row).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import redis
import redis.asyncio as aioredis
from django.conf import settings

logger = logging.getLogger(__name__)
KEY_TTL_SECONDS = 3600
# Live text reaches readers at most this much later than the model sent it.
DELTA_FLUSH_SECONDS = 0.05


def channel(public_id: str) -> str:
    return f"lantern:explanation:{public_id}"


def _text_key(public_id: str) -> str:
    return f"lantern:explanation:{public_id}:text"


@lru_cache(maxsize=1)
def _client() -> redis.Redis | None:
    if not settings.REDIS_URL:
        return None
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, health_check_interval=30)


class DeltaPublisher:
    """Publishes one generation's deltas, batched by time. Never raises: a live view is a
    nicety, the stored row is the truth. Thread-safe."""

    def __init__(self, public_id: str, *, flush_seconds: float = DELTA_FLUSH_SECONDS) -> None:
        self.public_id = str(public_id)
        self.offset = 0  # characters received (sent or held)
        self.flush_seconds = flush_seconds
        self._client = _client()
        self._lock = threading.Lock()
        self._held: list[str] = []
        self._held_offset = 0
        self._held_since = 0.0
        self._sent_at = 0.0  # monotonic time of the last delta sent; 0: none yet

    def _send(self, event: dict[str, Any], append: str | None = None) -> None:
        if self._client is None:
            return
        try:
            pipe = self._client.pipeline(transaction=False)
            if append is not None:
                pipe.append(_text_key(self.public_id), append)
                pipe.expire(_text_key(self.public_id), KEY_TTL_SECONDS)
            pipe.publish(channel(self.public_id), json.dumps(event))
            pipe.execute()
        except redis.RedisError as exc:
            logger.warning("stream publish failed for %s: %s", self.public_id, type(exc).__name__)

    def reset(self) -> None:
        """A new attempt starts: readers drop what they showed."""
        with self._lock:
            self.offset = 0
            self._held.clear()
            if self._client is not None:
                try:
                    self._client.delete(_text_key(self.public_id))
                except redis.RedisError:
                    pass
            self._send({"type": "reset"})

    def status(self, status: str) -> None:
        self.flush()
        self._send({"type": "status", "status": status})

    def delta(self, text: str) -> None:
        if not text or self._client is None:
            return
        with self._lock:
            now = time.monotonic()
            if not self._held:
                self._held_offset = self.offset
                self._held_since = now
            self._held.append(text)
            self.offset += len(text)
            if now - self._sent_at >= self.flush_seconds:
                self._flush_held(now)
            else:
                tail_flusher_watch(self)

    def flush(self, *, older_than: float = 0.0) -> None:
        """Send the held deltas (only when held at least `older_than` seconds)."""
        with self._lock:
            now = time.monotonic()
            if self._held and now - self._held_since >= older_than:
                self._flush_held(now)

    def flush_due(self) -> None:
        """Send what has been held a whole interval (the tail flusher calls this)."""
        self.flush(older_than=self.flush_seconds)

    def _flush_held(self, now: float) -> None:
        text = "".join(self._held)
        self._held.clear()
        self._sent_at = now
        self._send({"type": "delta", "offset": self._held_offset, "text": text}, append=text)

    @property
    def is_holding(self) -> bool:
        return bool(self._held)

    def done(self, status: str) -> None:
        self.flush()
        self._send({"type": "done", "status": status})


class _Holder(Protocol):
    """Something that holds text back for at most an interval: a DeltaPublisher, or the
    ReplyGuard in front of it."""

    @property
    def is_holding(self) -> bool: ...

    def flush_due(self) -> None: ...


class _TailFlusher:
    """One thread per process that sends what publishers (and guards) hold once it is
    DELTA_FLUSH_SECONDS old, so a pause in the model's stream never holds text back longer
    than that."""

    def __init__(self) -> None:
        self._watched: weakref.WeakSet[_Holder] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        threading.Thread(target=self._run, name="lantern-delta-flusher", daemon=True).start()

    def watch(self, holder: _Holder) -> None:
        with self._lock:
            self._watched.add(holder)
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(DELTA_FLUSH_SECONDS / 2)
            with self._lock:
                watched = list(self._watched)
            for holder in watched:
                try:
                    holder.flush_due()
                except Exception:  # never let one generation stop every live stream
                    logger.exception("live stream: flushing held text failed")
            with self._lock:
                for holder in watched:
                    if not holder.is_holding:
                        self._watched.discard(holder)
                if not self._watched:
                    self._wake.clear()


_tail_flusher_lock = threading.Lock()
_tail_flusher_instance: _TailFlusher | None = None


def _tail_flusher() -> _TailFlusher:
    global _tail_flusher_instance
    with _tail_flusher_lock:
        if _tail_flusher_instance is None:
            _tail_flusher_instance = _TailFlusher()
        return _tail_flusher_instance


def tail_flusher_watch(holder: _Holder) -> None:
    """Have `holder.flush_due()` called until it holds nothing."""
    _tail_flusher().watch(holder)


@dataclass(frozen=True)
class StreamEvent:
    type: str  # "delta" | "status" | "reset" | "done"
    text: str = ""
    status: str = ""


def _decode(raw: bytes | str) -> dict[str, Any]:
    return json.loads(raw if isinstance(raw, str) else raw.decode())


def _follow(event: dict[str, Any], have: int) -> tuple[StreamEvent | None, int]:
    """Turn a published event into what the reader needs, given `have` chars shown."""
    kind = event.get("type")
    if kind == "delta":
        offset, text = int(event["offset"]), str(event["text"])
        if offset + len(text) <= have:
            return None, have
        text = text[max(0, have - offset) :]
        return StreamEvent("delta", text=text), max(have, offset) + len(text)
    if kind == "reset":
        return StreamEvent("reset"), 0
    if kind in ("status", "done"):
        return StreamEvent(kind, status=str(event.get("status", ""))), have
    return None, have


def live_events(public_id: str, *, timeout: float = 120.0) -> Iterator[StreamEvent]:
    """Sync reader: the live prefix as one delta, then live events until `done`.

    The caller checks the stored row first; this is only for explanations not yet terminal.
    """
    client = _client()
    if client is None:
        return
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel(public_id))
    try:
        prefix = (client.get(_text_key(public_id)) or b"").decode()
        have = len(prefix)
        if prefix:
            yield StreamEvent("delta", text=prefix)
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            event, have = _follow(_decode(message["data"]), have)
            if event is not None:
                yield event
                if event.type == "done":
                    return
    finally:
        pubsub.close()


# An asyncio Redis client works only in the event loop that opened it: one per loop (uvicorn
# has one; WSGI and the test client run each async request in a fresh loop).
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
    weakref.WeakKeyDictionary()
)


def _async_client() -> aioredis.Redis | None:
    if not settings.REDIS_URL:
        return None
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        # Every open stream holds one pub/sub connection: size the pool for the streams a
        # web process may serve (redis-py's default of 100 would refuse the 101st).
        client = aioredis.Redis.from_url(
            settings.REDIS_URL,
            health_check_interval=30,
            max_connections=settings.STREAM_MAX_REDIS_CONNECTIONS,
        )
        _async_clients[loop] = client
    return client


async def alive_events(
    public_id: str, *, skip: int = 0, idle_timeout: float = 15.0
) -> AsyncIterator[StreamEvent | None]:
    """Async reader for SSE: yields events, and None every `idle_timeout` seconds without
    one (so the caller can send a keep-alive and re-check the stored row).

    `skip`: characters the client already has (Last-Event-ID), not sent again.
    """
    client = _async_client()
    if client is None:
        return
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel(public_id))
    try:
        prefix = ((await client.get(_text_key(public_id))) or b"").decode()
        have = skip
        if len(prefix) > skip:
            yield StreamEvent("delta", text=prefix[skip:])
            have = len(prefix)
        while True:
            message = await pubsub.get_message(timeout=idle_timeout)
            if message is None:
                yield None
                continue
            event, have = _follow(_decode(message["data"]), have)
            if event is not None:
                yield event
                if event.type == "done":
                    return
    finally:
        await pubsub.aclose()
