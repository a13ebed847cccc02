"""API tokens: what a JWT carries, how a refresh token rotates, and how a user's tokens end.

Built on djangorestframework-simplejwt and its `token_blacklist` app (OutstandingToken,
BlacklistedToken: global, user-level tables, no `school_id`); this module adds two things.

Revocation by version. Every token carries the user's `token_version` (claim `ver`). A
password change or reset, an inactive account (User.save), a deactivated or removed
membership (`user_tokens_revoke`, called by those services in their transaction) move the
number, and from then on every older refresh *and* access token is refused. One UPDATE of
one row, whatever the number of devices, and race-free: a token minted while the number
moves carries the old one and dies at its first use. Access tokens are checked for free:
simplejwt's authentication already loads the user row on every request. (simplejwt's own
`CHECK_REVOKE_TOKEN` was not used: it covers only password changes, is not checked on
refresh, and puts a hash of the password hash into a readable token.)

Rotation by the blacklist's unique key. `refresh_token_rotate` claims the token by
inserting its BlacklistedToken row (one-to-one with the outstanding token) before it mints
the new pair: of several concurrent refreshes on any number of web processes, the database
lets exactly one insert through; the others wait for it, find the row and get 401.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.models import User

VERSION_CLAIM = "ver"
REVOKED = _("This sign-in has ended (password changed or access removed). Sign in again.")
USED = _("Token is blacklisted")


def _version_of(token: Any) -> int:
    # Tokens issued before versions existed have no claim: they stand for version 0, so a
    # deploy signs nobody out, and the first revocation ends them like any other.
    return int(token.get(VERSION_CLAIM, 0))


class VersionedRefreshToken(RefreshToken):
    """A refresh token carrying the user's `token_version`; its access tokens copy it."""

    @classmethod
    def for_user(cls, user: User) -> VersionedRefreshToken:  # type: ignore[override]
        """A new refresh token for `user`, recorded as outstanding (so it can be claimed)."""
        token = cls()
        token[api_settings.USER_ID_CLAIM] = str(getattr(user, api_settings.USER_ID_FIELD))
        token[VERSION_CLAIM] = user.token_version
        OutstandingToken.objects.create(
            user=user,
            jti=token[api_settings.JTI_CLAIM],
            token=str(token),
            created_at=token.current_time,
            expires_at=datetime_from_epoch(token["exp"]),
        )
        return token


def user_tokens_revoke(*, user: User) -> None:
    """End every refresh and access token `user` holds, on every device and for every
    school (tokens are the user's, not a school's). One UPDATE; call it inside the
    transaction of the change that causes it, so both commit or neither does. Idempotent
    in effect: calling it twice ends nothing more."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)


def expired_tokens_flush() -> int:
    """Delete the outstanding (and so the blacklisted) rows of refresh tokens that have
    expired: they can no longer be used, and each row holds a token's full text. Run daily
    by celery beat. Returns how many were deleted. Idempotent."""
    deleted, _by_model = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def refresh_token_rotate(*, raw: str) -> dict[str, str]:
    """Trade a refresh token for a new access and refresh token, exactly once.

    Raises TokenError (the API answers 401 `token_invalid`) when the token is malformed,
    expired, already used or signed out, older than the user's last revocation, or its user
    is gone or inactive. Atomic: the old token is claimed (blacklisted) and the new one
    recorded in one transaction; concurrent calls with one token serialise on the
    blacklist's unique key, and only the first gets a pair.
    """
    # Signature, expiry, type; a token already used fails here fast. (simplejwt types the
    # argument as a Token; it is the encoded string.)
    old = VersionedRefreshToken(raw)  # type: ignore[arg-type]
    with transaction.atomic():
        user = User.objects.filter(
            **{api_settings.USER_ID_FIELD: old.get(api_settings.USER_ID_CLAIM)}
        ).first()
        if user is None or not user.is_active or _version_of(old) != user.token_version:
            raise TokenError(REVOKED)
        _claim(old, user)
        new = VersionedRefreshToken.for_user(user)
    return {"access": str(new.access_token), "refresh": str(new)}


def _claim(token: RefreshToken, user: User) -> None:
    """Blacklist `token`, or raise TokenError when another request already did.

    get_or_create inserts under the one-to-one key: a concurrent insert of the same row
    waits for the first transaction, then fails, and the lookup that follows sees the
    winner's row (`created` False).
    """
    jti = token[api_settings.JTI_CLAIM]
    outstanding, _created = OutstandingToken.objects.get_or_create(
        jti=jti,
        defaults={
            "user": user,
            "created_at": token.current_time,
            "token": str(token),
            "expires_at": datetime_from_epoch(token["exp"]),
        },
    )
    _row, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    if not created:
        raise TokenError(USED)


class VersionedTokenObtainPairSerializer(TokenObtainPairSerializer):
    """Sign-in (SIMPLE_JWT["TOKEN_OBTAIN_SERIALIZER"]): the pair carries the version."""

    token_class = VersionedRefreshToken


class RotatingTokenRefreshSerializer(serializers.Serializer):
    """Refresh (SIMPLE_JWT["TOKEN_REFRESH_SERIALIZER"]): always rotates, see above."""

    refresh = serializers.CharField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        return refresh_token_rotate(raw=attrs["refresh"])


class VersionedJWTAuthentication(JWTAuthentication):
    """Bearer access tokens, refused once older than the user's last revocation. Costs no
    query: the user row simplejwt loads anyway holds the version."""

    def get_user(self, validated_token: Any) -> Any:
        user = super().get_user(validated_token)
        if _version_of(validated_token) != getattr(user, "token_version", None):
            raise AuthenticationFailed(str(REVOKED), code="token_not_valid")
        return user
