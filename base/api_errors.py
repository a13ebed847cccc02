"""The API's one error envelope and the exception handler that maps every error to it.

Every API error has one shape, whatever raised it (a serializer, a service's domain error,
DRF's authentication, a throttle, a 404 from the school door):

    {"error": {"code": "budget_exhausted", "message": "…", "fields": {"question": ["…"]}}}

`code` is stable and machine-readable (docs/api.md lists them), `message` is translated
and can be shown to a person, `fields` maps input fields to their problems (empty when the
error is not about one field).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework_simplejwt.exceptions import InvalidToken

from base.errors import LanternError
from base.parsers import PayloadTooLarge

logger = logging.getLogger(__name__)


# --- The error envelope ---------------------------------------------------------------------


class ApiError(LanternError):
    """An API-level error with a stable code (idempotency conflicts, a sign-in backoff).

    Declare each kind as a subclass with `code` and `status`: the schema's `ErrorCode`
    enum is generated from the subclasses of LanternError (base/api_schema.py). An
    instance may carry a more specific code and status than its class."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, headers=headers)
        if code:
            self.code = code
        if status_code:
            self.status = status_code


# DRF's own exceptions, by class (most specific first), to our codes.
_DRF_CODES: Sequence[tuple[type[exceptions.APIException], str]] = (
    (InvalidToken, "token_invalid"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "not_authenticated"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "throttled"),
    (exceptions.ParseError, "parse_error"),
)


# Codes the handler itself emits (beyond the domain errors' and ApiError subclasses'): the
# schema's `ErrorCode` enum adds these to the ones generated from the error classes.
HANDLER_CODES: tuple[str, ...] = (
    "invalid_input",
    "invalid_credentials",
    "token_invalid",
    "server_error",
    "service_unavailable",
    *(code for _cls, code in _DRF_CODES),
)
# A backing service (the database, Redis) unreachable: 503 and retry, not a 500 "our bug".
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (OperationalError, RedisConnectionError)
UNAVAILABLE_RETRY_SECONDS = 5


def error_body(code: str, message: str, fields: Mapping[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": dict(fields or {})}}


def error_response(
    status_code: int,
    code: str,
    message: str,
    fields: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(error_body(code, message, fields), status=status_code, headers=headers)


def _flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation detail -> {"field.sub": ["message", …]} (lists by index)."""
    if isinstance(detail, Mapping):
        flat: dict[str, list[str]] = {}
        for name, value in detail.items():
            key = f"{prefix}.{name}" if prefix else str(name)
            flat.update(_flatten_fields(value, key))
        return flat
    if (
        isinstance(detail, list)
        and detail
        and not all(isinstance(item, str | exceptions.ErrorDetail) for item in detail)
    ):
        flat = {}
        for index, value in enumerate(detail):
            flat.update(_flatten_fields(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    items = detail if isinstance(detail, list) else [detail]
    return {prefix or api_settings.NON_FIELD_ERRORS_KEY: [str(item) for item in items]}


def _validation_response(exc: exceptions.ValidationError) -> Response:
    fields = _flatten_fields(exc.detail)
    general = fields.pop(api_settings.NON_FIELD_ERRORS_KEY, [])
    message = general[0] if general else _("Some fields are not valid: see `fields`.")
    return error_response(400, "invalid_input", message, fields)


def _drf_code(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.AuthenticationFailed) and not isinstance(exc, InvalidToken):
        codes = exc.get_codes()
        if codes == "no_active_account":
            return "invalid_credentials"
        if codes in ("user_not_found", "user_inactive", "token_not_valid"):
            return "token_invalid"
    for cls, code in _DRF_CODES:
        if isinstance(exc, cls):
            return code
    return str(exc.default_code)


def api_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """Map every exception to the error envelope (REST_FRAMEWORK["EXCEPTION_HANDLER"])."""
    if isinstance(exc, RequestDataTooBig):  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = PayloadTooLarge()
    if isinstance(exc, LanternError):
        # Every domain error, whichever app raised it. Every 404 says only "not found":
        # "it exists but is not yours" is itself a leak (`public_code`).
        return error_response(
            exc.status, exc.public_code, exc.message, exc.fields, headers=exc.headers
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(_("Your role in this school does not allow this."))
    if isinstance(exc, exceptions.ValidationError):
        return _validation_response(exc)
    if isinstance(exc, exceptions.APIException):
        headers: dict[str, str] = {}
        if auth_header := getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = auth_header
        # Throttled.wait is set by its __init__; drf-stubs leave the attribute out.
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:  # type: ignore[attr-defined]
            headers["Retry-After"] = str(max(1, math.ceil(exc.wait)))  # type: ignore[attr-defined]
            message = _("Too many requests. Try again in %(n)s seconds.") % {
                "n": headers["Retry-After"]
            }
        else:
            message = _api_message(exc)
        return error_response(exc.status_code, _drf_code(exc), message, headers=headers)
    if isinstance(exc, UNAVAILABLE_ERRORS):
        logger.warning("backing service unavailable: %s", type(exc).__name__)
        return error_response(
            503,
            "service_unavailable",
            _("The service is unavailable for a moment. Try again shortly."),
            headers={"Retry-After": str(UNAVAILABLE_RETRY_SECONDS)},
        )
    # A bug. The envelope keeps mobile clients parsing; the 5xx makes the request
    # middleware roll the transaction back, and the traceback goes to the log.
    view = context.get("view")
    logger.exception("unhandled error in %s", type(view).__name__ if view else "api")
    return error_response(500, "server_error", _("Something went wrong on our side. Try again."))


def _api_message(exc: exceptions.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, list | dict):
        return str(exc.default_detail)
    return str(detail)


def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any URL under /api/v1/ that matches no endpoint: the envelope, not an HTML page."""
    return JsonResponse(error_body("not_found", _("No such endpoint.")), status=404)
