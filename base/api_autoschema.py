"""The OpenAPI side of the API's shared contract: the error envelope's schema, the
error responses every operation can give (LanternAutoSchema) and the bearer scheme.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from base.api_errors import error_body
from base.api_headers import (
    IDEMPOTENCY_KEY_PARAMETER,
    IDEMPOTENCY_RETRY_AFTER_HEADER,
    LOCATION_HEADER,
    REPLAYED_HEADER,
    RETRY_AFTER_HEADER,
    WWW_AUTHENTICATE_HEADER,
)
from base.api_views import SchoolApiView

# --- Schema components for errors --------------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable code (docs/api.md).")
    message = serializers.CharField(help_text="Translated text that can be shown to a person.")
    # The envelope's key is "fields"; DRF's metaclass takes declared fields off the class, so
    # Serializer.fields (the property) is untouched at run time.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Problems per input field (`field.sub` for nested ones); may be empty.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# What each error status means across the API, with one example each (schema only).
ERROR_RESPONSES: dict[int, tuple[str, dict]] = {
    400: (
        "Invalid input (`invalid_input`, with `fields`), unreadable JSON (`parse_error`), "
        "JSON nested too deep (`json_too_deep`), a NUL or bytes that are not UTF-8 "
        "(`invalid_encoding`), or a rule of the request (see `code`).",
        error_body("invalid_input", "Type a question first.", {"question": ["Required."]}),
    ),
    401: (
        "Not signed in (`not_authenticated`), a bad or expired token (`token_invalid`) or "
        "wrong credentials (`invalid_credentials`).",
        error_body("not_authenticated", "Authentication credentials were not provided."),
    ),
    403: (
        "Your role in this school does not allow this (`permission_denied`), or the school "
        "is suspended (`school_suspended`).",
        error_body("permission_denied", "Your role in this school does not allow this."),
    ),
    404: (
        "No such school or object, or not one you may see (`not_found`): the same answer "
        "either way.",
        error_body("not_found", "Not found."),
    ),
    409: (
        "The Idempotency-Key was used with another request (`idempotency_key_reused`) or "
        "that request is still running (`idempotency_in_progress`), or the object's state "
        "does not allow this (see `code`).",
        error_body(
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request.",
        ),
    ),
    405: (
        "This HTTP method is not allowed here (`method_not_allowed`); `Allow` lists those "
        "that are.",
        error_body("method_not_allowed", 'Method "PUT" not allowed.'),
    ),
    406: (
        "The `Accept` header asks for something other than JSON (`not_acceptable`).",
        error_body("not_acceptable", "Could not satisfy the request Accept header."),
    ),
    413: (
        "The request body is too large (`payload_too_large`).",
        error_body("payload_too_large", "The request body is too large."),
    ),
    415: (
        "The body is not `application/json` (`unsupported_media_type`).",
        error_body("unsupported_media_type", 'Unsupported media type "text/plain" in request.'),
    ),
    429: (
        "Too many requests (`throttled`, wait `Retry-After` seconds), too many failed "
        "sign-ins (`locked_out`, wait `Retry-After` seconds) or the tutor's budget is used "
        "up (`budget_exhausted`).",
        error_body("throttled", "Too many requests. Try again in 12 seconds."),
    ),
    500: (
        "A bug on our side (`server_error`); nothing was saved. Retry later with the same "
        "Idempotency-Key.",
        error_body("server_error", "Something went wrong on our side. Try again."),
    ),
    503: (
        "The database or Redis is unreachable for a moment (`service_unavailable`): retry "
        "after `Retry-After` seconds with the same Idempotency-Key.",
        error_body("service_unavailable", "The service is unavailable for a moment."),
    ),
}
# Every operation can answer these, whatever it is.
ALWAYS_POSSIBLE = {405, 406, 500, 503}
# Methods whose request has a body: it can be too large or of the wrong type.
BODY_METHODS = ("POST", "PUT", "PATCH")


def _error_response_schema(code: int) -> OpenApiResponse:
    description, example = ERROR_RESPONSES[code]
    return OpenApiResponse(
        ErrorSerializer,
        description=description,
        examples=[OpenApiExample(f"Error {code}", value=example, response_only=True)],
    )


class LanternAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus what every Lantern endpoint shares: the error
    responses each kind of view can give, and the Idempotency-Key header on POSTs."""

    def _errors(self) -> dict[int, OpenApiResponse]:
        view = self.view
        method = self.method.upper()
        codes: set[int] = set(ALWAYS_POSSIBLE)
        if method in BODY_METHODS:
            codes.update({400, 413, 415})
        if self._has_query_filters():
            codes.add(400)
        permissions = list(view.permission_classes)
        # Composed permissions (A | B) are not classes; no view declares one today.
        if permissions and not any(issubclass(p, AllowAny) for p in permissions):  # type: ignore[arg-type]
            codes.add(401)
        if isinstance(view, SchoolApiView):
            codes.update({403, 404})
        if is_idempotent(view, method):
            codes.add(409)
        if view.throttle_classes:
            codes.add(429)
        codes.update(getattr(view, "extra_error_statuses", {}).get(method, ()))
        return {code: _error_response_schema(code) for code in sorted(codes)}

    def _has_query_filters(self) -> bool:
        """Query parameters (paging included) are validated: a bad value is a 400."""
        return any(
            isinstance(parameter, OpenApiParameter) and parameter.location == OpenApiParameter.QUERY
            for parameter in self.get_override_parameters()
        )

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        # `@extend_schema(responses=…)` replaces get_response_serializers(), so the shared
        # error responses are added here, after the declared ones.
        bodies = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        for code, serializer in self._errors().items():
            if str(code) not in bodies:
                bodies[str(code)] = self._get_response_for_code(
                    serializer, str(code), direction=direction
                )
        return dict(sorted(bodies.items()))

    def get_operation_id(self) -> str:
        # From the view's name: `ExplanationRequestApi.post` -> `explanation_request_post`;
        # stable, unique and readable in generated mobile clients.
        name = type(self.view).__name__.removesuffix("Api")
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
        return f"{snake}_{self.method.lower()}"

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if is_idempotent(self.view, self.method.upper()):
            parameters.append(IDEMPOTENCY_KEY_PARAMETER)
        return parameters + self._response_headers(parameters)

    def _response_headers(self, declared: list[Any]) -> list[OpenApiParameter]:
        """The headers the shared code sends, declared on the responses that carry them:
        Location on 201/202 (unless the view sets `sends_location = False`),
        Idempotent-Replayed on an idempotent operation's 2xx, Retry-After on 429 and 503
        (and 409 for idempotency), WWW-Authenticate on 401."""
        method = self.method.upper()
        names = {p.name for p in declared if isinstance(p, OpenApiParameter) and p.response}
        headers = [RETRY_AFTER_HEADER, WWW_AUTHENTICATE_HEADER]
        if getattr(self.view, "sends_location", True):
            headers.append(LOCATION_HEADER)
        if is_idempotent(self.view, method):
            headers += [REPLAYED_HEADER, IDEMPOTENCY_RETRY_AFTER_HEADER]
        # A view's own declaration of a header wins.
        return [header for header in headers if header.name not in names]


def is_idempotent(view: Any, method: str) -> bool:
    handler = getattr(view, method.lower(), None)
    return bool(getattr(handler, "idempotent", False))


class JWTScheme(OpenApiAuthenticationExtension):
    """Names the bearer scheme `jwt` in the schema (used by the docs' Authorize button)."""

    target_class = "rest_framework_simplejwt.authentication.JWTAuthentication"
    match_subclasses = True  # accounts.tokens.VersionedJWTAuthentication
    name = "jwt"
    priority = 1

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


# --- Throttles -----------------------------------------------------------------------------
