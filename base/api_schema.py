"""drf-spectacular post-processing: what the schema says about errors, generated from the
code that raises them.

`error.code` is the enum `ErrorCode`, built from the error classes (every subclass of
base.errors.LanternError: TutoringError's, AccountsError's declared codes,
SchoolSuspended, ApiError's, the request-input errors of base.parsers; the modules that
declare them are imported here so none is missed) plus the codes the one exception handler
emits itself (base.api_errors.HANDLER_CODES). A new error class appears
in the schema without anyone editing a list; the committed-schema test then asks for the
schema to be regenerated, and the generated-client test fails on any code the server
sends that the enum lacks.
"""

from __future__ import annotations

from typing import Any

from django.urls import get_resolver

from base.api_errors import HANDLER_CODES
from base.errors import declared_error_codes
from base.parsers import INPUT_ERRORS

# Codes sent outside the DRF handler, by code that builds the envelope itself.
OUTSIDE_HANDLER_CODES: tuple[str, ...] = (
    "locked_out",  # accounts.lockout: too many failed sign-ins from one address
)


def error_codes() -> list[str]:
    """Every `error.code` the API can send, sorted."""
    # Every LanternError subclass must be defined before the enum is built from them. The
    # URL configuration imports every view, and with them every module that declares an
    # error (the apps', which base may not import by name: config -> apps -> base).
    get_resolver().url_patterns  # noqa: B018 - loading the URL conf is the point
    codes: set[str] = set(HANDLER_CODES) | set(OUTSIDE_HANDLER_CODES)
    codes |= declared_error_codes()
    # DRF's ParseError, which the JSON parser raises for malformed JSON, is listed with the
    # request-input errors (base.parsers).
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
