"""What the worker and the request side both need to know about the student of a session:
their personalization inputs and their tries on an exercise.

Its own module so that the generation service (which the Celery task calls) and the
request service (which enqueues that task) both import it without importing each other.
"""

from __future__ import annotations

from accounts.models import Membership, School
from tutoring.models import ExerciseAttempt, TutoringSession
from tutoring.prompting.contract import StudentContext
from tutoring.services.profiles import profile_get_or_create


def student_context(session: TutoringSession) -> StudentContext:
    """The personalization inputs of a session (a preview's chosen profile, or the
    student's profile). Never a name, e-mail or database id."""
    version = session.lesson_version
    if session.is_preview:
        p = session.preview_profile
        return StudentContext(
            grade=p.get("grade", ""),
            language=p.get("language") or version.language,
            reading_level=p.get("reading_level") or version.reading_level,
            interests=p.get("interests", ""),
            accommodations=p.get("accommodations", ""),
            pseudonym=f"preview-{session.public_id}",
        )
    profile = profile_get_or_create(
        school_member=Membership(school=session.school, user=session.student)
    )
    return StudentContext(
        grade=profile.grade,
        language=profile.preferred_language or version.language,
        reading_level=profile.reading_level or version.reading_level,
        interests=profile.interests,
        accommodations=profile.accommodations,
        pseudonym=str(profile.pseudonym),
    )


def tries_on_exercise(school: School, student_id: int, exercise_id: int) -> int:
    """How many answers the student has given to the exercise (the answer policy's count)."""
    return (
        ExerciseAttempt.objects.for_school(school)
        .filter(exercise_id=exercise_id, student_id=student_id)
        .count()
    )


__all__ = ["student_context", "tries_on_exercise"]
