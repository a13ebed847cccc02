"""The readable messages of provider error codes, in the reader's language.

A leaf (Django's translation only), so that the provider adapter that raises these codes
(llm.openai_errors) and the model property that shows a stored failure
(Explanation.error_text, through tutoring.errors) share one table without the model
importing the SDK adapter. Like all of llm it imports no app module (an import-linter
contract).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

# The code every refused school-chosen address gets (llm.outbound.REFUSED_CODE).
REFUSED_CODE = "provider_address_refused"

# Marked for translation; evaluated in the active language when raised, and looked up again
# by code when shown (`user_message_for`), so a reader sees them in their own language.
PROVIDER_MESSAGES: dict[str, Any] = {
    "rate_limited": gettext_lazy("The AI service is busy right now. Please try again in a moment."),
    "provider_unavailable": gettext_lazy(
        "The AI service is temporarily unavailable. Please try again in a moment."
    ),
    "timeout": gettext_lazy("The AI service took too long to respond. Please try again."),
    "malformed_response": gettext_lazy(
        "The AI service sent an incomplete answer. Please try again."
    ),
    "invalid_api_key": gettext_lazy(
        "The school's AI service key was rejected. Please ask a school administrator to "
        "check the API key in the school settings."
    ),
    "missing_api_key": gettext_lazy(
        "No AI service key is configured for this school. Please ask a school administrator "
        "to add one in the school settings."
    ),
    "permission_denied": gettext_lazy(
        "The school's AI service key is not allowed to use this model. Please ask a school "
        "administrator to check the AI settings."
    ),
    "model_not_found": gettext_lazy(
        "The AI model configured for this school is not available. Please ask a school "
        "administrator to check the AI settings."
    ),
    "quota_exhausted": gettext_lazy(
        "The school's AI service account has run out of credit. Please ask a school "
        "administrator to check the billing settings with the AI provider."
    ),
    "context_too_long": gettext_lazy(
        "This conversation is too long for the AI model. Please start a new session or "
        "shorten your question."
    ),
    "bad_request": gettext_lazy("The AI service could not process this request."),
    # One message for every refused or unresolvable school-chosen address: what answered
    # (or did not) at that address is never told (llm/outbound.py).
    REFUSED_CODE: gettext_lazy(
        "The AI service address in the school settings cannot be used. Please ask a school "
        "administrator to check the AI settings."
    ),
    "own_key_required": gettext_lazy(
        "The school settings point to the school's own AI service, which needs the "
        "school's own API key. Please ask a school administrator to add one in the school "
        "settings."
    ),
    "provider_error": gettext_lazy("The AI service returned an unexpected error."),
}


def user_message_for(code: str) -> str | None:
    """The readable message of a provider error code, in the active language."""
    message = PROVIDER_MESSAGES.get(code)
    return None if message is None else str(message)
