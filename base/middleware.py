"""Project middleware. Every middleware in the stack is async-capable, so under ASGI a
request never passes through a sync adapter: an open SSE stream then holds no thread."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException
from whitenoise.middleware import WhiteNoiseMiddleware

from base.api_errors import error_body
from base.client_address import client_address
from base.parsers import (
    BAD_BODY,
    BAD_QUERY,
    BODY_TOO_LARGE_SCOPE_KEY,
    CHECKED_JSON_ATTRIBUTE,
    NUL_IN_BODY,
    NUL_IN_PATH,
    NUL_IN_QUERY,
    BadRequest,
    InvalidEncoding,
    PayloadTooLarge,
    check_urlencoded,
    declared_length,
    is_json,
    parse_json,
)

request_logger = logging.getLogger("lantern.request")

# No inline scripts, no third-party origins: every script, style and font is served by us.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class DualModeMiddleware:
    """Runs as sync or async, following the handler it wraps (Django's own pattern)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)  # type: ignore[type-var]  # subclasses define __call__


class SecurityHeadersMiddleware(DualModeMiddleware):
    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._acall(request)
        return self._headers(self.get_response(request))

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        return self._headers(await self.get_response(request))

    @staticmethod
    def _headers(response: HttpResponse) -> HttpResponse:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response


class RequestLogMiddleware(DualModeMiddleware):
    """One INFO line per request: method, route, status, duration and the client address
    (base/client_address.py, so behind a proxy it is the client's, not the proxy's).

    The route is the URL pattern (`s/<slug:school_slug>/…`), never the path or the query:
    invitation and password-reset links carry their token in the path.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._acall(request)
        started = time.monotonic()
        response = self.get_response(request)
        self._log(request, response, started)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        response = await self.get_response(request)
        self._log(request, response, started)
        return response

    @staticmethod
    def _log(request: HttpRequest, response: HttpResponse, started: float) -> None:
        match = getattr(request, "resolver_match", None)
        request_logger.info(
            "%s %s %s %.0fms client=%s",
            request.method,
            f"/{match.route}" if match is not None else "-",
            response.status_code,
            (time.monotonic() - started) * 1000,
            client_address(request),
        )


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, async-capable: static files are looked up in memory, served at once."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any] | None = None, **kwargs: Any):
        super().__init__(get_response, **kwargs)
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._acall(request)
        return super().__call__(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        static_file = (
            self.find_file(request.path_info)
            if self.autorefresh
            else self.files.get(request.path_info)
        )
        if static_file is not None:
            return self.serve(static_file, request)
        response: Awaitable[HttpResponse] = self.get_response(request)  # type: ignore[assignment]
        return await response


# --- Hostile input: answered at the edge, before any view or the database ----------------


def rejection_response(request: HttpRequest, error: APIException) -> HttpResponse:
    """`error` in the interface's own form: the error envelope under /api/, else the
    site's page (status 400 or 413, like the error)."""
    message = str(error.detail)
    if request.path_info.startswith("/api/"):
        code = str(getattr(error, "default_code", "bad_request"))
        return JsonResponse(error_body(code, message), status=error.status_code)
    title = _("Request too large") if error.status_code == 413 else _("Bad request")
    context = {"title": title, "message": message}
    return render(request, "request_rejected.html", context, status=error.status_code)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a request Django itself refused (a body over DATA_UPLOAD_MAX_MEMORY_SIZE,
    too many fields, a bad Host), answered like the edge's own refusals."""
    error: APIException = (
        PayloadTooLarge() if isinstance(exception, RequestDataTooBig) else BadRequest()
    )
    return rejection_response(request, error)


class RequestInputMiddleware(DualModeMiddleware):
    """Refuses hostile input once, for every page and endpoint (base/parsers.py):

    - a body over REQUEST_BODY_MAX_BYTES: 413, from the declared Content-Length before
      anything is read (bodies without one are capped while read: config/asgi.py);
    - NUL or invalid UTF-8 in the path, the query string or a form body: 400;
    - a JSON body that is not UTF-8, has a NUL, is nested deeper than
      REQUEST_JSON_MAX_DEPTH or is malformed: 400. The parsed document is kept on the
      request for DRF's parser (CheckedJSONParser), so it is parsed once.

    Sits inside the request transaction so the refusal page can show the navigation of a
    signed-in user; it writes nothing.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._acall(request)
        try:
            self._check_head(request)
            self._check_body(request)
        except APIException as error:
            return rejection_response(request, error)
        return self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        # Reading and parsing a body and rendering a page block: off the event loop. The
        # head's checks do no I/O, so bodiless requests (SSE streams) take no thread hop.
        try:
            self._check_head(request)
            if _body_kind(request):
                await sync_to_async(self._check_body)(request)
        except APIException as error:
            return await sync_to_async(rejection_response)(request, error)
        response: Awaitable[HttpResponse] = self.get_response(request)  # type: ignore[assignment]
        return await response

    @staticmethod
    def _check_head(request: HttpRequest) -> None:
        """Size (before any byte of the body is read), path and query string."""
        scope = getattr(request, "scope", None) or {}
        if declared_length(request) > settings.REQUEST_BODY_MAX_BYTES or scope.get(
            BODY_TOO_LARGE_SCOPE_KEY
        ):
            raise PayloadTooLarge()
        if "\x00" in request.path_info:
            raise InvalidEncoding(NUL_IN_PATH)
        check_urlencoded(_raw_query(request), nul=NUL_IN_QUERY, invalid=BAD_QUERY)

    @staticmethod
    def _check_body(request: HttpRequest) -> None:
        """A JSON or form body; other bodies are no view's input."""
        try:
            _check_body_of_kind(request, _body_kind(request))
        except RequestDataTooBig:  # DATA_UPLOAD_MAX_MEMORY_SIZE set below our limit
            raise PayloadTooLarge() from None


def _check_body_of_kind(request: HttpRequest, kind: str | None) -> None:
    if kind == "json":
        body = request.body
        if body:
            setattr(request, CHECKED_JSON_ATTRIBUTE, (parse_json(body),))
    elif kind == "form":
        check_urlencoded(request.body, nul=NUL_IN_BODY, invalid=BAD_BODY)
    elif kind == "multipart":
        # Django replaces undecodable bytes in multipart fields itself; NUL it keeps.
        for _name, values in request.POST.lists():
            if any("\x00" in value for value in values):
                raise InvalidEncoding(NUL_IN_BODY)


def _body_kind(request: HttpRequest) -> str | None:
    content_type = request.content_type or ""
    if is_json(content_type):
        return "json"
    if content_type == "application/x-www-form-urlencoded":
        return "form"
    if content_type == "multipart/form-data" and not request.path_info.startswith("/api/"):
        return "multipart"  # the API parses no multipart (415), and must not here either
    return None


def _raw_query(request: HttpRequest) -> bytes:
    """The query string's bytes as the client sent them (still percent-encoded)."""
    scope = getattr(request, "scope", None)
    if scope is not None:
        raw = scope.get("query_string", b"")
        # Servers send bytes (ASGI spec); Django's AsyncClient sends a str.
        return raw.encode("latin-1", "replace") if isinstance(raw, str) else bytes(raw)
    # WSGI gives the bytes as latin-1 (PEP 3333).
    return request.META.get("QUERY_STRING", "").encode("latin-1", "replace")
