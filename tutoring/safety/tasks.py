"""Celery tasks of the safety package (registered through CELERY_IMPORTS in settings)."""

from __future__ import annotations

import logging

from celery import shared_task

from tutoring.safety import data_rights

logger = logging.getLogger(__name__)


@shared_task(name="tutoring.safety.tasks.transcripts_purge", ignore_result=True)
def transcripts_purge() -> dict[str, int]:
    """The daily retention run (celery beat): delete transcripts past each school's limit."""
    results = data_rights.transcripts_purge_all()
    if results:
        logger.info("retention purge deleted sessions: %s", results)
    return results
