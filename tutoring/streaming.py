"""Live explanation text over Redis: the worker publishes, pages and the API subscribe.

Per explanation the worker APPENDs each delta to a key (the live prefix) and PUBLISHes it
with its offset. A reader subscribes first, then reads the prefix, then skips deltas whose
offset is below what it has, so nothing is lost or doubled in between. The final text is
always in the database; Redis only carries the live part (and may be empty after a
restart: readers then fall back to the stored row).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import redis
import redis.asyncio as aioredis
from django.conf import settings

logger = logging.getLogger(__name__)
KEY_TTL_SECONDS = 3600


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
    """Publishes one generation's deltas. Never raises: a live view is a nicety, the
    stored row is the truth."""

    def __init__(self, public_id: str) -> None:
        self.public_id = str(public_id)
        self.offset = 0
        self._client = _client()
        self._lock = threading.Lock()

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
            if self._client is not None:
                try:
                    self._client.delete(_text_key(self.public_id))
                except redis.RedisError:
                    pass
            self._send({"type": "reset"})

    def status(self, status: str) -> None:
        self._send({"type": "status", "status": status})

    def delta(self, text: str) -> None:
        if not text:
            return
        with self._lock:
            event = {"type": "delta", "offset": self.offset, "text": text}
            self.offset += len(text)
            self._send(event, append=text)

    def done(self, status: str) -> None:
        self._send({"type": "done", "status": status})


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


@lru_cache(maxsize=1)
def _async_client() -> aioredis.Redis | None:
    if not settings.REDIS_URL:
        return None
    return aioredis.Redis.from_url(settings.REDIS_URL, health_check_interval=30)


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
