"""Which provider and model answer for a school.

Order: the school's setting, else LLM_PROVIDER, else `openai` when a key exists (the
school's own active key, else OPENAI_API_KEY), else `offline`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import School
from tutoring.llm import LLMPermanentError, OpenAIProvider, Provider
from tutoring.llm.offline import OfflineProvider
from tutoring.models import SchoolSettings
from tutoring.services.keys import active_key_for_school

OFFLINE_MODEL = "offline-v1"


@dataclass(frozen=True)
class ProviderChoice:
    name: str
    model: str
    provider: Provider

    def __repr__(self) -> str:  # never show a key through the provider's repr
        return f"<ProviderChoice {self.name}:{self.model}>"


def provider_name_for(school: School, row: SchoolSettings) -> str:
    """The provider's name without decrypting anything (for cache keys and pages)."""
    if row.llm_provider:
        return row.llm_provider
    if settings.LLM_PROVIDER:
        return settings.LLM_PROVIDER
    from tutoring.models import ProviderKey

    has_school_key = ProviderKey.objects.for_school(school).filter(is_active=True).exists()
    return "openai" if has_school_key or settings.OPENAI_API_KEY else "offline"


def model_for(name: str, row: SchoolSettings) -> str:
    return OFFLINE_MODEL if name == "offline" else (row.llm_model or settings.LLM_MODEL)


def provider_for_school(school: School, row: SchoolSettings) -> ProviderChoice:
    """Resolve the provider. Call inside the school's context (reads the school's key).

    Raises LLMPermanentError(code="no_api_key") when `openai` is chosen without any key.
    """
    name = provider_name_for(school, row)
    if name == "offline":
        return ProviderChoice("offline", OFFLINE_MODEL, OfflineProvider())
    key = active_key_for_school(school) or settings.OPENAI_API_KEY
    if not key:
        raise LLMPermanentError(
            "no_api_key",
            _("No AI service key is configured for this school. Ask your school administrator."),
        )
    provider = OpenAIProvider(
        key,
        row.llm_base_url or settings.OPENAI_BASE_URL or None,
        timeout=settings.LLM_TIMEOUT_SECONDS,
    )
    return ProviderChoice("openai", model_for("openai", row), provider)
