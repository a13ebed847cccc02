"""Celery tasks: ids in, one service call, nothing else."""

from __future__ import annotations

import logging

from celery import shared_task

from tutoring.services import generation, sweeper

logger = logging.getLogger(__name__)


@shared_task(name="tutoring.tasks.explanation_generate", ignore_result=True)
def explanation_generate(school_id: int, explanation_id: int) -> str:
    outcome = generation.explanation_generate(school_id=school_id, explanation_id=explanation_id)
    if outcome.status == "retry" and outcome.retry_in is not None:
        # The row is queued with next_attempt_at in the database; this message is only the
        # wake-up call, so a broker that is down right now loses nothing (the sweeper sends
        # another).
        try:
            explanation_generate.apply_async(
                (school_id, explanation_id), countdown=outcome.retry_in
            )
        except Exception as exc:  # noqa: BLE001
            logger.warning(
                "explanation %s: retry wake-up not sent (%s); the sweeper will send it",
                explanation_id,
                type(exc).__name__,
            )
    return outcome.status


@shared_task(name="tutoring.tasks.explanations_sweep", ignore_result=True)
def explanations_sweep() -> dict[str, int]:
    result, due = sweeper.explanations_sweep()
    sent = 0
    for school_id, explanation_id in due:
        try:
            explanation_generate.delay(school_id, explanation_id)
        except Exception as exc:  # noqa: BLE001
            # The broker is down: every other publish would fail too, each after its own
            # retries. The rows stay due; the next sweep sends them.
            logger.warning(
                "sweeper: broker unavailable (%s), %s of %s sent",
                type(exc).__name__,
                sent,
                len(due),
            )
            break
        sent += 1
    if result.requeued or result.failed:
        logger.info("sweeper: requeued %s, failed %s", sent, result.failed)
    return {"requeued": sent, "failed": result.failed}
