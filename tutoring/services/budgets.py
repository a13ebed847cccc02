"""Token budgets: per school per month and per student per day.

Used = settled usage (the ledger) + estimates reserved by explanations being written.
The check that reserves runs under a row lock on the school's settings, so a burst cannot
overspend by more than one reservation's estimate error.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.compiled import CompiledInsert, CompiledQuery
from accounts.models import School
from tutoring.errors import BudgetExhausted
from tutoring.models import Explanation, SchoolSettings, UsageEntry, UsagePeriod

# Read on every claim, twice (the provider choice, then the budget check under its lock).
_SETTINGS = CompiledQuery(SchoolSettings, lambda rows: rows[:1])
_SETTINGS_LOCKED = CompiledQuery(SchoolSettings, lambda rows: rows.select_for_update()[:1])


def school_settings_get(school: School, *, lock: bool = False) -> SchoolSettings:
    """The school's settings row, created with defaults on first use."""
    query = _SETTINGS_LOCKED if lock else _SETTINGS
    row = query.first(school)
    if row is None:
        SchoolSettings.objects.for_school(school).get_or_create(school=school)
        row = query.first(school)
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


_USED_NOW_SQL = """
SELECT
  (SELECT coalesce(sum(p.tokens), 0) FROM {period} p
    WHERE p.school_id = %(school)s AND p.student_id IS NULL AND p.period_start = %(month)s),
  (SELECT coalesce(sum(e.reserved_tokens), 0) FROM {explanation} e
    WHERE e.school_id = %(school)s AND e.status = %(running)s AND e.reserved_tokens > 0),
  (SELECT coalesce(sum(p.tokens), 0) FROM {period} p
    WHERE p.school_id = %(school)s AND p.student_id = %(student)s AND p.period_start = %(day)s),
  (SELECT coalesce(sum(e.reserved_tokens), 0) FROM {explanation} e
    WHERE e.school_id = %(school)s AND e.status = %(running)s AND e.reserved_tokens > 0
      AND e.student_id = %(student)s AND NOT e.is_preview)
"""


def _used_now(school: School, student_id: int | None, now: datetime) -> tuple[int, int]:
    """(school tokens this month, student tokens today), settled + reserved, read in one
    statement: one round trip inside the budget lock instead of four, and one snapshot, so a
    reservation settled in between is counted exactly once. Settled tokens come from the
    period counters (one row each, whatever the month's usage), reserved ones from the
    explanations being written.

    Plain SQL: this runs under the school's budget lock on every claim, and building the
    same statement with the ORM cost more CPU than the rest of the claim's queries
    (bench/pipeline.py). Row-level security applies as to any query. A student id of None
    (previews) matches no row, so the student's sums are 0.
    """
    sql = _USED_NOW_SQL.format(
        period=connection.ops.quote_name(UsagePeriod._meta.db_table),
        explanation=connection.ops.quote_name(Explanation._meta.db_table),
    )
    params: dict[str, Any] = {
        "school": school.pk,
        "month": _month_start(now).date(),
        "day": _day_start(now).date(),
        "running": Explanation.Status.RUNNING.value,
        "student": student_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        school_settled, school_reserved, student_settled, student_reserved = cursor.fetchone()
    return int(school_settled) + int(school_reserved), int(student_settled) + int(student_reserved)


_PERIOD_ADD_SQL = """
INSERT INTO {period} (school_id, public_id, student_id, period_start, tokens)
VALUES (%s, %s, {student}, %s, %s)
ON CONFLICT ({conflict}) WHERE {condition}
DO UPDATE SET tokens = {period}.tokens + excluded.tokens
"""


_USAGE_ENTRY = CompiledInsert(UsageEntry)  # written by every finished generation


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
    entry = _USAGE_ENTRY.create(
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


@lru_cache(maxsize=2)
def _period_add_sql(for_student: bool) -> str:
    """The upsert of a student's day counter, or of the school's month counter."""
    return _PERIOD_ADD_SQL.format(
        period=connection.ops.quote_name(UsagePeriod._meta.db_table),
        student="%s" if for_student else "NULL",
        conflict="school_id, student_id, period_start"
        if for_student
        else "school_id, period_start",
        condition="student_id IS NOT NULL" if for_student else "student_id IS NULL",
    )


def _periods_add(school: School, student_id: int | None, tokens: int, now: datetime) -> None:
    """Add settled tokens to the school's month and, for a student, to the student's day.
    One upsert per counter: safe under concurrent finishes."""
    with connection.cursor() as cursor:
        cursor.execute(
            _period_add_sql(False), [school.pk, uuid.uuid4().hex, _month_start(now).date(), tokens]
        )
        if student_id is not None:
            cursor.execute(
                _period_add_sql(True),
                [school.pk, uuid.uuid4().hex, student_id, _day_start(now).date(), tokens],
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
