"""The request side of the explanation pipeline: sessions, questions, feedback.

`explanation_request` validates, checks the budget, writes the Explanation as `queued` and
the student's message in one transaction, and enqueues the generation task on commit. It
returns at once; the worker does the rest (services/generation.py). An identical earlier
request is answered from the stored explanation without a provider call.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from tutoring.errors import (
    Conflict,
    InvalidInput,
    LessonNotPublished,
    NotFound,
    PermissionDeniedError,
    SessionNotYours,
)
from tutoring.models import (
    ClassroomMember,
    Exercise,
    ExerciseAttempt,
    Explanation,
    Lesson,
    Message,
    TutoringSession,
)
from tutoring.prompting.answer_policy import is_solution_unlocked
from tutoring.prompting.cache_keys import cache_key
from tutoring.safety import pipeline as safety_pipeline
from tutoring.selectors.classes import teaches
from tutoring.selectors.sessions import session_current_for_lesson
from tutoring.services import explanation_states as states
from tutoring.services.budgets import budget_check, school_settings_get
from tutoring.services.providers import model_for, provider_name_for
from tutoring.services.student_context import student_context, tries_on_exercise
from tutoring.tasks import explanation_generate

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
MAX_COMMENT_CHARS = 1000


def session_start(
    *, actor: Membership, lesson: Lesson, preview_profile: dict[str, str] | None = None
) -> TutoringSession:
    """Start a tutoring session on a published lesson.

    Students must be enrolled in the lesson's class. A teacher of the class may start a
    preview ("try as a student") with a chosen profile; previews are never billed to a
    student. Raises NotFound / LessonNotPublished / PermissionDeniedError.
    """
    if lesson.school_id != actor.school_id:
        raise NotFound()
    is_preview = preview_profile is not None
    if is_preview:
        if not teaches(actor, lesson.classroom):
            raise PermissionDeniedError(_("Only the class's teachers can preview this lesson."))
    else:
        enrolled = (
            ClassroomMember.objects.for_school(actor.school)
            .filter(classroom_id=lesson.classroom_id, user_id=actor.user_id)
            .exists()
        )
        if not enrolled:
            raise NotFound()
    if lesson.published_version_id is None or (not lesson.is_published and not is_preview):
        raise LessonNotPublished()
    return TutoringSession.objects.for_school(actor.school).create(
        school=actor.school,
        student_id=actor.user_id,
        lesson=lesson,
        lesson_version_id=lesson.published_version_id,
        is_preview=is_preview,
        preview_profile=preview_profile or {},
    )


def session_get_or_start(*, actor: Membership, lesson: Lesson) -> TutoringSession:
    """The lesson visit's session for the web, which carries no session id: the student's
    current one (`selectors.session_current_for_lesson`, within SESSION_REUSE_WINDOW), else
    a new one started by `session_start`, the same service the API's "start a session"
    calls, so both interfaces start sessions under one set of rules. The API names its
    session explicitly instead. Raises what `session_start` raises. Call it inside the
    transaction of the question, so a refused question leaves no empty session behind.
    """
    session = session_current_for_lesson(member=actor, lesson=lesson)
    return session or session_start(actor=actor, lesson=lesson)


def _validate_question(question: str) -> str:
    question = (question or "").strip()
    if not question:
        raise InvalidInput(_("Type a question first."), fields={"question": [_("Required.")]})
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidInput(
            _("Your question is too long (at most %(n)s characters).") % {"n": MAX_QUESTION_CHARS},
            fields={"question": [_("Too long.")]},
        )
    return question


def _enqueue(explanation: Explanation) -> None:
    school_id, explanation_id = explanation.school_id, explanation.pk

    def send() -> None:
        # The row is already committed as queued: a failed publish only delays it (the
        # sweeper re-enqueues), so it must not fail the request.
        try:
            explanation_generate.delay(school_id, explanation_id)
        except Exception as exc:  # noqa: BLE001
            logger.warning(
                "enqueue failed for explanation %s (%s); the sweeper will retry",
                explanation_id,
                type(exc).__name__,
            )

    transaction.on_commit(send)


def explanation_request(
    *,
    actor: Membership,
    session: TutoringSession,
    question: str,
    exercise_attempt: ExerciseAttempt | None = None,
) -> Explanation:
    """Ask the tutor. Returns the queued (or cache-served) Explanation at once.

    Raises InvalidInput (empty/too long), SessionNotYours (another student's session),
    LessonNotPublished, PolicyNotAccepted (the school requires its AI-use policy),
    BudgetExhausted. Writes the explanation and the student's message in one transaction;
    the task is enqueued on commit. A message the school's safety rules block is answered
    at once with a kind reply (status `blocked`), never sent to a provider and never
    charged; a flagged one is answered as usual and queued for review (tutoring/safety).
    """
    question = _validate_question(question)
    if session.school_id != actor.school_id or session.student_id != actor.user_id:
        raise SessionNotYours()
    lesson = session.lesson
    if not session.is_preview and not lesson.is_published:
        raise LessonNotPublished()
    if session.ended_at is not None:
        raise Conflict(_("This session has ended. Start a new one."))
    version_id = lesson.published_version_id or session.lesson_version_id
    school = actor.school
    verdict = safety_pipeline.request_screen(actor=actor, session=session, question=question)
    with transaction.atomic():
        if verdict.hides:  # never sent to a provider, never charged (tutoring/safety)
            return safety_pipeline.explanation_create_blocked(
                actor=actor,
                session=session,
                question=question,
                kind=Explanation.Kind.ANSWER_REVIEW
                if exercise_attempt
                else Explanation.Kind.QUESTION,
                exercise_attempt=exercise_attempt,
                version_id=version_id,
                verdict=verdict,
            )
        row = school_settings_get(school)
        budget_check(
            school=school,
            student_id=None if session.is_preview else actor.user_id,
            estimate=1,
            lock=False,
        )
        has_history = Message.objects.for_school(school).filter(session=session).exists()
        provider = provider_name_for(school, row)
        model = model_for(provider, row)
        kind = Explanation.Kind.ANSWER_REVIEW if exercise_attempt else Explanation.Kind.QUESTION
        key = ""
        if not has_history:
            tries = (
                tries_on_exercise(school, actor.user_id, exercise_attempt.exercise_id)
                if exercise_attempt
                else 0
            )
            version = lesson.published_version or session.lesson_version
            key = cache_key(
                solution_unlocked=is_solution_unlocked(version, tries),
                lesson_version_id=version_id,
                question=question,
                kind=kind,
                student=student_context(session),
                exercise_id=exercise_attempt.exercise_id if exercise_attempt else None,
                student_answer=exercise_attempt.answer if exercise_attempt else "",
                model=model,
                provider=provider,
            )
        explanation = Explanation.objects.for_school(school).create(
            school=school,
            session=session,
            student_id=actor.user_id,
            lesson_version_id=version_id,
            kind=kind,
            question=question,
            exercise=exercise_attempt.exercise if exercise_attempt else None,
            exercise_attempt=exercise_attempt,
            is_preview=session.is_preview,
            cache_key=key,
            provider=provider,
            model=model,
        )
        Message.objects.for_school(school).create(
            school=school,
            session=session,
            role=Message.Role.STUDENT,
            content=question,
            explanation=explanation,
        )
        if verdict.needs_review:
            safety_pipeline.input_review(
                school=school, explanation=explanation, verdict=verdict, question=question
            )
        cached = (
            Explanation.objects.for_school(school)
            .filter(cache_key=key, status=Explanation.Status.SUCCEEDED, served_from_cache=False)
            .exclude(pk=explanation.pk)
            .order_by("-finished_at")
            .first()
            if key
            else None
        )
        if cached is not None:
            _serve_from_cache(explanation, cached)
        else:
            _enqueue(explanation)
    return explanation


def _serve_from_cache(explanation: Explanation, cached: Explanation) -> None:
    states.explanation_serve_from_cache(explanation, cached)
    Message.objects.for_school(explanation.school).create(
        school=explanation.school,
        session=explanation.session,
        role=Message.Role.TUTOR,
        content=explanation.content,
        explanation=explanation,
    )


def explain_my_answer(
    *, actor: Membership, attempt: ExerciseAttempt, session: TutoringSession | None = None
) -> Explanation:
    """ "Explain my answer" on a wrong exercise attempt, in the given or a new session."""
    if attempt.school_id != actor.school_id or attempt.student_id != actor.user_id:
        raise NotFound()
    if attempt.is_correct:
        raise InvalidInput(_("This answer is already correct."))
    exercise: Exercise = attempt.exercise
    if session is None:
        session = session_start(actor=actor, lesson=exercise.lesson)
    question = _("Why is my answer “%(answer)s” wrong? %(prompt)s") % {
        "answer": attempt.answer,
        "prompt": exercise.prompt[:500],
    }
    return explanation_request(
        actor=actor,
        session=session,
        question=question[:MAX_QUESTION_CHARS],
        exercise_attempt=attempt,
    )


def explanation_feedback(
    *, actor: Membership, explanation: Explanation, is_helpful: bool, comment: str = ""
) -> Explanation:
    """Record the student's helpful / not helpful verdict (can be changed)."""
    if explanation.school_id != actor.school_id or explanation.student_id != actor.user_id:
        raise NotFound()
    if explanation.status != Explanation.Status.SUCCEEDED:
        raise Conflict(_("You can rate an explanation once it is written."))
    explanation.is_helpful = is_helpful
    explanation.feedback_comment = (comment or "").strip()[:MAX_COMMENT_CHARS]
    explanation.feedback_at = timezone.now()
    explanation.save(update_fields=["is_helpful", "feedback_comment", "feedback_at"])
    return explanation


def explanation_retry(*, actor: Membership, explanation: Explanation) -> Explanation:
    """Queue a failed explanation again (the student's retry button). Idempotent."""
    if explanation.school_id != actor.school_id or explanation.student_id != actor.user_id:
        raise NotFound()
    if explanation.status != Explanation.Status.FAILED:
        return explanation
    updated = states.explanation_retry_failed(actor.school, explanation.pk)
    explanation.refresh_from_db()
    if updated:
        _enqueue(explanation)
    return explanation


__all__ = [
    "MAX_QUESTION_CHARS",
    "explain_my_answer",
    "explanation_feedback",
    "explanation_request",
    "explanation_retry",
    "session_get_or_start",
    "session_start",
    "student_context",
]
