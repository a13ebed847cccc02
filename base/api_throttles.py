"""The API's throttles (per user, per school, sign-in per address and per account) and
the shared cache their counters and the idempotency records live in.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.redis import RedisCache
from django.utils.crypto import salted_hmac
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from base.client_address import client_address, throttle_ident

logger = logging.getLogger(__name__)


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
