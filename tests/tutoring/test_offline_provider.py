"""The offline provider: an honest, labelled explanation quoted from the lesson itself.

No database and no network: requests are built by hand.
"""

import pytest

from llm import CompletionRequest, Grounding, LLMPermanentError, OfflineProvider, Provider

ENGLISH_LABEL = (
    "*Offline tutor — this explanation was assembled from your lesson's own material, "
    "not written by an AI model.*"
)
CHINESE_LABEL = "*离线辅导——本解释取自课程材料，并非由 AI 模型生成。*"

FRACTIONS_MATERIAL = """# Fractions

A fraction names a part of a whole. The bottom number, the denominator, says how many equal
parts the whole is cut into.

The top number, the numerator, counts how many of those parts we take.

To add fractions with the same denominator, add the numerators and keep the denominator.

Decimals are another way to write parts of a whole, using place value."""

FRACTIONS_EXAMPLES = """Example: 1/5 + 2/5. The denominators match, so add 1 + 2 and keep fifths: 3/5.

Example: Is 2/4 the same as 1/2? Cut a pizza into 4 slices and take 2: that is half."""

CHINESE_MATERIAL = """分数表示一个整体的一部分。分母表示把整体平均分成几份。

分子表示取了其中的几份。

同分母分数相加，分母不变，分子相加。

小数是用位值表示整体一部分的另一种方法。"""


def grounding(**overrides: str) -> Grounding:
    fields = {
        "question": "How do I add fractions with the same denominator?",
        "lesson_title": "Adding fractions",
        "material": FRACTIONS_MATERIAL,
        "worked_examples": FRACTIONS_EXAMPLES,
        "misconceptions": (
            "- Adding the denominators too: 1/5 + 2/5 = 3/10\n"
            "- Thinking a bigger denominator means a bigger fraction"
        ),
        "key_concepts": "numerator: the top number\ndenominator: the bottom number",
        "language": "en",
        "reading_level": "middle",
    }
    fields.update(overrides)
    return Grounding(**fields)


def request_for(g: Grounding) -> CompletionRequest:
    return CompletionRequest(
        messages=[{"role": "system", "content": "tutor"}, {"role": "user", "content": g.question}],
        model="offline-v1",
        grounding=g,
    )


def explain(**overrides: str) -> str:
    return OfflineProvider().complete(request_for(grounding(**overrides))).content


def test_offline_provider_satisfies_the_provider_protocol() -> None:
    provider = OfflineProvider()
    assert isinstance(provider, Provider)
    assert provider.name == "offline"


def test_english_explanation_is_labelled_and_quotes_the_relevant_passage() -> None:
    content = explain()
    assert content.splitlines()[0] == ENGLISH_LABEL
    assert "> To add fractions with the same denominator, add the numerators" in content
    # A passage about something else is not quoted.
    assert "Decimals are another way" not in content
    assert "**Worked example**" in content
    assert "Example: 1/5 + 2/5. The denominators match" in content
    assert "Cut a pizza" not in content
    assert "**Check your understanding:** Can you explain denominator in your own words" in (
        content
    )


def test_passages_keep_the_lessons_order() -> None:
    content = explain(question="What do the numerator and the denominator mean?")
    assert content.index("the denominator, says how many") < content.index("the numerator, counts")


def test_completion_reports_model_tokens_and_no_request_id() -> None:
    completion = OfflineProvider().complete(request_for(grounding()))
    assert completion.model == "offline-v1"
    assert completion.request_id is None
    assert completion.prompt_tokens > 0
    assert completion.completion_tokens > 0
    assert completion.cached_tokens == 0
    assert completion.latency_ms >= 0


def test_chinese_lesson_gets_the_chinese_label_and_the_passage_matched_by_bigrams() -> None:
    content = explain(
        question="同分母的分数怎么相加？",
        lesson_title="分数的加法",
        material=CHINESE_MATERIAL,
        worked_examples="例：1/5 + 2/5 = 3/5，分母不变，分子 1 + 2 = 3。",
        misconceptions="",
        key_concepts="分子、分母、同分母分数",
        language="zh-hans",
    )
    assert content.splitlines()[0] == CHINESE_LABEL
    assert "> 同分母分数相加，分母不变，分子相加。" in content
    assert "小数" not in content
    assert "**例题**" in content
    assert "**检查理解：**" in content
    assert "Check your understanding" not in content


def test_answer_review_restates_the_exercise_answer_and_matching_misconception() -> None:
    content = explain(
        question="",
        exercise_prompt="What is 1/5 + 2/5?",
        student_answer="3/10",
    )
    assert content.splitlines()[0] == ENGLISH_LABEL
    assert "> What is 1/5 + 2/5?" in content
    assert "**Your answer:** 3/10" in content
    assert "**A common mistake to check:** Adding the denominators too" in content
    assert "> To add fractions with the same denominator" in content
    assert "Which step of your answer would you change" in content


def test_young_readers_get_at_most_two_short_passages() -> None:
    long_sentence = (
        "When you add two fractions that share a denominator you add the numerators, you keep "
        "the denominator exactly as it was, and you never add the two denominators together "
        "because the size of each part does not change when you collect more parts."
    )
    material = "\n\n".join(
        [
            "Fractions with the same denominator are easy to add.",
            long_sentence,
            "Adding fractions: the denominator tells the size of the parts.",
            "Add the numerators of fractions with one denominator.",
        ]
    )
    content = explain(material=material, reading_level="early")
    quoted = [line for line in content.splitlines() if line.startswith("> ")]
    assert len(quoted) <= 2
    assert all(len(line.split()) <= 22 for line in quoted)
    assert "Can you tell what" in content


def test_a_question_matching_nothing_shows_the_start_of_the_lesson_honestly() -> None:
    content = explain(question="Who won the football match yesterday?")
    assert "Nothing in the lesson matched your question closely" in content
    assert "> A fraction names a part of a whole." in content


def test_streamed_deltas_concatenate_to_the_content() -> None:
    deltas: list[str] = []
    completion = OfflineProvider().complete(request_for(grounding()), on_delta=deltas.append)
    assert len(deltas) > 3
    assert "".join(deltas) == completion.content


def test_same_request_twice_gives_the_same_explanation() -> None:
    first = OfflineProvider().complete(request_for(grounding()))
    second = OfflineProvider().complete(request_for(grounding()))
    assert first.content == second.content
    assert first.prompt_tokens == second.prompt_tokens
    assert first.completion_tokens == second.completion_tokens


def test_a_request_without_grounding_fails_permanently() -> None:
    request = CompletionRequest(messages=[{"role": "user", "content": "hi"}], model="offline-v1")
    with pytest.raises(LLMPermanentError) as error:
        OfflineProvider().complete(request)
    assert error.value.code == "bad_request"


def test_moderation_flags_nothing_yet() -> None:
    result = OfflineProvider().moderate("anything at all")
    assert result.flagged is False
    assert result.categories == {}
