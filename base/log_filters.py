"""Filters of the project's logging configuration (settings.LOGGING)."""

from __future__ import annotations

import logging


class ClientErrorWithoutTraceback(logging.Filter):
    """Drop the traceback from `django.request`'s 4xx records; 5xx keep theirs.

    Django logs a 4xx that a view raised (PermissionDenied -> 403, BadRequest -> 400) with
    the exception attached, so every refused page wrote a full traceback. A refusal is the
    platform working: its one line (status, path) says all an operator needs, and the
    tracebacks drowned the real errors.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
