"""`migrate`, run as the owner role (DATABASE_OWNER_URL) when one is configured."""

from typing import Any

from django.core.management.commands.migrate import Command as DjangoMigrate

from accounts.database_roles import as_owner


class Command(DjangoMigrate):
    def handle(self, *args: Any, **options: Any) -> None:
        with as_owner(options.get("database") or "default"):
            super().handle(*args, **options)
