"""Re-encrypt every school's stored provider keys with the newest FIELD_ENCRYPTION_KEYS key.

Rotation: put a new Fernet key first in FIELD_ENCRYPTION_KEYS (keep the old ones after
it), deploy, run this command, then drop the old keys. Idempotent.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.models import School
from accounts.tenancy import school_context
from tutoring.services.keys import provider_keys_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt stored provider keys with the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for school in School.objects.order_by("pk"):
            with school_context(school):
                total += provider_keys_reencrypt(school=school)
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} provider key(s)."))
