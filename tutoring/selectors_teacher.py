"""Reads for the teacher and school-admin pages: classes, rosters, transcripts, usage, keys.

Every function is given the acting membership (or the school) and scopes to what that
member may see: a teacher sees the classes they teach, a school admin sees the whole school.
Each names the related rows it needs so a page costs a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Membership, School, User
from tutoring.errors import NotFound
from tutoring.models import (
    Classroom,
    ClassroomMember,
    Explanation,
    Lesson,
    LessonVersion,
    ProviderKey,
    TutoringSession,
    UsageEntry,
)
from tutoring.prompts import normalize_question

Role = Membership.Role


# --- Classes ------------------------------------------------------------------------------


def taught_classrooms(*, member: Membership) -> QuerySet[Classroom]:
    """Classes `member` manages: those they teach; every class for a school admin."""
    classes = Classroom.objects.for_school(member.school).filter(archived_at__isnull=True)
    if member.has_role(Role.SCHOOL_ADMIN):
        return classes
    # Exists, not a join: a join on `members` would also constrain the student count below.
    teaches = ClassroomMember.objects.for_school(member.school).filter(
        classroom=OuterRef("pk"), user_id=member.user_id, role=ClassroomMember.Role.TEACHER
    )
    return classes.filter(Exists(teaches))


def teacher_classroom_list(*, member: Membership) -> QuerySet[Classroom]:
    """The member's classes with `student_count` and `last_activity_at` (latest student
    session, previews excluded), by name."""
    last_session = (
        TutoringSession.objects.for_school(member.school)
        .filter(lesson__classroom=OuterRef("pk"), is_preview=False)
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    return (
        taught_classrooms(member=member)
        .annotate(
            student_count=Count("members", filter=Q(members__role=ClassroomMember.Role.STUDENT)),
            last_activity_at=Subquery(last_session),
        )
        .order_by("name")
    )


def teacher_classroom_get(*, member: Membership, public_id: UUID | str) -> Classroom:
    """One of the member's classes; NotFound for anything else (another school's included)."""
    classroom = teacher_classroom_list(member=member).filter(public_id=public_id).first()
    if classroom is None:
        raise NotFound()
    return classroom


def classroom_roster(*, school: School, classroom: Classroom) -> QuerySet[ClassroomMember]:
    """Enrolled students with `last_session_at` in this class (previews excluded), by name."""
    last_session = (
        TutoringSession.objects.for_school(school)
        .filter(student_id=OuterRef("user_id"), lesson__classroom=classroom, is_preview=False)
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    return (
        ClassroomMember.objects.for_school(school)
        .filter(classroom=classroom, role=ClassroomMember.Role.STUDENT)
        .select_related("user")
        .annotate(last_session_at=Subquery(last_session))
        .order_by("user__full_name", "user__email")
    )


def classroom_teachers(*, school: School, classroom: Classroom) -> QuerySet[ClassroomMember]:
    return (
        ClassroomMember.objects.for_school(school)
        .filter(classroom=classroom, role=ClassroomMember.Role.TEACHER)
        .select_related("user")
        .order_by("user__email")
    )


def classroom_student_get(
    *, school: School, classroom: Classroom, public_id: object
) -> ClassroomMember:
    """An enrolled student of the class (never one of its teachers); NotFound otherwise."""
    member = (
        ClassroomMember.objects.for_school(school)
        .filter(classroom=classroom, public_id=public_id, role=ClassroomMember.Role.STUDENT)
        .select_related("user")
        .first()
    )
    if member is None:
        raise NotFound()
    return member


def enrollable_students(*, school: School, classroom: Classroom) -> QuerySet[Membership]:
    """Active student memberships of the school whose user is not in the class yet."""
    enrolled = ClassroomMember.objects.for_school(school).filter(
        classroom=classroom, user_id=OuterRef("user_id")
    )
    return (
        Membership.objects.for_school(school)
        .filter(role=Role.STUDENT, is_active=True)
        .exclude(Exists(enrolled))
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


# --- Lessons ------------------------------------------------------------------------------


def teacher_lesson_list(*, member: Membership) -> QuerySet[Lesson]:
    """Lessons of the member's classes, with the class, the published version and
    `exercise_count`."""
    return (
        Lesson.objects.for_school(member.school)
        .filter(classroom__in=taught_classrooms(member=member).values("pk"))
        .select_related("classroom", "published_version")
        .annotate(exercise_count=Count("exercises"))
        .order_by("classroom__name", "title")
    )


def teacher_lesson_get(*, member: Membership, public_id: object) -> Lesson:
    lesson = (
        Lesson.objects.for_school(member.school)
        .filter(classroom__in=taught_classrooms(member=member).values("pk"), public_id=public_id)
        .select_related("classroom", "published_version")
        .first()
    )
    if lesson is None:
        raise NotFound()
    return lesson


def lesson_version_list(*, school: School, lesson: Lesson) -> QuerySet[LessonVersion]:
    return (
        LessonVersion.objects.for_school(school)
        .filter(lesson=lesson)
        .select_related("created_by")
        .order_by("-number")
    )


def lesson_version_get(*, school: School, lesson: Lesson, number: int) -> LessonVersion:
    version = lesson_version_list(school=school, lesson=lesson).filter(number=number).first()
    if version is None:
        raise NotFound()
    return version


# --- Activity and transcripts ---------------------------------------------------------------


def recent_explanations(*, member: Membership, limit: int = 10) -> list[Explanation]:
    """The latest student questions in the member's classes (previews excluded)."""
    return list(
        Explanation.objects.for_school(member.school)
        .filter(
            is_preview=False,
            session__lesson__classroom__in=taught_classrooms(member=member).values("pk"),
        )
        .select_related("student", "session", "session__lesson")
        .order_by("-queued_at")[:limit]
    )


