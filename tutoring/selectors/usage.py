"""Reads of token usage: per day, the most asked questions, today's heaviest users.

Every function is given the school or the acting membership and names the related rows it
needs, so a page costs a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Membership, School, User
from tutoring.models import (
    Explanation,
    UsageEntry,
)
from tutoring.prompting.cache_keys import normalize_question
from tutoring.selectors.classes import taught_classrooms
from tutoring.services.budgets import next_reset

Role = Membership.Role


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


@dataclass(frozen=True)
class StudentDayUse:
    user: User
    tokens: int


def student_usage_today(*, school: School, limit: int = 20) -> list[StudentDayUse]:
    """The students who used the most tokens today (the daily budget's window, UTC days),
    previews excluded. Two queries."""
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
