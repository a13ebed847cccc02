"""Live explanation text over Redis: the worker publishes, pages and the API subscribe.

Per explanation the worker APPENDs each delta to a key (the live prefix) and PUBLISHes it
with its offset. A reader subscribes first, then reads the prefix, then skips deltas whose
offset is below what it has, so nothing is lost or doubled in between.

Deltas are batched by time: the first goes out at once, later ones every
DELTA_FLUSH_SECONDS, sent by one background thread for every stream of the process in one
Redis pipeline. A model streams one token per chunk; one Redis round trip per token, then
one per stream per interval, were the pipeline's largest costs per explanation
(bench/pipeline.py, docs/performance.md). The final text is
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
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, cast

import redis
import redis.asyncio as aioredis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

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
    # No retries: redis-py's default retries a refused connection with backoff for ~4 s,
    # and the live text is a nicety that must never hold a generation up (a failed send
    # pauses sending instead, see _execute).
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=5,
        socket_connect_timeout=2,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 0),
    )


# Sends to Redis run one at a time in a process: the tail flusher's batch (many streams' held
# text in one pipeline) and a publisher's own sends (first delta, status, done, reset). A
# publisher's events therefore reach Redis in the order they were made: its `done` cannot
# overtake its last delta sitting in a batch. Order: this lock, then a publisher's lock.
_send_lock = threading.Lock()
# After a failed send, sends are skipped for this long (held text stays held and goes out
# with the right offsets once Redis answers again): a Redis that hangs costs one timeout
# per pause under the send lock, not one per send of every generation.
SEND_PAUSE_AFTER_FAILURE_SECONDS = 5.0
_paused_until = 0.0


def _sending_paused() -> bool:
    return time.monotonic() < _paused_until


def _execute(pipe: Any, what: str) -> bool:
    """Run a pipeline (under _send_lock). False when Redis failed: sends pause a while."""
    global _paused_until
    try:
        pipe.execute()
    except redis.RedisError as exc:
        _paused_until = time.monotonic() + SEND_PAUSE_AFTER_FAILURE_SECONDS
        logger.warning(
            "stream publish failed (%s): %s; live text paused for %.0f s",
            what,
            type(exc).__name__,
            SEND_PAUSE_AFTER_FAILURE_SECONDS,
        )
        return False
    return True


class DeltaPublisher:
    """Publishes one generation's deltas. Never raises: a live view is a nicety, the stored
    row is the truth. Thread-safe.

    The first delta goes out at once (the first words appear without delay); later ones
    are held and sent by the process's tail flusher every DELTA_FLUSH_SECONDS, together
    with every other stream's in one Redis pipeline. `status`, `done` and `reset` send what
    is held first, then their event, at once.
    """

    def __init__(self, public_id: str) -> None:
        self.public_id = str(public_id)
        self.offset = 0  # characters received (sent or held)
        self._client = _client()
        self._lock = threading.Lock()
        self._held: list[str] = []
        self._held_offset = 0
        self._sent_any = False
        self._expires = False  # the text key has its TTL

    # -- commands (under self._lock) ------------------------------------------------------

    def _drain(self, pipe: Any) -> None:
        """Queue the held text as one delta on `pipe`."""
        if not self._held:
            return
        text = "".join(self._held)
        self._held.clear()
        key = _text_key(self.public_id)
        pipe.append(key, text)
        if not self._expires:
            pipe.expire(key, KEY_TTL_SECONDS)
            self._expires = True
        self._publish(pipe, {"type": "delta", "offset": self._held_offset, "text": text})
        self._sent_any = True

    def _publish(self, pipe: Any, event: dict[str, Any]) -> None:
        pipe.publish(channel(self.public_id), json.dumps(event))

    # -- sending ------------------------------------------------------------------------

    def _send_now(self, event: dict[str, Any] | None = None, *, reset: bool = False) -> None:
        if self._client is None:
            return
        with _send_lock:
            if _sending_paused():
                if reset:
                    with self._lock:
                        self.offset = 0
                        self._held.clear()
                return
            pipe = self._client.pipeline(transaction=False)
            with self._lock:
                if reset:
                    self.offset = 0
                    self._held.clear()
                    self._expires = False
                    pipe.delete(_text_key(self.public_id))
                else:
                    self._drain(pipe)
                if event is not None:
                    self._publish(pipe, event)
            if len(pipe):
                _execute(pipe, self.public_id)

    def reset(self) -> None:
        """A new attempt starts: readers drop what they showed."""
        self._send_now({"type": "reset"}, reset=True)

    def status(self, status: str) -> None:
        self._send_now({"type": "status", "status": status})

    def done(self, status: str) -> None:
        self._send_now({"type": "done", "status": status})

    def flush(self) -> None:
        """Send the held deltas now."""
        self._send_now()

    def delta(self, text: str) -> None:
        if not text or self._client is None:
            return
        with self._lock:
            was_holding = bool(self._held)
            if not was_holding:
                self._held_offset = self.offset
            self._held.append(text)
            self.offset += len(text)
            first = not self._sent_any
        if first:
            self._send_now()
        elif not was_holding:  # the flusher keeps a publisher until it holds nothing
            _tail_flusher().watch_publisher(self)

    @property
    def is_holding(self) -> bool:
        return bool(self._held)


class _Holder(Protocol):
    """Something in front of a publisher that holds text back for at most an interval (the
    ReplyGuard): the tail flusher calls `flush_due` until it holds nothing."""

    @property
    def is_holding(self) -> bool: ...

    def flush_due(self) -> None: ...


class _TailFlusher:
    """One thread per process: every DELTA_FLUSH_SECONDS while streams are live, it lets the
    holders (guards) release what is due, then sends every publisher's held text in one
    Redis pipeline. One round trip per interval for the whole process instead of one per
    stream per interval: with a hundred generations in flight, those sends were a fifth of
    a worker's CPU (bench/pipeline.py)."""

    def __init__(self) -> None:
        self._holders: weakref.WeakSet[_Holder] = weakref.WeakSet()
        self._publishers: weakref.WeakSet[DeltaPublisher] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        threading.Thread(target=self._run, name="lantern-delta-flusher", daemon=True).start()

    def watch(self, holder: _Holder) -> None:
        with self._lock:
            self._holders.add(holder)
        self._wake.set()

    def watch_publisher(self, publisher: DeltaPublisher) -> None:
        with self._lock:
            self._publishers.add(publisher)
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(DELTA_FLUSH_SECONDS)
            try:
                self._tick()
            except Exception:  # never let one generation stop every live stream
                logger.exception("live stream: sending held text failed")

    def _tick(self) -> None:
        with self._lock:
            holders = list(self._holders)
        for holder in holders:
            try:
                holder.flush_due()  # may hand text to publishers, which then watch themselves
            except Exception:  # one generation's guard must not stop the others' streams
                logger.exception("live stream: a guard failed to release its text")
        with self._lock:
            publishers = list(self._publishers)
        client = _client()
        if client is not None and publishers:
            with _send_lock:
                if _sending_paused():
                    return  # still watched: sent once Redis answers again
                pipe = client.pipeline(transaction=False)
                for publisher in publishers:
                    with publisher._lock:
                        publisher._drain(pipe)
                if len(pipe):
                    _execute(pipe, f"{len(publishers)} streams")
        with self._lock:
            for holder in holders:
                if not holder.is_holding:
                    self._holders.discard(holder)
            for publisher in publishers:
                if not publisher.is_holding:
                    self._publishers.discard(publisher)
            if not self._holders and not self._publishers:
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
    """Have `holder.flush_due()` called every interval until it holds nothing."""
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
        # Built without decode_responses, so replies are bytes.
        prefix = (cast("bytes | None", client.get(_text_key(public_id))) or b"").decode()
        have = len(prefix)
        if prefix:
            yield StreamEvent("delta", text=prefix)
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
) -> AsyncGenerator[StreamEvent | None, None]:
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
        raw = cast("bytes | None", await client.get(_text_key(public_id)))  # not decoded
        prefix = (raw or b"").decode()
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
