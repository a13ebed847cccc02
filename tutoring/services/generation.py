"""The worker side of the explanation pipeline. Idempotent under duplicate delivery.

claim    one transaction: conditional UPDATE queued -> running (attempt + 1, lease), build
         the prompt, then check the budget under the school's settings lock and reserve the
         estimate.
call     outside any transaction, the pooled connection given back first; deltas go to
         Redis as they arrive.
finish   one transaction: UPDATE guarded by (status=running, attempt=claimed attempt) ->
         succeeded | failed | back to queued for a retry; the usage row and the tutor's
         message are written only when that UPDATE wins, so a second worker, a duplicate
         message or a retried task never produces a second result or a second charge.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import School
from accounts.tenancy import school_context
from llm import (
    Completion,
    CompletionRequest,
    LLMError,
    LLMPermanentError,
    LLMTransientError,
)
from tutoring.errors import BudgetExhausted
from tutoring.live.channel import DeltaPublisher
from tutoring.models import Explanation, SchoolSettings
from tutoring.prompting.builder import build_prompt
from tutoring.prompting.contract import BuiltPrompt
from tutoring.safety import pipeline as safety
from tutoring.services import explanation_states as states
from tutoring.services import worker_sql as sql
from tutoring.services.budgets import (
    budget_check,
    cost_microdollars,
    school_settings_get,
    usage_record,
)
from tutoring.services.providers import ProviderChoice, provider_for_school
from tutoring.services.student_context import student_context, tries_on_exercise

logger = logging.getLogger(__name__)
Status = Explanation.Status

# Natural text averages 1-5 characters per token. Turns beyond this many characters per
# token of the budget cannot fit the prompt; redacting and counting them anyway cost CPU on
# every claim that grew with the session (~0.1 s per claim at 200 turns, bench/cost.py).
HISTORY_CHARS_PER_TOKEN = 8
# Pauses before running a unit of work again on a new database connection; after the last,
# the error propagates and the sweeper takes over (queued rows, expired leases).
DB_RECONNECT_PAUSES = (0.2, 1.0)

# Claims running at once in this process: at most half the connection pool. A claim can wait
# for the school's budget lock while holding a connection; without this bound a burst of
# claims took every connection and finishing generations waited for the pool's timeout
# (bench/pipeline.py, docs/performance.md). Waiting here holds no connection.
_claim_slots = threading.BoundedSemaphore(max(1, settings.DATABASE_POOL_MAX_SIZE // 2))

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _reconnecting(work: Callable[_P, _T]) -> Callable[_P, _T]:
    """Run a unit of work (one transaction) again on a new connection when the database
    connection broke: PostgreSQL restarted or failed over, a proxy or firewall dropped it.

    Safe because every write here is a conditional UPDATE guarded by the claim: when the
    first run did commit before its connection broke, the second finds nothing to do and
    reports `skipped`, so a result or a charge is never written twice.
    """

    @functools.wraps(work)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        for pause in DB_RECONNECT_PAUSES:
            try:
                return work(*args, **kwargs)
            except (OperationalError, InterfaceError) as exc:
                if connection.in_atomic_block:
                    raise  # an outer transaction owns this connection
                logger.warning(
                    "%s: database connection lost (%s), trying again",
                    work.__name__,
                    type(exc).__name__,
                )
                connection.close()  # the pool discards a broken connection
                time.sleep(pause)
        return work(*args, **kwargs)

    return run


@dataclass(frozen=True)
class Outcome:
    status: str  # "succeeded" | "failed" | "blocked" | "retry" | "skipped"
    retry_in: float | None = None


@dataclass
class _Claim:
    explanation: Explanation
    attempt: int
    request: CompletionRequest
    choice: ProviderChoice
    prompt_version: str
    shield: safety.Shield  # PII placeholders and the school's moderation rules
    prices: SchoolSettings  # the school's model prices when claimed: the finish charges them


def backoff_seconds(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff jittered between half and all of the step (so retries of a burst
    spread out but the total wait stays predictable); a provider's Retry-After is a floor.
    Base and cap: LLM_BACKOFF_BASE_SECONDS, LLM_BACKOFF_MAX_SECONDS."""
    cap = settings.LLM_BACKOFF_MAX_SECONDS
    exp = min(cap, settings.LLM_BACKOFF_BASE_SECONDS * (2 ** max(0, attempt - 1)))
    delay = random.uniform(exp / 2, exp)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, cap)


def _school_get(school_id: int) -> School:
    school = sql.school_by_id(school_id)
    if school is None:
        raise School.DoesNotExist(f"School {school_id} does not exist.")
    return school


