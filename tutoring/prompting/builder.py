"""`build_prompt`: the chat messages for one explanation, trimmed to a token budget."""

from __future__ import annotations

from llm.base import Grounding
from llm.tokens import MESSAGE_OVERHEAD_TOKENS, count_message_tokens, count_tokens
from tutoring.prompting.answer_policy import is_solution_unlocked
from tutoring.prompting.contract import (
    BuiltPrompt,
    ExerciseLike,
    LessonContractLike,
    StudentContext,
)
from tutoring.prompting.instructions import (
    KIND_ANSWER_REVIEW,
    KINDS,
    PROMPT_VERSION,
    final_message,
    system_text,
)
from tutoring.prompting.trimming import (
    MATERIAL_SHORTENED,
    WORKED_EXAMPLES_SHORTENED,
    history_units,
    omission_note,
    shorten_to_fit,
)

__all__ = ["build_prompt"]


def build_prompt(
    *,
    school_policy: str,
    lesson: LessonContractLike,
    student: StudentContext,
    history: list[tuple[str, str]],
    question: str,
    kind: str,
    exercise: ExerciseLike | None = None,
    student_answer: str = "",
    tries_on_exercise: int = 0,
    model: str,
    token_budget: int,
) -> BuiltPrompt:
    """Build the chat messages for one explanation, trimmed to `token_budget`.

    `history` is the session so far as `(speaker, content)` with speaker `student` or
    `tutor`, oldest first, without the current question (a trailing student turn equal to
    the question is ignored, so callers may pass history that already holds it). Empty turns
    are skipped.

    Trimming keeps the system message and the question whole. When the lesson material
    (then the worked examples) would leave less than a quarter of the budget for recent
    turns, it is cut at a paragraph or sentence boundary and marked `[material shortened]`.
    Then the oldest turns are dropped, a student question together with the tutor replies
    that follow it, and the system message ends with "(N earlier turns omitted)".

    Raises ValueError for an unknown `kind` or speaker, or `answer_review` without exercise.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown prompt kind {kind!r}; expected one of {KINDS}.")
    if kind == KIND_ANSWER_REVIEW and exercise is None:
        raise ValueError("An answer review needs the exercise.")

    unlocked = is_solution_unlocked(lesson, tries_on_exercise)
    language = student.language or lesson.language
    reading_level = student.reading_level or lesson.reading_level
    final = {
        "role": "user",
        "content": final_message(
            kind=kind,
            question=question,
            exercise=exercise,
            student_answer=student_answer,
            unlocked=unlocked,
        ),
    }
    units = history_units(history, question)
    unit_costs = [
        sum(MESSAGE_OVERHEAD_TOKENS + count_tokens(m["content"], model) for m in unit)
        for unit in units
    ]
    history_tokens = sum(unit_costs)
    total_turns = sum(len(unit) for unit in units)
    note_reserve = count_tokens(omission_note(total_turns), model) + 2 if units else 0

    def system(material: str, worked_examples: str, omitted: int) -> dict[str, str]:
        text = system_text(
            school_policy=school_policy,
            lesson=lesson,
            student=student,
            material=material,
            worked_examples=worked_examples,
            language=language,
            reading_level=reading_level,
            tries_on_exercise=tries_on_exercise,
            unlocked=unlocked,
        )
        if omitted:
            text = f"{text}\n\n{omission_note(omitted)}"
        return {"role": "system", "content": text}

    # A long material must not crowd out the whole conversation: recent turns matter more to
    # the student's question than the tail of the material.
    history_reserve = min(token_budget // 4, history_tokens)
    fixed_target = token_budget - history_reserve - note_reserve
    material = shorten_to_fit(
        lesson.material,
        MATERIAL_SHORTENED,
        lambda text: (
            count_message_tokens([system(text, lesson.worked_examples, 0), final], model)
            <= fixed_target
        ),
    )
    worked_examples = shorten_to_fit(
        lesson.worked_examples,
        WORKED_EXAMPLES_SHORTENED,
        lambda text: (
            count_message_tokens([system(material, text, 0), final], model) <= fixed_target
        ),
    )
    fixed = count_message_tokens([system(material, worked_examples, 0), final], model)

    if fixed + history_tokens <= token_budget:
        first_kept = 0
    else:
        available = token_budget - fixed - note_reserve
        first_kept = len(units)
        while first_kept > 0 and unit_costs[first_kept - 1] <= available:
            first_kept -= 1
            available -= unit_costs[first_kept]

    # Per-message sums can differ from counting the joined text by a token here and there;
    # the exact count of the final list is what must fit.
    while True:
        omitted = sum(len(unit) for unit in units[:first_kept])
        messages = [system(material, worked_examples, omitted)]
        messages.extend(message for unit in units[first_kept:] for message in unit)
        messages.append(final)
        total = count_message_tokens(messages, model)
        if total <= token_budget or first_kept == len(units):
            break
        first_kept += 1

    grounding = Grounding(
        question=question,
        lesson_title=lesson.title,
        material=lesson.material,
        worked_examples=lesson.worked_examples,
        misconceptions=lesson.misconceptions,
        key_concepts=lesson.key_concepts,
        language=language,
        reading_level=reading_level,
        exercise_prompt=exercise.prompt if exercise is not None else "",
        student_answer=student_answer if kind == KIND_ANSWER_REVIEW else "",
    )
    return BuiltPrompt(
        messages=messages,
        prompt_version=PROMPT_VERSION,
        prompt_tokens_estimate=total,
        dropped_turns=omitted,
        grounding=grounding,
    )
