"""The fake OpenAI server's `/_stats` endpoint, which the benchmarks read over HTTP."""

from __future__ import annotations

import threading

import httpx2

from tests.fakes.openai_server import FakeOpenAI


def _chat(base_url: str, user: str, start: threading.Barrier | None = None) -> None:
    if start is not None:
        start.wait(10)
    httpx2.post(
        f"{base_url}/chat/completions",
        json={
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "safety_identifier": user,
        },
        timeout=10,
    )


def test_stats_count_chat_calls_in_flight_at_once_and_when_streams_began():
    # The callers start together and each reply waits 2 s, so all three are in flight at once
    # even when a loaded machine is slow to start a thread or open a connection.
    with FakeOpenAI(latency=2.0, reply="one two") as fake:
        root = fake.base_url.removesuffix("/v1")
        start = threading.Barrier(3)
        callers = [
            threading.Thread(target=_chat, args=(fake.base_url, f"student-{i}", start))
            for i in range(3)
        ]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(10)

        stats = httpx2.get(f"{root}/_stats", timeout=5).json()

        assert stats["chat_calls"] == 3
        assert stats["in_flight"] == 0
        assert stats["in_flight_peak"] == 3
        assert sorted(c["user"] for c in stats["first_chunks"]) == [
            "student-0",
            "student-1",
            "student-2",
        ]
        assert all(isinstance(c["at"], float) for c in stats["first_chunks"])


def test_resetting_stats_starts_a_new_measurement_and_is_not_recorded_as_a_request():
    with FakeOpenAI(reply="hello") as fake:
        root = fake.base_url.removesuffix("/v1")
        _chat(fake.base_url, "student")

        after_reset = httpx2.post(f"{root}/_stats/reset", timeout=5).json()

        assert after_reset == {
            "in_flight": 0,
            "in_flight_peak": 0,
            "chat_calls": 0,
            "moderation_calls": 0,
            "moderation_texts": 0,
            "first_chunks": [],
        }
        assert [r["path"] for r in fake.requests] == ["/v1/chat/completions"]


def test_moderation_requests_and_the_texts_they_carry_are_counted():
    with FakeOpenAI() as fake:
        root = fake.base_url.removesuffix("/v1")
        for body in ({"input": "one"}, {"input": ["two", "three", "four"]}):
            httpx2.post(f"{fake.base_url}/moderations", json=body, timeout=5).raise_for_status()

        stats = httpx2.get(f"{root}/_stats", timeout=5).json()

        assert (stats["moderation_calls"], stats["moderation_texts"]) == (2, 4)
        assert stats["chat_calls"] == 0
