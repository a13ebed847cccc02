"""Scenario 3: the model misbehaves at random: 429 with Retry-After, 500, calls that hang
past the timeout, malformed answers."""

from __future__ import annotations

import pytest

from tests.faults.conftest import LLM_SETTINGS
from tutoring.models import Explanation

REQUESTS = 120
MAX_ATTEMPTS = int(LLM_SETTINGS["LLM_MAX_ATTEMPTS"])
RETRY_AFTER = 1.5
CHAOS = "429=0.2,500=0.1,hang=0.05,malformed=0.02"
TRANSIENT_CODES = {"rate_limited", "provider_unavailable", "timeout", "malformed_response"}


@pytest.mark.faults
def test_a_flaky_model_ends_every_question_answered_or_failed_readably(pipeline):
    pipeline.fake.configure(
        latency=0.1,
        chaos=CHAOS,
        seed=20,
        retry_after=RETRY_AFTER,
        hang_seconds=6,  # LLM_TIMEOUT_SECONDS is 2
    )
    pipeline.ask(REQUESTS, "chaos")
    pipeline.wait_all_terminal(timeout=240)
    alive = pipeline.workers.alive()

    calls = pipeline.fake.chat_requests()
    outcomes = {
        kind: sum(1 for c in calls if c["outcome"] == kind)
        for kind in ("reply", "429", "500", "hang", "malformed")
    }
    waits = _waits_after_429(calls)
    summary = pipeline.summary(
        "provider_chaos",
        provider_calls=len(calls),
        provider_outcomes=outcomes,
        retry_after=RETRY_AFTER,
        retries_after_429=len(waits),
        shortest_wait_after_429=round(min(waits), 2) if waits else None,
    )
    pipeline.assert_exactly_once(summary)
    assert summary["succeeded"] + summary["failed"] == REQUESTS
    assert all(alive), "no worker crashed"
    assert all(outcomes[kind] for kind in ("429", "500", "hang", "malformed")), outcomes

    failed = [row for row in pipeline.rows() if row.status == Explanation.Status.FAILED]
    for row in failed:
        assert row.attempt == MAX_ATTEMPTS
        assert row.error_code in TRANSIENT_CODES
        assert row.error_message and "Traceback" not in row.error_message
        assert "sk-test" not in row.error_message + row.last_error_detail

    assert waits, "some 429s were retried"
    assert min(waits) >= RETRY_AFTER, "no retry came sooner than the provider's Retry-After"


def _waits_after_429(calls: list[dict]) -> list[float]:
    """For each 429, the seconds until the next request for the same question."""
    by_question: dict[str, list[dict]] = {}
    for call in calls:
        by_question.setdefault(call["marker"], []).append(call)
    waits = []
    for series in by_question.values():
        series.sort(key=lambda call: call["received_at"])
        for call, following in zip(series, series[1:], strict=False):
            if call["outcome"] == "429":
                waits.append(following["received_at"] - call["received_at"])
    return waits


@pytest.mark.faults
def test_while_the_model_is_down_questions_wait_as_busy_and_saved_then_get_answered(pipeline):
    # Every call is refused with "come back in 3 s": with 4 attempts a question would only
    # fail after 9 s or more; the model comes back long before that.
    pipeline.fake.configure(latency=0.1, chaos="429=1.0", retry_after=3)
    ids = pipeline.ask(10, "down")

    def busy_and_saved() -> bool:
        rows = pipeline.rows(ids)
        return all(row.status == "queued" and row.error_code == "rate_limited" for row in rows)

    pipeline.wait_until(busy_and_saved, 60)
    waiting = pipeline.rows(ids)
    pipeline.fake.configure(latency=0.1)  # the model is back
    pipeline.wait_all_terminal(timeout=120)

    summary = pipeline.summary("provider_down_then_back", requests_waiting_as_busy=len(waiting))
    pipeline.assert_exactly_once(summary)
    assert all(row.next_attempt_at and row.retry_count >= 1 for row in waiting)
    answered = pipeline.rows(ids)
    assert [row.status for row in answered] == ["succeeded"] * 10
    assert all(row.error_code == "" and row.retry_count >= 1 for row in answered)
