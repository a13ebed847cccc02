"""The base of REST API v1: one error envelope, pagination, throttles, the base views.

Every API error has one shape, whatever raised it (a serializer, a service's domain error,
DRF's authentication, a throttle, a 404 from the school door):

    {"error": {"code": "budget_exhausted", "message": "…", "fields": {"question": ["…"]}}}

`code` is stable and machine-readable (docs/api.md lists them), `message` is translated
and can be shown to a person, `fields` maps input fields to their problems (empty when the
error is not about one field).

School-scoped views subclass `SchoolApiView`: the token says who, the URL says which
school, and `accounts.access.school_access()` (the one door) checks the membership on every
call, right after DRF has authenticated the request.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken

from base.api_headers import (
    IDEMPOTENCY_KEY_PARAMETER,
    IDEMPOTENCY_RETRY_AFTER_HEADER,
    LOCATION_HEADER,
    REPLAYED_HEADER,
    RETRY_AFTER_HEADER,
    WWW_AUTHENTICATE_HEADER,
)
from base.api_pagination import PAGE_PARAMETERS, ApiPagination, paginate, paginated
from base.client_address import client_address, throttle_ident
from base.errors import LanternError
from base.parsers import PayloadTooLarge

if TYPE_CHECKING:  # names for the type checker only: base imports no app at run time
    from accounts.models import Membership, School

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


def _raw_key(key: str, key_prefix: str, version: int) -> str:
    return key


@lru_cache(maxsize=1)
def api_cache() -> BaseCache:
    """Counters and idempotency records shared by every web process: Redis when
    configured (production, tests), else the default cache (the one-process demo)."""
    if settings.REDIS_URL:
        return RedisCache(settings.REDIS_URL, {"KEY_FUNCTION": _raw_key})
    return caches["default"]


class _SettingsRateThrottle(SimpleRateThrottle):
    """Reads its rate from settings on every request (DRF's copy is frozen at import), so
    operators and tests can change REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]."""

    cache_format = "throttle:%(scope)s:%(ident)s"

    def __init__(self) -> None:
        self.cache = api_cache()
        super().__init__()

    def get_rate(self) -> str | None:
        # Rates are "N/period" strings (drf-stubs type them as numbers); a None scope has none.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # type: ignore[return-value, arg-type]

    def get_ident(self, request: Request) -> str:
        # DRF's own get_ident keys on the whole X-Forwarded-For header when NUM_PROXIES is
        # unset: one new header per request was one new bucket (issue #13, finding 3).
        return throttle_ident(client_address(request))


class AskUserThrottle(_SettingsRateThrottle):
    """Questions per user (any school)."""

    scope = "ask_user"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AskSchoolThrottle(_SettingsRateThrottle):
    """Questions per school: one school's burst cannot starve the workers for the rest."""

    scope = "ask_school"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        school = getattr(view, "school", None)
        if school is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": school.pk}


class AuthThrottle(_SettingsRateThrottle):
    """Sign-in attempts per client address (spraying many accounts)."""

    scope = "auth"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthSessionThrottle(AuthThrottle):
    """Refresh and sign-out calls per client address. A scope of their own: someone
    spraying sign-ins from a school's shared address must not stop everyone else's
    devices there from refreshing."""

    scope = "auth_session"


# How long an address where an account signed in stays exempt from that account's limit.
KNOWN_ADDRESS_SECONDS = 30 * 24 * 60 * 60


def _account_ident(email: object) -> str | None:
    """The submitted e-mail as a key: normalized as sign-in does, and a keyed hash, so
    Redis holds no addresses of people nor hashes a list of addresses could be tested on."""
    if not isinstance(email, str) or not email.strip():
        return None
    return salted_hmac("sign-in-account", email.strip().lower()).hexdigest()[:32]


def _known_address_key(account: str, address: str) -> str:
    return f"throttle:known:{account}:{throttle_ident(address)}"


