"""The worker's explicit SQL: the statements every generation runs, named for what they do.

Why not the ORM here. A generation runs 19 statements (plus BEGIN/COMMIT and two
`set_config`s: 23, pinned in tests/tutoring/test_pipeline.py), and one worker process is
CPU-bound under load (docs/performance.md, "What bounds the ratio"): CPU per explanation is
throughput. Measured:
- building and compiling a queryset cost several times its round trip: a one-row read was
  about 0.6 ms of CPU through the ORM, about 0.1 ms as plain SQL;
- single-threaded, a 10-word explanation (`latency 0`) took 21.6 ms of CPU with these
  statements on the ORM and 16.1 ms with them compiled once (the predecessor of this
  module, accounts/compiled.py); `bench/pipeline.py`'s `short` ratio went from 0.63-0.67 to
  0.76-0.79 in that round;
- these functions against that predecessor (1,000 calls each, process CPU, one
  transaction, the test database): the claimed row with its four related rows 0.21 ms
  against 0.30, the history 0.09 against 0.16, a settings row 0.07 against 0.14, the
  roster 0.08 against 0.09;
- in py-spy's profile of the busy worker (`short`), the claim (its 11 statements and the
  prompt) was 25% of a generation's samples and the finish (5 statements) 13%.
Everything else the worker does (the rare transitions, the sweeper, a settings row's first
creation) stays on the ORM.

Every statement here keeps the ORM's guarantees (the shared plumbing is py):
- school-owned rows: the function takes the school, refuses it inside another school's
  context (`school_scope_check`, like `for_school`) and puts `school_id = %s` in the
  statement, so it can never read or write another school's rows; RLS applies as well;
- it runs on the thread's connection (`django.db.connection`), so the school context,
  transactions, query counting and `assertNumQueries` see it like any other statement;
- values go in as each field would adapt them (`get_db_prep_save`, `get_db_prep_value`)
  and rows come back as the ORM would build them: the same converters
  (`connection.ops.get_db_converters`, the field's own `from_db_value`) and `Model.from_db`.
  Column lists come from each model's `_meta`, so a new field is read and written here too.
tests/tutoring/test_worker_sql.py checks each against the ORM.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.db.models import Model

from accounts.models import School, User
from accounts.tenancy import school_scope_check
from tutoring.models import (
    ClassroomMember,
    Exercise,
    Explanation,
    Lesson,
    LessonVersion,
    Message,
    ProviderKey,
    SafetySettings,
    SchoolSettings,
    StudentProfile,
    TutoringSession,
    UsageEntry,
    UsagePeriod,
)
from tutoring.services.sql_rows import (
    column_list,
    execute,
    fetch_all,
    insert_row,
    instance_from_row,
    one_row_of_school,
    quote,
    save_values,
    set_clause,
    statement_text,
    table_name,
    thread_connection,
)

M = TypeVar("M", bound=Model)
Status = Explanation.Status

HISTORY_TURNS_LOADED = 400  # the prompt trims to its token budget; this bounds the read


# -- the claim's reads ---------------------------------------------------------------------


def school_by_id(school_id: int) -> School | None:
    """The school a task names (not school-owned: no context needed)."""
    db = thread_connection()
    sql = statement_text(
        db,
        "school_by_id",
        lambda: f"SELECT {column_list(School)} FROM {table_name(School)} WHERE {quote('id')} = %s",  # noqa: S608
    )
    rows = fetch_all(db, sql, [school_id])
    return instance_from_row(db, School, rows[0])[0] if rows else None


def _limit_one(*, lock: bool) -> str:
    """One row; with `lock`, locked until commit where the database can (SQLite, the demo,
    cannot: its writers already take turns, like `select_for_update()` there)."""
    if lock and thread_connection().features.has_select_for_update:
        return "LIMIT 1 FOR UPDATE"
    return "LIMIT 1"


def school_settings_row(school: School, *, lock: bool = False) -> SchoolSettings | None:
    """The school's settings row; with `lock`, locked until the transaction ends (FOR
    UPDATE: the budget check and reservation of one school run one at a time)."""
    return one_row_of_school(SchoolSettings, school, _limit_one(lock=lock), [])


def safety_settings_row(school: School, *, lock: bool = False) -> SafetySettings | None:
    """The school's safety settings row (read on every claim); with `lock`, FOR UPDATE."""
    return one_row_of_school(SafetySettings, school, _limit_one(lock=lock), [])


def active_provider_key_row(school: School) -> ProviderKey | None:
    """The school's oldest active provider key."""
    # Constant conditions (one table, so unqualified names): the statement is built once.
    return one_row_of_school(ProviderKey, school, 'AND "is_active" ORDER BY "id" LIMIT 1', [])


def student_profile_row(school: School, user_id: int) -> StudentProfile | None:
    """The student's profile in the school (one per user and school)."""
    return one_row_of_school(StudentProfile, school, 'AND "user_id" = %s', [user_id])


