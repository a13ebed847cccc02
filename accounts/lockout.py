"""Sign-in throttling and lockout (django-axes), fitted to e-mail sign-in.

After AXES_FAILURE_LIMIT failed attempts for one e-mail address from one client address,
that pair is locked out for AXES_COOLOFF_TIME. Pairs, not addresses alone: a whole school
signs in from one NAT address, and a pupil mistyping must not lock out the class; nor can
a stranger lock a known teacher out from everywhere. Any successful sign-in of the pair
resets its count. The API's token endpoint counts too (its own throttle comes first).
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


class LockoutBackend(AxesStandaloneBackend):
    """Axes' guard, first in AUTHENTICATION_BACKENDS.

    Every sign-in from a browser or the API passes the request and is checked. Code that
    authenticates without a request (an operator's shell, the test client's `login()`) is
    not a password-guessing channel; axes would raise there, so it is let through to the
    next backend.
    """

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def username_of(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The e-mail address as the lockout key: case and spaces do not make a new pair
    (sign-in itself lowercases addresses)."""
    username = (credentials or {}).get("username") or (credentials or {}).get("email") or ""
    if not username and request is not None and hasattr(request, "POST"):
        username = request.POST.get("username", "")
    return str(username).strip().lower()


def client_address(request: HttpRequest) -> str | None:
    """REMOTE_ADDR: behind a proxy, run the app server with proxy headers trusted only from
    the proxy (uvicorn --forwarded-allow-ips) so this is the client's address."""
    return request.META.get("REMOTE_ADDR")


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """429 in the API's error envelope under /api/, else a page that says what to do."""
    message = _(
        "Too many failed sign-in attempts. Wait %(n)s minutes and try again, or reset your "
        "password."
    ) % {"n": settings.LOGIN_LOCKOUT_MINUTES}
    if request.path.startswith("/api/"):
        from config.api import error_body

        return JsonResponse(error_body("locked_out", message), status=429)
    return render(request, "accounts/locked_out.html", {"message": message}, status=429)
