"""One rule per idea: who manages a class, one door to a lesson, one web error mapping."""

from __future__ import annotations

import pytest
from django import forms

from accounts.models import Membership
from accounts.services import AccountsError, membership_create
from accounts.tenancy import school_context
from base.errors import LanternError
from base.web_errors import form_error_add
from tests.factories import membership_of, published_lesson
from tutoring import selectors
from tutoring.errors import InvalidInput, NotFound, PermissionDeniedError
from tutoring.services import lessons as lesson_services


@pytest.mark.django_db
def test_a_teacher_demoted_to_student_manages_none_of_their_old_classes(school, teacher):
    lesson = published_lesson(school, teacher)
    # The class's teacher row stays; only the school role changes.
    membership_create(school=school, user=teacher, role=Membership.Role.STUDENT)
    with school_context(school):
        demoted = membership_of(school, teacher)
        classroom = lesson.classroom
        assert not selectors.teaches(demoted, classroom)
        assert list(selectors.taught_classrooms(member=demoted)) == []
        with pytest.raises(NotFound):
            selectors.lesson_get(member=demoted, public_id=lesson.public_id, managing=True)
        with pytest.raises(PermissionDeniedError):
            lesson_services.lesson_create(
                actor=demoted, classroom=classroom, title="Decimals", language="en"
            )


@pytest.mark.django_db
def test_the_one_lesson_door_serves_the_teacher_and_the_managing_pages_alike(school, teacher):
    lesson = published_lesson(school, teacher)
    with school_context(school):
        member = membership_of(school, teacher)
        assert selectors.lesson_get(member=member, public_id=lesson.public_id) == lesson
        managed = selectors.lesson_get(member=member, public_id=lesson.public_id, managing=True)
        assert managed == lesson and managed.published_version is not None
        listed = list(selectors.lesson_list_for_member(member=member, managing=True))
        assert listed == [lesson] and listed[0].exercise_count == 1


def test_every_domain_error_has_one_base_with_a_stable_code_and_status() -> None:
    from accounts.access import SchoolSuspended
    from base.api_errors import ApiError
    from base.parsers import PayloadTooLarge
    from tutoring.errors import TutoringError

    for cls in (TutoringError, AccountsError, SchoolSuspended, ApiError, PayloadTooLarge):
        assert issubclass(cls, LanternError), cls
    assert NotFound().public_code == "not_found"
    assert AccountsError("Taken.", code="slug_taken").status == 409
    assert PayloadTooLarge.code == "payload_too_large" and PayloadTooLarge.status == 413


class _LessonForm(forms.Form):
    title = forms.CharField()
    language = forms.CharField()


def test_a_service_error_shows_its_message_above_the_form_and_field_messages_beside() -> None:
    form = _LessonForm(data={"title": "", "language": "x"})
    form.is_valid()
    form = _LessonForm(data={"title": "t", "language": "x"})
    assert form.is_valid()
    form_error_add(form, InvalidInput("Give the lesson a title.", fields={"title": ["Required."]}))
    assert form.non_field_errors() == ["Give the lesson a title."]
    assert form.errors["title"] == ["Required."]


def test_a_service_404_on_a_form_is_the_missing_page() -> None:
    from django.http import Http404

    form = _LessonForm(data={"title": "t", "language": "x"})
    assert form.is_valid()
    with pytest.raises(Http404):
        form_error_add(form, NotFound())
