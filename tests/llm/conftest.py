"""Fixtures for provider tests: a running fake OpenAI server and a throwaway API key."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

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
