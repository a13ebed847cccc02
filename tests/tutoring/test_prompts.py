"""Prompt building: what the tutor is told, what it is never told, and how it fits a budget.

No database: lessons and exercises are unsaved model instances.
"""

import pytest

from llm.tokens import count_message_tokens
from tutoring.models import Exercise, LessonVersion
from tutoring.prompting.answer_policy import is_solution_unlocked
from tutoring.prompting.builder import build_prompt
from tutoring.prompting.cache_keys import cache_key, normalize_question
from tutoring.prompting.contract import BuiltPrompt, StudentContext
from tutoring.prompting.instructions import PROMPT_VERSION
from tutoring.prompting.trimming import MATERIAL_SHORTENED

MODEL = "gpt-4o-mini"
PSEUDONYM = "7f1c9a52-4a51-4c1e-9d8e-0c2b1e6f9a11"


def fractions_lesson(**overrides: object) -> LessonVersion:
    fields: dict[str, object] = {
        "title": "Adding fractions",
        "subject": "Mathematics",
        "grade_band": "Grade 5",
        "objectives": "Add fractions with like denominators.",
        "key_concepts": "numerator; denominator; like denominators",
        "material": (
            "A fraction names part of a whole.\n\n"
            "To add fractions with the same denominator, add the numerators and keep the "
            "denominator."
        ),
        "worked_examples": "$\\frac{1}{5} + \\frac{2}{5} = \\frac{3}{5}$",
        "misconceptions": "Adding the denominators too: 1/5 + 2/5 = 3/10.",
        "tone": "playful and patient",
        "reading_level": "elementary",
        "language": "en",
        "answer_policy": "hints_first",
        "full_solution_after_tries": 3,
        "solution_released": False,
    }
    fields.update(overrides)
    return LessonVersion(**fields)


def exercise() -> Exercise:
    return Exercise(
        prompt="What is 1/5 + 2/5?",
        answer_key="3/5",
        accepted_answers=["0.6"],
        misconception_tags=["adds denominators"],
        solution="Keep the denominator 5 and add 1 + 2.",
    )


def student_context(**overrides: str) -> StudentContext:
    fields = {
        "grade": "5",
        "language": "",
        "reading_level": "",
        "interests": "football and baking",
        "accommodations": "dyslexia: short paragraphs",
        "pseudonym": PSEUDONYM,
    }
    fields.update(overrides)
    return StudentContext(**fields)


def build(**overrides: object) -> BuiltPrompt:
    arguments: dict[str, object] = {
        "school_policy": "Never help with graded tests.",
        "lesson": fractions_lesson(),
        "student": student_context(),
        "history": [],
        "question": "How do I add 1/5 and 2/5?",
        "kind": "question",
        "model": MODEL,
        "token_budget": 6000,
    }
    arguments.update(overrides)
    return build_prompt(**arguments)  # type: ignore[arg-type]


def everything_sent(built: BuiltPrompt) -> str:
    return "\n".join(message["content"] for message in built.messages)


def test_system_message_carries_the_lesson_contract_policy_and_profile() -> None:
    built = build()
    system = built.messages[0]
    assert system["role"] == "system"
    for expected in (
        "Never help with graded tests.",
        "Adding fractions",
        "Mathematics",
        "Grade 5",
        "Add fractions with like denominators.",
        "numerator; denominator; like denominators",
        "add the numerators and keep the denominator",
        "\\frac{1}{5} + \\frac{2}{5}",
        "1/5 + 2/5 = 3/10",
        "playful and patient",
        "elementary (ages 8-11)",
        "answer in English",
        "football and baking",
        "dyslexia: short paragraphs",
        "- Grade: 5",
        "$…$",
        "$$…$$",
    ):
        assert expected in system["content"], expected
    assert built.prompt_version == PROMPT_VERSION
    assert built.messages[-1] == {"role": "user", "content": "How do I add 1/5 and 2/5?"}


def test_the_pseudonym_never_reaches_the_provider() -> None:
    built = build(history=[("student", "Hi"), ("tutor", "Hello! What shall we look at?")])
    assert PSEUDONYM not in everything_sent(built)
    assert PSEUDONYM not in repr(built.grounding)


def test_students_language_wins_over_the_lesson_language() -> None:
    built = build(student=student_context(language="zh-hans"))
    assert "answer in Simplified Chinese" in built.messages[0]["content"]
    assert built.grounding.language == "zh-hans"


