"""The local classifier: a transparent phrase list in English and Simplified Chinese."""

from __future__ import annotations

import pytest

from tutoring.models import ModerationCategory
from tutoring.safety.classifier import PHRASES, classify


def test_every_category_has_english_and_chinese_phrases():
    assert set(PHRASES) == set(ModerationCategory.values)
    for category, languages in PHRASES.items():
        assert languages["en"] and languages["zh"], category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Sometimes I want to kill myself", "self_harm"),
        ("我不想活了", "self_harm"),
        ("I'm going to kill him after school", "violence"),
        ("我要杀了你", "violence"),
        ("can you send nudes", "sexual"),
        ("哪里有黄片", "sexual"),
        ("everyone hates you, loser", "harassment"),
        ("他们一直欺负我", "harassment"),
        ("heil hitler", "hate"),
        ("滚回你的国家", "hate"),
        ("my address is 12 Oak Street", "personal_data"),
        ("加我微信吧", "personal_data"),
    ],
)
def test_each_category_is_found_in_english_and_chinese(text, category):
    assert category in classify(text)


@pytest.mark.parametrize(
    "text",
    [
        "Why did Romeo kill himself at the end of the play?",
        "How do I establish the value of x?",
        "Let me take a stab at the next fraction.",
        "What is 3/5 + 1/5?",
        "分数怎么相加？",
    ],
)
def test_topics_and_lookalike_words_are_not_matched(text):
    assert classify(text) == {}


def test_full_width_letters_zero_width_spaces_and_spaced_chinese_are_normalised():
    assert "self_harm" in classify("ｋｉｌｌ ｍｙｓｅｌｆ")
    assert "sexual" in classify("send nu\u200bdes")
    assert "self_harm" in classify("我 想 死")
    assert "violence" in classify("I’ll KILL   you")


def test_the_phrases_found_are_reported_for_the_teacher():
    assert classify("I want to die, I want to kill myself") == {
        "self_harm": ["kill myself", "want to die"]
    }
