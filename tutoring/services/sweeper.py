"""The sweeper: finds the explanations a lost message or a dead worker left behind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.tenancy import cross_school
from tutoring.models import Explanation
from tutoring.services import explanation_states as states

Status = Explanation.Status


@dataclass(frozen=True)
class SweepResult:
    requeued: int
    failed: int


def explanations_sweep() -> tuple[SweepResult, list[tuple[int, int]]]:
    """Find explanations a lost message or a dead worker left behind.

    Returns the (school_id, explanation_id) pairs to enqueue again: queued rows that have
    been claimable for LLM_STALE_QUEUED_SECONDS without a worker taking them (since they
    were asked, or since their retry time came), and running rows whose lease expired. Rows
    past the attempt cap are failed with a readable message.

    A re-enqueued queued row counts as claimable from now on (`next_attempt_at = now`), so
    a long backlog gets one extra message per row per LLM_STALE_QUEUED_SECONDS, not one per
    row per sweep (which would flood the queue exactly when it is already behind).
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.LLM_STALE_QUEUED_SECONDS)
    # cross-school: the sweeper is an operator task over every school's pipeline.
    with cross_school("sweeper scans every school's stuck explanations"):
        rows = Explanation.objects.unscoped_cross_school()
        capped = states.explanations_give_up(now)
        # Claimable (asked, or retry time come) for longer than the stale period.
        stale_queued = Q(status=Status.QUEUED) & (
            Q(next_attempt_at__lt=stale) | Q(next_attempt_at__isnull=True, queued_at__lt=stale)
        )
        due = list(
            rows.filter(stale_queued | Q(status=Status.RUNNING, lease_until__lt=now)).values_list(
                "school_id", "pk"
            )[:5000]
        )
        # Same condition again: a row that a worker claimed and put back for a retry in the
        # meantime keeps its later retry time (a provider's Retry-After is a promise).
        rows.filter(stale_queued, pk__in=[pk for _, pk in due]).update(next_attempt_at=now)
    return SweepResult(requeued=len(due), failed=capped), due