def test_lesson_language_is_used_when_the_student_has_none() -> None:
    built = build(lesson=fractions_lesson(language="fr"))
    assert "answer in French" in built.messages[0]["content"]


def test_history_becomes_user_and_assistant_turns_before_the_question() -> None:
    built = build(history=[("student", "What is a numerator?"), ("tutor", "The top number.")])
    assert [m["role"] for m in built.messages] == ["system", "user", "assistant", "user"]
    assert built.messages[1]["content"] == "What is a numerator?"
    assert built.messages[2]["content"] == "The top number."
    assert built.dropped_turns == 0


def test_a_history_that_already_ends_with_the_question_does_not_repeat_it() -> None:
    question = "How do I add 1/5 and 2/5?"
    built = build(history=[("student", "Hi"), ("tutor", "Hello!"), ("student", question)])
    assert [m["content"] for m in built.messages[1:]] == ["Hi", "Hello!", question]


def test_two_hundred_long_turns_are_trimmed_to_the_budget_keeping_the_latest() -> None:
    history = []
    for turn in range(100):
        history.append(("student", f"Question number {turn}: " + "why does this work? " * 60))
        history.append(("tutor", f"Answer number {turn}: " + "because of the denominator. " * 80))
    question = "So what is 2/7 + 3/7?"

    built = build(history=history, question=question, token_budget=4000)

    assert built.prompt_tokens_estimate == count_message_tokens(built.messages, MODEL)
    assert built.prompt_tokens_estimate <= 4000
    assert built.messages[-1]["content"] == question
    assert built.messages[-2]["content"].startswith("Answer number 99:")
    assert built.messages[-3]["content"].startswith("Question number 99:")
    assert built.dropped_turns > 150
    assert built.dropped_turns % 2 == 0
    assert f"({built.dropped_turns} earlier turns omitted)" in built.messages[0]["content"]
    assert "Question number 0:" not in everything_sent(built)
    # The whole contract is still there: only history was dropped.
    assert "add the numerators and keep the denominator" in built.messages[0]["content"]


def test_a_huge_material_is_shortened_from_the_end_and_marked() -> None:
    material = "Fractions start here.\n\n" + "\n\n".join(
        f"Paragraph {n} about denominators and numerators." * 5 for n in range(3000)
    )
    built = build(lesson=fractions_lesson(material=material), token_budget=3000)

    system = built.messages[0]["content"]
    assert built.prompt_tokens_estimate <= 3000
    assert "Fractions start here." in system
    assert MATERIAL_SHORTENED in system
    assert "Paragraph 2999" not in system
    assert built.messages[-1]["content"] == "How do I add 1/5 and 2/5?"
    # The offline provider still gets the whole material to quote from.
    assert built.grounding.material == material


def test_a_short_material_is_never_marked_as_shortened() -> None:
    assert MATERIAL_SHORTENED not in build().messages[0]["content"]


def test_hints_first_withholds_the_answer_until_enough_tries() -> None:
    lesson = fractions_lesson()
    early = build(
        kind="answer_review",
        exercise=exercise(),
        student_answer="3/10",
        question="",
        tries_on_exercise=1,
        lesson=lesson,
    )
    late = build(
        kind="answer_review",
        exercise=exercise(),
        student_answer="3/10",
        question="",
        tries_on_exercise=3,
        lesson=lesson,
    )

    assert "Never give the final answer" in early.messages[0]["content"]
    assert "this student has made 1" in early.messages[0]["content"]
    assert "3/5" not in early.messages[-1]["content"]
    assert "Keep the denominator 5" not in everything_sent(early)

    assert "Never give the final answer" not in late.messages[0]["content"]
    assert "you may now give the complete worked solution" in late.messages[0]["content"]
    assert "**Correct answer (from the teacher):** 3/5" in late.messages[-1]["content"]
    assert "0.6" in late.messages[-1]["content"]


def test_answer_review_shows_the_exercise_and_wrong_answer_and_asks_what_went_wrong() -> None:
    built = build(
        kind="answer_review",
        exercise=exercise(),
        student_answer="3/10",
        question="Why is mine wrong?",
    )
    final = built.messages[-1]["content"]
    assert "What is 1/5 + 2/5?" in final
    assert "**My answer:** 3/10" in final
    assert "adds denominators" in final
    assert "Why is mine wrong?" in final
    assert "Explain what went wrong." in final
    assert built.grounding.exercise_prompt == "What is 1/5 + 2/5?"
    assert built.grounding.student_answer == "3/10"


