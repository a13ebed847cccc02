"""Moderation verdicts: what happens to a student's message or a tutor's reply.

A detector names categories (the local classifier, or the provider's moderation endpoint
mapped onto the same six categories); the school's rules turn them into one verdict:
the strictest action among the categories found, the highest severity, and whether the
safety contacts are told at once.

- `moderate_input` runs on the request side with the local rules only: fast, offline,
  nothing leaves the server. With the OpenAI provider the worker then also asks the
  moderation endpoint (`moderate_remote`) before the chat call.
- `moderate_output` checks a reply before it becomes visible: the provider's endpoint when
  it has one, else (or when the endpoint fails) the local rules.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from accounts.models import School
from llm import LLMError, Provider
from tutoring.models import ModerationAction
from tutoring.safety import classifier
from tutoring.safety.pii import contains_personal_data
from tutoring.safety.rules import Rule, action_rank, rules_of, safety_settings_get, severity_rank

logger = logging.getLogger(__name__)

LOCAL = "local"
OPENAI = "openai"
# A category counts as found when the endpoint's score reaches this (the fake server and
# OpenAI both report ~1.0 for clear cases; borderline scores stay below).
REMOTE_SCORE_THRESHOLD = 0.5

# The moderation endpoint's categories -> ours. `illicit` (non-violent wrongdoing) has no
# counterpart and is ignored; docs/safety.md says so.
OPENAI_CATEGORIES: dict[str, str] = {
    "self-harm": "self_harm",
    "self-harm/intent": "self_harm",
    "self-harm/instructions": "self_harm",
    "violence": "violence",
    "violence/graphic": "violence",
    "illicit/violent": "violence",
    "sexual": "sexual",
    "sexual/minors": "sexual",
    "harassment": "harassment",
    "harassment/threatening": "harassment",
    "hate": "hate",
    "hate/threatening": "hate",
}


@dataclass(frozen=True)
class Verdict:
    action: str  # ModerationAction value
    categories: tuple[str, ...] = ()
    severity: str = "low"
    notify: bool = False
    detector: str = ""

    @property
    def hides(self) -> bool:
        """The message is not answered by the tutor (or the reply is not shown)."""
        return self.action in (ModerationAction.BLOCK, ModerationAction.SUPPORT)

    @property
    def needs_review(self) -> bool:
        return bool(self.categories) and self.action != ModerationAction.OFF


ALLOW = Verdict(action=ModerationAction.OFF)


def verdict_for(categories: Iterable[str], rules: dict[str, Rule], detector: str) -> Verdict:
    """Combine the school's rules for `categories` into one verdict (ALLOW when none
    applies; categories whose action is `off` are ignored)."""
    active = sorted({c for c in categories if c in rules and rules[c].action != "off"})
    if not active:
        return ALLOW
    chosen = [rules[c] for c in active]
    return Verdict(
        action=max((r.action for r in chosen), key=action_rank),
        categories=tuple(active),
        severity=max((r.severity for r in chosen), key=severity_rank),
        notify=any(r.notify for r in chosen),
        detector=detector,
    )


def merge(first: Verdict, second: Verdict) -> Verdict:
    """The union of two verdicts on the same text, strictest action winning."""
    if not second.needs_review:
        return first
    if not first.needs_review:
        return second
    detectors = sorted({d for d in (first.detector, second.detector) if d})
    return Verdict(
        action=max(first.action, second.action, key=action_rank),
        categories=tuple(sorted(set(first.categories) | set(second.categories))),
        severity=max(first.severity, second.severity, key=severity_rank),
        notify=first.notify or second.notify,
        detector="+".join(detectors),
    )


def local_categories(text: str, *, check_personal_data: bool = True) -> set[str]:
    found = set(classifier.classify(text))
    if check_personal_data and contains_personal_data(text):
        found.add("personal_data")
    return found


def moderate_local(text: str, rules: dict[str, Rule], *, is_reply: bool = False) -> Verdict:
    # In a reply, contact details are the placeholders we put there or the lesson's own
    # content: only a student sharing their own data is a personal-data event.
    return verdict_for(local_categories(text, check_personal_data=not is_reply), rules, LOCAL)


def moderate_input(*, school: School, text: str) -> Verdict:
    """The local verdict on a student's message, by the school's rules. Never leaves the
    server; one read of the school's safety settings."""
    return moderate_local(text, rules_of(safety_settings_get(school)))


def moderate_remote(provider: Provider, text: str, rules: dict[str, Rule]) -> Verdict | None:
    """The provider's moderation endpoint's verdict, or None when it could not answer
    (the caller falls back to the local rules). Call outside any transaction."""
    try:
        result = provider.moderate(text)
    except LLMError as exc:
        logger.warning("moderation endpoint failed (%s); using the local rules", exc.code)
        return None
    found = {
        OPENAI_CATEGORIES[name]
        for name, score in result.categories.items()
        if name in OPENAI_CATEGORIES and score >= REMOTE_SCORE_THRESHOLD
    }
    return verdict_for(found, rules, OPENAI)


def has_moderation_endpoint(provider: Provider) -> bool:
    return getattr(provider, "name", "") == "openai"


def moderate_output(text: str, rules: dict[str, Rule], provider: Provider | None) -> Verdict:
    """The verdict on a tutor's reply (with placeholders, never the restored names)."""
    if provider is not None and has_moderation_endpoint(provider):
        remote = moderate_remote(provider, text, rules)
        if remote is not None:
            return merge(remote, moderate_local(text, rules, is_reply=True))
    return moderate_local(text, rules, is_reply=True)


__all__ = [
    "ALLOW",
    "OPENAI_CATEGORIES",
    "Verdict",
    "has_moderation_endpoint",
    "merge",
    "moderate_input",
    "moderate_local",
    "moderate_output",
    "moderate_remote",
    "verdict_for",
]
