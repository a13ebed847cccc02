"""Project middleware. Every middleware in the stack is async-capable, so under ASGI a
request never passes through a sync adapter: an open SSE stream then holds no thread."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware

from config.client_address import client_address

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
    (config/client_address.py, so behind a proxy it is the client's, not the proxy's).

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
