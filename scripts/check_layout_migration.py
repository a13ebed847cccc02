"""The upgrade check of issue #20: a database migrated and seeded by the OLD code (the last
commit before the package moves) migrates with TODAY's code with every row intact.

    .venv/bin/python scripts/check_layout_migration.py      (or: make check-upgrade)

1. Extracts the baseline commit (BASELINE) with `git archive` into a temporary folder.
2. Creates a fresh database owned by the owner role, migrates it with the old tree's own
   manage.py, seeds it (`manage.py demo`, then scripts/layout_migration_seed.py, which uses
   the old code's services): every tenant table gets rows in at least two schools.
3. Snapshots, as the PostgreSQL superuser (it bypasses the FORCEd row-level security), each
   table's row count, per-school counts, and an md5 of its rows over the baseline's columns.
4. Runs today's `manage.py migrate` and `manage.py check_tenancy` on the same database, then
   snapshots again and compares: a missing table, a dropped column or any changed, lost or
   added row fails. Tables a move renames are listed in TABLE_RENAMES (the design keeps
   table names, so it is empty); new tables and new columns are reported, not failed.
5. Reads the rows back through today's code as the runtime role (scripts/
   layout_migration_read.py): every tenant model's rows per school inside school_context
   must equal the superuser's counts; a selector and two pages must show the seeded rows.

Prints a JSON summary; exits 1 with the differences on any mismatch. The database and the
folder are removed on the way out, also on failure or Ctrl-C.

Environment: DATABASE_URL / DATABASE_OWNER_URL (runtime and owner roles; only their
credentials are used, the database name is replaced), PG_SUPERUSER_URL (default
postgresql://postgres@127.0.0.1:5432/postgres, as `manage.py db_bootstrap`),
UPGRADE_CHECK_BASELINE (another commit), UPGRADE_CHECK_KEEP=1 (keep database and folder).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
# The last commit on main before the architecture work (#20) began moving code.
BASELINE = "80a9db08e743b24b965bad4a3c662449db643d7a"
# Old table name -> new table name, for moves that rename a table (none planned).
TABLE_RENAMES: dict[str, str] = {}
# Django's own bookkeeping: rows the new code legitimately adds or renames (migrations
# applied, content types and permissions of models that change app). Counted, not compared.
BOOKKEEPING = {"django_migrations", "django_content_type", "auth_permission"}
DEFAULT_APP_URL = "postgres://lantern_app:lantern_app_dev@127.0.0.1:5432/lantern"
DEFAULT_OWNER_URL = "postgres://lantern_owner:lantern_owner_dev@127.0.0.1:5432/lantern"
DEFAULT_SUPERUSER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class CheckFailed(Exception):
    """A step failed or a difference was found; the message says which."""


@dataclass
class Table:
    columns: list[str]
    rows: int = 0
    md5: str = ""
    per_school: dict[str, int] = field(default_factory=dict)


Snapshot = dict[str, Table]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(name)))


def _role(url: str) -> str:
    return unquote(urlsplit(url).username or "")


def _run(label: str, args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run one step; on failure raise with its output (the last lines are what matters)."""
    started = time.monotonic()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    print(f"upgrade-check: {label} ({time.monotonic() - started:.1f}s)", file=sys.stderr)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-30:])
        raise CheckFailed(f"{label} failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def _baseline_tree(commit: str, into: Path) -> str:
    resolved = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if resolved.returncode != 0:
        raise CheckFailed(
            f"baseline commit {commit} is not in this clone; a shallow clone lacks it: "
            "run `git fetch --unshallow` (CI clones need full history)"
        )
    full = resolved.stdout.strip()
    archive = subprocess.run(["git", "archive", full], cwd=ROOT, capture_output=True, check=False)
    if archive.returncode != 0:
        raise CheckFailed(f"git archive {full} failed: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return full


def _create_database(superuser_url: str, name: str, owner: str, app: str) -> None:
    """The same shape as `manage.py db_bootstrap` makes (roles must already exist)."""
    with psycopg.connect(superuser_url, autocommit=True) as conn:
        for role in (owner, app):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                raise CheckFailed(f"role {role} does not exist: run `make services` first")
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(owner)
            )
        )
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(name), sql.Identifier(app)
            )
        )
    with psycopg.connect(_with_database(superuser_url, name), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner)))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(app)))


