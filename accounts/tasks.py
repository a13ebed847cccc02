"""Celery tasks of the accounts app (thin: one service call each)."""

from __future__ import annotations

import logging

from celery import shared_task

from accounts.tokens import expired_tokens_flush

logger = logging.getLogger(__name__)


@shared_task(name="accounts.tasks.expired_tokens_flush", ignore_result=True)
def expired_tokens_flush_task() -> int:
    """Daily (celery beat): forget refresh tokens that have expired."""
    deleted = expired_tokens_flush()
    logger.info("expired refresh tokens deleted: %s rows", deleted)
    return deleted
