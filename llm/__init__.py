"""Language model access for Lantern.

Import from here, never from a provider module: callers depend on these types and errors,
and only `llm.openai_provider` (with its `llm.openai_errors`) knows about the `openai` SDK.
"""

from llm import outbound
from llm.base import (
    Completion,
    CompletionRequest,
    Grounding,
    LLMError,
    LLMPermanentError,
    LLMTransientError,
    ModerationResult,
    Provider,
    redact,
)
from llm.offline import OfflineProvider
from llm.openai_provider import DEFAULT_BASE_URL, OpenAIProvider

__all__ = [
    "DEFAULT_BASE_URL",
    "Completion",
    "CompletionRequest",
    "Grounding",
    "LLMError",
    "LLMPermanentError",
    "LLMTransientError",
    "ModerationResult",
    "OfflineProvider",
    "OpenAIProvider",
    "Provider",
    "outbound",
    "redact",
]
