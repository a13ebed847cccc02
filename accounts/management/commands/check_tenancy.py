"""Fail when a tenant table lacks RLS, or when the runtime role could bypass it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounts.tenancy_checks import tenancy_problems


class Command(BaseCommand):
    help = "Check row-level security on every table with a school_id column (PostgreSQL)."

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write("check_tenancy: SQLite (demo) has no row-level security; skipped.")
            return
        problems = tenancy_problems()
        if problems:
            for problem in problems:
                self.stderr.write(f"- {problem}")
            raise CommandError(f"check_tenancy: {len(problems)} problem(s).", returncode=1)
        self.stdout.write(self.style.SUCCESS("check_tenancy: every tenant table is protected."))