def _drop_database(superuser_url: str, name: str) -> None:
    with psycopg.connect(superuser_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _snapshot(url: str, columns_of: dict[str, list[str]] | None = None) -> Snapshot:
    """Every table of schema public, as the superuser (no row-level security applies).

    The checksum covers `columns_of[table]` (the baseline's columns) when given, so a
    column the new code adds does not count as a changed row, but one it drops does."""
    snapshot: Snapshot = {}
    with psycopg.connect(url, autocommit=True) as conn:
        current: dict[str, list[str]] = {}
        for table, column in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name IN (SELECT tablename FROM pg_tables "
            "WHERE schemaname = 'public') ORDER BY table_name, ordinal_position"
        ):
            current.setdefault(table, []).append(column)
        for table, present in current.items():
            wanted = (columns_of or {}).get(table, present)
            missing = [c for c in wanted if c not in present]
            if missing:
                snapshot[table] = Table(columns=present, md5=f"missing columns {missing}")
                continue
            row = sql.SQL("ROW({})::text").format(sql.SQL(", ").join(map(sql.Identifier, wanted)))
            count, md5 = conn.execute(
                sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg({row}, E'\\n' ORDER BY {row}), ''))"
                    " FROM {table}"
                ).format(row=row, table=sql.Identifier(table))
            ).fetchone() or (0, "")
            entry = Table(columns=present, rows=count, md5=md5)
            if "school_id" in present:
                entry.per_school = {
                    slug: n
                    for slug, n in conn.execute(
                        sql.SQL(
                            "SELECT s.slug, count(*) FROM {} t JOIN accounts_school s "
                            "ON s.id = t.school_id GROUP BY s.slug ORDER BY s.slug"
                        ).format(sql.Identifier(table))
                    )
                }
            snapshot[table] = entry
    return snapshot


def _check_seeded(before: Snapshot) -> None:
    thin = {
        table: entry.per_school
        for table, entry in before.items()
        if "school_id" in entry.columns and len(entry.per_school) < 2
    }
    if thin:
        raise CheckFailed(f"the seed left tenant tables with rows in fewer than 2 schools: {thin}")


def _compare(before: Snapshot, after: Snapshot) -> list[str]:
    problems = []
    for old_name, old in sorted(before.items()):
        if old_name in BOOKKEEPING:
            continue
        name = TABLE_RENAMES.get(old_name, old_name)
        new = after.get(name)
        if new is None:
            problems.append(f"{old_name}: table gone after the migration (no rename known)")
        elif new.md5.startswith("missing"):
            problems.append(f"{name}: {new.md5}")
        elif (new.rows, new.md5, new.per_school) != (old.rows, old.md5, old.per_school):
            problems.append(
                f"{name}: rows {old.rows} -> {new.rows}, per school {old.per_school} -> "
                f"{new.per_school}, checksum {old.md5} -> {new.md5}"
            )
    return problems


def _compare_reads(after: Snapshot, read: dict[str, Any]) -> list[str]:
    problems = []
    for table, per_school in sorted(read["counts"].items()):
        expected = {slug: after[table].per_school.get(slug, 0) for slug in per_school}
        if per_school != expected:
            problems.append(f"{table}: the app role reads {per_school}, the table has {expected}")
    tenant_tables = {t for t, e in after.items() if "school_id" in e.columns}
    if unread := sorted(tenant_tables - read["counts"].keys()):
        problems.append(f"tenant tables no model of today's code reads: {unread}")
    pages = read["pages"]
    if pages["history_status"] != 200 or not pages["history_shows_seeded_question"]:
        problems.append(f"the student's history page does not show the seeded rows: {pages}")
    if pages["review_queue_status"] != 200 or not pages["selector_has_seeded_question"]:
        problems.append(f"the review queue or the explanation selector failed: {pages}")
    return problems


