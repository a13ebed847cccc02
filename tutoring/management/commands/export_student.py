"""Export one student's data as a JSON archive (an operator's answer to an access request).

    manage.py export_student --school riverside --email alice@example.org [--output FILE]

Recorded in the school's audit trail as an operator export.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.selectors import school_get_by_slug
from accounts.tenancy import school_context
from tutoring.errors import TutoringError
from tutoring.safety.data_rights import student_data_export, student_membership_get


class Command(BaseCommand):
    help = "Export one student's data in one school as JSON (audited)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--school", required=True, help="The school's slug.")
        parser.add_argument("--email", required=True, help="The student's e-mail address.")
        parser.add_argument("--output", help="Write to this file instead of standard output.")

    def handle(self, *args: Any, **options: Any) -> None:
        school = school_get_by_slug(slug=options["school"])
        if school is None:
            raise CommandError(f"No school with the slug {options['school']!r}.")
        try:
            with school_context(school):
                student = student_membership_get(school=school, email=options["email"])
                data = student_data_export(
                    school=school, student=student, actor=None, via="command"
                )
        except TutoringError as exc:
            raise CommandError(exc.message) from exc
        text = json.dumps(data, ensure_ascii=False, indent=2)
        if options["output"]:
            Path(options["output"]).write_text(text + "\n", encoding="utf-8")
            self.stderr.write(f"Wrote {options['output']}.")
        else:
            self.stdout.write(text)
