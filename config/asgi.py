"""ASGI entry point (uvicorn; gunicorn with uvicorn workers in production)."""

import os

import django
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)


class LanternASGIHandler(ASGIHandler):
    """Django's handler, except that Server-Sent Events streams skip the per-request thread
    context. Their few short sync calls (session, user) then run on the process's shared
    thread instead of a thread of their own that would sit idle for as long as the stream
    stays open: thousands of open streams hold no thread."""

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http" and scope["path"].endswith("/stream"):
            await self.handle(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


application = LanternASGIHandler()
