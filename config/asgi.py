"""ASGI entry point (uvicorn; gunicorn with uvicorn workers in production)."""

import os
from typing import Any

import django
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)

# After setup: settings are configured.
from django.conf import settings  # noqa: E402

from base.parsers import BODY_TOO_LARGE_SCOPE_KEY  # noqa: E402

_CUT = {"type": "http.request", "body": b"", "more_body": False}


class BodyCap:
    """The ASGI `receive` of one request, reading at most REQUEST_BODY_MAX_BYTES of body.

    Django's handler reads the whole body (into memory, then a temporary file) before any
    middleware runs, and with chunked uploads nothing bounds it. This stops the read
    before a body announced as too large is read at all, and as soon as one without a
    Content-Length passes the limit; the body then ends there for Django, and the scope
    is marked so that RequestInputMiddleware answers 413. Whatever the client still
    sends afterwards is read and dropped (never kept) until the disconnect Django waits
    for.
    """

    def __init__(self, scope: dict[str, Any], receive: Any, limit: int) -> None:
        self.scope = scope
        self.receive = receive
        self.limit = limit
        self.size = 0
        self.cut = False
        self.declared = 0
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    self.declared = int(value)
                except ValueError:
                    self.declared = 0

    async def __call__(self) -> dict[str, Any]:
        if self.cut:
            while True:
                message = await self.receive()
                if message["type"] != "http.request":
                    return message
        if self.declared > self.limit:
            return self._cut()
        message = await self.receive()
        if message["type"] == "http.request":
            self.size += len(message.get("body", b""))
            if self.size > self.limit:
                return self._cut()
        return message

    def _cut(self) -> dict[str, Any]:
        self.cut = True
        self.scope[BODY_TOO_LARGE_SCOPE_KEY] = True
        return dict(_CUT)


class LanternASGIHandler(ASGIHandler):
    """Django's handler, with request bodies capped (BodyCap), and except that Server-Sent
    Events streams skip the per-request thread context. Their few short sync calls
    (session, user) then run on the process's shared thread instead of a thread of their
    own that would sit idle for as long as the stream stays open: thousands of open
    streams hold no thread."""

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            receive = BodyCap(scope, receive, settings.REQUEST_BODY_MAX_BYTES)
        if scope["type"] == "http" and scope["path"].endswith("/stream"):
            await self.handle(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


application = LanternASGIHandler()