class FeedbackFilter:
    HELPFUL = "helpful"
    NOT_HELPFUL = "not_helpful"
    NONE = "none"


def transcript_list(
    *,
    member: Membership,
    student_id: int | None = None,
    lesson_id: int | None = None,
    feedback: str = "",
    flagged_only: bool = False,
) -> QuerySet[TutoringSession]:
    """Student sessions (never previews) in the member's classes, newest first, with the
    student and lesson, `explanation_count`, `last_activity_at`, `helpful_count` and
    `not_helpful_count`.

    `feedback`: "helpful" / "not_helpful" (at least one explanation rated so), "none" (no
    explanation rated). `flagged_only`: safety flags do not exist yet, so nothing matches.
    """
    sessions = (
        TutoringSession.objects.for_school(member.school)
        .filter(
            is_preview=False,
            lesson__classroom__in=taught_classrooms(member=member).values("pk"),
        )
        .select_related("student", "lesson", "lesson__classroom")
    )
    if student_id is not None:
        sessions = sessions.filter(student_id=student_id)
    if lesson_id is not None:
        sessions = sessions.filter(lesson_id=lesson_id)
    rated = Explanation.objects.for_school(member.school).filter(session=OuterRef("pk"))
    if feedback == FeedbackFilter.HELPFUL:
        sessions = sessions.filter(Exists(rated.filter(is_helpful=True)))
    elif feedback == FeedbackFilter.NOT_HELPFUL:
        sessions = sessions.filter(Exists(rated.filter(is_helpful=False)))
    elif feedback == FeedbackFilter.NONE:
        sessions = sessions.exclude(Exists(rated.filter(is_helpful__isnull=False)))
    if flagged_only:
        sessions = sessions.none()
    return sessions.annotate(
        explanation_count=Count("explanations"),
        last_activity_at=Max("explanations__queued_at"),
        helpful_count=Count("explanations", filter=Q(explanations__is_helpful=True)),
        not_helpful_count=Count("explanations", filter=Q(explanations__is_helpful=False)),
    ).order_by("-started_at")


def transcript_get(*, member: Membership, public_id: object) -> TutoringSession:
    """A student session of one of the member's classes; NotFound otherwise (previews too)."""
    session = (
        TutoringSession.objects.for_school(member.school)
        .filter(
            public_id=public_id,
            is_preview=False,
            lesson__classroom__in=taught_classrooms(member=member).values("pk"),
        )
        .select_related("student", "lesson", "lesson__classroom", "lesson_version")
        .first()
    )
    if session is None:
        raise NotFound()
    return session


