"""Celery tasks: ids in, one service call, nothing else."""

from __future__ import annotations

import logging

from celery import shared_task

from tutoring.services import generation

logger = logging.getLogger(__name__)


@shared_task(name="tutoring.tasks.explanation_generate", ignore_result=True)
def explanation_generate(school_id: int, explanation_id: int) -> str:
    outcome = generation.explanation_generate(school_id=school_id, explanation_id=explanation_id)
    if outcome.status == "retry" and outcome.retry_in is not None:
        # The row is queued with next_attempt_at in the database; this message is only the
        # wake-up call (the sweeper sends another if it is lost).
        explanation_generate.apply_async((school_id, explanation_id), countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="tutoring.tasks.explanations_sweep", ignore_result=True)
def explanations_sweep() -> dict[str, int]:
    result, due = generation.explanations_sweep()
    for school_id, explanation_id in due:
        explanation_generate.delay(school_id, explanation_id)
    if result.requeued or result.failed:
        logger.info("sweeper: requeued %s, failed %s", result.requeued, result.failed)
    return {"requeued": result.requeued, "failed": result.failed}
