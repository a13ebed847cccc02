"""The default retry schedule keeps a question waiting through minutes of provider outage."""

from __future__ import annotations

import pytest
from django.conf import settings

from tutoring.services.generation import backoff_seconds


@pytest.mark.faults
def test_default_retries_span_at_least_four_minutes_before_a_question_fails(monkeypatch):
    monkeypatch.setattr("random.uniform", lambda low, high: low)  # the shortest waits
    attempts = settings.LLM_MAX_ATTEMPTS
    waits = [backoff_seconds(attempt, None) for attempt in range(1, attempts)]
    assert sum(waits) >= 4 * 60
    assert max(waits) <= settings.LLM_BACKOFF_MAX_SECONDS


@pytest.mark.faults
def test_a_providers_retry_after_is_never_cut_short_below_the_cap(monkeypatch):
    monkeypatch.setattr("random.uniform", lambda low, high: low)
    assert backoff_seconds(1, 42.0) == 42.0
    assert backoff_seconds(1, 10_000.0) == settings.LLM_BACKOFF_MAX_SECONDS