@_reconnecting
def _claim(school: School, explanation_id: int) -> _Claim | Outcome:
    with school_context(school):
        if not states.explanation_claim(school, explanation_id, now=timezone.now()):
            return Outcome("skipped")
        row = school_settings_get(school)
        # The session's school is `school`, and its lesson version is almost always the
        # explanation's own: both are set from what is already loaded instead of being
        # joined and built again (a version carries the whole lesson material).
        explanation = sql.claimed_explanation_row(school, explanation_id)
        assert explanation is not None  # the UPDATE above just claimed this row
        session = explanation.session
        session.school = school
        if session.lesson_version_id == explanation.lesson_version_id:
            session.lesson_version = explanation.lesson_version
        attempt = explanation.attempt
        if attempt > settings.LLM_MAX_ATTEMPTS:
            _finish_failed(
                school,
                explanation,
                attempt,
                "gave_up",
                _("The tutor could not answer after several tries. Please ask again later."),
            )
            return Outcome("failed")
        try:
            choice = provider_for_school(school, row)
        except LLMPermanentError as exc:
            _finish_failed(school, explanation, attempt, exc.code, exc.user_message)
            return Outcome("failed")
        request, built, shield = _build_request(school, explanation, choice, row.ai_policy_text)
        prompt_version = built.prompt_version
        # The prompt's exact count (build_prompt counted it to fit the budget) + the reply.
        estimate = built.prompt_tokens_estimate + request.max_tokens
        try:
            # Locks the school's settings row until commit: checks and reservations of one
            # school run one at a time, so a burst cannot overspend. Taken only now, after
            # the slow part (prompt and token counting), so claims build prompts in parallel
            # and duplicate deliveries (which lose the UPDATE above) never wait for it.
            budget_check(
                school=school,
                student_id=None if explanation.is_preview else explanation.student_id,
                estimate=estimate,
                lock=True,
            )
        except BudgetExhausted as exc:
            _finish_failed(school, explanation, attempt, exc.code, exc.message)
            return Outcome("failed")
        states.explanation_reserve(
            school,
            explanation_id,
            attempt,
            tokens=estimate,
            provider=choice.name,
            model=choice.model,
        )
    return _Claim(explanation, attempt, request, choice, prompt_version, shield, prices=row)


def history_within_reach(
    newest_first: list[tuple[str, str]], token_budget: int
) -> list[tuple[str, str]]:
    """The newest turns that could still fit `token_budget`, oldest first: a bound on the
    work per claim whatever the length of the session (the prompt trims exactly)."""
    limit = token_budget * HISTORY_CHARS_PER_TOKEN
    kept: list[tuple[str, str]] = []
    chars = 0
    for role, content in newest_first:
        chars += len(content)
        if chars > limit:
            break
        kept.append((role, content))
    kept.reverse()
    return kept


def _build_request(
    school: School, explanation: Explanation, choice: ProviderChoice, policy: str
) -> tuple[CompletionRequest, BuiltPrompt, safety.Shield]:
    session = explanation.session
    history_rows = sql.history_turns_newest_first(
        school,
        session_id=session.pk,
        before=explanation.queued_at,
        explanation_id=explanation.pk,
    )
    history_rows = history_within_reach(history_rows, settings.LLM_PROMPT_TOKEN_BUDGET)
    tries = 0
    student_answer = ""
    if explanation.exercise_attempt_id and explanation.exercise_id:
        attempt = explanation.exercise_attempt
        student_answer = attempt.answer if attempt else ""
        tries = tries_on_exercise(school, explanation.student_id, explanation.exercise_id)
    student = student_context(session)
    # Names, e-mails, phone numbers, addresses and ids become placeholders before the
    # prompt is built; `messages_sent` then records exactly what left the platform.
    shield = safety.shield_for(school, explanation, language=student.language)
    shield.redacted_question = shield.redact(explanation.question)
    built = build_prompt(
        school_policy=policy,
        lesson=explanation.lesson_version,
        student=student,
        history=shield.redact_turns(history_rows),
        question=shield.redacted_question,
        kind=explanation.kind,
        exercise=explanation.exercise,
        student_answer=shield.redact(student_answer),
        tries_on_exercise=tries,
        model=choice.model,
        token_budget=settings.LLM_PROMPT_TOKEN_BUDGET,
    )
    request = CompletionRequest(
        messages=built.messages,
        model=choice.model,
        max_tokens=settings.LLM_MAX_COMPLETION_TOKENS,
        safety_identifier=student.pseudonym,
        grounding=built.grounding,
    )
    return request, built, shield


