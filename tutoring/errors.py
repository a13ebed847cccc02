"""Domain errors of tutoring services (and safety's): kinds of base.errors.LanternError.

The web's error mapping (base.web_errors) shows `message`; the API's one error handler
maps `code` and `status`.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from base.errors import LanternError
from llm.messages import user_message_for


class TutoringError(LanternError):
    """Base of the tutoring and safety services' errors."""


class InvalidInput(TutoringError):
    code = "invalid_input"


class NotFound(TutoringError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDeniedError(TutoringError):
    code = "permission_denied"
    status = 403
    default_message = _("You are not allowed to do this.")


class LessonNotPublished(TutoringError):
    code = "lesson_not_published"
    status = 409
    default_message = _("This lesson is not published yet.")


class SessionNotYours(TutoringError):
    code = "session_not_yours"
    status = 404
    default_message = _("Not found.")


class BudgetExhausted(TutoringError):
    code = "budget_exhausted"
    status = 429
    default_message = _("The tutor's budget is used up for now. Ask your teacher.")


class ProviderUnavailable(TutoringError):
    code = "provider_unavailable"
    status = 503
    default_message = _("The tutor is busy. Your question is saved and will be answered.")


class Conflict(TutoringError):
    code = "conflict"
    status = 409


class PolicyNotAccepted(TutoringError):
    code = "policy_not_accepted"
    status = 403
    default_message = _("Read and accept your school's AI-use policy before you use the tutor.")


# Failures stored on an explanation, by code: shown in the reader's language, not in the
# language the worker happened to run in. Unknown codes show the stored message.
_STORED_FAILURES = {
    "gave_up": _("The tutor could not answer after several tries. Please ask again later."),
}


def explanation_error_text(code: str, stored_message: str) -> str:
    """The readable text of a stored failure, in the active language when the code is known."""
    known = _STORED_FAILURES.get(code)
    if known is not None:
        return str(known)
    return user_message_for(code) or stored_message
