"""The one place an explanation's status changes after it is created.

    queued --claim--> running --succeed--> succeeded | blocked (the reply was hidden)
                         |  \\--fail-----> failed  --retry_failed--> queued (the student)
                         |   \\-block----> blocked (the question, by the moderation endpoint)
                         \\--requeue------> queued (a transient error, with a retry time)
    queued | running (lease expired), attempts used up --give_up--> failed (the sweeper)

A row is created queued, or already final by the request (blocked by the local rules,
succeeded from the cache: `explanation_serve_from_cache`). Every transition is one
compare-and-swap UPDATE: it names the state it leaves (and, from running, the attempt of
the claim it belongs to), so of two workers, a duplicate message or a retried task, exactly
one wins; the loser changes nothing and gets False (0). Each is therefore idempotent: a
second call writes nothing and says so, and the caller writes what goes with the
transition (usage, the tutor's message, a review item) only when it won.

Call inside the school's context (`school_context`), except `explanations_give_up`.
The hot path's claim and result go through worker_sql's explicit statements (their CPU
cost is measured there); the rare transitions use the ORM.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import School
from tutoring.models import Explanation
from tutoring.services import worker_sql

Status = Explanation.Status


def explanation_claim(school: School, explanation_id: int, *, now: datetime) -> bool:
    """queued and due (no retry time, or it has come), or running with an expired lease (a
    dead worker's) -> running, attempt + 1, a new lease, no reservation.

    Guard: that state. A duplicate delivery finds the row running with a live lease and
    gets False; the attempt number then identifies this claim in every later transition."""
    lease_until = now + timedelta(seconds=settings.LLM_LEASE_SECONDS)
    return bool(
        worker_sql.explanation_claim_update(
            school, explanation_id, now=now, lease_until=lease_until
        )
    )


def explanation_reserve(
    school: School, explanation_id: int, attempt: int, *, tokens: int, provider: str, model: str
) -> bool:
    """Record the claim's budget reservation and provider (no status change).

    Guard: running, `attempt`. Writing it twice writes the same values."""
    values = {"reserved_tokens": tokens, "provider": provider, "model": model}
    return bool(worker_sql.explanation_attempt_update(school, explanation_id, attempt, values))


def explanation_succeed(
    school: School, explanation_id: int, attempt: int, *, status: str, result: dict[str, Any]
) -> bool:
    """running -> succeeded, or blocked when the reply's moderation hid it (`status`), with
    the result's fields (`result`), the reservation released and the lease dropped.

    Guard: running, `attempt`. The winner alone charges the usage and writes the message."""
    if status not in (Status.SUCCEEDED, Status.BLOCKED):
        raise ValueError(f"explanation_succeed: {status!r} is not a result status")
    values = {**result, "status": status, "reserved_tokens": 0, "lease_until": None}
    values.setdefault("finished_at", timezone.now())
    return bool(worker_sql.explanation_attempt_update(school, explanation_id, attempt, values))


def explanation_fail(
    school: School, explanation_id: int, attempt: int, *, code: str, message: str, detail: str = ""
) -> bool:
    """running -> failed with a readable message (`message`) and the operator's detail.

    Guard: running, `attempt`."""
    return bool(
        _running(school, explanation_id, attempt).update(
            status=Status.FAILED,
            error_code=code[:40],
            error_message=str(message),
            last_error_detail=f"{code}: {detail}"[:300],
            reserved_tokens=0,
            lease_until=None,
            finished_at=timezone.now(),
        )
    )


def explanation_block(
    school: School, explanation_id: int, attempt: int, *, reply: str, code: str
) -> bool:
    """running -> blocked: the moderation endpoint flagged the question; `reply` is the
    kind message the student sees.

    Guard: running, `attempt`. The winner alone writes the tutor's turn and the review item."""
    return bool(
        _running(school, explanation_id, attempt).update(
            status=Status.BLOCKED,
            content=reply,
            error_code=code,
            error_message=reply,
            reserved_tokens=0,
            lease_until=None,
            finished_at=timezone.now(),
        )
    )


def explanation_requeue(
    school: School, explanation_id: int, attempt: int, *, delay: float, code: str, detail: str
) -> bool:
    """running -> queued after a transient error, due again in `delay` seconds (the task
    re-enqueues itself; the sweeper covers a lost message), reservation released.

    Guard: running, `attempt`."""
    return bool(
        _running(school, explanation_id, attempt).update(
            status=Status.QUEUED,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            lease_until=None,
            reserved_tokens=0,
            retry_count=F("retry_count") + 1,
            error_code=code,
            last_error_detail=f"{code}: {detail}"[:300],
        )
    )


def explanation_retry_failed(school: School, explanation_id: int) -> bool:
    """failed -> queued, attempts from zero (the student's retry button).

    Guard: failed. A second press finds the row queued and gets False."""
    return bool(
        Explanation.objects.for_school(school)
        .filter(pk=explanation_id, status=Status.FAILED)
        .update(
            status=Status.QUEUED,
            attempt=0,
            error_code="",
            error_message="",
            next_attempt_at=None,
            queued_at=timezone.now(),
        )
    )


def explanation_serve_from_cache(explanation: Explanation, cached: Explanation) -> bool:
    """queued -> succeeded with a cached explanation's reply, at once (no provider call);
    `explanation` (just created) is updated in memory too.

    Guard: queued. Inside the request's transaction, before the row is enqueued."""
    now = timezone.now()
    values: dict[str, Any] = {
        "status": Status.SUCCEEDED,
        "content": cached.content,
        "served_from_cache": True,
        "cached_from": cached,
        "model": cached.model,
        "provider": cached.provider,
        "prompt_version": cached.prompt_version,
        "messages_sent": cached.messages_sent,
        "started_at": now,
        "finished_at": now,
        "latency_ms": 0,
    }
    won = (
        Explanation.objects.for_school(explanation.school)
        .filter(pk=explanation.pk, status=Status.QUEUED)
        .update(**values)
    )
    if won:
        for name, value in values.items():
            setattr(explanation, name, value)
    return bool(won)


def explanations_give_up(now: datetime) -> int:
    """queued, or running with an expired lease, with the attempts used up -> failed, in
    every school (the sweeper). Returns how many. Call inside a cross-school block.

    Guard: that state and attempt >= LLM_MAX_ATTEMPTS; a live claim is never touched."""
    # cross-school: the sweeper is an operator task over every school's pipeline.
    return int(
        Explanation.objects.unscoped_cross_school()
        .filter(
            Q(status=Status.QUEUED) | Q(status=Status.RUNNING, lease_until__lt=now),
            attempt__gte=settings.LLM_MAX_ATTEMPTS,
        )
        .update(
            status=Status.FAILED,
            error_code="gave_up",
            error_message=_("The tutor could not answer after several tries. Please ask again."),
            reserved_tokens=0,
            finished_at=now,
        )
    )


def _running(school: School, explanation_id: int, attempt: int) -> Any:
    """The row while the claim of `attempt` holds: the guard of every transition from running."""
    return Explanation.objects.for_school(school).filter(
        pk=explanation_id, status=Status.RUNNING, attempt=attempt
    )


__all__ = [
    "explanation_block",
    "explanation_claim",
    "explanation_fail",
    "explanation_requeue",
    "explanation_reserve",
    "explanation_retry_failed",
    "explanation_serve_from_cache",
    "explanation_succeed",
    "explanations_give_up",
]