def class_roster_names(school: School, lesson_id: int) -> list[str]:
    """The full names of every member of the class a lesson is taught in (the PII shield
    keeps them from the provider)."""
    school_scope_check(school, ClassroomMember.__name__)
    db = thread_connection()
    sql = statement_text(db, "class_roster_names", lambda: _ROSTER_SQL.format(
        member=table_name(ClassroomMember), lesson=table_name(Lesson), user=table_name(User)
    ))  # fmt: skip
    return [name for (name,) in fetch_all(db, sql, [school.pk, lesson_id])]


_ROSTER_SQL = """
SELECT u.full_name FROM {member} m
  INNER JOIN {lesson} l ON l.classroom_id = m.classroom_id
  INNER JOIN {user} u ON u.id = m.user_id
WHERE m.school_id = %s AND l.id = %s
"""


def _claimed_explanation_sql() -> str:
    e, s, u = (
        table_name(Explanation),
        table_name(TutoringSession),
        table_name(User),
    )
    v, x = table_name(LessonVersion), table_name(Exercise)
    return (
        f"SELECT {column_list(Explanation)}, {column_list(TutoringSession)}, {column_list(User)},"  # noqa: S608
        f" {column_list(LessonVersion)}, {column_list(Exercise)} FROM {e}"
        f" INNER JOIN {s} ON {e}.{quote('session_id')} = {s}.{quote('id')}"
        f" INNER JOIN {u} ON {s}.{quote('student_id')} = {u}.{quote('id')}"
        f" INNER JOIN {v} ON {e}.{quote('lesson_version_id')} = {v}.{quote('id')}"
        f" LEFT OUTER JOIN {x} ON {e}.{quote('exercise_id')} = {x}.{quote('id')}"
        f" WHERE {e}.{quote('school_id')} = %s AND {e}.{quote('id')} = %s"
    )


def claimed_explanation_row(school: School, explanation_id: int) -> Explanation | None:
    """The explanation with its session, the session's student, its lesson version and
    exercise, in one statement (`select_related` of the four): what the prompt, the
    student context and the PII shield read."""
    school_scope_check(school, Explanation.__name__)
    db = thread_connection()
    sql = statement_text(db, "claimed_explanation_row", _claimed_explanation_sql)
    rows = fetch_all(db, sql, [school.pk, explanation_id])
    if not rows:
        return None
    row = rows[0]
    explanation, end = instance_from_row(db, Explanation, row)
    session, end = instance_from_row(db, TutoringSession, row, end)
    student, end = instance_from_row(db, User, row, end)
    version, end = instance_from_row(db, LessonVersion, row, end)
    exercise = instance_from_row(db, Exercise, row, end)[0] if row[end] is not None else None
    session.student = student
    explanation.session = session
    explanation.lesson_version = version
    explanation.exercise = exercise
    return explanation


def history_turns_newest_first(
    school: School, *, session_id: int, before: datetime, explanation_id: int
) -> list[tuple[str, str]]:
    """(role, content) of the session's turns before `before`, newest first, at most
    HISTORY_TURNS_LOADED: without the explanation's own turn, and without the turns of
    blocked explanations (they never reach a provider)."""
    school_scope_check(school, Message.__name__)
    db = thread_connection()
    sql = statement_text(db, "history_turns_newest_first", lambda: _HISTORY_SQL.format(
        message=table_name(Message), explanation=table_name(Explanation)
    ))  # fmt: skip
    at = db.ops.adapt_datetimefield_value(before)
    params = [school.pk, session_id, at, explanation_id, Status.BLOCKED.value, HISTORY_TURNS_LOADED]
    return [(role, content) for role, content in fetch_all(db, sql, params)]


_HISTORY_SQL = """
SELECT m.role, m.content FROM {message} m
  LEFT OUTER JOIN {explanation} e ON e.id = m.explanation_id
WHERE m.school_id = %s AND m.session_id = %s AND m.created_at < %s
  AND (m.explanation_id IS NULL OR m.explanation_id <> %s)
  AND (e.status IS NULL OR e.status <> %s)
ORDER BY m.created_at DESC, m.id DESC
LIMIT %s
"""


# -- the budget ------------------------------------------------------------------------------