def sign_in_address_remember(*, email: str, address: str) -> None:
    """Record that `email` signed in from `address` (called on every successful sign-in,
    web or API), so the per-account limit never counts that address.

    Best effort: the person is already signed in, and the web sign-in must not fail because
    Redis is unreachable; the cost is only that this address is counted next time.
    """
    account = _account_ident(email)
    if not account:
        return
    try:
        api_cache().set(_known_address_key(account, address), 1, KNOWN_ADDRESS_SECONDS)
    except Exception:  # any cache backend's connection error
        logger.warning("could not remember a sign-in address", exc_info=True)


class AuthAccountThrottle(_SettingsRateThrottle):
    """Sign-in attempts per submitted e-mail address, whichever address they come from
    (spraying one account from many addresses).

    Addresses the account has signed in from before are not counted: otherwise anyone who
    knows a teacher's e-mail could keep them from signing in by spending this budget.
    """

    scope = "auth_account"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        data = request.data
        account = _account_ident(data.get("email") if isinstance(data, Mapping) else None)
        if account is None:
            return None  # nothing to count: the serializer answers 400
        if self.cache.get(_known_address_key(account, client_address(request))):
            return None
        return self.cache_format % {"scope": self.scope, "ident": account}


# --- Base views ----------------------------------------------------------------------------


@cache
def _tenancy_hooks() -> tuple[Callable[..., Any], Callable[[Any], None]]:
    """The school door and the database's user context, wired in by settings
    (API_SCHOOL_DOOR, API_DB_USER_SET): base sits below the apps and names none of them."""
    return import_string(settings.API_SCHOOL_DOOR), import_string(settings.API_DB_USER_SET)


class ApiView(APIView):
    """Base of API views that need a signed-in user but no school (`/me`)."""

    permission_classes = [IsAuthenticated]
    # status codes an endpoint can answer beyond the defaults, per method (for the schema)
    extra_error_statuses: ClassVar[dict[str, tuple[int, ...]]] = {}
    # False on a view whose 201/202 has no `Location` (the schema declares it otherwise)
    sends_location: ClassVar[bool] = True

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        if request.user and request.user.is_authenticated:
            # JWT authentication happens here, after the request middleware: let the
            # database know the user so they can read their own memberships (RLS).
            _tenancy_hooks()[1](request.user.pk)


class SchoolApiView(ApiView):
    """Base of every view under /api/v1/schools/<school_slug>/.

    Sets `self.school` and `self.membership`. Declare `required_role` (the lowest role
    allowed) on the view. Anonymous -> 401; not a member or no such school -> 404 (the
    same answer, so slugs cannot be probed); role too low -> 403; suspended -> 403.
    """

    required_role: ClassVar[str] = "student"  # accounts' Membership.Role.STUDENT
    school: School
    membership: Membership

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # DRF's order (negotiation, authentication, permissions, throttles) with the school
        # resolved after authentication and before throttles, which may count per school.
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(
            request
        )
        request.version, request.versioning_scheme = self.determine_version(
            request, *args, **kwargs
        )
        self.perform_authentication(request)
        self.check_permissions(request)
        school_access = _tenancy_hooks()[0]
        self.school, self.membership = school_access(
            user=request.user,  # type: ignore[arg-type]
            slug=kwargs["school_slug"],
            required_role=self.required_role,
        )
        self.check_throttles(request)


__all__ = [
    "ApiError",
    "ApiPagination",
    "ApiView",
    "AskSchoolThrottle",
    "AskUserThrottle",
    "AuthAccountThrottle",
    "AuthThrottle",
    "ErrorSerializer",
    "LanternAutoSchema",
    "SchoolApiView",
    "api_cache",
    "api_exception_handler",
    "api_not_found",
    "error_body",
    "error_response",
    "PAGE_PARAMETERS",
    "paginate",
    "paginated",
    "sign_in_address_remember",
]
