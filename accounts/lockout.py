"""Sign-in backoff (django-axes), fitted to e-mail sign-in and to schools behind one address.

Failures are counted per pair: one e-mail address from one client address (the address from
base/client_address.py, the one function every throttle and log uses). After
LOGIN_FAILURE_LIMIT failures the pair waits LOGIN_BACKOFF_SECONDS; each further failure
after a wait doubles the next one, up to LOGIN_BACKOFF_MAX_SECONDS. During a wait every
attempt of the pair, the right password too, is refused with 429 and Retry-After without
being checked or counted, so hammering neither guesses nor lengthens the wait. After it, the
right password signs in and clears the count; an hour without failures forgets them.

Why pairs and short waits, not a lockout: a whole school signs in from one NAT address, so
the old 15-minute lock let any pupil who knew a teacher's e-mail lock them out with five
bad passwords (issue #13, finding 7). Now such a pupil can make the teacher wait at most
the current window at that address, and never elsewhere; guessing stays slow: five tries,
then one per window. Spraying many accounts or one account from many addresses is the
API throttles' job (base/api_throttles.py). docs/security.md has the whole design.

axes keeps what it is good at: the failure records (visible to operators in the admin), the
signals, resetting on success and the web's 429 page (its middleware). This module adds the
growing window (BackoffHandler) and the answers.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from base.api_errors import ApiError, error_body
from base.api_throttles import sign_in_address_remember


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


def backoff_window(failures: int) -> timedelta:
    """The wait after `failures` failures of a pair (>= LOGIN_FAILURE_LIMIT): the base,
    doubled per failure beyond the limit, capped."""
    doublings = min(max(0, failures - settings.LOGIN_FAILURE_LIMIT), 30)
    seconds = min(settings.LOGIN_BACKOFF_SECONDS * 2**doublings, settings.LOGIN_BACKOFF_MAX_SECONDS)
    return timedelta(seconds=seconds)


class BackoffHandler(AxesDatabaseHandler):
    """axes' database handler with a growing window instead of a fixed cool-off.

    A pair is waiting while `last failure + backoff_window(failures)` is in the future;
    AXES_COOLOFF_TIME (an hour) only says when old failures are forgotten.
    """

    def backoff_remaining(self, request: Any, credentials: dict | None = None) -> float:
        """Seconds the request's pair still waits (0: it may try)."""
        now: datetime = getattr(request, "axes_attempt_time", None) or timezone.now()
        remaining = 0.0
        for attempts in self.get_user_attempts(request, credentials):
            totals = attempts.aggregate(
                failures=Sum("failures_since_start"), last=Max("attempt_time")
            )
            failures = totals["failures"] or 0
            if failures < settings.LOGIN_FAILURE_LIMIT:
                continue
            until = totals["last"] + backoff_window(failures)
            remaining = max(remaining, (until - now).total_seconds())
        return remaining

    def is_locked(self, request: Any, credentials: dict | None = None) -> bool:
        return self.backoff_remaining(request, credentials) > 0

    def user_logged_in(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        super().user_logged_in(sender, request, user, **kwargs)
        # This address is now one the person really uses: the per-account API limit
        # leaves it alone (base/api_throttles.py, AuthAccountThrottle).
        sign_in_address_remember(email=user.get_username(), address=request.axes_ip_address)


def username_of(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The e-mail address as the lockout key: case and spaces do not make a new pair
    (sign-in itself lowercases addresses)."""
    username = (credentials or {}).get("username") or (credentials or {}).get("email") or ""
    if not username and request is not None and hasattr(request, "POST"):
        username = request.POST.get("username", "")
    return str(username).strip().lower()


def client_str(
    username: str, ip_address: str, user_agent: str, path_info: str, request: HttpRequest
) -> str:
    """How axes names a pair in its log lines: the trusted client address and a keyed hash
    of the e-mail (lines of one account match; the log holds no e-mail address, and without
    SECRET_KEY the hash cannot be tested against a list of addresses)."""
    account = salted_hmac("lockout-log", username or "").hexdigest()[:12]
    return f"{{account: {account}, ip_address: {ip_address}, path_info: {path_info}}}"


def retry_after_seconds(request: Any, credentials: dict | None = None) -> int:
    """Whole seconds (at least 1) until a refused pair may try again, for Retry-After."""
    credentials = credentials or getattr(request, "axes_credentials", None)
    return max(1, math.ceil(BackoffHandler().backoff_remaining(request, credentials)))


def _message(seconds: int) -> str:
    return _(
        "Too many failed sign-in attempts. Try again in %(n)s seconds, or reset your password."
    ) % {"n": seconds}


def backoff_error(request: Any) -> ApiError | None:
    """For the API's token view: the 429 `locked_out` error if axes refused this sign-in
    (axes marks the DRF request it was given, which its middleware never sees)."""
    if not getattr(request, "axes_locked_out", False):
        return None
    seconds = retry_after_seconds(request)
    return ApiError(
        _message(seconds),
        code="locked_out",
        status_code=429,
        headers={"Retry-After": str(seconds)},
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with Retry-After, in the API's error envelope under
    /api/, else a page that says how long to wait."""
    seconds = retry_after_seconds(request, credentials)
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body("locked_out", _message(seconds)), status=429)
    else:
        response = render(
            request, "accounts/locked_out.html", {"message": _message(seconds)}, status=429
        )
    response["Retry-After"] = str(seconds)
    return response
