"""Classes, lessons (versioned on publish), exercises and exercise attempts."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from tutoring.errors import InvalidInput, LessonNotPublished, NotFound, PermissionDeniedError
from tutoring.languages import language_code_clean
from tutoring.models import (
    Classroom,
    ClassroomMember,
    Exercise,
    ExerciseAttempt,
    Lesson,
    LessonVersion,
)
from tutoring.models.lessons import LessonContract
from tutoring.selectors.classes import teaches

Role = Membership.Role


def _require_teacher(actor: Membership) -> None:
    if not actor.has_role(Role.TEACHER):
        raise PermissionDeniedError()


def _require_teaches(actor: Membership, classroom: Classroom) -> None:
    if classroom.school_id != actor.school_id:
        raise NotFound()
    if not teaches(actor, classroom):
        raise PermissionDeniedError(_("You do not teach this class."))


def classroom_create(*, actor: Membership, name: str, subject: str = "") -> Classroom:
    """Create a class taught by `actor`."""
    _require_teacher(actor)
    name = name.strip()
    if not name:
        raise InvalidInput(_("Give the class a name."), fields={"name": [_("Required.")]})
    with transaction.atomic():
        classroom = Classroom.objects.for_school(actor.school).create(
            school=actor.school, name=name[:120], subject=subject.strip()[:80]
        )
        ClassroomMember.objects.for_school(actor.school).create(
            school=actor.school,
            classroom=classroom,
            user_id=actor.user_id,
            role=ClassroomMember.Role.TEACHER,
        )
    return classroom


def classroom_enroll(
    *, actor: Membership, classroom: Classroom, user: User, role: str = ClassroomMember.Role.STUDENT
) -> ClassroomMember:
    """Enroll a member of the school in the class. Idempotent.

    Raises NotFound when `user` is not an active member of the class's school, and
    InvalidInput when enrolling as a student someone whose school role is not student.
    """
    _require_teaches(actor, classroom)
    school_role = (
        Membership.objects.for_school(actor.school)
        .filter(user=user, is_active=True)
        .values_list("role", flat=True)
        .first()
    )
    if school_role is None:
        raise NotFound(_("That person is not a member of this school."))
    # A class's students are the school's students: a teacher or the admin enrolled as one
    # would sit on its roster and in its usage and mastery as if they were a pupil.
    if role == ClassroomMember.Role.STUDENT and school_role != Role.STUDENT:
        raise InvalidInput(_("Only students can be enrolled as students."))
    member, _created = ClassroomMember.objects.for_school(actor.school).get_or_create(
        classroom=classroom, user=user, defaults={"role": role, "school": actor.school}
    )
    return member


def classroom_unenroll(*, actor: Membership, classroom: Classroom, user: User) -> None:
    _require_teaches(actor, classroom)
    ClassroomMember.objects.for_school(actor.school).filter(
        classroom=classroom, user=user, role=ClassroomMember.Role.STUDENT
    ).delete()


def _clean_contract(data: dict[str, Any]) -> dict[str, Any]:
    cleaned = {k: v for k, v in data.items() if k in LessonContract.CONTRACT_FIELDS}
    if "language" in cleaned:
        cleaned["language"] = _lesson_language(str(cleaned["language"]))
    if "title" in cleaned:
        cleaned["title"] = str(cleaned["title"]).strip()
        if not cleaned["title"]:
            raise InvalidInput(_("Give the lesson a title."), fields={"title": [_("Required.")]})
    return cleaned


def _lesson_language(value: str) -> str:
    """The lesson's language code, normalized; InvalidInput on `language` otherwise (the web
    form checks the same rule first, the API relies on this)."""
    try:
        code = language_code_clean(value)
    except ValidationError as exc:
        raise InvalidInput(exc.messages[0], fields={"language": exc.messages}) from exc
    if not code:
        raise InvalidInput(_("Give the lesson a language."), fields={"language": [_("Required.")]})
    return code


def lesson_create(*, actor: Membership, classroom: Classroom, **contract: Any) -> Lesson:
    """Create a draft lesson in a class the actor teaches."""
    _require_teaches(actor, classroom)
    fields = _clean_contract(contract)
    if "title" not in fields:
        raise InvalidInput(_("Give the lesson a title."), fields={"title": [_("Required.")]})
    return Lesson.objects.for_school(actor.school).create(
        school=actor.school, classroom=classroom, created_by=actor.user, **fields
    )


def _snapshot(lesson: Lesson, actor: Membership) -> LessonVersion:
    number = (
        LessonVersion.objects.for_school(lesson.school)
        .filter(lesson=lesson)
        .aggregate(n=Max("number"))["n"]
        or 0
    ) + 1
    return LessonVersion.objects.for_school(lesson.school).create(
        school=lesson.school,
        lesson=lesson,
        number=number,
        created_by=actor.user,
        **lesson.contract(),
    )


def lesson_update(*, actor: Membership, lesson: Lesson, **contract: Any) -> Lesson:
    """Edit the lesson. Editing a published lesson publishes a new version at once;
    explanations keep the version they were written for."""
    _require_teaches(actor, lesson.classroom)
    fields = _clean_contract(contract)
    with transaction.atomic():
        lesson = Lesson.objects.for_school(actor.school).select_for_update().get(pk=lesson.pk)
        changed = [name for name, value in fields.items() if getattr(lesson, name) != value]
        for name in changed:
            setattr(lesson, name, fields[name])
        if changed:
            lesson.save()
            if lesson.is_published:
                lesson.published_version = _snapshot(lesson, actor)
                lesson.save(update_fields=["published_version"])
    return lesson


def lesson_publish(*, actor: Membership, lesson: Lesson) -> Lesson:
    """Publish: snapshot a version unless the current contract is already the published one."""
    _require_teaches(actor, lesson.classroom)
    with transaction.atomic():
        lesson = Lesson.objects.for_school(actor.school).select_for_update().get(pk=lesson.pk)
        current = lesson.published_version
        if current is None or current.contract() != lesson.contract():
            lesson.published_version = _snapshot(lesson, actor)
        lesson.status = Lesson.Status.PUBLISHED
        lesson.save(update_fields=["published_version", "status", "updated_at"])
    return lesson


def lesson_unpublish(*, actor: Membership, lesson: Lesson) -> Lesson:
    _require_teaches(actor, lesson.classroom)
    lesson.status = Lesson.Status.DRAFT
    lesson.save(update_fields=["status", "updated_at"])
    return lesson


def exercise_save(
    *,
    actor: Membership,
    lesson: Lesson,
    exercise: Exercise | None = None,
    prompt: str,
    answer_key: str,
    accepted_answers: list[str] | None = None,
    misconception_tags: list[str] | None = None,
    solution: str = "",
    position: int | None = None,
) -> Exercise:
    """Create or update an exercise of a lesson the actor teaches."""
    _require_teaches(actor, lesson.classroom)
    errors: dict[str, list[str]] = {}
    if not prompt.strip():
        errors["prompt"] = [_("Required.")]
    if not answer_key.strip():
        errors["answer_key"] = [_("Required.")]
    if errors:
        raise InvalidInput(_("The exercise needs a question and an answer."), fields=errors)
    if exercise is None:
        exercise = Exercise(school=actor.school, lesson=lesson)
        if position is None:
            position = Exercise.objects.for_school(actor.school).filter(lesson=lesson).count()
    elif exercise.lesson_id != lesson.pk:
        raise NotFound()
    exercise.prompt = prompt.strip()
    exercise.answer_key = answer_key.strip()
    exercise.accepted_answers = [a.strip() for a in (accepted_answers or []) if a.strip()]
    exercise.misconception_tags = [t.strip() for t in (misconception_tags or []) if t.strip()]
    exercise.solution = solution
    if position is not None:
        exercise.position = position
    exercise.save()
    return exercise


def exercise_delete(*, actor: Membership, exercise: Exercise) -> None:
    _require_teaches(actor, exercise.lesson.classroom)
    exercise.delete()


def normalize_answer(text: str) -> str:
    """Case, width, whitespace and trailing punctuation do not make an answer wrong."""
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    text = re.sub(r"\s+", "", text)
    return text.rstrip(".。!！")


def exercise_attempt_submit(
    *, actor: Membership, exercise: Exercise, answer: str
) -> ExerciseAttempt:
    """Check a student's answer against the key and record the attempt."""
    answer = answer.strip()
    if not answer:
        raise InvalidInput(_("Type an answer first."), fields={"answer": [_("Required.")]})
    if len(answer) > 500:
        raise InvalidInput(_("That answer is too long."), fields={"answer": [_("Too long.")]})
    lesson = exercise.lesson
    if not lesson.is_published:
        raise LessonNotPublished()
    accepted = {normalize_answer(a) for a in [exercise.answer_key, *exercise.accepted_answers]}
    return ExerciseAttempt.objects.for_school(actor.school).create(
        school=actor.school,
        exercise=exercise,
        student_id=actor.user_id,
        answer=answer,
        is_correct=normalize_answer(answer) in accepted,
    )
