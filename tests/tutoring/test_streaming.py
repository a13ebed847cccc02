"""The live stream under load: many generations of one worker process publish at once.

Held text of every stream goes out in one Redis pipeline per interval; each reader must
still get its own stream's text whole, in order, and `done` only after the last delta.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tutoring.live.channel import DeltaPublisher, _client, _text_key, channel, live_events

STREAMS = 20
WORDS = 60


def _wait_subscribed(public_ids: list[str], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = _client().pubsub_numsub(*[channel(p) for p in public_ids])  # type: ignore[union-attr]  # Redis is set in tests
        if all(count == 1 for _, count in counts):
            return
        time.sleep(0.01)
    raise AssertionError("readers did not subscribe")


def _generate(public_id: str, words: list[str]) -> None:
    publisher = DeltaPublisher(public_id)
    publisher.status("running")
    for word in words:
        publisher.delta(word)
        if len(word) % 7 == 0:
            time.sleep(0.001)  # a model's uneven pace
    publisher.done("succeeded")


def test_many_streams_at_once_each_arrive_whole_in_order_and_end_with_done():
    public_ids = [str(uuid.uuid4()) for _ in range(STREAMS)]
    texts = {
        public_id: [f"w{n}-{i} " for i in range(WORDS)] for n, public_id in enumerate(public_ids)
    }
    received: dict[str, list] = {public_id: [] for public_id in public_ids}
    readers = [
        threading.Thread(target=lambda p=p: received[p].extend(live_events(p, timeout=20)))
        for p in public_ids
    ]
    for reader in readers:
        reader.start()
    _wait_subscribed(public_ids)
    writers = [threading.Thread(target=_generate, args=(p, texts[p])) for p in public_ids]
    for writer in writers:
        writer.start()
    for thread in writers + readers:
        thread.join(30)

    for public_id in public_ids:
        events = received[public_id]
        shown = "".join(event.text for event in events if event.type == "delta")
        assert shown == "".join(texts[public_id])
        assert events[-1].type == "done" and events[-1].status == "succeeded"
        deltas = sum(1 for event in events if event.type == "delta")
        assert 1 < deltas < WORDS  # batched, yet live before the end
        # The live prefix a late reader starts from is the whole text too.
        assert _client().get(_text_key(public_id)).decode() == shown
        assert 0 < _client().ttl(_text_key(public_id)) <= 3600


def test_a_reset_clears_the_live_prefix_and_the_next_attempt_starts_from_zero():
    public_id = str(uuid.uuid4())
    first = DeltaPublisher(public_id)
    first.delta("an attempt that failed")
    first.done("queued")
    second = DeltaPublisher(public_id)
    second.reset()
    assert _client().get(_text_key(public_id)) is None
    second.delta("The answer")
    second.delta(" is three fifths.")
    second.done("succeeded")
    assert _client().get(_text_key(public_id)).decode() == "The answer is three fifths."


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_failing_redis_pauses_the_live_text_and_loses_nothing_held(monkeypatch):
    from tutoring.live import channel as streaming

    working = _client()
    broken = redis.Redis(
        host="127.0.0.1", port=_closed_port(), socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)
    )
    monkeypatch.setattr(streaming, "_client", lambda: broken)
    public_id = str(uuid.uuid4())
    publisher = DeltaPublisher(public_id)
    publisher.delta("Lost with the first send. ")  # refused: sends pause
    assert streaming._sending_paused()
    started = time.monotonic()
    publisher.delta("Kept ")
    publisher.delta("while paused.")
    publisher.done("succeeded")  # skipped, at once, without raising
    assert time.monotonic() - started < 0.5
    assert publisher.is_holding

    # Redis answers again: what was held goes out, at its offset.
    monkeypatch.setattr(streaming, "_client", lambda: working)
    streaming._paused_until = 0.0  # not monkeypatched: its undo would pause later tests
    publisher._client = working
    pubsub = working.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel(public_id))
    publisher.flush()
    assert working.get(_text_key(public_id)).decode() == "Kept while paused."
    message = None
    deadline = time.monotonic() + 5
    while message is None and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=1.0)
    pubsub.close()
    event = json.loads(message["data"])
    assert (event["offset"], event["text"]) == (
        len("Lost with the first send. "),
        "Kept while paused.",
    )