_TOKENS_USED_SQL = """
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


def budget_tokens_used(
    school: School, student_id: int | None, month: Any, day: Any
) -> tuple[int, int]:
    """(school tokens this month, student tokens today), settled + reserved, in one
    statement: one round trip inside the budget lock instead of four, and one snapshot, so
    a reservation settled in between is counted exactly once. Settled tokens come from the
    period counters (one row each, whatever the month's usage), reserved ones from the
    explanations being written. A student id of None (previews) matches no row.

    Not the ORM: this runs under the school's budget lock on every claim, and compiling
    the four ORM subqueries cost more CPU than the rest of the claim's statements
    (bench/pipeline.py, second round)."""
    school_scope_check(school, UsagePeriod.__name__)
    db = thread_connection()
    sql = statement_text(db, "budget_tokens_used", lambda: _TOKENS_USED_SQL.format(
        period=table_name(UsagePeriod), explanation=table_name(Explanation)
    ))  # fmt: skip
    params = {
        "school": school.pk,
        "month": month,
        "day": day,
        "running": Status.RUNNING.value,
        "student": student_id,
    }
    school_settled, school_reserved, student_settled, student_reserved = fetch_all(db, sql, params)[
        0
    ]
    return int(school_settled) + int(school_reserved), int(student_settled) + int(student_reserved)


_PERIOD_ADD_SQL = """
INSERT INTO {period} (school_id, public_id, student_id, period_start, tokens)
VALUES (%s, %s, {student}, %s, %s)
ON CONFLICT ({conflict}) WHERE {condition}
DO UPDATE SET tokens = {period}.tokens + excluded.tokens
"""


def usage_periods_add(
    school: School, student_id: int | None, tokens: int, month: Any, day: Any
) -> None:
    """Add settled tokens to the school's month counter and, for a student, the student's
    day counter: one upsert per counter, safe under concurrent finishes (a read-then-write
    through the ORM would lose updates, and `update_or_create` would take two statements)."""
    school_scope_check(school, UsagePeriod.__name__)
    db = thread_connection()
    school_sql = statement_text(db, "school_month_add", lambda: _PERIOD_ADD_SQL.format(
        period=table_name(UsagePeriod), student="NULL", conflict="school_id, period_start",
        condition="student_id IS NULL",
    ))  # fmt: skip
    execute(db, school_sql, [school.pk, uuid.uuid4().hex, month, tokens])
    if student_id is not None:
        student_sql = statement_text(db, "student_day_add", lambda: _PERIOD_ADD_SQL.format(
            period=table_name(UsagePeriod), student="%s",
            conflict="school_id, student_id, period_start", condition="student_id IS NOT NULL",
        ))  # fmt: skip
        execute(db, student_sql, [school.pk, uuid.uuid4().hex, student_id, day, tokens])


def usage_entry_insert(school: School, **values: Any) -> UsageEntry:
    """The ledger row of one provider call (written by every finished generation)."""
    return insert_row(UsageEntry, school, values)


def tutor_message_insert(
    school: School, *, session_id: int, content: str, explanation_id: int
) -> Message:
    """The tutor's turn in the session, written with the result."""
    values = {
        "session_id": session_id,
        "role": Message.Role.TUTOR,
        "content": content,
        "explanation_id": explanation_id,
    }
    return insert_row(Message, school, values)


# -- the explanation's guarded UPDATEs (called only by explanation_states) -------------------


def _explanation_update(
    school: School, values: dict[str, Any], condition: str, params: Sequence[Any], *, bump: str = ""
) -> int:
    """UPDATE one school's explanation rows: `values` set, `condition` ANDed with the school."""
    school_scope_check(school, Explanation.__name__)
    names = tuple(values)

    def build() -> str:
        assignments = set_clause(Explanation, names)
        if bump:
            assignments += f", {quote(bump)} = {quote(bump)} + 1"
        return (
            f"UPDATE {table_name(Explanation)} SET {assignments}"  # noqa: S608  names from the model
            f" WHERE {quote('school_id')} = %s AND ({condition})"
        )

    db = thread_connection()
    sql = statement_text(db, ("update", names, condition, bump), build)
    return execute(db, sql, [*save_values(db, Explanation, values), school.pk, *params])


def _at(value: datetime) -> Any:
    """A datetime compared in a WHERE, adapted as the ORM adapts a DateTimeField's value."""
    return thread_connection().ops.adapt_datetimefield_value(value)


def explanation_claim_update(
    school: School, explanation_id: int, *, now: datetime, lease_until: datetime
) -> int:
    """queued and due (or running with an expired lease) -> running, attempt + 1."""
    values = {"status": Status.RUNNING, "lease_until": lease_until, "started_at": now,
              "reserved_tokens": 0}  # fmt: skip
    condition = (
        "id = %s AND ((status = %s AND (next_attempt_at IS NULL OR next_attempt_at <= %s))"
        " OR (status = %s AND lease_until < %s))"
    )
    at = _at(now)
    params = [explanation_id, Status.QUEUED.value, at, Status.RUNNING.value, at]
    return _explanation_update(school, values, condition, params, bump="attempt")


def explanation_attempt_update(
    school: School, explanation_id: int, attempt: int, values: dict[str, Any]
) -> int:
    """Write `values` while the claim of `attempt` still holds (status running)."""
    condition = "id = %s AND status = %s AND attempt = %s"
    return _explanation_update(
        school, values, condition, [explanation_id, Status.RUNNING.value, attempt]
    )


__all__ = [
    "HISTORY_TURNS_LOADED",
    "active_provider_key_row",
    "budget_tokens_used",
    "claimed_explanation_row",
    "class_roster_names",
    "explanation_attempt_update",
    "explanation_claim_update",
    "history_turns_newest_first",
    "safety_settings_row",
    "school_by_id",
    "school_settings_row",
    "student_profile_row",
    "tutor_message_insert",
    "usage_entry_insert",
    "usage_periods_add",
]
