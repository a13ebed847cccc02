"""The one base of every domain error: a stable code, an HTTP status, a readable message.

Every error a service, a selector, the school door or the API base raises on purpose
subclasses `LanternError` (tutoring.errors.TutoringError, accounts.services.AccountsError,
accounts.access.SchoolSuspended, base.api_errors.ApiError, base.parsers.InputRejected). Each
interface maps it once: the API's exception handler (base.api_errors) turns it into the error
envelope, the web's error mapping (base.web_errors) into a 404/403 page, a form error or
a message. The schema's `ErrorCode` enum is generated from its subclasses
(base.api_schema).

This module imports only Django's translation helpers, so anything may import it (models
included) without pulling in an app, DRF or a provider adapter. Provider errors
(llm's LLMTransientError / LLMPermanentError) do not subclass it: `llm`
imports no application code, and the services translate them at their boundary
(ProviderUnavailable, BudgetExhausted, or a failure stored on the explanation).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TypeVar

from django.utils.translation import gettext_lazy as _

# What every 404 says, whatever its class: "it exists but is not yours" is itself a leak.
NOT_FOUND_CODE = "not_found"


class LanternError(Exception):
    """A domain error.

    `code` is stable and machine-readable (docs/api.md), `status` the HTTP status an
    interface answers with, `message` translated text a person can act on, `fields` maps
    input fields to their problems (empty when the error is not about one field),
    `headers` extra response headers (Retry-After). Declare each kind as a subclass with
    its own `code`, `status` and `default_message`.
    """

    code: str = "invalid"
    status: int = 400
    default_message: object = _("This request cannot be completed.")

    def __init__(
        self,
        message: object | None = None,
        *,
        fields: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message = str(message or self.default_message)
        self.fields: dict[str, list[str]] = dict(fields or {})
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self.message)

    @property
    def public_code(self) -> str:
        """The code an interface shows: every 404 is `not_found`."""
        return NOT_FOUND_CODE if self.status == 404 else self.code

    @classmethod
    def declared_codes(cls) -> set[str]:
        """The public codes instances of exactly this class can carry (for the schema)."""
        return {NOT_FOUND_CODE if cls.status == 404 else cls.code}


E = TypeVar("E", bound=type)


def subclasses(cls: E) -> Iterator[E]:
    """Every subclass of `cls`, at any depth."""
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)


def declared_error_codes() -> set[str]:
    """Every public code a LanternError (of any imported subclass) can carry."""
    codes: set[str] = set(LanternError.declared_codes())
    for cls in subclasses(LanternError):
        codes |= cls.declared_codes()
    return codes


__all__ = ["NOT_FOUND_CODE", "LanternError", "declared_error_codes", "subclasses"]
