"""The lesson's answer policy: whether the full solution is open to a student, and the
instruction the tutor gets for it."""

from __future__ import annotations

from tutoring.models.lessons import AnswerPolicy
from tutoring.prompting.contract import LessonContractLike

__all__ = ["answer_policy_instruction", "is_solution_unlocked"]


def is_solution_unlocked(lesson: LessonContractLike, tries_on_exercise: int) -> bool:
    """Whether the tutor may give the full solution (and reveal an exercise's answer key).

    Always for the `full_solution` policy; for `hints_first` and `worked_step` once the
    teacher released solutions or the student has made `full_solution_after_tries` tries
    (a threshold of 0 means from the first request, as the field's label reads).
    """
    if lesson.answer_policy == AnswerPolicy.FULL_SOLUTION or lesson.solution_released:
        return True
    return tries_on_exercise >= lesson.full_solution_after_tries


def answer_policy_instruction(
    lesson: LessonContractLike, tries_on_exercise: int, unlocked: bool
) -> str:
    """The answer-policy line of the system message for this lesson and student's tries."""
    if lesson.answer_policy == AnswerPolicy.FULL_SOLUTION:
        return (
            "You may give the full worked solution. Explain every step so the student can "
            "follow it, then offer a similar problem to try."
        )
    if unlocked:
        reason = (
            "The teacher has released full solutions"
            if lesson.solution_released
            else (
                f"The student has made {tries_on_exercise} tries and the teacher allows the full "
                f"solution after {lesson.full_solution_after_tries}"
            )
        )
        return (
            f"{reason}: you may now give the complete worked solution, explaining every "
            "step, then check understanding with a similar question."
        )
    threshold = (
        f"The full solution opens only after {lesson.full_solution_after_tries} tries on an "
        f"exercise; this student has made {tries_on_exercise}."
    )
    if lesson.answer_policy == AnswerPolicy.WORKED_STEP:
        return (
            "Show one worked step: do only the next step, explain it, then ask the student to "
            "do the following step themselves. Never give the final answer or the complete "
            f"solution, even if asked. {threshold}"
        )
    return (
        "Socratic, hints first: ask one or two guiding questions and give a hint toward the "
        "next step. Never give the final answer or the complete solution, even if the "
        f"student asks for it. {threshold}"
    )
