"""Scenario 6: a school's budget runs out in the middle of a burst of questions."""

from __future__ import annotations

import pytest
from django.db.models import F, Sum

from accounts.tenancy import school_context
from tests.faults.conftest import set_budgets
from tutoring.models import Explanation, UsageEntry

REQUESTS = 60
COMPLETION_TOKENS = 700  # close to LLM_MAX_COMPLETION_TOKENS (800), the estimate's share
BUDGET = 25_000  # room for about 20 answers of ~1,000 tokens


@pytest.mark.faults
def test_a_budget_running_out_mid_burst_is_never_overspent(pipeline):
    pipeline.fake.configure(latency=0.3, completion_tokens=COMPLETION_TOKENS)
    set_budgets(pipeline.world.school, monthly_token_budget=BUDGET)
    pipeline.ask(REQUESTS, "budget", threads=4)
    pipeline.wait_all_terminal(timeout=180)

    school = pipeline.world.school
    with school_context(school):
        used = (
            UsageEntry.objects.aggregate(t=Sum(F("prompt_tokens") + F("completion_tokens")))["t"]
            or 0
        )
        failed_codes = set(
            Explanation.objects.filter(pk__in=pipeline.ids, status="failed").values_list(
                "error_code", flat=True
            )
        )
    summary = pipeline.summary(
        "budget_burst",
        budget_tokens=BUDGET,
        tokens_used=used,
        refused_at_request=len(pipeline.refused),
    )
    pipeline.assert_exactly_once(summary)
    # Each call is settled at or below its reservation (exact prompt count + the completion
    # cap), so the reservations never let the total pass the budget.
    assert used <= BUDGET
    assert summary["succeeded"] > 0 and summary["failed"] > 0, "the budget ran out mid-burst"
    assert failed_codes == {"budget_exhausted"}
    assert set(pipeline.refused) <= {"budget_exhausted"}
    assert summary["succeeded"] + summary["failed"] + len(pipeline.refused) == REQUESTS
