"""Moderation texts asked for at once share one request; each caller gets its own verdict."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from llm import LLMError, LLMTransientError, ModerationResult, OpenAIProvider
from llm.moderation_queue import MODERATION_BATCH_TEXTS, ModerationQueue
from tests.fakes.openai_server import Error, FakeOpenAI


def _result(text: str) -> ModerationResult:
    return ModerationResult(flagged=text.startswith("bad"), categories={"violence": len(text)})


class _SlowSender:
    """A `send` whose first request waits until released, so the others queue behind it."""

    def __init__(self) -> None:
        self.requests: list[list[str]] = []
        self.first_sent = threading.Event()
        self.release = threading.Event()
        self.fail_request: int | None = None

    def __call__(self, texts: list[str]) -> list[ModerationResult | LLMError]:
        self.requests.append(list(texts))
        if len(self.requests) == 1:
            self.first_sent.set()
            assert self.release.wait(5)
        if self.fail_request == len(self.requests):
            raise LLMTransientError("provider_unavailable", "The AI service is unavailable.")
        return [_result(text) for text in texts]


def _queued(queue: ModerationQueue, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(queue._queue) < count:
        assert time.monotonic() < deadline, "callers did not queue"
        time.sleep(0.005)


def test_callers_arriving_during_a_request_go_together_in_the_next_one() -> None:
    sender = _SlowSender()
    queue = ModerationQueue(sender)
    texts = ["first", "bad word", "fine", "also bad? no", "bad again", "ok"]
    with ThreadPoolExecutor(len(texts)) as pool:
        first = pool.submit(queue.moderate, texts[0])
        assert sender.first_sent.wait(5)
        rest = [pool.submit(queue.moderate, text) for text in texts[1:]]
        _queued(queue, len(texts) - 1)
        sender.release.set()
        results = [first.result(5), *(future.result(5) for future in rest)]

    assert sender.requests[0] == ["first"]
    assert sorted(sender.requests[1]) == sorted(texts[1:])
    assert len(sender.requests) == 2
    assert results == [_result(text) for text in texts]


def test_a_burst_larger_than_a_request_goes_out_in_several() -> None:
    sender = _SlowSender()
    queue = ModerationQueue(sender)
    count = MODERATION_BATCH_TEXTS + 3
    with ThreadPoolExecutor(count + 1) as pool:
        first = pool.submit(queue.moderate, "first")
        assert sender.first_sent.wait(5)
        rest = [pool.submit(queue.moderate, f"text {i}") for i in range(count)]
        _queued(queue, count)
        sender.release.set()
        assert first.result(5) == _result("first")
        assert [future.result(5) for future in rest] == [_result(f"text {i}") for i in range(count)]

    assert [len(request) for request in sender.requests] == [1, MODERATION_BATCH_TEXTS, 3]


def test_a_failed_request_fails_only_its_own_callers() -> None:
    sender = _SlowSender()
    sender.fail_request = 2
    queue = ModerationQueue(sender)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(queue.moderate, "first")
        assert sender.first_sent.wait(5)
        failing = [pool.submit(queue.moderate, text) for text in ("a", "b")]
        _queued(queue, 2)
        sender.release.set()
        assert first.result(5) == _result("first")
        for future in failing:
            with pytest.raises(LLMTransientError) as raised:
                future.result(5)
            assert raised.value.code == "provider_unavailable"
        # The queue is free again: the next caller sends at once and gets its answer.
        assert queue.moderate("after") == _result("after")


def test_a_quiet_worker_sends_one_text_as_a_plain_string(
    fake_openai: FakeOpenAI, provider: OpenAIProvider
) -> None:
    assert provider.moderate("Can you explain fractions again?").flagged is False

    assert fake_openai.moderation_requests()[-1]["input"] == "Can you explain fractions again?"


def test_threads_through_the_sdk_each_get_their_own_verdict(
    fake_openai: FakeOpenAI, provider: OpenAIProvider
) -> None:
    texts = [
        "Sometimes I want to kill myself after maths." if i % 3 == 0 else f"Fractions {i}?"
        for i in range(24)
    ]
    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(provider.moderate, texts))

    for text, result in zip(texts, results, strict=True):
        assert result.flagged is text.startswith("Sometimes"), text
        assert (result.categories["self-harm"] > 0.9) is text.startswith("Sometimes")
    sent = [
        item
        for body in fake_openai.moderation_requests()
        for item in (body["input"] if isinstance(body["input"], list) else [body["input"]])
    ]
    assert sorted(sent) == sorted(texts)


def test_a_server_that_answers_a_list_with_the_wrong_number_of_results_is_malformed(
    fake_openai: FakeOpenAI, provider: OpenAIProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_openai.script_moderation(Error(503))

    with pytest.raises(LLMTransientError) as raised:
        provider._moderate_batch(["one", "two"])
    assert raised.value.code == "provider_unavailable"

    # A body with one result for two texts cannot be matched to its callers.
    class _OneResult:
        content = b'{"results": [{"flagged": false, "categories": {}, "category_scores": {}}]}'

    raw = provider._client.moderations.with_raw_response
    monkeypatch.setattr(raw, "create", lambda **_: _OneResult())
    with pytest.raises(LLMTransientError) as malformed:
        provider._moderate_batch(["one", "two"])
    assert malformed.value.code == "malformed_response"