def explanation_generate(*, school_id: int, explanation_id: int) -> Outcome:
    """Generate one explanation. Safe to call any number of times for the same row.

    Returns what happened; `retry` carries the delay after which the caller re-enqueues.
    Never raises for provider errors (they become retry/failed outcomes).
    """
    with _claim_slots:
        school = _reconnecting(_school_get)(school_id)
        claimed = _claim(school, explanation_id)
        # Give the pooled connection back before the slow call: 100 calls in flight must
        # not hold 100 database connections.
        close_old_connections()
        connection.close()
    if isinstance(claimed, Outcome):
        return claimed

    publisher = DeltaPublisher(str(claimed.explanation.public_id))
    if claimed.attempt > 1:
        publisher.reset()
    publisher.status(Status.RUNNING)
    screened = safety.screen_input(
        school, claimed.explanation, claimed.attempt, claimed.choice, claimed.shield
    )
    if screened is not None:  # the provider's moderation blocked the question
        publisher.done(screened)
        return Outcome(screened)
    guard = safety.ReplyGuard(publisher, claimed.shield)
    try:
        completion = claimed.choice.provider.complete(claimed.request, on_delta=guard.delta)
    except LLMTransientError as exc:
        return _after_transient(school, claimed, exc, publisher)
    except LLMError as exc:
        outcome = _fail(school, claimed, exc.code, exc.user_message, exc.detail)
        publisher.done(outcome.status)
        return outcome
    except Exception as exc:  # a bug or an unexpected library error: retry, capped
        logger.exception("explanation %s: unexpected provider error", explanation_id)
        transient = LLMTransientError(
            "internal_error",
            _("Something went wrong while writing this explanation."),
            detail=type(exc).__name__,
        )
        return _after_transient(school, claimed, transient, publisher)
    reply = safety.reply_screen(completion, claimed.choice, guard)  # before it is visible
    outcome = _finish_succeeded(school, claimed, completion, reply)
    publisher.done(outcome.status)
    return outcome


@_reconnecting
def _after_transient(
    school: School, claimed: _Claim, exc: LLMTransientError, publisher: DeltaPublisher
) -> Outcome:
    if claimed.attempt >= settings.LLM_MAX_ATTEMPTS:
        outcome = _fail(school, claimed, exc.code, exc.user_message, exc.detail)
        publisher.done(outcome.status)
        return outcome
    delay = backoff_seconds(claimed.attempt, exc.retry_after)
    with school_context(school):
        won = states.explanation_requeue(
            school,
            claimed.explanation.pk,
            claimed.attempt,
            delay=delay,
            code=exc.code,
            detail=exc.detail,
        )
    logger.info(
        "explanation %s attempt %s: %s, retry in %.1fs",
        claimed.explanation.pk,
        claimed.attempt,
        exc.code,
        delay,
    )
    publisher.status(Status.QUEUED)
    return Outcome("retry", retry_in=delay) if won else Outcome("skipped")


@_reconnecting
def _fail(school: School, claimed: _Claim, code: str, message: str, detail: str = "") -> Outcome:
    with school_context(school):
        won = _finish_failed(school, claimed.explanation, claimed.attempt, code, message, detail)
    return Outcome("failed") if won else Outcome("skipped")


def _finish_failed(
    school: School,
    explanation: Explanation,
    attempt: int,
    code: str,
    message: str,
    detail: str = "",
) -> bool:
    return states.explanation_fail(
        school, explanation.pk, attempt, code=code, message=message, detail=detail
    )


@_reconnecting
def _finish_succeeded(
    school: School, claimed: _Claim, completion: Completion, reply: safety.ScreenedReply
) -> Outcome:
    """Store the reply (`reply.status` is `blocked` when moderation hid it: the student
    sees the kind message, the teachers' review item keeps the reply) and charge once."""
    explanation = claimed.explanation
    cost = cost_microdollars(claimed.prices, completion.prompt_tokens, completion.completion_tokens)
    with school_context(school):
        won = states.explanation_succeed(
            school,
            explanation.pk,
            claimed.attempt,
            status=reply.status,
            result={
                "content": reply.content,
                "provider": claimed.choice.name,
                "model": completion.model or claimed.choice.model,
                "prompt_version": claimed.prompt_version,
                "messages_sent": claimed.request.messages,
                "prompt_tokens": completion.prompt_tokens,
                "completion_tokens": completion.completion_tokens,
                "cached_tokens": completion.cached_tokens,
                "cost_microdollars": cost,
                "latency_ms": completion.latency_ms,
                "provider_request_id": (completion.request_id or "")[:200],
                "error_code": reply.error_code,
                "error_message": reply.content if reply.error_code else "",
                "finished_at": timezone.now(),
            },
        )
        if not won:
            return Outcome("skipped")
        usage_record(
            school=school,
            explanation_id=explanation.pk,
            student_id=explanation.student_id,
            is_preview=explanation.is_preview,
            provider=claimed.choice.name,
            model=completion.model or claimed.choice.model,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            cost_microdollars=cost,
        )
        sql.tutor_message_insert(
            school,
            session_id=explanation.session_id,
            content=reply.content,
            explanation_id=explanation.pk,
        )
        if reply.verdict.needs_review:
            safety.reply_review(school, explanation, reply)
    return Outcome(reply.status)
