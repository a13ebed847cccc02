"""The live stream of a reply: placeholders restored as they complete, and withdrawn as
soon as the local rules would hide the reply."""

from __future__ import annotations

from tutoring.safety.pii import PiiMap
from tutoring.safety.pipeline import ReplyGuard, Shield
from tutoring.safety.rules import Rule


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def delta(self, text: str) -> None:
        self.events.append(("delta", text))

    def reset(self) -> None:
        self.events.append(("reset", ""))

    @property
    def shown(self) -> str:
        text = ""
        for kind, value in self.events:
            text = "" if kind == "reset" else text + value
        return text


RULES = {
    "sexual": Rule(action="block", severity="high", notify=False),
    "violence": Rule(action="flag", severity="high", notify=True),
}


def _guard(names: tuple[str, ...] = ("Alice Anders",)) -> tuple[ReplyGuard, Recorder, PiiMap]:
    pii = PiiMap(names=names)
    pii.redact("Alice Anders")  # the prompt issued [NAME_1]
    recorder = Recorder()
    return ReplyGuard(recorder, Shield(pii=pii, rules=RULES)), recorder, pii  # type: ignore[arg-type]


def test_a_placeholder_split_across_deltas_is_shown_restored():
    guard, recorder, _ = _guard()
    for piece in ("Well done [NA", "ME_", "1], add the ", "numerators."):
        guard.delta(piece)
    guard.flush()
    assert recorder.shown == "Well done Alice Anders, add the numerators."
    assert all("[NA" not in text for _, text in recorder.events)


def test_text_the_rules_would_hide_is_withdrawn_at_once_and_nothing_more_is_shown():
    guard, recorder, _ = _guard()
    guard.delta("Here is some ")
    guard.delta("porn for you")
    guard.delta(" and more text")
    guard.flush()
    assert guard.halted
    assert recorder.shown == ""
    assert ("reset", "") in recorder.events


def test_a_flagged_but_allowed_reply_streams_normally():
    guard, recorder, _ = _guard()
    guard.delta("A bomb of fractions.")
    guard.flush()
    assert recorder.shown == "A bomb of fractions."
