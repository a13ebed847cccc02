"""Do a school's pages cost the same when the platform holds a thousand schools?

    .venv/bin/python bench/scale.py               (or: make bench-scale)

Generates two data sets with the same shape per school (100 students in classes of 25, one
teacher, three sessions and ten explanations per student, 2% of them in the review queue,
usage rows for the answered ones): a small one (`--small-schools`, 10,000 explanations by
default) and a large one (`--schools`, `--students`, `--explanations`: 1,000 / 100,000 /
1,000,000 by default), each in its own database. Rows are generated inside PostgreSQL
(`INSERT ... SELECT generate_series`, as the owner with `app.cross_school` on for that
session: the owner is subject to FORCE RLS too), which is faster than COPY because nothing
crosses the wire; columns the script does not name get their type's empty value, so new
NOT NULL columns do not break it.

Then, as the app role inside `school_context` (RLS on), it times the first page (with the
paginator's count) of: the student's history (`explanation_list_for_student`), the
teacher's transcript list (`transcript_list`), the teacher's review queue
(`review_item_list`), and the budget check a claim runs under the school's lock
(`budgets._used_now`). Target: p95 at the large size <= 1.5x the small one.

`--keep` reuses data sets generated before with the same sizes. `--explain FILE` writes the
EXPLAIN (ANALYZE, BUFFERS) plan of each query at both sizes to FILE. `--index NAME` creates one of
the candidate indexes in INDEX_CANDIDATES (as the owner, in both databases) before timing.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench, emit, load_average, machine, percentile  # noqa: E402

CLASS_SIZE = 25
SESSIONS_PER_STUDENT = 3
REVIEW_EVERY = 50  # one explanation in 50 is in the review queue
PAGE_SIZE = 20  # HISTORY_PAGE_SIZE, TRANSCRIPTS_PER_PAGE's order of magnitude

# Index candidates tried with --index (raw DDL: this script never writes migrations).
INDEX_CANDIDATES: dict[str, str] = {
    "usage_school_created_tokens": (
        "CREATE INDEX IF NOT EXISTS bench_usage_school_created_tokens ON tutoring_usageentry "
        "(school_id, created_at) INCLUDE (prompt_tokens, completion_tokens)"
    ),
    "usage_school_student_created_tokens": (
        "CREATE INDEX IF NOT EXISTS bench_usage_school_student_created_tokens "
        "ON tutoring_usageentry (school_id, student_id, created_at) "
        "INCLUDE (prompt_tokens, completion_tokens, is_preview)"
    ),
    "session_school_started": (
        "CREATE INDEX IF NOT EXISTS bench_session_school_started ON tutoring_tutoringsession "
        "(school_id, started_at DESC) WHERE NOT is_preview"
    ),
}


# -- generation ------------------------------------------------------------------------------


def _columns(conn: Any, table: str) -> list[tuple[str, str, bool, bool]]:
    return conn.execute(
        "SELECT column_name, data_type, is_nullable = 'YES', is_identity = 'YES'"
        " FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    ).fetchall()


_EMPTY = {
    "text": "''",
    "character varying": "''",
    "integer": "0",
    "bigint": "0",
    "smallint": "0",
    "numeric": "0",
    "boolean": "false",
    "jsonb": "'[]'::jsonb",
    "timestamp with time zone": "now()",
    "date": "current_date",
    "uuid": "gen_random_uuid()",
}


def insert_series(conn: Any, table: str, count: int, values: dict[str, str]) -> None:
    """INSERT `count` rows made from `g` = 1..count; unnamed NOT NULL columns get their
    type's empty value, nullable ones NULL."""
    names, exprs = [], []
    for name, data_type, nullable, identity in _columns(conn, table):
        if name in values:
            names.append(name)
            exprs.append(values[name])
        elif not nullable and not identity:
            if data_type not in _EMPTY:
                raise RuntimeError(f"{table}.{name}: no empty value for type {data_type}")
            names.append(name)
            exprs.append(_EMPTY[data_type])
    conn.execute(
        f"INSERT INTO {table} ({', '.join(names)}) "
        f"SELECT {', '.join(exprs)} FROM generate_series(1, {int(count)}) AS g"
    )


