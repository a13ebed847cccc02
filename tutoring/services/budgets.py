"""Token budgets: per school per month and per student per day.

Used = settled usage (the ledger) + estimates reserved by explanations being written.
The check that reserves runs under a row lock on the school's settings, so a burst cannot
overspend by more than one reservation's estimate error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import School
from tutoring.errors import BudgetExhausted
from tutoring.models import Explanation, SchoolSettings, UsageEntry


def school_settings_get(school: School, *, lock: bool = False) -> SchoolSettings:
    """The school's settings row, created with defaults on first use."""
    queryset = SchoolSettings.objects.for_school(school)
    if lock:
        queryset = queryset.select_for_update()
    row = queryset.first()
    if row is None:
        SchoolSettings.objects.for_school(school).get_or_create(school=school)
        row = queryset.get()
    return row


def _month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class BudgetUse:
    school_used: int
    school_limit: int
    student_used: int | None
    student_limit: int

    @property
    def school_share(self) -> float:
        return self.school_used / self.school_limit if self.school_limit else 0.0


def _settled(school: School, since: datetime, student_id: int | None) -> int:
    entries = UsageEntry.objects.for_school(school).filter(created_at__gte=since)
    if student_id is not None:
        entries = entries.filter(student_id=student_id, is_preview=False)
    total = entries.aggregate(t=Sum(F("prompt_tokens") + F("completion_tokens")))["t"]
    return int(total or 0)


def _reserved(school: School, student_id: int | None) -> int:
    running = Explanation.objects.for_school(school).filter(
        status=Explanation.Status.RUNNING, reserved_tokens__gt=0
    )
    if student_id is not None:
        running = running.filter(student_id=student_id, is_preview=False)
    return int(running.aggregate(t=Sum("reserved_tokens"))["t"] or 0)


def _used_now(school: School, student_id: int | None, now: datetime) -> tuple[int, int]:
    """(school tokens this month, student tokens today), settled + reserved, read in one
    statement: one round trip inside the budget lock instead of four, and one snapshot, so a
    reservation settled in between is counted exactly once."""

    def total(queryset: QuerySet[Any], tokens: F | CombinedExpression) -> Coalesce:
        grouped = queryset.filter(school=OuterRef("pk")).order_by().values("school")
        return Coalesce(Subquery(grouped.annotate(t=Sum(tokens)).values("t")[:1]), Value(0))

    usage = UsageEntry.objects.for_school(school)
    running = Explanation.objects.for_school(school).filter(
        status=Explanation.Status.RUNNING, reserved_tokens__gt=0
    )
    settled = F("prompt_tokens") + F("completion_tokens")
    sums = {
        "school_settled": total(usage.filter(created_at__gte=_month_start(now)), settled),
        "school_reserved": total(running, F("reserved_tokens")),
    }
    if student_id is not None:
        mine = {"student_id": student_id, "is_preview": False}
        sums["student_settled"] = total(
            usage.filter(created_at__gte=_day_start(now), **mine), settled
        )
        sums["student_reserved"] = total(running.filter(**mine), F("reserved_tokens"))
    row = School.objects.filter(pk=school.pk).values(**sums).get()
    return (
        int(row["school_settled"]) + int(row["school_reserved"]),
        int(row.get("student_settled", 0)) + int(row.get("student_reserved", 0)),
    )


def budget_use(*, school: School, student_id: int | None = None) -> BudgetUse:
    """Current consumption against the limits (settled + reserved)."""
    row = school_settings_get(school)
    now = timezone.now()
    school_used = _settled(school, _month_start(now), None) + _reserved(school, None)
    student_used = None
    if student_id is not None:
        student_used = _settled(school, _day_start(now), student_id) + _reserved(school, student_id)
    return BudgetUse(
        school_used=school_used,
        school_limit=row.monthly_token_budget,
        student_used=student_used,
        student_limit=row.student_daily_token_budget,
    )


def budget_check(*, school: School, student_id: int | None, estimate: int, lock: bool) -> None:
    """Raise BudgetExhausted when `estimate` more tokens would exceed a limit.

    With lock=True, takes the school settings row lock until the transaction ends, so the
    caller can reserve the estimate atomically with the check. Previews (student_id None)
    count against the school only.
    """
    row = school_settings_get(school, lock=lock)
    school_used, student_used = _used_now(school, student_id, timezone.now())
    if school_used + estimate > row.monthly_token_budget:
        raise BudgetExhausted(
            _(
                "Your school's tutor budget for this month is used up. "
                "Ask your teacher or school administrator."
            )
        )
    if student_id is not None:
        if student_used + estimate > row.student_daily_token_budget:
            raise BudgetExhausted(
                _("You have used today's tutor budget. It resets tomorrow; ask your teacher.")
            )


def cost_microdollars(row: SchoolSettings, prompt_tokens: int, completion_tokens: int) -> int:
    return (
        prompt_tokens * row.prompt_price_per_million
        + completion_tokens * row.completion_price_per_million
    ) // 1_000_000


def next_reset(now: datetime) -> datetime:
    """When the daily budget resets (UTC midnight)."""
    return _day_start(now) + timedelta(days=1)
