"""The cache key of an explanation request and the normalized question it is built on."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata

from tutoring.prompting.contract import StudentContext
from tutoring.prompting.instructions import PROMPT_VERSION

__all__ = ["cache_key", "normalize_question"]

# Trailing punctuation that does not change what a question asks ("What is a fraction?" and
# "what is a fraction" are the same request). NFKC has already folded full-width ？！ to ?!.
_TRAILING_PUNCTUATION = ".?!。？！…,;:、，；： \t\r\n"
_WHITESPACE = re.compile(r"\s+")


def normalize_question(question: str) -> str:
    """The form of a question used for caching: NFKC, casefolded, single spaces, without
    trailing punctuation (`"What is a fraction?"` == `"what is a  fraction"`)."""
    text = _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", question).casefold())
    return text.strip().rstrip(_TRAILING_PUNCTUATION)


def cache_key(
    *,
    lesson_version_id: int,
    question: str,
    kind: str,
    student: StudentContext,
    exercise_id: int | None,
    student_answer: str,
    model: str,
    provider: str,
    solution_unlocked: bool,
) -> str:
    """A sha256 hex key: equal exactly when a stored explanation may answer this request.

    Covers the prompt version, the lesson version, the normalized question, the kind, the
    exercise and normalized answer, the model and provider, the personalization inputs
    (language, reading level, grade, interests, accommodations) and whether the solution is
    unlocked — so two students with the same profile share a key, but a student still on
    hints never receives an explanation written after someone else unlocked the solution.
    The pseudonym is not part of the key. Compute `solution_unlocked` with
    `is_solution_unlocked(lesson_version, tries_on_exercise)`.
    """
    payload = {
        "prompt_version": PROMPT_VERSION,
        "lesson_version": lesson_version_id,
        "kind": kind,
        "question": normalize_question(question),
        "exercise": exercise_id,
        "student_answer": _normalize_text(student_answer),
        "model": model,
        "provider": provider,
        "language": _normalize_text(student.language),
        "reading_level": _normalize_text(student.reading_level),
        "grade": _normalize_text(student.grade),
        "interests": _normalize_text(student.interests),
        "accommodations": _normalize_text(student.accommodations),
        "solution_unlocked": solution_unlocked,
    }
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _normalize_text(text: str) -> str:
    """NFKC, casefolded, single spaces: the form of a personalization input in the key."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
