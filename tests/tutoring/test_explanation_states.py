"""Every status transition is a compare-and-swap: it wins once, from its own state and (from
running) for its own attempt only; a repeat or a stale worker changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import School
from accounts.tenancy import cross_school, school_context
from tests.factories import membership_of, published_lesson
from tutoring.models import Explanation
from tutoring.services import explanation_states as states
from tutoring.services import explanations as svc

pytestmark = pytest.mark.django_db
Status = Explanation.Status


def _asked(school, student, teacher):
    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        actor = membership_of(school, student)
        session = svc.session_start(actor=actor, lesson=lesson)
        return svc.explanation_request(actor=actor, session=session, question="Why?")


def _claimed(school: School, pk: int) -> None:
    with school_context(school):
        assert states.explanation_claim(school, pk, now=timezone.now())


FROM_RUNNING: dict[str, tuple[Callable[[School, int, int], bool], str]] = {
    "succeed": (
        lambda s, pk, a: states.explanation_succeed(
            s, pk, a, status=Status.SUCCEEDED, result={"content": "Keep it."}
        ),
        Status.SUCCEEDED,
    ),
    "succeed hidden": (
        lambda s, pk, a: states.explanation_succeed(
            s, pk, a, status=Status.BLOCKED, result={"content": "Kind."}
        ),
        Status.BLOCKED,
    ),
    "fail": (
        lambda s, pk, a: states.explanation_fail(s, pk, a, code="bad", message="No."),
        Status.FAILED,
    ),
    "block": (
        lambda s, pk, a: states.explanation_block(s, pk, a, reply="Kind.", code="blocked"),
        Status.BLOCKED,
    ),
    "requeue": (
        lambda s, pk, a: states.explanation_requeue(s, pk, a, delay=5, code="busy", detail="503"),
        Status.QUEUED,
    ),
}


@pytest.mark.parametrize("name", sorted(FROM_RUNNING))
def test_a_transition_from_running_wins_once_and_only_for_its_attempt(
    name, school, teacher, student
):
    transition, target = FROM_RUNNING[name]
    asked = _asked(school, student, teacher)
    with school_context(school):
        assert not transition(school, asked.pk, 1)  # queued: nothing claimed yet
    _claimed(school, asked.pk)
    with school_context(school):
        assert not transition(school, asked.pk, 2)  # another attempt's worker
        assert transition(school, asked.pk, 1)
        assert not transition(school, asked.pk, 1)  # the duplicate
        row = Explanation.objects.get(pk=asked.pk)
    assert row.status == target and row.lease_until is None and row.reserved_tokens == 0


def test_a_claim_takes_a_queued_row_once(school, teacher, student):
    asked = _asked(school, student, teacher)
    now = timezone.now()
    with school_context(school):
        assert states.explanation_claim(school, asked.pk, now=now)
        assert not states.explanation_claim(school, asked.pk, now=now)  # its lease is live
        row = Explanation.objects.get(pk=asked.pk)
    assert (row.status, row.attempt) == (Status.RUNNING, 1)


def test_a_result_status_must_be_a_result(school, teacher, student):
    asked = _asked(school, student, teacher)
    with school_context(school), pytest.raises(ValueError, match="not a result status"):
        states.explanation_succeed(school, asked.pk, 1, status=Status.FAILED, result={})


def test_the_students_retry_requeues_a_failed_row_once(school, teacher, student):
    asked = _asked(school, student, teacher)
    with school_context(school):
        assert not states.explanation_retry_failed(school, asked.pk)  # queued, not failed
    _claimed(school, asked.pk)
    with school_context(school):
        states.explanation_fail(school, asked.pk, 1, code="bad", message="No.")
        assert states.explanation_retry_failed(school, asked.pk)
        assert not states.explanation_retry_failed(school, asked.pk)
        row = Explanation.objects.get(pk=asked.pk)
    assert (row.status, row.attempt, row.error_code) == (Status.QUEUED, 0, "")


def test_giving_up_fails_only_rows_out_of_attempts(school, teacher, student, settings):
    asked = _asked(school, student, teacher)
    fresh = _asked(school, student, teacher)
    settings.LLM_MAX_ATTEMPTS = 1
    _claimed(school, asked.pk)  # attempt 1, lease live: never touched
    now = timezone.now()
    with cross_school("test"):
        assert states.explanations_give_up(now) == 0
        Explanation.objects.unscoped_cross_school().filter(pk=asked.pk).update(lease_until=now)
        later = now + timedelta(seconds=1)
        assert states.explanations_give_up(later) == 1
        assert states.explanations_give_up(later) == 0
        rows: dict[int, Any] = {
            e.pk: e for e in Explanation.objects.unscoped_cross_school().filter(school=school)
        }
    assert rows[asked.pk].status == Status.FAILED and rows[asked.pk].error_code == "gave_up"
    assert rows[fresh.pk].status == Status.QUEUED  # attempt 0 of 1
