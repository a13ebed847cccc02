"""Offline token counting: exact for OpenAI models, a documented estimate for the rest.

No database: these tests only call `llm.tokens`.
"""

import socket

import pytest

from llm.tokens import (
    MESSAGE_OVERHEAD_TOKENS,
    REPLY_PRIMING_TOKENS,
    count_message_tokens,
    count_tokens,
    encoding_name_for_model,
    estimate_tokens,
)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a socket fails the test (tiktoken would download encodings)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("token counting tried to use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_gpt_4o_mini_is_counted_exactly_with_o200k_without_network(no_network: None) -> None:
    # o200k_base splits this sentence into: "Hello", ",", " world", "!"
    assert count_tokens("Hello, world!", "gpt-4o-mini") == 4
    assert count_tokens("What is a fraction?", "gpt-4o-mini") == 5


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-4o-2024-08-06", "o200k_base"),
        ("gpt-4.1-nano", "o200k_base"),
        ("gpt-5-mini", "o200k_base"),
        ("o1", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("o4-mini", "o200k_base"),
        ("openai/GPT-4o", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("llama3.1:8b", None),
        ("qwen2.5:7b-instruct", None),
        ("omni-moderation-latest", None),
        ("offline", None),
    ],
)
def test_model_names_map_to_the_right_encoding(model: str, encoding: str | None) -> None:
    assert encoding_name_for_model(model) == encoding


def test_cl100k_and_o200k_count_chinese_differently() -> None:
    text = "分数表示把一个整体平均分成若干份，表示其中的一份或几份。"
    assert count_tokens(text, "gpt-4") != count_tokens(text, "gpt-4o")
    assert 0 < count_tokens(text, "gpt-4o") < len(text)


def test_unknown_model_falls_back_to_a_character_estimate() -> None:
    # 35 Latin characters at 3.5 characters per token.
    assert count_tokens("a" * 35, "llama3.1:8b") == 10
    assert count_tokens("a" * 36, "llama3.1:8b") == 11
    assert count_tokens("", "llama3.1:8b") == 0


def test_chinese_text_is_estimated_at_one_token_per_character() -> None:
    # Five Han characters plus a full-width question mark, then 7 Latin characters.
    assert count_tokens("分数是什么？", "qwen2.5:7b") == 6
    assert estimate_tokens("分数是什么？ abcdef") == 6 + 2


def test_special_token_text_typed_by_a_student_is_counted_as_ordinary_text() -> None:
    assert count_tokens("<|endoftext|>", "gpt-4o") > 1


def test_very_long_text_is_counted_without_hitting_the_tokenizer_limits() -> None:
    text = "one fraction " * 200_000  # 2.6 million characters
    assert count_tokens(text, "gpt-4o-mini") == pytest.approx(400_000, abs=10)


def test_message_count_adds_the_chat_overhead() -> None:
    messages = [
        {"role": "system", "content": "Hello, world!"},
        {"role": "user", "content": "What is a fraction?"},
    ]
    expected = 4 + 5 + 2 * MESSAGE_OVERHEAD_TOKENS + REPLY_PRIMING_TOKENS
    assert count_message_tokens(messages, "gpt-4o-mini") == expected
    assert count_message_tokens([], "gpt-4o-mini") == REPLY_PRIMING_TOKENS
