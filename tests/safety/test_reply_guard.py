"""The live stream of a reply: placeholders restored as they complete, and withdrawn as
soon as the local rules would hide the reply."""

from __future__ import annotations

import time

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


class Clock:
    """Monotonic time the test moves by hand (the guard batches by time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _timed_guard(monkeypatch) -> tuple[ReplyGuard, Recorder, Clock]:
    clock = Clock()
    monkeypatch.setattr("tutoring.safety.pipeline.time.monotonic", clock)
    # The test moves time itself; the process's flusher thread must not act meanwhile.
    monkeypatch.setattr("tutoring.safety.pipeline.tail_flusher_watch", lambda holder: None)
    guard, recorder, _ = _guard()
    return guard, recorder, clock


def test_a_burst_of_deltas_is_checked_and_shown_once_per_window(monkeypatch):
    guard, recorder, clock = _timed_guard(monkeypatch)
    guard.delta("One ")  # the first delta goes out at once
    for word in ("two ", "three ", "four "):
        guard.delta(word)
    assert recorder.shown == "One "  # the rest waits for the window, unchecked and unshown
    assert guard.is_holding
    clock.now += 2 * guard.flush_seconds
    guard.flush_due()  # what the tail flusher does when the model pauses
    assert recorder.shown == "One two three four "
    assert [kind for kind, _ in recorder.events] == ["delta", "delta"]
    assert not guard.is_holding


def test_text_the_rules_would_hide_inside_a_burst_is_never_shown(monkeypatch):
    guard, recorder, clock = _timed_guard(monkeypatch)
    guard.delta("Here is ")
    guard.delta("some porn ")
    guard.delta("for you")
    clock.now += 2 * guard.flush_seconds
    guard.flush_due()
    assert guard.halted
    assert "porn" not in "".join(text for _, text in recorder.events)
    assert recorder.shown == ""
    guard.delta(" and more")  # after the halt nothing else is shown
    guard.flush()
    assert recorder.shown == ""


def test_the_final_flush_checks_what_is_pending_and_sends_the_held_back_tail(monkeypatch):
    guard, recorder, _ = _timed_guard(monkeypatch)
    guard.delta("Well done ")
    guard.delta("[NAME_1]")  # within the window: pending
    guard.flush()
    assert recorder.shown == "Well done Alice Anders"


def test_a_pending_tail_reaches_readers_through_the_process_flusher():
    """No hand-moved clock: the real tail flusher sends what a paused stream left pending."""
    guard, recorder, _ = _guard()
    guard.delta("First ")
    guard.delta("second")  # held: within the window of the first
    deadline = time.monotonic() + 5
    while recorder.shown != "First second" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert recorder.shown == "First second"
