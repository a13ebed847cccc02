"""The safety hooks of the explanation pipeline.

Request side (services/explanations.py):
    `explanation_create_blocked` answers a message the local rules block: the Explanation
    is written as `blocked` with a kind reply, the message never reaches a provider, nothing
    is enqueued or charged. A flagged message goes the normal way plus a review item.

Worker side (services/generation.py):
    `shield_for` (inside the claim) reads the school's rules and the class roster and
    builds the PII map used to redact the prompt; `screen_input` asks the provider's
    moderation endpoint about the (redacted) question before the chat call, when there is
    one; `ReplyGuard` sits between the provider's deltas and the live stream (it restores
    placeholders and stops the live text as soon as the local rules would hide the reply);
    `reply_screen` moderates the finished reply before it becomes visible, and
    `reply_review` queues it for review inside the finishing transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership, School
from accounts.tenancy import school_context
from llm import Completion
from tutoring.live.channel import DELTA_FLUSH_SECONDS, DeltaPublisher, tail_flusher_watch
from tutoring.models import (
    ExerciseAttempt,
    Explanation,
    Message,
    ModerationAction,
    ReviewItem,
    TutoringSession,
)
from tutoring.safety.moderation import (
    Verdict,
    has_moderation_endpoint,
    moderate_local,
    moderate_output,
    moderate_remote,
)
from tutoring.safety.pii import PiiMap
from tutoring.safety.policy import policy_gate
from tutoring.safety.review import review_item_create
from tutoring.safety.rules import Rule, rules_of, safety_settings_get
from tutoring.services import explanation_states as states
from tutoring.services import worker_sql
from tutoring.services.providers import ProviderChoice

logger = logging.getLogger(__name__)
Status = Explanation.Status

BLOCKED_INPUT = "blocked_input"
BLOCKED_OUTPUT = "blocked_output"


# --- Kind replies -------------------------------------------------------------------------


def kind_reply(verdict: Verdict, *, source: str, help_text: str = "") -> str:
    """What the student reads instead of an answer: kind, short, age-appropriate, in the
    active language. Help resources (the school's text) follow a `support` verdict."""
    if source == ReviewItem.Source.OUTPUT:
        return _(
            "I started writing an answer, but it did not pass your school's safety check, so "
            "I am not showing it. Your teacher can look at it. Please try asking your "
            "question in a different way."
        )
    if verdict.action == ModerationAction.SUPPORT:
        text = _(
            "Thank you for telling me. It sounds like you are going through something really "
            "hard, and you deserve help from a person who cares about you. Please talk to an "
            "adult you trust today: a parent or carer, your teacher or the school counsellor. "
            "If you are in danger right now, call your local emergency number."
        )
        return f"{text}\n\n{help_text.strip()}" if help_text.strip() else text
    return _(
        "Let's keep our chat about learning. I can't help with that message, but I am happy "
        "to help with your lesson. If something is worrying you, please talk to your "
        "teacher or another adult you trust."
    )


# --- Request side -------------------------------------------------------------------------


def request_screen(*, actor: Membership, session: TutoringSession, question: str) -> Verdict:
    """The request side's checks, with one read of the school's safety settings: the
    AI-use policy gate (students only; raises PolicyNotAccepted) and the local rules'
    verdict on the question. Never leaves the server."""
    row = safety_settings_get(actor.school)
    if not session.is_preview:
        policy_gate(actor=actor, row=row)
    return moderate_local(question, rules_of(row))


def explanation_create_blocked(
    *,
    actor: Membership,
    session: TutoringSession,
    question: str,
    kind: str,
    exercise_attempt: ExerciseAttempt | None,
    version_id: int,
    verdict: Verdict,
) -> Explanation:
    """Write a blocked question and its kind reply; never enqueued, never charged.

    Call inside the caller's transaction (explanation_request). The student's message and
    the reply are in the transcript for the teachers; the pipeline leaves blocked turns
    out of later prompts.
    """
    school = actor.school
    help_text = safety_settings_get(school).help_resources_text
    reply = kind_reply(verdict, source=ReviewItem.Source.INPUT, help_text=help_text)
    now = timezone.now()
    explanation = Explanation.objects.for_school(school).create(
        school=school,
        session=session,
        student_id=actor.user_id,
        lesson_version_id=version_id,
        kind=kind,
        question=question,
        exercise=exercise_attempt.exercise if exercise_attempt else None,
        exercise_attempt=exercise_attempt,
        is_preview=session.is_preview,
        status=Status.BLOCKED,
        content=reply,
        error_code=BLOCKED_INPUT,
        error_message=reply,
        started_at=now,
        finished_at=now,
        latency_ms=0,
    )
    Message.objects.for_school(school).bulk_create(
        [
            Message(
                school=school,
                session=session,
                role=Message.Role.STUDENT,
                content=question,
                explanation=explanation,
            ),
            Message(
                school=school,
                session=session,
                role=Message.Role.TUTOR,
                content=reply,
                explanation=explanation,
            ),
        ]
    )
    review_item_create(
        school=school,
        explanation=explanation,
        source=ReviewItem.Source.INPUT,
        verdict=verdict,
        text=question,
    )
    return explanation


def input_review(
    *, school: School, explanation: Explanation, verdict: Verdict, question: str
) -> None:
    """Queue a flagged (answered) question for review; inside explanation_request."""
    review_item_create(
        school=school,
        explanation=explanation,
        source=ReviewItem.Source.INPUT,
        verdict=verdict,
        text=question,
    )


# --- Worker side --------------------------------------------------------------------------


@dataclass
class Shield:
    """One generation's safety state: the PII map and the school's rules."""

    pii: PiiMap
    rules: dict[str, Rule]
    help_text: str = ""
    language: str = ""
    redacted_question: str = ""

    def redact(self, text: str) -> str:
        return self.pii.redact(text)

    def redact_turns(self, turns: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(speaker, self.pii.redact(content)) for speaker, content in turns]


def shield_for(school: School, explanation: Explanation, *, language: str = "") -> Shield:
    """Read the school's safety settings and the names to keep from the provider: the
    student's own and the class roster's. Call inside the school's context (the claim)."""
    row = safety_settings_get(school)
    names: list[str] = []
    if row.is_pii_redaction_enabled:
        session = explanation.session
        roster = worker_sql.class_roster_names(school, session.lesson_id)  # every claim
        names = [session.student.full_name, *roster]
    pii = PiiMap(names=tuple(n for n in names if n), enabled=row.is_pii_redaction_enabled)
    return Shield(
        pii=pii,
        rules=rules_of(row),
        help_text=row.help_resources_text,
        language=ui_language(language),
    )


def ui_language(language: str) -> str:
    """A lesson or profile language ("zh", "zh-CN", "en-GB") as one of the site's languages."""
    code = (language or "").strip().lower()
    if code.startswith("zh"):
        return "zh-hans"
    return "en" if code.startswith("en") else ""


def _finish_blocked(
    school: School,
    explanation: Explanation,
    attempt: int,
    verdict: Verdict,
    *,
    question: str,
    help_text: str,
) -> bool:
    """running -> blocked with a kind reply, guarded by the claimed attempt (a duplicate
    delivery cannot write a second reply). Returns whether this worker won."""
    reply = kind_reply(verdict, source=ReviewItem.Source.INPUT, help_text=help_text)
    with school_context(school):
        won = states.explanation_block(
            school, explanation.pk, attempt, reply=reply, code=BLOCKED_INPUT
        )
        if won:
            Message.objects.for_school(school).create(
                school=school,
                session_id=explanation.session_id,
                role=Message.Role.TUTOR,
                content=reply,
                explanation_id=explanation.pk,
            )
            review_item_create(
                school=school,
                explanation=explanation,
                source=ReviewItem.Source.INPUT,
                verdict=verdict,
                text=question,
            )
    return bool(won)


def screen_input(
    school: School, explanation: Explanation, attempt: int, choice: ProviderChoice, shield: Shield
) -> str | None:
    """Before the chat call: ask the provider's moderation endpoint about the redacted
    question (providers without one were covered by the local rules on the request side).

    Returns None to go on with the chat call, or the outcome status ("blocked", or
    "skipped" when another worker finished the row first). A flagged question is queued
    for review and answered. An endpoint that fails leaves the local verdict standing.
    Call outside any transaction.
    """
    if not has_moderation_endpoint(choice.provider):
        return None
    question = shield.redacted_question or shield.redact(explanation.question)
    verdict = moderate_remote(choice.provider, question, shield.rules)
    if verdict is None or not verdict.needs_review:
        return None
    if verdict.hides:
        with translation.override(shield.language or None):
            won = _finish_blocked(
                school,
                explanation,
                attempt,
                verdict,
                question=explanation.question,
                help_text=shield.help_text,
            )
        connection.close()
        return Status.BLOCKED.value if won else "skipped"
    with school_context(school):
        review_item_create(
            school=school,
            explanation=explanation,
            source=ReviewItem.Source.INPUT,
            verdict=verdict,
            text=explanation.question,
        )
    connection.close()
    return None


class ReplyGuard:
    """Between the provider's deltas and the live stream.

    Restores placeholders before text is shown (a placeholder split across deltas is held
    back until it is whole), and stops the live text, withdrawing what was shown, as soon
    as the local rules would hide the reply. Thread-safe: the provider may call `delta`
    from its own thread.

    Deltas are checked in batches, at most every `window` seconds (the live stream's own
    batching interval): a model streams one token per chunk, and checking and restoring
    each one was the pipeline's largest cost per chunk (bench/pipeline.py). Nothing is
    shown before it is checked; a pause in the model's stream never holds text back longer
    than the window (the process's tail flusher checks what is pending).
    """

    HOLD_BACK_CHARS = 16  # longer than any placeholder, e.g. "[ADDRESS_12]"
    # More than any phrase of the local rules: a match ending in new text starts at most
    # this far before it, so only that tail is checked again (checking the whole reply each
    # time cost time quadratic in its length). `reply_screen` still checks the whole reply
    # before it is shown.
    RECHECK_CHARS = 64  # the longest phrase has 23 characters

    def __init__(
        self, publisher: DeltaPublisher, shield: Shield, *, window: float = DELTA_FLUSH_SECONDS
    ) -> None:
        self.publisher = publisher
        self.shield = shield
        self.halted = False
        self.flush_seconds = window
        self._raw = ""  # the raw text checked so far
        self._pending: list[str] = []  # raw deltas not checked yet
        self._checked_at = 0.0  # monotonic time of the last check; 0: none yet
        self._emitted = 0  # characters of the raw text already sent (restored)
        self._lock = threading.Lock()

    def delta(self, text: str) -> None:
        with self._lock:
            if self.halted or not text:
                return
            now = time.monotonic()
            was_holding = bool(self._pending)
            self._pending.append(text)
            if now - self._checked_at >= self.flush_seconds:
                self._check(now)
            elif not was_holding:  # the flusher keeps a holder until it holds nothing
                tail_flusher_watch(self)

    @property
    def is_holding(self) -> bool:
        return bool(self._pending) and not self.halted

    def flush_due(self) -> None:
        """Check and send what is pending (the tail flusher calls this once a window)."""
        with self._lock:
            if self.is_holding:
                self._check(time.monotonic())

    def _check(self, now: float) -> None:
        self._checked_at = now
        checked = len(self._raw)
        self._raw += "".join(self._pending)
        self._pending.clear()
        raw = self._raw
        start = max(0, checked - self.RECHECK_CHARS)
        if start:  # begin at a word boundary, never inside a word
            boundary = raw.find(" ", start, checked)
            start = boundary if boundary != -1 else start
        if moderate_local(raw[start:], self.shield.rules, is_reply=True).hides:
            self.halted = True
            self.publisher.reset()
            return
        end = len(raw)
        opening = raw.rfind("[", self._emitted)
        if opening != -1 and "]" not in raw[opening:] and end - opening < self.HOLD_BACK_CHARS:
            end = opening
        if end > self._emitted:
            self.publisher.delta(self.shield.pii.restore(raw[self._emitted : end]))
            self._emitted = end

    def flush(self) -> None:
        """Check and send everything, the held-back tail included (call once the reply is
        known to be shown)."""
        with self._lock:
            if self.halted:
                return
            if self._pending:
                self._check(time.monotonic())
            if not self.halted and len(self._raw) > self._emitted:
                self.publisher.delta(self.shield.pii.restore(self._raw[self._emitted :]))
                self._emitted = len(self._raw)

    def withdraw(self) -> None:
        with self._lock:
            self._pending.clear()
            if not self.halted:
                self.halted = True
                self.publisher.reset()


@dataclass(frozen=True)
class ScreenedReply:
    """A finished reply after moderation: what the student is shown, and why."""

    status: str  # succeeded | blocked
    content: str  # the restored reply, or the kind message when it is hidden
    verdict: Verdict
    review_text: str  # the restored reply: what the teachers review, shown or not
    error_code: str = ""


def reply_screen(
    completion: Completion, choice: ProviderChoice, guard: ReplyGuard
) -> ScreenedReply:
    """Moderate the finished reply (the endpoint when the provider has one, the local rules
    otherwise or when it fails) and decide what is shown. Call outside any transaction.
    The moderation endpoint sees the reply with placeholders, never the restored names."""
    shield = guard.shield
    raw = completion.content
    verdict = moderate_output(raw, shield.rules, choice.provider)
    restored = shield.pii.restore(raw)
    if verdict.hides:
        guard.withdraw()
        with translation.override(shield.language or None):
            message = kind_reply(verdict, source=ReviewItem.Source.OUTPUT)
        return ScreenedReply(
            status=Status.BLOCKED.value,
            content=message,
            verdict=verdict,
            review_text=restored,
            error_code=BLOCKED_OUTPUT,
        )
    guard.flush()
    return ScreenedReply(
        status=Status.SUCCEEDED.value, content=restored, verdict=verdict, review_text=restored
    )


def reply_review(school: School, explanation: Explanation, reply: ScreenedReply) -> None:
    """Queue a flagged or hidden reply for review; inside the finishing transaction, after
    its guarded UPDATE won. A hidden reply is kept only here, for the teachers."""
    review_item_create(
        school=school,
        explanation=explanation,
        source=ReviewItem.Source.OUTPUT,
        verdict=reply.verdict,
        text=reply.review_text,
    )


__all__ = [
    "BLOCKED_INPUT",
    "BLOCKED_OUTPUT",
    "ReplyGuard",
    "ScreenedReply",
    "Shield",
    "explanation_create_blocked",
    "input_review",
    "kind_reply",
    "reply_review",
    "reply_screen",
    "screen_input",
    "shield_for",
]
