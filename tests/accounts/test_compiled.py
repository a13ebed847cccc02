"""Compiled queries return what the queryset would, and keep the tenancy guarantees."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.compiled import CompiledInsert, CompiledQuery, CompiledUpdate
from accounts.tenancy import SchoolContextMismatch, SchoolContextMissing, school_context
from tests.factories import membership_of, published_lesson
from tutoring.models import Explanation, Message
from tutoring.services import explanations as svc

_EXPLANATION = CompiledQuery(
    Explanation,
    lambda rows, pk: rows.select_related("session__student", "lesson_version").filter(pk=pk),
    pk=int,
)
_TURNS_BEFORE = CompiledQuery(
    Message,
    lambda rows, session_id, before: (
        rows.filter(session_id=session_id, created_at__lt=before)
        .order_by("created_at", "id")
        .values_list("role", "content")
    ),
    session_id=int,
    before=datetime,
)


def _asked(school, student, teacher, question="How do I add fractions?"):
    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        actor = membership_of(school, student)
        session = svc.session_start(actor=actor, lesson=lesson)
        return svc.explanation_request(actor=actor, session=session, question=question)


def test_rows_and_related_rows_match_the_orm(school, teacher, student):
    asked = _asked(school, student, teacher)
    with school_context(school):
        expected = Explanation.objects.select_related("session__student", "lesson_version").get(
            pk=asked.pk
        )
        with CaptureQueriesContext(connection) as queries:
            got = _EXPLANATION.first(school, pk=asked.pk)
            assert got.session.student.full_name == "Alice Anders"  # joined, no query
            assert got.lesson_version.material == expected.lesson_version.material

    assert len(queries) == 1
    assert got == expected and got._state.adding is False
    for field in Explanation._meta.concrete_fields:
        assert getattr(got, field.attname) == getattr(expected, field.attname), field.name
    assert got.session.public_id == expected.session.public_id  # a converted UUID
    assert got.queued_at == expected.queued_at and got.queued_at.tzinfo is not None


def test_values_and_datetimes_are_passed_like_the_orm_passes_them(school, teacher, student):
    asked = _asked(school, student, teacher)
    with school_context(school):
        turns = list(
            Message.objects.filter(session_id=asked.session_id).values_list("role", "content")
        )
        later = timezone.now() + timedelta(seconds=1)
        earlier = asked.queued_at - timedelta(days=1)
        assert _TURNS_BEFORE.rows(school, session_id=asked.session_id, before=later) == turns
        assert _TURNS_BEFORE.rows(school, session_id=asked.session_id, before=earlier) == []
    assert turns  # the student's question is a turn


def test_a_missing_row_is_none(school):
    with school_context(school):
        assert _EXPLANATION.first(school, pk=10**9) is None


def test_another_schools_query_inside_a_schools_context_is_refused(
    school, other_school, teacher, student
):
    asked = _asked(school, student, teacher)
    with school_context(other_school), pytest.raises(SchoolContextMismatch):
        _EXPLANATION.first(school, pk=asked.pk)


def test_a_school_owned_query_needs_its_school(school):
    with school_context(school), pytest.raises(SchoolContextMissing):
        _EXPLANATION.first(None, pk=1)


def test_a_value_the_sql_uses_twice_fails_loudly(school):
    twice = CompiledQuery(Explanation, lambda rows, pk: rows.filter(pk=pk, session_id=pk), pk=int)
    with school_context(school), pytest.raises(ImproperlyConfigured, match="appears 2 times"):
        twice.first(school, pk=1)


_FINISH = CompiledUpdate(
    Explanation,
    fields=("status", "content", "messages_sent", "finished_at"),
    increments=("retry_count",),
    where="id = %s AND status = %s AND queued_at < %s",
)


def test_an_update_writes_what_update_would_and_only_when_its_condition_holds(
    school, other_school, teacher, student
):
    asked = _asked(school, student, teacher)
    sent = [{"role": "user", "content": "Why? 为什么"}]
    finished = timezone.now()
    values = {
        "status": Explanation.Status.SUCCEEDED,
        "content": "Keep the denominator.",
        "messages_sent": sent,
        "finished_at": finished,
    }
    with school_context(school):
        too_early = asked.queued_at - timedelta(seconds=1)
        assert _FINISH.run(school, values, [asked.pk, "queued", too_early]) == 0
        assert _FINISH.run(school, values, [asked.pk, "queued", finished]) == 1
        assert _FINISH.run(school, values, [asked.pk, "queued", finished]) == 0  # not queued now
        row = Explanation.objects.get(pk=asked.pk)
    assert (row.status, row.content, row.messages_sent) == (
        "succeeded",
        "Keep the denominator.",
        sent,
    )
    assert row.finished_at == finished and row.retry_count == asked.retry_count + 1

    with school_context(other_school), pytest.raises(SchoolContextMismatch):
        _FINISH.run(school, values, [asked.pk, "succeeded", finished])
    with school_context(other_school):  # its own id: the row is not among its rows
        assert _FINISH.run(other_school, values, [asked.pk, "succeeded", finished]) == 0


_TURN = CompiledInsert(Message)


def test_an_insert_creates_what_create_would(school, other_school, teacher, student):
    asked = _asked(school, student, teacher)
    with school_context(school):
        made = _TURN.create(
            school, session_id=asked.session_id, role=Message.Role.TUTOR, content="¾ 四分之三"
        )
        again = Message.objects.get(pk=made.pk)
        by_orm = Message.objects.create(
            school=school, session_id=asked.session_id, role=Message.Role.TUTOR, content="x"
        )
    assert made._state.adding is False and made.pk == again.pk
    assert (again.role, again.content, again.school_id) == ("tutor", "¾ 四分之三", school.pk)
    assert again.public_id == made.public_id and again.created_at == made.created_at
    assert again.public_id != by_orm.public_id  # the default ran for this row

    with school_context(other_school), pytest.raises(SchoolContextMismatch):
        _TURN.create(school, session_id=asked.session_id, role="tutor", content="no")
