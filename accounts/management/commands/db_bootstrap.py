"""Create the PostgreSQL roles and database Lantern runs with (idempotent).

Roles and database come from DATABASE_OWNER_URL (owner: runs migrations, may create test
databases) and DATABASE_URL (runtime role: no ownership, no BYPASSRLS, no CREATEDB). Table
grants are not made here but in the first migration, so test databases get them too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg import sql


def _parts(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    return unquote(parts.username or ""), unquote(parts.password or ""), parts.path.lstrip("/")


class Command(BaseCommand):
    help = "Create the owner and runtime roles and the database (needs a superuser URL)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--superuser-url",
            default="postgresql://postgres@127.0.0.1:5432/postgres",
            help="A superuser connection (default: postgres on 127.0.0.1).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DATABASE_URL.startswith(("postgres://", "postgresql://")):
            raise CommandError("DATABASE_URL is not a PostgreSQL URL; nothing to bootstrap.")
        if not settings.DATABASE_OWNER_URL:
            raise CommandError("DATABASE_OWNER_URL must be set (the role that owns the tables).")
        owner, owner_pw, dbname = _parts(settings.DATABASE_OWNER_URL)
        app, app_pw, _ = _parts(settings.DATABASE_URL)
        if owner == app:
            raise CommandError("DATABASE_URL and DATABASE_OWNER_URL must use different roles.")
        try:
            conn = psycopg.connect(options["superuser_url"], autocommit=True)
        except psycopg.Error as exc:
            raise CommandError(f"Cannot connect as superuser: {exc}") from exc
        with conn:
            self._role(conn, owner, owner_pw, "LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB")
            self._role(conn, app, app_pw, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB")
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [dbname]
            ).fetchone()
            if not exists:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(dbname), sql.Identifier(owner)
                    )
                )
            conn.execute(
                sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(dbname))
            )
            conn.execute(
                sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                    sql.Identifier(dbname), sql.Identifier(app)
                )
            )
        # Schema usage is granted inside the database, as its owner.
        with psycopg.connect(
            options["superuser_url"].rsplit("/", 1)[0] + f"/{dbname}", autocommit=True
        ) as conn:
            conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner)))
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(app)))
        self.stdout.write(self.style.SUCCESS(f"Roles {owner}, {app} and database {dbname} ready."))

    def _role(self, conn: psycopg.Connection, name: str, password: str, attrs: str) -> None:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone()
        verb = "ALTER" if exists else "CREATE"
        statement = sql.SQL(f"{verb} ROLE {{}} WITH {attrs}").format(sql.Identifier(name))
        if password:
            statement = statement + sql.SQL(" PASSWORD {}").format(sql.Literal(password))
        conn.execute(statement)
