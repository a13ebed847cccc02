"""drf-spectacular post-processing: what the schema says about errors, generated from the
code that raises them.

`error.code` is the enum `ErrorCode`, built from the error classes (TutoringError and its
subclasses, AccountsError's declared codes, ApiError's subclasses, the request-input
errors of base.parsers) plus the codes the
one exception handler emits itself (base.api.HANDLER_CODES). A new error class appears
in the schema without anyone editing a list; the committed-schema test then asks for the
schema to be regenerated, and the generated-client test fails on any code the server
sends that the enum lacks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from accounts.services import AccountsError
from base.api import HANDLER_CODES, ApiError
from base.parsers import INPUT_ERRORS
from tutoring.errors import TutoringError

# Codes sent outside the DRF handler, by code that builds the envelope itself.
OUTSIDE_HANDLER_CODES: tuple[str, ...] = (
    "locked_out",  # accounts.lockout: too many failed sign-ins from one address
)


E = TypeVar("E")


def _subclasses(cls: type[E]) -> Iterator[type[E]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def error_codes() -> list[str]:
    """Every `error.code` the API can send, sorted."""
    codes: set[str] = set(HANDLER_CODES) | set(OUTSIDE_HANDLER_CODES)
    domain: list[type[TutoringError]] = [TutoringError, *_subclasses(TutoringError)]
    for cls in domain:
        # The handler answers every 404 with `not_found` ("not yours" is itself a leak).
        codes.add("not_found" if cls.status == 404 else cls.code)
    codes.update(AccountsError.STATUSES)
    api: list[type[ApiError]] = [ApiError, *_subclasses(ApiError)]
    codes.update(api_error.error_code for api_error in api)
    # The request-input errors (base.parsers), raised at the edge and by the parser.
    codes.update(str(input_error.default_code) for input_error in INPUT_ERRORS)
    return sorted(codes)


def add_error_code_enum(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS entry: `ErrorDetail.code` -> `$ref: ErrorCode` (an enum)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorCode"] = {
        "type": "string",
        "enum": error_codes(),
        "description": "Stable, machine-readable code (docs/api.md lists what each means).",
    }
    detail = schemas["ErrorDetail"]
    detail["properties"]["code"] = {"$ref": "#/components/schemas/ErrorCode"}
    return result


__all__ = ["add_error_code_enum", "error_codes"]
