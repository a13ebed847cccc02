"""Fixtures for provider tests: a running fake OpenAI server, a throwaway API key and a
provider of that key on that server."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from llm import OpenAIProvider
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A fresh fake server per test; stopping it cuts short any scripted hang."""
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def api_key() -> str:
    """A random, obviously fake key, so no key-shaped literal is ever committed."""
    return "sk-test-" + secrets.token_hex(16)


@pytest.fixture
def provider(fake_openai: FakeOpenAI, api_key: str) -> OpenAIProvider:
    return OpenAIProvider(api_key, fake_openai.base_url, timeout=5.0, connect_timeout=2.0)
