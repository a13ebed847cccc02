"""Teachers write lessons; publishing versions them; students check their answers."""

from __future__ import annotations

import pytest

from accounts.tenancy import school_context
from tests.factories import membership_of, published_lesson
from tutoring.errors import InvalidInput, NotFound, PermissionDeniedError
from tutoring.models import Exercise, LessonVersion
from tutoring.services import lessons as svc

pytestmark = pytest.mark.django_db


def test_editing_a_published_lesson_creates_a_new_version(school, teacher, student):
    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        first = lesson.published_version
        svc.lesson_update(
            actor=membership_of(school, teacher), lesson=lesson, material="New material"
        )
        lesson.refresh_from_db()
        assert lesson.published_version.number == 2
        assert lesson.published_version.material == "New material"
        first.refresh_from_db()
        assert first.material.startswith("To add fractions")
        assert LessonVersion.objects.filter(lesson=lesson).count() == 2


def test_publishing_twice_without_changes_keeps_one_version(school, teacher):
    lesson = published_lesson(school, teacher)
    with school_context(school):
        svc.lesson_publish(actor=membership_of(school, teacher), lesson=lesson)
        assert LessonVersion.objects.filter(lesson=lesson).count() == 1


def test_lesson_without_title_is_refused_with_a_field_error(school, teacher):
    with school_context(school):
        actor = membership_of(school, teacher)
        classroom = svc.classroom_create(actor=actor, name="7A")
        with pytest.raises(InvalidInput) as excinfo:
            svc.lesson_create(actor=actor, classroom=classroom, title="  ")
    assert "title" in excinfo.value.fields


def test_student_cannot_create_a_class(school, student):
    with school_context(school), pytest.raises(PermissionDeniedError):
        svc.classroom_create(actor=membership_of(school, student), name="Mine")


def test_teacher_of_another_class_cannot_edit_the_lesson(school, teacher, student):
    from tests.factories import member

    lesson = published_lesson(school, teacher)
    other_teacher = member(school, "teacher", email="other.teacher@riverside.test")
    with school_context(school), pytest.raises(PermissionDeniedError):
        svc.lesson_update(actor=membership_of(school, other_teacher), lesson=lesson, title="X")


def test_enrolling_someone_from_another_school_is_refused(school, teacher, outsider):
    with school_context(school):
        actor = membership_of(school, teacher)
        classroom = svc.classroom_create(actor=actor, name="7A")
        with pytest.raises(NotFound):
            svc.classroom_enroll(actor=actor, classroom=classroom, user=outsider)


@pytest.mark.parametrize(
    ("answer", "correct"),
    [("3/5", True), (" 3 / 5 ", True), ("Three Fifths", True), ("3/10", False)],
)
def test_exercise_answers_are_checked_against_the_key(school, teacher, student, answer, correct):
    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        exercise = Exercise.objects.get(lesson=lesson)
        attempt = svc.exercise_attempt_submit(
            actor=membership_of(school, student), exercise=exercise, answer=answer
        )
    assert attempt.is_correct is correct


def test_empty_answer_is_a_clear_error(school, teacher, student):
    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        exercise = Exercise.objects.get(lesson=lesson)
        with pytest.raises(InvalidInput, match="Type an answer"):
            svc.exercise_attempt_submit(
                actor=membership_of(school, student), exercise=exercise, answer=" "
            )