def session_explanations(*, school: School, session: TutoringSession) -> QuerySet[Explanation]:
    """A session's explanations, oldest first, with the exercise they were about."""
    return (
        Explanation.objects.for_school(school)
        .filter(session=session)
        .select_related("exercise")
        .order_by("queued_at", "id")
    )


def transcript_filter_students(*, member: Membership) -> QuerySet[Membership]:
    """Student memberships of the people enrolled in the member's classes (for the
    transcript filter; the membership's public id stands for the student in URLs)."""
    enrolled = ClassroomMember.objects.for_school(member.school).filter(
        classroom__in=taught_classrooms(member=member).values("pk"),
        role=ClassroomMember.Role.STUDENT,
    )
    return (
        Membership.objects.for_school(member.school)
        .filter(user_id__in=enrolled.values("user_id"))
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def preview_session_get(*, member: Membership, public_id: object) -> TutoringSession:
    """The member's own preview session ("try as a student")."""
    session = (
        TutoringSession.objects.for_school(member.school)
        .filter(public_id=public_id, is_preview=True, student_id=member.user_id)
        .select_related("lesson", "lesson__classroom", "lesson_version")
        .first()
    )
    if session is None:
        raise NotFound()
    return session


# --- Usage --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayUsage:
    day: date
    tokens: int
    cost_microdollars: int
    explanations: int


@dataclass(frozen=True)
class UsageSummary:
    days: list[DayUsage]
    total_tokens: int
    total_cost_microdollars: int
    total_explanations: int
    preview_tokens: int


def school_zone(school: School) -> ZoneInfo:
    try:
        return ZoneInfo(school.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _window_start(school: School, days: int, now: datetime | None) -> tuple[date, datetime]:
    zone = school_zone(school)
    today = timezone.localtime(now or timezone.now(), zone).date()
    first_day = today - timedelta(days=days - 1)
    return first_day, datetime.combine(first_day, datetime.min.time(), tzinfo=zone)


def usage_by_day(
    *, member: Membership, days: int = 30, now: datetime | None = None
) -> UsageSummary:
    """Tokens and cost (the usage ledger) and explanations asked, per day of the school's
    time zone, over the last `days` days including today, for the member's classes.
    Previews count (they are spent), and their tokens are also reported apart.
    Two queries; days without activity are zero."""
    school = member.school
    zone = school_zone(school)
    first_day, since = _window_start(school, days, now)
    usage = UsageEntry.objects.for_school(school).filter(created_at__gte=since)
    explanations = Explanation.objects.for_school(school).filter(queued_at__gte=since)
    if not member.has_role(Role.SCHOOL_ADMIN):
        taught = taught_classrooms(member=member).values("pk")
        usage = usage.filter(explanation__session__lesson__classroom__in=taught)
        explanations = explanations.filter(session__lesson__classroom__in=taught)
    token_rows = (
        usage.annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day", "is_preview")
        .annotate(
            tokens=Sum(F("prompt_tokens") + F("completion_tokens")),
            cost=Sum("cost_microdollars"),
        )
    )
    count_rows = (
        explanations.annotate(day=TruncDate("queued_at", tzinfo=zone))
        .values("day")
        .annotate(n=Count("id"))
    )
    tokens: dict[date, int] = defaultdict(int)
    cost: dict[date, int] = defaultdict(int)
    preview_tokens = 0
    for row in token_rows:
        tokens[row["day"]] += int(row["tokens"] or 0)
        cost[row["day"]] += int(row["cost"] or 0)
        if row["is_preview"]:
            preview_tokens += int(row["tokens"] or 0)
    counts = {row["day"]: int(row["n"]) for row in count_rows}
    series = [
        DayUsage(
            day=day,
            tokens=tokens.get(day, 0),
            cost_microdollars=cost.get(day, 0),
            explanations=counts.get(day, 0),
        )
        for day in (first_day + timedelta(days=i) for i in range(days))
    ]
    return UsageSummary(
        days=series,
        total_tokens=sum(d.tokens for d in series),
        total_cost_microdollars=sum(d.cost_microdollars for d in series),
        total_explanations=sum(d.explanations for d in series),
        preview_tokens=preview_tokens,
    )


@dataclass(frozen=True)
class AskedQuestion:
    question: str  # the most common wording, as a student typed it
    count: int


@dataclass(frozen=True)
class LessonQuestions:
    lesson_title: str
    classroom_name: str
    questions: list[AskedQuestion]


def most_asked_questions(
    *, member: Membership, days: int = 30, top: int = 10, now: datetime | None = None
) -> list[LessonQuestions]:
    """Per lesson, the `top` most asked student questions of the last `days` days, grouped
    by the same normalization the explanation cache uses ("What is a fraction?" ==
    "what is a  fraction"). "Explain my answer" requests are not questions and are left
    out, and so are previews. One query: identical texts are counted in the database, the
    remaining variants merged here."""
    _first_day, since = _window_start(member.school, days, now)
    rows = (
        Explanation.objects.for_school(member.school)
        .filter(
            queued_at__gte=since,
            is_preview=False,
            kind=Explanation.Kind.QUESTION,
            session__lesson__classroom__in=taught_classrooms(member=member).values("pk"),
        )
        .values(
            "session__lesson_id",
            "session__lesson__title",
            "session__lesson__classroom__name",
            "question",
        )
        .annotate(n=Count("id"))
        .order_by()
    )
    lessons: dict[int, tuple[str, str]] = {}
    groups: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        lesson_id = row["session__lesson_id"]
        lessons[lesson_id] = (
            row["session__lesson__title"],
            row["session__lesson__classroom__name"],
        )
        wordings = groups[lesson_id][normalize_question(row["question"])]
        wordings[row["question"]] = wordings.get(row["question"], 0) + row["n"]
    result: list[LessonQuestions] = []
    for lesson_id, by_question in groups.items():
        asked = [
            AskedQuestion(
                # The most used wording; on a tie the first in sort order (capitals first).
                question=min(wordings.items(), key=lambda item: (-item[1], item[0]))[0],
                count=sum(wordings.values()),
            )
            for wordings in by_question.values()
        ]
        asked.sort(key=lambda a: (-a.count, a.question))
        title, classroom_name = lessons[lesson_id]
        result.append(LessonQuestions(title, classroom_name, asked[:top]))
    result.sort(key=lambda group: (group.classroom_name, group.lesson_title))
    return result


# --- School admin ---------------------------------------------------------------------------


def provider_key_list(*, school: School) -> QuerySet[ProviderKey]:
    """The school's keys, newest first. Never decrypts: pages show only the last four."""
    return (
        ProviderKey.objects.for_school(school)
        .select_related("created_by")
        .defer("encrypted_key")
        .order_by("-created_at")
    )


def provider_key_get(*, school: School, public_id: object) -> ProviderKey:
    key = ProviderKey.objects.for_school(school).filter(public_id=public_id).first()
    if key is None:
        raise NotFound()
    return key


@dataclass(frozen=True)
class StudentDayUse:
    user: User
    tokens: int


def student_usage_today(*, school: School, limit: int = 20) -> list[StudentDayUse]:
    """The students who used the most tokens today (the daily budget's window, UTC days),
    previews excluded. Two queries."""
    from tutoring.services.budgets import next_reset

    day_start = next_reset(timezone.now()) - timedelta(days=1)
    rows = list(
        UsageEntry.objects.for_school(school)
        .filter(created_at__gte=day_start, is_preview=False, student__isnull=False)
        .values("student_id")
        .annotate(tokens=Sum(F("prompt_tokens") + F("completion_tokens")))
        .order_by("-tokens")[:limit]
    )
    users = User.objects.in_bulk([row["student_id"] for row in rows])
    return [
        StudentDayUse(user=users[row["student_id"]], tokens=int(row["tokens"] or 0))
        for row in rows
        if row["student_id"] in users
    ]
