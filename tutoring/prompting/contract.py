"""What a prompt is built from and what building returns: the lesson contract and exercise
shapes, the pseudonymized student context, and `BuiltPrompt`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from llm.base import Grounding

if TYPE_CHECKING:
    from tutoring.models.students import StudentProfile

__all__ = ["BuiltPrompt", "ExerciseLike", "LessonContractLike", "StudentContext"]


class LessonContractLike(Protocol):
    """Anything with the lesson contract fields: `LessonVersion`, `Lesson`, a preview object."""

    @property
    def title(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def grade_band(self) -> str: ...
    @property
    def objectives(self) -> str: ...
    @property
    def key_concepts(self) -> str: ...
    @property
    def material(self) -> str: ...
    @property
    def worked_examples(self) -> str: ...
    @property
    def misconceptions(self) -> str: ...
    @property
    def tone(self) -> str: ...
    @property
    def reading_level(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def answer_policy(self) -> str: ...
    @property
    def full_solution_after_tries(self) -> int: ...
    @property
    def solution_released(self) -> bool: ...


class ExerciseLike(Protocol):
    """Anything with the `Exercise` fields the prompt uses."""

    @property
    def prompt(self) -> str: ...
    @property
    def answer_key(self) -> str: ...
    @property
    def accepted_answers(self) -> Any: ...
    @property
    def misconception_tags(self) -> Any: ...
    @property
    def solution(self) -> str: ...


@dataclass(frozen=True)
class StudentContext:
    """The personalization inputs for one student — deliberately without name, e-mail or ids.

    `language` and `reading_level` may be empty; the lesson's values are used then.
    `pseudonym` is for `CompletionRequest.safety_identifier` only and never enters a prompt.
    """

    grade: str
    language: str
    reading_level: str
    interests: str
    accommodations: str
    pseudonym: str

    @classmethod
    def from_profile(cls, profile: StudentProfile) -> StudentContext:
        """The context for a stored profile (reads only the profile's own fields)."""
        return cls(
            grade=profile.grade,
            language=profile.preferred_language,
            reading_level=profile.reading_level,
            interests=profile.interests,
            accommodations=profile.accommodations,
            pseudonym=str(profile.pseudonym),
        )


@dataclass(frozen=True)
class BuiltPrompt:
    """The messages to send, and how they were made to fit.

    `dropped_turns` counts history messages left out for the budget; `prompt_tokens_estimate`
    is `count_message_tokens(messages, model)`.
    """

    messages: list[dict[str, str]]
    prompt_version: str
    prompt_tokens_estimate: int
    dropped_turns: int
    grounding: Grounding
