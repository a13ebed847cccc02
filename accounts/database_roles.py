"""Switching the default connection to the owner role, for migrations and test set-up.

The application runs as a role that neither owns the tables nor bypasses RLS; schema
changes run as the owner (DATABASE_OWNER_URL). Keeping one alias and swapping credentials
means RunPython code in migrations uses the owner's connection and transaction, and it also
works on test databases (NAME is kept).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections


def _close(alias: str) -> None:
    conn = connections[alias]
    conn.close()
    close_pool = getattr(conn, "close_pool", None)
    if close_pool is not None:
        close_pool()


@contextmanager
def as_owner(alias: str = "default") -> Iterator[None]:
    owner = settings.DATABASE_OWNER_CREDENTIALS
    conn = connections[alias]
    if owner is None or conn.vendor != "postgresql":
        yield
        return
    saved = conn.settings_dict["USER"], conn.settings_dict["PASSWORD"]
    _close(alias)
    conn.settings_dict["USER"], conn.settings_dict["PASSWORD"] = owner
    try:
        yield
    finally:
        _close(alias)
        conn.settings_dict["USER"], conn.settings_dict["PASSWORD"] = saved
