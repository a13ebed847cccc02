"""Token budgets: per school per month and per student per day.

Used = settled usage (the ledger) + estimates reserved by explanations being written.
The check that reserves runs under a row lock on the school's settings, so a burst cannot
overspend by more than one reservation's estimate error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import School
from tutoring.errors import BudgetExhausted
from tutoring.models import SchoolSettings, UsageEntry
from tutoring.services import worker_sql


def school_settings_get(school: School, *, lock: bool = False) -> SchoolSettings:
    """The school's settings row, created with defaults on first use."""
    # Read on every claim, twice (the provider choice, then the budget check under its lock).
    row = worker_sql.school_settings_row(school, lock=lock)
    if row is None:
        SchoolSettings.objects.for_school(school).get_or_create(school=school)
        row = worker_sql.school_settings_row(school, lock=lock)
    assert row is not None  # created just above
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


def _used_now(school: School, student_id: int | None, now: datetime) -> tuple[int, int]:
    """(school tokens this month, student tokens today), settled + reserved."""
    return worker_sql.budget_tokens_used(
        school, student_id, _month_start(now).date(), _day_start(now).date()
    )


def usage_record(
    *,
    school: School,
    explanation_id: int | None,
    student_id: int | None,
    is_preview: bool,
    provider: str,
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    cost_microdollars: int = 0,
) -> UsageEntry:
    """Charge one provider call: the ledger row and the period counters the budget check
    reads, together. Call inside the school's context and the caller's transaction (the
    finish, after its guarded UPDATE won). A preview charges the school, never a student."""
    entry = worker_sql.usage_entry_insert(
        school,
        explanation_id=explanation_id,
        student_id=None if is_preview else student_id,
        is_preview=is_preview,
        provider=provider,
        model=model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_microdollars=cost_microdollars,
    )
    _periods_add(school, entry.student_id, entry.total_tokens, entry.created_at)
    return entry


def _periods_add(school: School, student_id: int | None, tokens: int, now: datetime) -> None:
    """Add settled tokens to the school's month and, for a student, to the student's day."""
    worker_sql.usage_periods_add(
        school, student_id, tokens, _month_start(now).date(), _day_start(now).date()
    )


def budget_use(*, school: School, student_id: int | None = None) -> BudgetUse:
    """Current consumption against the limits (settled + reserved): what the check sees."""
    row = school_settings_get(school)
    school_used, student_used = _used_now(school, student_id, timezone.now())
    return BudgetUse(
        school_used=school_used,
        school_limit=row.monthly_token_budget,
        student_used=None if student_id is None else student_used,
        student_limit=row.student_daily_token_budget,
    )


def budget_check(*, school: School, student_id: int | None, estimate: int, lock: bool) -> None:
    """Raise BudgetExhausted when `estimate` more tokens would exceed a limit.

    With lock=True, takes the school settings row lock until the transaction ends, so the
    caller can reserve the estimate atomically with the check. Previews (student_id None)
    count against the school only.
    """
    row = school_settings_get(school, lock=lock)
    # A new statement after the lock: in READ COMMITTED it sees every reservation committed
    # by the claims that held the lock before this one.
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
