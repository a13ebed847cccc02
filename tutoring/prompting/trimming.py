"""Fitting a prompt to its token budget: history as droppable units, the omission note,
and shortening the lesson material at a natural boundary."""

from __future__ import annotations

from collections.abc import Callable

__all__ = [
    "MATERIAL_SHORTENED",
    "WORKED_EXAMPLES_SHORTENED",
    "history_units",
    "omission_note",
    "shorten_to_fit",
]

MATERIAL_SHORTENED = "[material shortened]"
WORKED_EXAMPLES_SHORTENED = "[worked examples shortened]"

_ROLE_BY_SPEAKER = {"student": "user", "tutor": "assistant"}


def omission_note(count: int) -> str:
    """The note that ends the system message when `count` earlier turns were left out."""
    return f"({count} earlier turn omitted)" if count == 1 else f"({count} earlier turns omitted)"


def history_units(history: list[tuple[str, str]], question: str) -> list[list[dict[str, str]]]:
    """History as droppable units: a student turn with the tutor turns that answer it (a
    leading tutor turn is a unit of its own), so trimming never keeps an answer without its
    question."""
    turns = [(speaker, content) for speaker, content in history if content.strip()]
    if turns and turns[-1][0] == "student" and turns[-1][1].strip() == question.strip():
        turns.pop()
    units: list[list[dict[str, str]]] = []
    for speaker, content in turns:
        role = _ROLE_BY_SPEAKER.get(speaker)
        if role is None:
            raise ValueError(f"Unknown speaker {speaker!r} in history; expected student/tutor.")
        message = {"role": role, "content": content}
        if role == "user" or not units:
            units.append([message])
        else:
            units[-1].append(message)
    return units


def shorten_to_fit(text: str, marker: str, fits: Callable[[str], bool]) -> str:
    """The longest start of `text`, cut at a natural boundary and ending in `marker`, for
    which `fits` holds; `text` itself when it fits, just `marker` when nothing does."""
    if not text or fits(text):
        return text
    best = marker
    low, high = 0, len(text)
    # Invariant: every candidate accepted into `best` was checked with `fits`.
    while low < high:
        middle = (low + high + 1) // 2
        candidate = _cut(text, middle, marker)
        if fits(candidate):
            best, low = candidate, middle
        else:
            high = middle - 1
    return best


def _cut(text: str, length: int, marker: str) -> str:
    prefix = text[:length]
    # Prefer a paragraph, then a sentence, then a word boundary in the last fifth of the cut.
    floor = length * 4 // 5
    for boundary in ("\n\n", "\n", ". ", "。", "！", "？", "! ", "? ", " "):
        position = prefix.rfind(boundary, floor)
        if position != -1:
            prefix = prefix[: position + len(boundary)]
            break
    prefix = prefix.rstrip()
    return f"{prefix}\n\n{marker}" if prefix else marker
