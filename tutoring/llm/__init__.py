"""Language model access for Lantern.

Import from here, never from a provider module: callers depend on these types and errors,
and only `tutoring.llm.openai_provider` knows about the `openai` SDK.
"""

from tutoring.llm import outbound
from tutoring.llm.base import (
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
from tutoring.llm.offline import OfflineProvider
from tutoring.llm.openai_provider import DEFAULT_BASE_URL, OpenAIProvider

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