def test_released_solutions_unlock_the_answer_at_the_first_try() -> None:
    built = build(
        lesson=fractions_lesson(solution_released=True),
        kind="answer_review",
        exercise=exercise(),
        student_answer="3/10",
        question="",
    )
    assert "The teacher has released full solutions" in built.messages[0]["content"]
    assert "3/5" in built.messages[-1]["content"]


def test_worked_step_policy_asks_for_one_step_only() -> None:
    built = build(lesson=fractions_lesson(answer_policy="worked_step"))
    assert "Show one worked step" in built.messages[0]["content"]


def test_full_solution_policy_allows_the_whole_solution_at_once() -> None:
    lesson = fractions_lesson(answer_policy="full_solution")
    built = build(lesson=lesson, kind="answer_review", exercise=exercise(), student_answer="1")
    assert "You may give the full worked solution" in built.messages[0]["content"]
    assert "3/5" in built.messages[-1]["content"]
    assert is_solution_unlocked(lesson, 0)


def test_answer_review_without_an_exercise_is_refused() -> None:
    with pytest.raises(ValueError, match="exercise"):
        build(kind="answer_review")


def test_grounding_carries_the_lesson_for_the_offline_provider() -> None:
    built = build(student=student_context(reading_level="early"))
    assert built.grounding.lesson_title == "Adding fractions"
    assert built.grounding.question == "How do I add 1/5 and 2/5?"
    assert built.grounding.reading_level == "early"
    assert built.grounding.key_concepts == "numerator; denominator; like denominators"


def key(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "lesson_version_id": 41,
        "question": "What is a fraction?",
        "kind": "question",
        "student": student_context(),
        "exercise_id": None,
        "student_answer": "",
        "model": MODEL,
        "provider": "openai",
        "solution_unlocked": False,
    }
    arguments.update(overrides)
    return cache_key(**arguments)  # type: ignore[arg-type]


def test_cache_key_ignores_case_spacing_and_trailing_punctuation() -> None:
    assert key(question="What is a fraction?") == key(question="what is a  fraction")
    assert key(question="分数是什么？") == key(question="分数是什么")
    assert normalize_question("  What IS a\tfraction?!") == "what is a fraction"


def test_cache_key_is_shared_by_students_with_the_same_profile() -> None:
    other_student = student_context(pseudonym="a8d0e1f2-0000-4000-8000-000000000001")
    assert key(student=student_context()) == key(student=other_student)


@pytest.mark.parametrize(
    "change",
    [
        {"lesson_version_id": 42},
        {"question": "What is a numerator?"},
        {"student": student_context(reading_level="early")},
        {"student": student_context(language="zh-hans")},
        {"student": student_context(interests="horses")},
        {"student": student_context(accommodations="")},
        {"student": student_context(grade="6")},
        {"model": "gpt-4o"},
        {"provider": "offline"},
        {"kind": "answer_review", "exercise_id": 7, "student_answer": "3/10"},
        {"solution_unlocked": True},
    ],
)
def test_cache_key_changes_with_anything_that_changes_the_explanation(
    change: dict[str, object],
) -> None:
    assert key(**change) != key()


def test_cache_key_is_a_sha256_hex_digest() -> None:
    assert len(key()) == 64
    int(key(), 16)


def test_trimming_never_keeps_a_tutor_reply_without_the_question_it_answers() -> None:
    history = [
        ("student", "Earlier question?"),
        ("tutor", "Earlier answer."),
        ("student", "A very long question. " * 400),
        ("tutor", "A short answer."),
    ]
    built = build(history=history, token_budget=1500)
    sent = everything_sent(built)
    assert "A short answer." not in sent
    assert "Earlier answer." not in sent
    assert "(4 earlier turns omitted)" in built.messages[0]["content"]
    assert built.prompt_tokens_estimate <= 1500


def test_a_budget_too_small_for_the_question_is_reported_not_hidden() -> None:
    question = "Why? " * 400
    built = build(question=question, token_budget=300)
    assert built.messages[-1]["content"] == question
    assert MATERIAL_SHORTENED in built.messages[0]["content"]
    assert built.prompt_tokens_estimate == count_message_tokens(built.messages, MODEL)
    assert built.prompt_tokens_estimate > 300
