"""The database half of the tenancy guarantee, checked (PostgreSQL only)."""

from __future__ import annotations

from django.db import connection

TENANT_TABLES_SQL = """
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
              AND a.attname = 'school_id' AND NOT a.attisdropped)
ORDER BY c.relname
"""


def tenancy_problems() -> list[str]:
    """Every reason the database does not enforce tenancy, as readable lines (empty: fine)."""
    problems: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(TENANT_TABLES_SQL)
        for table, enabled, forced, policies in cursor.fetchall():
            if not enabled:
                problems.append(f"{table}: row-level security is not enabled")
            if not forced:
                problems.append(f"{table}: row-level security is not forced")
            if not policies:
                problems.append(f"{table}: no row-level security policy")
        cursor.execute(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        role, is_super, bypass = cursor.fetchone()
        if is_super:
            problems.append(f"runtime role {role} is a superuser")
        if bypass:
            problems.append(f"runtime role {role} has BYPASSRLS")
        cursor.execute(
            "SELECT count(*) FROM pg_tables "
            "WHERE schemaname = 'public' AND tableowner = current_user"
        )
        owned = cursor.fetchone()[0]
        if owned:
            problems.append(
                f"runtime role {role} owns {owned} table(s) (owners may bypass policies)"
            )
    return problems