BULK_TABLES = (
    "tutoring_tutoringsession",
    "tutoring_explanation",
    "tutoring_reviewitem",
    "tutoring_usageentry",
)


def _secondary_indexes(conn: Any, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the indexes that back no constraint."""
    return conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN"
        " (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [table, table],
    ).fetchall()


def generate(bench: Bench, schools: int, students: int, explanations: int) -> dict[str, Any]:
    per_school = students // schools
    classes = -(-per_school // CLASS_SIZE)
    students = per_school * schools
    sessions = students * SESSIONS_PER_STUDENT
    started = time.perf_counter()
    timings: dict[str, float] = {}
    with bench.owner_connection() as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        # Building an index once after the load is several times faster than updating it
        # row by row; the application's own definitions are put back unchanged.
        dropped = [index for table in BULK_TABLES for index in _secondary_indexes(conn, table)]
        for name, _definition in dropped:
            conn.execute(f'DROP INDEX "{name}"')
        school_of_user = f"(((g - 1) / {per_school}) + 1)"

        def step(name: str, work: Callable[[], object]) -> None:
            began = time.perf_counter()
            work()
            timings[name] = round(time.perf_counter() - began, 1)

        step(
            "schools",
            lambda: insert_series(
                conn,
                "accounts_school",
                schools,
                {
                    "id": "g",
                    "name": "'School ' || g",
                    "slug": "'scale-' || g",
                    "status": "'active'",
                    "timezone": "'UTC'",
                    "default_language": "'en'",
                },
            ),
        )
        # Students are users 1..students; the teacher of school s is user students + s.
        user = {"password": "'!'", "is_active": "true", "date_joined": "now()"}
        step(
            "users",
            lambda: (
                insert_series(  # type: ignore[func-returns-value]  # a step of two inserts
                    conn,
                    "accounts_user",
                    students,
                    user
                    | {
                        "id": "g",
                        "email": "'s' || g || '@scale.bench'",
                        "full_name": "'Student' || g || ' Surname' || g",
                    },
                ),
                insert_series(  # type: ignore[func-returns-value]  # a step of two inserts
                    conn,
                    "accounts_user",
                    schools,
                    user
                    | {
                        "id": f"{students} + g",
                        "email": "'t' || g || '@scale.bench'",
                        "full_name": "'Teacher' || g",
                    },
                ),
            ),
        )
        member = {"is_active": "true", "created_at": "now()"}
        step(
            "memberships",
            lambda: (
                insert_series(  # type: ignore[func-returns-value]  # a step of two inserts
                    conn,
                    "accounts_membership",
                    students,
                    member
                    | {
                        "id": "g",
                        "school_id": school_of_user,
                        "user_id": "g",
                        "role": "'student'",
                    },
                ),
                insert_series(  # type: ignore[func-returns-value]  # a step of two inserts
                    conn,
                    "accounts_membership",
                    schools,
                    member
                    | {
                        "id": f"{students} + g",
                        "school_id": "g",
                        "user_id": f"{students} + g",
                        "role": "'teacher'",
                    },
                ),
            ),
        )
        # Class c of school s has id (s - 1) * classes + c; one lesson (and version) each,
        # with the same id.
        class_of_user = (
            f"(({school_of_user} - 1) * {classes} + ((g - 1) % {per_school}) / {CLASS_SIZE} + 1)"
        )
        school_of_class = f"(((g - 1) / {classes}) + 1)"

        def classes_and_lessons() -> None:
            insert_series(
                conn,
                "tutoring_classroom",
                schools * classes,
                {
                    "id": "g",
                    "school_id": school_of_class,
                    "name": "'Class ' || ((g - 1) % " + str(classes) + ")",
                },
            )
            insert_series(
                conn,
                "tutoring_classroommember",
                students,
                {
                    "id": "g",
                    "school_id": school_of_user,
                    "classroom_id": class_of_user,
                    "user_id": "g",
                    "role": "'student'",
                },
            )
            insert_series(
                conn,
                "tutoring_classroommember",
                schools * classes,
                {
                    "id": f"{students} + g",
                    "school_id": school_of_class,
                    "classroom_id": "g",
                    "user_id": f"{students} + {school_of_class}",
                    "role": "'teacher'",
                },
            )
            contract = {
                "title": "'Fractions'",
                "language": "'en'",
                "reading_level": "'elementary'",
                "answer_policy": "'hints_first'",
                "full_solution_after_tries": "3",
                "material": "repeat('Fractions are parts of a whole. ', 20)",
                "created_by_id": f"{students} + {school_of_class}",
            }
            insert_series(
                conn,
                "tutoring_lesson",
                schools * classes,
                contract
                | {
                    "id": "g",
                    "school_id": school_of_class,
                    "classroom_id": "g",
                    "status": "'published'",
                },
            )
            insert_series(
                conn,
                "tutoring_lessonversion",
                schools * classes,
                contract
                | {"id": "g", "school_id": school_of_class, "lesson_id": "g", "number": "1"},
            )
            conn.execute("UPDATE tutoring_lesson SET published_version_id = id")

        step("classes_lessons", classes_and_lessons)
        # Session k of student u has id (u - 1) * SESSIONS + k, newest ids newest.
        u_of_session = f"(((g - 1) / {SESSIONS_PER_STUDENT}) + 1)"
        session_school = f"((({u_of_session}) - 1) / {per_school} + 1)"
        session_class = (
            f"(({session_school} - 1) * {classes} + (({u_of_session}) - 1) % {per_school}"
            f" / {CLASS_SIZE} + 1)"
        )
        step(
            "sessions",
            lambda: insert_series(
                conn,
                "tutoring_tutoringsession",
                sessions,
                {
                    "id": "g",
                    "school_id": session_school,
                    "student_id": u_of_session,
                    "lesson_id": session_class,
                    "lesson_version_id": session_class,
                    "is_preview": "false",
                    "preview_profile": "'{}'::jsonb",
                    "started_at": f"now() - interval '90 days' * (1 - g::float / {sessions})",
                },
            ),
        )
        # Explanation g belongs to student u = (g - 1) % students + 1, in that student's
        # session ((g - 1) / students) % SESSIONS; spread over 90 days, newest ids newest.
        u_of_expl = f"(((g - 1) % {students}) + 1)"
        expl_session = (
            f"((({u_of_expl}) - 1) * {SESSIONS_PER_STUDENT}"
            f" + ((g - 1) / {students}) % {SESSIONS_PER_STUDENT} + 1)"
        )
        expl_school = f"((({u_of_expl}) - 1) / {per_school} + 1)"
        expl_class = (
            f"(({expl_school} - 1) * {classes} + (({u_of_expl}) - 1) % {per_school}"
            f" / {CLASS_SIZE} + 1)"
        )
        queued = f"now() - interval '90 days' * (1 - g::float / {explanations})"
        step(
            "explanations",
            lambda: insert_series(
                conn,
                "tutoring_explanation",
                explanations,
                {
                    "id": "g",
                    "school_id": expl_school,
                    "session_id": expl_session,
                    "student_id": u_of_expl,
                    "lesson_version_id": expl_class,
                    "kind": "'question'",
                    "question": "'Why do we keep the denominator? (' || g || ')'",
                    "status": (
                        "CASE WHEN g % 100 < 96 THEN 'succeeded' WHEN g % 100 < 98 THEN "
                        "'failed' ELSE 'blocked' END"
                    ),
                    "attempt": "1",
                    "queued_at": queued,
                    "started_at": queued,
                    "finished_at": f"{queued} + interval '2 seconds'",
                    "provider": "'openai'",
                    "model": "'gpt-4o-mini'",
                    "content": "repeat('A fraction is a part of a whole. ', 12)",
                    "prompt_tokens": "900",
                    "completion_tokens": "250",
                    "is_helpful": "CASE g % 10 WHEN 0 THEN true WHEN 1 THEN false END",
                },
            ),
        )
        step(
            "review_items",
            lambda: conn.execute(
                "INSERT INTO tutoring_reviewitem (school_id, public_id, explanation_id,"
                " classroom_id, student_id, source, action, categories, severity, detector,"
                " flagged_text, status, decision_note, created_at)"
                " SELECT e.school_id, gen_random_uuid(), e.id, s.lesson_id, e.student_id,"
                " 'input', 'flag', '[\"harassment\"]'::jsonb, 'low', 'local', e.question,"
                " CASE WHEN e.id % 2 = 0 THEN 'open' ELSE 'reviewed' END, '', e.queued_at"
                " FROM tutoring_explanation e JOIN tutoring_tutoringsession s"
                " ON s.id = e.session_id"
                f" WHERE e.id % {REVIEW_EVERY} = 0"
            ),
        )
        step(
            "usage",
            lambda: conn.execute(
                "INSERT INTO tutoring_usageentry (school_id, public_id, explanation_id,"
                " student_id, is_preview, provider, model, prompt_tokens, completion_tokens,"
                " cost_microdollars, created_at)"
                " SELECT school_id, gen_random_uuid(), id, student_id, false, provider, model,"
                " prompt_tokens, completion_tokens, 0, finished_at"
                " FROM tutoring_explanation WHERE status = 'succeeded'"
            ),
        )

        def finish() -> None:
            for table in (
                "accounts_school",
                "accounts_user",
                "accounts_membership",
                "tutoring_classroom",
                "tutoring_classroommember",
                "tutoring_lesson",
                "tutoring_lessonversion",
                "tutoring_tutoringsession",
                "tutoring_explanation",
                "tutoring_reviewitem",
                "tutoring_usageentry",
            ):
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))"
                )
            conn.execute("VACUUM ANALYZE")

        def rebuild() -> None:
            for _name, definition in dropped:
                conn.execute(definition)

        step("rebuild_indexes", rebuild)
        step("vacuum_analyze", finish)
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        database_size = size.fetchone()[0]
    return {
        "schools": schools,
        "students": students,
        "explanations": explanations,
        "sessions": sessions,
        "review_items": explanations // REVIEW_EVERY,
        "seconds": round(time.perf_counter() - started, 1),
        "steps_seconds": timings,
        "database_size": database_size,
    }


BIG_SCHOOL_SLUG = "scale-big"


def big_school(bench: Bench, usage_rows: int) -> dict[str, Any]:
    """One more school whose ledger holds `usage_rows` entries this month: the budget check
    a claim runs under the school's lock sums them (once per claim)."""
    with bench.owner_connection() as conn:
        found = conn.execute(
            "SELECT s.id, (SELECT count(*) FROM tutoring_usageentry u WHERE u.school_id = s.id)"
            " FROM accounts_school s WHERE s.slug = %s",
            [BIG_SCHOOL_SLUG],
        ).fetchone()
        if found and found[1] == usage_rows:
            return {"usage_rows_this_month": usage_rows, "reused": True}
        began = time.perf_counter()
        if found:
            conn.execute("DELETE FROM tutoring_usageentry WHERE school_id = %s", [found[0]])
            school_id = found[0]
            user_id = conn.execute(
                "SELECT user_id FROM accounts_membership WHERE school_id = %s", [school_id]
            ).fetchone()[0]
        else:
            school_id = conn.execute(
                "INSERT INTO accounts_school (name, slug, status, timezone, default_language,"
                " created_at) VALUES ('Big school', %s, 'active', 'UTC', 'en', now())"
                " RETURNING id",
                [BIG_SCHOOL_SLUG],
            ).fetchone()[0]
            user_id = conn.execute(
                "INSERT INTO accounts_user (password, is_superuser, email, full_name,"
                " preferred_language, is_active, is_staff, date_joined)"
                " VALUES ('!', false, 'big@scale.bench', 'Big Student', '', true, false, now())"
                " RETURNING id"
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO accounts_membership (school_id, public_id, user_id, role,"
                " is_active, created_at) VALUES (%s, gen_random_uuid(), %s, 'student', true,"
                " now())",
                [school_id, user_id],
            )
        conn.execute(
            "INSERT INTO tutoring_usageentry (school_id, public_id, student_id, is_preview,"
            " provider, model, prompt_tokens, completion_tokens, cost_microdollars, created_at)"
            " SELECT %s, gen_random_uuid(), %s, false, 'openai', 'gpt-4o-mini', 900, 250, 0,"
            " date_trunc('month', now()) + (now() - date_trunc('month', now())) * random()"
            " FROM generate_series(1, %s)",
            [school_id, user_id, usage_rows],
        )
        conn.execute("VACUUM ANALYZE tutoring_usageentry")
    return {"usage_rows_this_month": usage_rows, "seconds": round(time.perf_counter() - began, 1)}


def periods_from_ledger(bench: Bench) -> None:
    """The budget counters (UsagePeriod) of this month and today, from the generated ledger,
    as the finishing transactions would have kept them."""
    with bench.owner_connection() as conn:
        conn.execute("DELETE FROM tutoring_usageperiod")
        for student, period, since in (
            ("NULL", "month", "TRUE"),
            ("student_id", "day", "student_id IS NOT NULL AND NOT is_preview"),
        ):
            conn.execute(
                "INSERT INTO tutoring_usageperiod (school_id, public_id, student_id,"
                f" period_start, tokens) SELECT school_id, gen_random_uuid(), {student},"
                f" date_trunc('{period}', now() AT TIME ZONE 'UTC')::date,"
                " sum(prompt_tokens + completion_tokens) FROM tutoring_usageentry"
                f" WHERE created_at >= date_trunc('{period}', now() AT TIME ZONE 'UTC')"
                f" AT TIME ZONE 'UTC' AND {since} GROUP BY school_id"
                + (", student_id" if student != "NULL" else "")
            )
        conn.execute("VACUUM ANALYZE tutoring_usageperiod")


def _existing_sizes(bench: Bench) -> tuple[int, int, int] | None:
    try:
        with bench.owner_connection() as conn:
            return conn.execute(
                "SELECT (SELECT count(*) FROM accounts_school WHERE slug <> 'scale-big'),"
                " (SELECT count(*) FROM accounts_membership WHERE role = 'student'),"
                " (SELECT count(*) FROM tutoring_explanation)"
            ).fetchone()
    except Exception:  # noqa: BLE001 - no database or no tables yet
        return None


def data_set(bench: Bench, sizes: tuple[int, int, int], keep: bool) -> dict[str, Any]:
    schools, students, explanations = sizes
    expected = (schools, (students // schools) * schools, explanations)
    if keep and _existing_sizes(bench) == expected:
        return {"reused": True, "schools": schools, "explanations": explanations}
    bench.create_database()
    return generate(bench, schools, students, explanations)


# -- measuring -------------------------------------------------------------------------------


Case = tuple[str, Callable[[], Any], Any, Any]  # name, run, queryset to EXPLAIN, school


def _queries(samples: int, seed: int, big: bool = False) -> list[Case]:
    """The timed cases for `samples` random schools, a random student and the teacher (and
    with `big`, the budget check of the big school)."""
    from django.core.paginator import Paginator
    from django.utils import timezone

    from accounts.models import Membership, School
    from accounts.tenancy import school_context
    from tutoring import selectors
    from tutoring.safety import selectors as safety_selectors
    from tutoring.services import budgets

    rng = random.Random(seed)
    school_ids = list(
        School.objects.exclude(slug=BIG_SCHOOL_SLUG).order_by("pk").values_list("pk", flat=True)
    )
    chosen = [rng.choice(school_ids) for _ in range(samples)]
    cases: list[Case] = []
    for school_id in chosen:
        school = School.objects.get(pk=school_id)
        with school_context(school):
            members = Membership.objects.for_school(school).select_related("school", "user")
            student = rng.choice(list(members.filter(role=Membership.Role.STUDENT)))
            teacher = members.get(role=Membership.Role.TEACHER)

        def page(queryset: Any) -> list[Any]:
            return list(Paginator(queryset, PAGE_SIZE).get_page(1))

        def in_school(school: School, make: Callable[[], Any]) -> Callable[[], Any]:
            def run() -> Any:
                with school_context(school):
                    return make()

            return run

        history = selectors.explanation_list_for_student(member=student)
        transcripts = selectors.transcript_list(member=teacher)
        review = safety_selectors.review_item_list(school=school, member=teacher, show="open")
        sums = in_school(
            school,
            lambda s=school, u=student.user_id: budgets._used_now(s, u, timezone.now()),  # type: ignore[misc]  # defaults bind the values
        )
        cases += [
            ("student_history", in_school(school, lambda q=history: page(q)), history, school),  # type: ignore[misc]  # defaults bind the values
            (
                "teacher_transcripts",
                in_school(school, lambda q=transcripts: page(q)),  # type: ignore[misc]  # defaults bind the values
                transcripts,
                school,
            ),
            ("review_queue", in_school(school, lambda q=review: page(q)), review, school),  # type: ignore[misc]  # defaults bind the values
            ("budget_check_sums", sums, None, school),
        ]
    big_school = School.objects.filter(slug=BIG_SCHOOL_SLUG).first() if big else None
    if big_school is not None:
        with school_context(big_school):
            student_id = Membership.objects.for_school(big_school).get().user_id
        sums = in_school(
            big_school,
            lambda s=big_school, u=student_id: budgets._used_now(s, u, timezone.now()),  # type: ignore[misc]  # defaults bind the values
        )
        cases += [("budget_check_sums_big_school", sums, None, big_school)] * samples
    return cases


def _statements(run: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The SQL `run` sends, without the transaction and context statements."""
    from django.db import connection

    seen: list[tuple[str, Any]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "set_config" not in sql and "current_setting" not in sql:
            seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    return seen


def _database_only(school: Any, statements: list[tuple[str, Any]]) -> Callable[[], None]:
    """Run the captured statements again as the app role in the school's context: the
    database's share of the time, without the ORM's."""
    from django.db import connection

    from accounts.tenancy import school_context

    def run() -> None:
        with school_context(school), connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                if cursor.description is not None:
                    cursor.fetchall()

    return run


def measure(bench: Bench, samples: int, explain: bool, big: bool = False) -> dict[str, Any]:
    """Time each query on `samples` random schools (after one warm-up pass), as the app
    role inside the school's context: the whole call (`p95_ms`) and the same SQL sent
    straight to the database (`db_p95_ms`)."""
    from django.db import connection

    connection.close()
    connection.close_pool()  # type: ignore[attr-defined]  # the PostgreSQL backend's pool
    connection.settings_dict["NAME"] = bench.database
    cases = _queries(samples, seed=11, big=big)
    database_runs = [_database_only(school, _statements(run)) for _n, run, _q, school in cases]
    times: dict[str, list[float]] = {}
    database_times: dict[str, list[float]] = {}
    for _ in range(3):
        for (name, run, _queryset, _school), database_run in zip(cases, database_runs, strict=True):
            began = time.perf_counter()
            run()
            times.setdefault(name, []).append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            database_run()
            database_times.setdefault(name, []).append((time.perf_counter() - began) * 1000)
    result: dict[str, Any] = {
        name: {
            "p50_ms": round(percentile(values, 50), 2),
            "p95_ms": round(percentile(values, 95), 2),
            "db_p50_ms": round(percentile(database_times[name], 50), 2),
            "db_p95_ms": round(percentile(database_times[name], 95), 2),
            "samples": len(values),
        }
        for name, values in times.items()
    }
    if explain:
        from accounts.tenancy import school_context

        seen: set[str] = set()
        for name, _run, queryset, school in cases:
            if queryset is None or name in seen:
                continue
            seen.add(name)
            with school_context(school):
                result[name]["plan"] = queryset[:PAGE_SIZE].explain(analyze=True, buffers=True)
    connection.close()
    connection.close_pool()  # type: ignore[attr-defined]  # the PostgreSQL backend's pool
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--explanations", type=int, default=1_000_000)
    parser.add_argument("--small-schools", type=int, default=10, help="same shape per school")
    parser.add_argument("--samples", type=int, default=40, help="schools timed per query")
    parser.add_argument("--keep", action="store_true", help="reuse generated data sets")
    parser.add_argument(
        "--big-school-usage",
        type=int,
        default=100_000,
        help="usage rows this month of one extra school in the large set (0: none)",
    )
    parser.add_argument("--explain", metavar="FILE", help="write EXPLAIN plans to FILE")
    parser.add_argument(
        "--index", action="append", default=[], choices=sorted(INDEX_CANDIDATES), help="try"
    )
    args = parser.parse_args()

    large = Bench("scale", redis_db=13)
    small = Bench("scale_small", redis_db=13)
    ratio = args.small_schools / args.schools
    large_sizes = (args.schools, args.students, args.explanations)
    small_sizes = (
        args.small_schools,
        max(args.small_schools, int(args.students * ratio)),
        max(args.small_schools, int(args.explanations * ratio)),
    )
    generated = {
        "small": data_set(small, small_sizes, args.keep),
        "large": data_set(large, large_sizes, args.keep),
    }
    if args.big_school_usage:
        generated["big_school"] = big_school(large, args.big_school_usage)
    for bench in (small, large):
        periods_from_ledger(bench)
    for bench in (small, large):
        with bench.owner_connection() as conn:
            for name in args.index:
                conn.execute(INDEX_CANDIDATES[name])
            if args.index:
                conn.execute("ANALYZE")

    large.setup_django()
    timings = {
        "small": measure(small, args.samples, bool(args.explain)),
        "large": measure(large, args.samples, bool(args.explain), big=bool(args.big_school_usage)),
    }
    if args.explain:
        with open(args.explain, "w") as out:
            for size, results in timings.items():
                for name, figures in results.items():
                    if "plan" in figures:
                        out.write(f"## {name} ({size})\n\n{figures.pop('plan')}\n\n")
    ratios = {
        name: round(timings["large"][name]["p95_ms"] / timings["small"][name]["p95_ms"], 2)
        for name in timings["small"]
    }
    database_ratios = {
        name: round(timings["large"][name]["db_p95_ms"] / timings["small"][name]["db_p95_ms"], 2)
        for name in timings["small"]
    }
    if "budget_check_sums_big_school" in timings["large"]:
        big = timings["large"]["budget_check_sums_big_school"]["db_p95_ms"]
        typical = timings["large"]["budget_check_sums"]["db_p95_ms"]
        database_ratios["budget_check_sums big school / typical school"] = round(big / typical, 1)
    emit(
        {
            "benchmark": "scale",
            "data_sets": generated,
            "indexes_tried": args.index,
            "p95_ratio_large_to_small": ratios,
            "db_p95_ratio_large_to_small": database_ratios,
            "timings": timings,
            "targets": {
                **{f"{name} p95 ratio <= 1.5": value <= 1.5 for name, value in ratios.items()},
                **{
                    f"{name} database p95 ratio <= 1.5": value <= 1.5
                    for name, value in database_ratios.items()
                    if name in ratios
                },
            },
            "machine": machine(large) | {"load_average_at_end": load_average()},
        }
    )


if __name__ == "__main__":
    main()
