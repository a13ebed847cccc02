"""Tutoring models, every one owned by a school (see accounts/tenancy.py)."""

from tutoring.models.classes import Classroom, ClassroomMember
from tutoring.models.explanations import Explanation, Message, TutoringSession
from tutoring.models.lessons import Exercise, ExerciseAttempt, Lesson, LessonVersion
from tutoring.models.safety import (
    ModerationAction,
    ModerationCategory,
    PolicyAcceptance,
    PolicyVersion,
    ReviewItem,
    SafetySettings,
    Severity,
    StudentBirthDate,
)
from tutoring.models.school_settings import ProviderKey, SchoolSettings, UsageEntry, UsagePeriod
from tutoring.models.students import StudentProfile

__all__ = [
    "Classroom",
    "ClassroomMember",
    "Exercise",
    "ExerciseAttempt",
    "Explanation",
    "Lesson",
    "LessonVersion",
    "Message",
    "ModerationAction",
    "ModerationCategory",
    "PolicyAcceptance",
    "PolicyVersion",
    "ProviderKey",
    "ReviewItem",
    "SafetySettings",
    "SchoolSettings",
    "Severity",
    "StudentBirthDate",
    "StudentProfile",
    "TutoringSession",
    "UsageEntry",
    "UsagePeriod",
]
