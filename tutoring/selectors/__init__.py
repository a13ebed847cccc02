"""Reads of tutoring data, by noun (classes, lessons, sessions, explanations, students,
usage, keys). Always given the school or the acting membership; one door per object
(`lesson_get`, `session_get`, `explanation_get`) for the web and the API alike.

Import the package (`from tutoring import selectors`): every selector is here.
"""

from tutoring.selectors.classes import (
    classroom_get,
    classroom_list_for_member,
    classroom_members,
    classroom_roster,
    classroom_student_get,
    classroom_teachers,
    enrollable_students,
    taught_classrooms,
    teacher_classroom_get,
    teacher_classroom_list,
    teaches,
)
from tutoring.selectors.explanations import (
    explanation_get,
    explanation_list_for_session,
    explanation_list_for_student,
    explanation_list_needing_attention,
    recent_explanations,
    session_explanations,
)
from tutoring.selectors.keys import (
    provider_key_get,
    provider_key_list,
)
from tutoring.selectors.lessons import (
    exercise_attempt_get,
    exercise_get,
    exercise_list,
    lesson_get,
    lesson_list_for_member,
    lesson_version_get,
    lesson_version_list,
)
from tutoring.selectors.sessions import (
    SESSION_REUSE_WINDOW,
    FeedbackFilter,
    message_list,
    preview_session_get,
    session_current_for_lesson,
    session_get,
    session_list_for_student,
    transcript_filter_students,
    transcript_get,
    transcript_list,
)
from tutoring.selectors.students import (
    student_profile_get,
)
from tutoring.selectors.usage import (
    AskedQuestion,
    DayUsage,
    LessonQuestions,
    StudentDayUse,
    UsageSummary,
    most_asked_questions,
    school_zone,
    student_usage_today,
    usage_by_day,
)

__all__ = [
    "classroom_get",
    "classroom_list_for_member",
    "classroom_members",
    "classroom_roster",
    "classroom_student_get",
    "classroom_teachers",
    "enrollable_students",
    "taught_classrooms",
    "teacher_classroom_get",
    "teacher_classroom_list",
    "teaches",
    "exercise_attempt_get",
    "exercise_get",
    "exercise_list",
    "lesson_get",
    "lesson_list_for_member",
    "lesson_version_get",
    "lesson_version_list",
    "FeedbackFilter",
    "SESSION_REUSE_WINDOW",
    "message_list",
    "preview_session_get",
    "session_current_for_lesson",
    "session_get",
    "session_list_for_student",
    "transcript_filter_students",
    "transcript_get",
    "transcript_list",
    "explanation_get",
    "explanation_list_for_session",
    "explanation_list_for_student",
    "explanation_list_needing_attention",
    "recent_explanations",
    "session_explanations",
    "student_profile_get",
    "AskedQuestion",
    "DayUsage",
    "LessonQuestions",
    "StudentDayUse",
    "UsageSummary",
    "most_asked_questions",
    "school_zone",
    "student_usage_today",
    "usage_by_day",
    "provider_key_get",
    "provider_key_list",
]
