"""LLM provider settings (llm/, tutoring/pipeline): imported by config.settings."""

from __future__ import annotations

import environ

# The .env file, if any, was read into the environment by config.settings before this import.
env = environ.Env()

OPENAI_API_KEY: str = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL: str = env.str("OPENAI_BASE_URL", default="")
LLM_PROVIDER: str = env.str("LLM_PROVIDER", default="")  # openai | offline | "" (auto)
# Base URLs a school admin sets (never OPENAI_BASE_URL, which the operator chose) must be
# public https on an allowed port; the allow-list (hosts, IPs, CIDRs) admits self-hosted
# models on a private network. llm/outbound.py holds the rule.
LLM_OUTBOUND_ALLOW_HTTP: bool = env.bool("LLM_OUTBOUND_ALLOW_HTTP", default=False)
LLM_OUTBOUND_ALLOWED_PORTS: list[int] = [
    int(port) for port in env.list("LLM_OUTBOUND_ALLOWED_PORTS", default=["443"])
]
LLM_OUTBOUND_ALLOWLIST: list[str] = env.list("LLM_OUTBOUND_ALLOWLIST", default=[])
LLM_MODEL: str = env.str("LLM_MODEL", default="gpt-4o-mini")
LLM_TIMEOUT_SECONDS: float = env.float("LLM_TIMEOUT_SECONDS", default=60.0)
# Transient provider errors retry with exponential backoff (base x 2^(attempt-1), jittered to
# half..full, capped, never shorter than the provider's Retry-After). The defaults keep a
# question retrying for about 4 to 8 minutes of provider outage before it fails
# (docs/operations.md); meanwhile it stays `queued` with `error_code` set.
LLM_MAX_ATTEMPTS: int = env.int("LLM_MAX_ATTEMPTS", default=9)
LLM_BACKOFF_BASE_SECONDS: float = env.float("LLM_BACKOFF_BASE_SECONDS", default=2.0)
LLM_BACKOFF_MAX_SECONDS: float = env.float("LLM_BACKOFF_MAX_SECONDS", default=300.0)
LLM_PROMPT_TOKEN_BUDGET: int = env.int("LLM_PROMPT_TOKEN_BUDGET", default=3000)
LLM_MAX_COMPLETION_TOKENS: int = env.int("LLM_MAX_COMPLETION_TOKENS", default=800)
LLM_LEASE_SECONDS: int = env.int("LLM_LEASE_SECONDS", default=300)
LLM_STALE_QUEUED_SECONDS: int = env.int("LLM_STALE_QUEUED_SECONDS", default=120)
