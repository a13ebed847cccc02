"""Which provider and model answer for a school.

Order: the school's setting, else LLM_PROVIDER, else `openai` when a key exists (the
school's own active key, else OPENAI_API_KEY), else `offline`.

The platform's key (OPENAI_API_KEY) goes only to the platform's own base URL
(OPENAI_BASE_URL, else OpenAI's): a school that sets a base URL of its own must bring its
own key, or a school admin could point the worker at a server they run and read the
platform's key off the Authorization header. A school's own base URL is also held to the
outbound rule (llm/outbound.py) at every connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import School
from llm import DEFAULT_BASE_URL, LLMPermanentError, OpenAIProvider, Provider
from llm.offline import OfflineProvider
from tutoring.models import ProviderKey, SchoolSettings
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
    has_school_key = ProviderKey.objects.for_school(school).filter(is_active=True).exists()
    return "openai" if has_school_key or settings.OPENAI_API_KEY else "offline"


def model_for(name: str, row: SchoolSettings) -> str:
    return OFFLINE_MODEL if name == "offline" else (row.llm_model or settings.LLM_MODEL)


def platform_base_url() -> str:
    """The base URL the operator chose for the platform's key (trusted, never checked)."""
    return (settings.OPENAI_BASE_URL or DEFAULT_BASE_URL).rstrip("/")


def school_base_url(base_url: str) -> str | None:
    """A school's base URL setting as an address of its own, or None when the school uses
    the platform's (empty, or the very same address: no key can leave through it)."""
    url = base_url.strip().rstrip("/")
    return None if not url or url == platform_base_url() else url


def provider_for_school(school: School, row: SchoolSettings) -> ProviderChoice:
    """Resolve the provider. Call inside the school's context (reads the school's key).

    Raises LLMPermanentError: `no_api_key` when `openai` is chosen without any key;
    `own_key_required` when the school set a base URL of its own but has no key of its own
    (the platform's key is never sent there).
    """
    name = provider_name_for(school, row)
    if name == "offline":
        return ProviderChoice("offline", OFFLINE_MODEL, OfflineProvider())
    school_key = active_key_for_school(school)
    own_url = school_base_url(row.llm_base_url)
    if own_url is not None:
        if not school_key:
            raise LLMPermanentError(
                "own_key_required",
                _(
                    "The school settings point to the school's own AI service, which needs "
                    "the school's own API key. Please ask a school administrator to add one "
                    "in the school settings."
                ),
            )
        provider = OpenAIProvider(
            school_key, own_url, timeout=settings.LLM_TIMEOUT_SECONDS, school_chosen_url=True
        )
        return ProviderChoice("openai", model_for("openai", row), provider)
    key = school_key or settings.OPENAI_API_KEY
    if not key:
        raise LLMPermanentError(
            "no_api_key",
            _("No AI service key is configured for this school. Ask your school administrator."),
        )
    provider = OpenAIProvider(
        key, settings.OPENAI_BASE_URL or None, timeout=settings.LLM_TIMEOUT_SECONDS
    )
    return ProviderChoice("openai", model_for("openai", row), provider)