def _environment(app_url: str, owner_url: str, work: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL", "PYTHONPATH"}
    }
    env.update(
        DATABASE_URL=app_url,
        DATABASE_OWNER_URL=owner_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        # No broker server: enqueued tasks land in a folder nobody reads; the seed runs
        # generation itself, like the tests do.
        REDIS_URL="",
        DEMO_BROKER_DIR=str(work / "broker"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        LOG_LEVEL="ERROR",
        LLM_PROVIDER="offline",
        OPENAI_API_KEY="",
        LANTERN_OWNER_ROLE=_role(owner_url),
    )
    return env


def check(baseline: str, work: Path, dbname: str) -> dict[str, Any]:
    app_url = _with_database(os.environ.get("DATABASE_URL", DEFAULT_APP_URL), dbname)
    owner_url = _with_database(os.environ.get("DATABASE_OWNER_URL", DEFAULT_OWNER_URL), dbname)
    superuser_url = os.environ.get("PG_SUPERUSER_URL", DEFAULT_SUPERUSER_URL)
    python = sys.executable
    old = work / "old"
    old.mkdir()
    commit = _baseline_tree(baseline, old)
    env = _environment(app_url, owner_url, work)

    _create_database(superuser_url, dbname, _role(owner_url), _role(app_url))
    _run("old code: migrate", [python, "manage.py", "migrate", "--no-input", "-v0"], old, env)
    _run("old code: demo", [python, "manage.py", "demo"], old, env)
    seeded = _run(
        "old code: seed",
        [python, str(ROOT / "scripts" / "layout_migration_seed.py"), str(old)],
        old,
        env,
    )
    su_db_url = _with_database(superuser_url, dbname)
    before = _snapshot(su_db_url)
    _check_seeded(before)

    _run("new code: migrate", [python, "manage.py", "migrate", "--no-input", "-v0"], ROOT, env)
    _run("new code: check_tenancy", [python, "manage.py", "check_tenancy"], ROOT, env)
    after = _snapshot(su_db_url, {t: e.columns for t, e in before.items()})
    read_output = _run(
        "new code: read as the runtime role",
        [python, str(ROOT / "scripts" / "layout_migration_read.py")],
        ROOT,
        env,
    )
    read = json.loads(read_output.strip().splitlines()[-1])  # the JSON line comes last
    problems = _compare(before, after) + _compare_reads(after, read)
    compared = sorted(set(before) - BOOKKEEPING)
    summary: dict[str, Any] = {
        "baseline": commit,
        "seed": [line for line in seeded.splitlines() if line.startswith("seed:")],
        "tables_compared": len(compared),
        "rows_compared": sum(before[t].rows for t in compared),
        "tenant_tables": {
            t: before[t].per_school for t in compared if "school_id" in before[t].columns
        },
        "new_tables": sorted(set(after) - {TABLE_RENAMES.get(t, t) for t in before}),
        "new_columns": {
            t: sorted(set(after[t].columns) - set(e.columns))
            for t, e in before.items()
            if t in after and set(after[t].columns) - set(e.columns)
        },
        "read_through_app": read["pages"],
        "problems": problems,
    }
    return summary


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupted)
    baseline = os.environ.get("UPGRADE_CHECK_BASELINE", BASELINE)
    keep = os.environ.get("UPGRADE_CHECK_KEEP") == "1"
    dbname = f"lantern_upgrade_check_{os.getpid()}"
    superuser_url = os.environ.get("PG_SUPERUSER_URL", DEFAULT_SUPERUSER_URL)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="lantern-upgrade-check-"))
    try:
        summary = check(baseline, work, dbname)
    except CheckFailed as exc:
        print(f"upgrade-check: FAILED: {exc}", file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        print(f"upgrade-check: FAILED: PostgreSQL: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("upgrade-check: interrupted", file=sys.stderr)
        return 130
    finally:
        if keep:
            print(f"upgrade-check: kept database {dbname} and {work}", file=sys.stderr)
        else:
            try:
                _drop_database(superuser_url, dbname)
            except psycopg.Error as exc:
                print(f"upgrade-check: could not drop {dbname}: {exc}", file=sys.stderr)
            shutil.rmtree(work, ignore_errors=True)
    summary["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(summary, indent=2))
    if summary["problems"]:
        print(
            f"upgrade-check: FAILED: {len(summary['problems'])} difference(s) after migrating "
            f"from {summary['baseline'][:12]}:\n- " + "\n- ".join(summary["problems"]),
            file=sys.stderr,
        )
        return 1
    print(
        f"upgrade-check: OK: {summary['tables_compared']} tables, {summary['rows_compared']} "
        f"rows intact after migrating from {summary['baseline'][:12]}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
