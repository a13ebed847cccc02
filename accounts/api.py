"""Accounts endpoints of API v1: signing in (JWT), who am I, and the school admin's
members and invitations.

Tokens: `POST auth/token` trades an e-mail and password for a short-lived access token
(15 minutes) and a refresh token. `POST auth/token/refresh` trades a refresh token for a
new pair; the old refresh token is blacklisted at once (rotation), so a stolen one stops
working as soon as either party uses it. `POST auth/logout` blacklists a refresh token.
Token versions, revocation and atomic rotation: accounts/tokens.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts import lockout, services
from accounts.models import Invitation, Membership
from accounts.selectors import invitation_list, member_list, membership_list_for_user
from accounts.tokens import RotatingTokenRefreshSerializer, VersionedTokenObtainPairSerializer
from base.api_input import InputSerializer, strict
from base.api_pagination import PAGE_PARAMETERS, paginate, paginated
from base.api_throttles import AuthAccountThrottle, AuthSessionThrottle, AuthThrottle
from base.api_views import ApiView, SchoolApiView
from base.idempotency import idempotent

AUTH = "auth"
ADMIN = "school admin"
ADMIN_ROLE = Membership.Role.SCHOOL_ADMIN

# --- Tokens ----------------------------------------------------------------------------------


class TokenInputSerializer(InputSerializer):
    email = serializers.EmailField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Send as `Authorization: Bearer …`; 15 minutes.")
    refresh = serializers.CharField(help_text="Trade for a new pair at auth/token/refresh.")


class RefreshInputSerializer(InputSerializer):
    refresh = serializers.CharField()


TOKEN_EXAMPLE = OpenApiExample(
    "Tokens",
    value={"access": "eyJhbGciOiJIUzI1NiIs…", "refresh": "eyJhbGciOiJIUzI1NiIs…"},
    response_only=True,
    status_codes=["200"],
)


class TokenObtainApi(TokenObtainPairView):
    # The versioned pair (accounts.tokens), with strict input types.
    serializer_class = strict(VersionedTokenObtainPairSerializer)
    # Per address (spraying many accounts) and per account (one account, many addresses).
    throttle_classes = [AuthThrottle, AuthAccountThrottle]
    extra_error_statuses = {"POST": (401,)}

    @extend_schema(
        tags=[AUTH],
        summary="Sign in",
        description="E-mail and password -> an access token (15 minutes) and a refresh token. "
        "Wrong credentials: 401 `invalid_credentials`. After repeated failures from one "
        "address the account waits there: 429 `locked_out` with Retry-After, even with the "
        "right password.",
        request=TokenInputSerializer,
        responses={200: TokenPairSerializer},
        examples=[
            OpenApiExample(
                "Credentials",
                value={"email": "alice@example.org", "password": "…"},
                request_only=True,
            ),
            TOKEN_EXAMPLE,
        ],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # TokenViewBase.post, plus the signal the web login sends, so API sign-ins reach
        # the audit trail.
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        except AuthenticationFailed as exc:
            # axes refused a pair in its backoff window: say so, as the web page does.
            if (backoff := lockout.backoff_error(request)) is not None:
                raise backoff from exc
            raise
        user = serializer.user  # type: ignore[attr-defined]  # set by TokenObtainSerializer.validate
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        return Response(serializer.validated_data, status=200)


class TokenRefreshApi(TokenRefreshView):
    serializer_class = strict(RotatingTokenRefreshSerializer)
    throttle_classes = [AuthSessionThrottle]
    extra_error_statuses = {"POST": (401,)}

    @extend_schema(
        tags=[AUTH],
        summary="Refresh the tokens (rotation)",
        description="A refresh token -> a new access and a new refresh token. The one sent "
        "is blacklisted: using it again answers 401 `token_invalid`; of several concurrent "
        "refreshes with one token exactly one succeeds. A password change or reset, or the "
        "account or a membership being deactivated or removed, ends every token of the user "
        "(401 `token_invalid`): sign in again.",
        request=RefreshInputSerializer,
        responses={200: TokenPairSerializer},
        examples=[TOKEN_EXAMPLE],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


class LogoutApi(ApiView):
    # The access token may have expired already; holding the refresh token is the proof.
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [AuthSessionThrottle]
    extra_error_statuses = {"POST": (401,)}

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'

    @extend_schema(
        tags=[AUTH],
        summary="Sign out",
        description="Blacklists the refresh token: it can no longer be refreshed. The access "
        "token stays valid until it expires (at most 15 minutes); drop it.",
        request=RefreshInputSerializer,
        responses={204: None},
    )
    def post(self, request: Request) -> Response:
        body = RefreshInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            RefreshToken(body.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise InvalidToken(str(exc)) from exc
        return Response(status=204)


# --- Me --------------------------------------------------------------------------------------


class MySchoolSerializer(serializers.Serializer):
    slug = serializers.SlugField(source="school.slug", help_text="Use in /schools/{slug}/ URLs.")
    name = serializers.CharField(source="school.name")
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    member_id = serializers.UUIDField(source="public_id", help_text="My membership's id.")
    is_active = serializers.BooleanField(
        source="school.is_active", help_text="False: the school is suspended."
    )


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField()
    full_name = serializers.CharField()
    preferred_language = serializers.CharField()
    schools = MySchoolSerializer(many=True)


class MeApi(ApiView):
    @extend_schema(
        tags=[AUTH],
        summary="Me, my schools and my role in each",
        responses={200: MeSerializer},
        examples=[
            OpenApiExample(
                "A student",
                value={
                    "email": "alice@example.org",
                    "full_name": "Alice Anders",
                    "preferred_language": "en",
                    "schools": [
                        {
                            "slug": "riverside",
                            "name": "Riverside School",
                            "role": "student",
                            "member_id": "5b0b4a5e-8c42-4f55-a3c4-0e8f27a0e7d2",
                            "is_active": True,
                        }
                    ],
                },
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request: Request) -> Response:
        user = request.user
        memberships = membership_list_for_user(user=user)  # type: ignore[arg-type]
        return Response(
            MeSerializer(
                {
                    "email": user.email,  # type: ignore[union-attr]  # IsAuthenticated
                    "full_name": user.full_name,  # type: ignore[union-attr]
                    "preferred_language": user.preferred_language,  # type: ignore[union-attr]
                    "schools": memberships,
                }
            ).data
        )


# --- Members ---------------------------------------------------------------------------------


class MemberSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class MemberPatchSerializer(InputSerializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices, required=False)
    is_active = serializers.BooleanField(
        required=False, help_text="false deactivates the member (they lose access at once)."
    )


class MemberListApi(SchoolApiView):
    required_role = ADMIN_ROLE

    @extend_schema(
        tags=[ADMIN],
        summary="Members of the school",
        description="Deactivated members too. Oldest first.",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(MemberSerializer)},
    )
    def get(self, request: Request, school_slug: str) -> Response:
        members = member_list(school=self.school).order_by("created_at", "id")
        return paginate(self, request, members, MemberSerializer)


class MemberDetailApi(SchoolApiView):
    required_role = ADMIN_ROLE
    extra_error_statuses = {"PATCH": (409,)}

    @extend_schema(
        tags=[ADMIN],
        summary="Change a member's role or deactivate them",
        description="You cannot change your own role or deactivate yourself (409).",
        request=MemberPatchSerializer,
        responses={200: MemberSerializer},
        examples=[OpenApiExample("Make teacher", value={"role": "teacher"}, request_only=True)],
    )
    def patch(self, request: Request, school_slug: str, member_id: str) -> Response:
        body = MemberPatchSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        member = member_list(school=self.school).filter(public_id=member_id).first()
        if member is None:
            raise services.AccountsError(_("No such member."), code="not_found")
        if "role" in body.validated_data:
            member = services.membership_change_role(
                actor=self.membership, membership=member, role=body.validated_data["role"]
            )
        if "is_active" in body.validated_data:
            member = services.membership_set_active(
                actor=self.membership,
                membership=member,
                is_active=body.validated_data["is_active"],
            )
        return Response(MemberSerializer(member).data)


# --- Invitations -----------------------------------------------------------------------------


INVITATION_STATUSES = ["pending", "accepted", "revoked", "expired"]


class InvitationSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    status = serializers.SerializerMethodField()
    invited_by = serializers.EmailField(source="invited_by.email", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()

    @staticmethod
    def _status(invitation: Invitation) -> str:
        if invitation.accepted_at is not None:
            return "accepted"
        if invitation.revoked_at is not None:
            return "revoked"
        if invitation.expires_at <= timezone.now():
            return "expired"
        return "pending"

    @extend_schema_field(serializers.ChoiceField(choices=INVITATION_STATUSES))
    def get_status(self, invitation: Invitation) -> str:
        return self._status(invitation)


class InvitationInputSerializer(InputSerializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Membership.Role.choices)


def _invitation_created(request: Request, school_slug: str, invitation: Invitation) -> Response:
    location = request.build_absolute_uri(
        reverse("api-admin-invitations", kwargs={"school_slug": school_slug})
    )
    return Response(
        InvitationSerializer(invitation).data, status=201, headers={"Location": location}
    )


class InvitationListApi(SchoolApiView):
    required_role = ADMIN_ROLE
    extra_error_statuses = {"POST": (409,)}

    @extend_schema(
        tags=[ADMIN],
        summary="Invitations",
        description="Newest first, whatever their status.",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(InvitationSerializer)},
    )
    def get(self, request: Request, school_slug: str) -> Response:
        invitations = invitation_list(school=self.school).order_by("-created_at", "-id")
        return paginate(self, request, invitations, InvitationSerializer)

    @extend_schema(
        tags=[ADMIN],
        summary="Invite someone by e-mail",
        description="The link goes by e-mail only; it is never in the answer. Already a "
        "member: 409 `already_member`.",
        request=InvitationInputSerializer,
        responses={201: InvitationSerializer},
        examples=[
            OpenApiExample(
                "A teacher",
                value={"email": "tess@example.org", "role": "teacher"},
                request_only=True,
            )
        ],
    )
    @idempotent()
    def post(self, request: Request, school_slug: str) -> Response:
        body = InvitationInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issued = services.invitation_create(actor=self.membership, **body.validated_data)
        return _invitation_created(request, school_slug, issued.invitation)


class _InvitationActionApi(SchoolApiView):
    required_role = ADMIN_ROLE

    def _invitation(self, invitation_id: str) -> Invitation:
        invitation = invitation_list(school=self.school).filter(public_id=invitation_id).first()
        if invitation is None:
            raise services.AccountsError(_("No such invitation."), code="not_found")
        return invitation


class InvitationRevokeApi(_InvitationActionApi):
    @extend_schema(
        tags=[ADMIN],
        summary="Revoke an invitation",
        description="Its link stops working. Revoking twice changes nothing.",
        request=None,
        responses={200: InvitationSerializer},
    )
    @idempotent()
    def post(self, request: Request, school_slug: str, invitation_id: str) -> Response:
        invitation = self._invitation(invitation_id)
        services.invitation_revoke(actor=self.membership, invitation=invitation)
        return Response(InvitationSerializer(invitation).data)


class InvitationResendApi(_InvitationActionApi):
    extra_error_statuses = {"POST": (409,)}

    @extend_schema(
        tags=[ADMIN],
        summary="Send an invitation again",
        description="Revokes this invitation and sends a new one (new link, new expiry) to "
        "the same address; the answer is the new invitation.",
        request=None,
        responses={201: InvitationSerializer},
    )
    @idempotent()
    def post(self, request: Request, school_slug: str, invitation_id: str) -> Response:
        invitation = self._invitation(invitation_id)
        issued = services.invitation_resend(actor=self.membership, invitation=invitation)
        return _invitation_created(request, school_slug, issued.invitation)
