"""School-admin endpoints of API v1 (under /admin/): budgets, the AI service and provider keys.

Members and invitations are in accounts/api.py. A provider key is shown exactly once, in
the 201 answer that created it; afterwards only its last four characters. An
Idempotency-Key replay of that answer leaves the key out (it is never stored for replay).
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Membership
from base.api_input import InputSerializer
from base.api_pagination import PAGE_PARAMETERS, paginate, paginated
from base.api_views import SchoolApiView
from base.idempotency import idempotent
from tutoring import selectors
from tutoring.services import budgets as budget_services
from tutoring.services import keys as key_services
from tutoring.services import school_admin as settings_services
from tutoring.services.providers import model_for, provider_name_for

ADMIN = "school admin"
ADMIN_ROLE = Membership.Role.SCHOOL_ADMIN


# --- Budget ----------------------------------------------------------------------------------


class BudgetSerializer(serializers.Serializer):
    monthly_token_budget = serializers.IntegerField(help_text="School tokens per month.")
    student_daily_token_budget = serializers.IntegerField(help_text="Tokens per student per day.")
    month_tokens_used = serializers.IntegerField(
        help_text="This month so far: settled usage plus what is being written now."
    )
    month_share_used = serializers.FloatField(help_text="month_tokens_used / monthly budget.")
    prompt_price_per_million = serializers.IntegerField(
        help_text="Micro-dollars per million prompt tokens (0: not configured)."
    )
    completion_price_per_million = serializers.IntegerField(
        help_text="Micro-dollars per million completion tokens (0: not configured)."
    )
    updated_at = serializers.DateTimeField()


class BudgetPatchSerializer(InputSerializer):
    monthly_token_budget = serializers.IntegerField(min_value=0, max_value=10**15, required=False)
    student_daily_token_budget = serializers.IntegerField(
        min_value=0, max_value=2_000_000_000, required=False
    )
    prompt_price_per_million = serializers.IntegerField(
        min_value=0, max_value=10**12, required=False
    )
    completion_price_per_million = serializers.IntegerField(
        min_value=0, max_value=10**12, required=False
    )


def _budget(view: SchoolApiView) -> dict[str, object]:
    row = budget_services.school_settings_get(view.school)
    use = budget_services.budget_use(school=view.school)
    return BudgetSerializer(
        {
            "monthly_token_budget": row.monthly_token_budget,
            "student_daily_token_budget": row.student_daily_token_budget,
            "month_tokens_used": use.school_used,
            "month_share_used": round(use.school_share, 4),
            "prompt_price_per_million": row.prompt_price_per_million,
            "completion_price_per_million": row.completion_price_per_million,
            "updated_at": row.updated_at,
        }
    ).data


class BudgetApi(SchoolApiView):
    required_role = ADMIN_ROLE

    @extend_schema(
        tags=[ADMIN],
        summary="Budgets and this month's consumption",
        responses={200: BudgetSerializer},
    )
    def get(self, request: Request, school_slug: str) -> Response:
        return Response(_budget(self))

    @extend_schema(
        tags=[ADMIN],
        summary="Change budget limits and prices",
        description="Send only what changes; all or nothing.",
        request=BudgetPatchSerializer,
        responses={200: BudgetSerializer},
        examples=[
            OpenApiExample(
                "Limits",
                value={"monthly_token_budget": 5_000_000, "student_daily_token_budget": 30_000},
                request_only=True,
            )
        ],
    )
    def patch(self, request: Request, school_slug: str) -> Response:
        body = BudgetPatchSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        settings_services.school_settings_update(actor=self.membership, **body.validated_data)
        return Response(_budget(self))


# --- AI service ------------------------------------------------------------------------------


class ProviderSettingsSerializer(serializers.Serializer):
    llm_provider = serializers.CharField(
        help_text="`openai`, `offline`, or empty for the platform's default."
    )
    llm_model = serializers.CharField(help_text="Empty for the platform's default model.")
    llm_base_url = serializers.CharField(
        help_text="An OpenAI-compatible server of the school's own (empty: the platform's). "
        "Needs the school's own provider key."
    )
    effective_provider = serializers.CharField(help_text="What answers now.")
    effective_model = serializers.CharField()
    updated_at = serializers.DateTimeField()


class ProviderSettingsPatchSerializer(InputSerializer):
    llm_provider = serializers.CharField(max_length=20, required=False, allow_blank=True)
    llm_model = serializers.CharField(max_length=100, required=False, allow_blank=True)
    llm_base_url = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Public https:// only (private networks only where the platform's "
        "operators allow them); no credentials in the URL.",
    )


def _provider_settings(view: SchoolApiView) -> dict[str, object]:
    row = budget_services.school_settings_get(view.school)
    provider = provider_name_for(view.school, row)
    return ProviderSettingsSerializer(
        {
            "llm_provider": row.llm_provider,
            "llm_model": row.llm_model,
            "llm_base_url": row.llm_base_url,
            "effective_provider": provider,
            "effective_model": model_for(provider, row),
            "updated_at": row.updated_at,
        }
    ).data


class ProviderSettingsApi(SchoolApiView):
    required_role = ADMIN_ROLE

    @extend_schema(
        tags=[ADMIN],
        summary="The school's AI service: provider, model and base URL",
        responses={200: ProviderSettingsSerializer},
    )
    def get(self, request: Request, school_slug: str) -> Response:
        return Response(_provider_settings(self))

    @extend_schema(
        tags=[ADMIN],
        summary="Change the AI service",
        description="Send only what changes; all or nothing. A base URL of the school's own "
        "needs an active provider key of the school's own; an address that cannot be used "
        "is refused with one message whatever the reason.",
        request=ProviderSettingsPatchSerializer,
        responses={200: ProviderSettingsSerializer},
        examples=[
            OpenApiExample(
                "Own server",
                value={"llm_provider": "openai", "llm_base_url": "https://llm.example.org/v1"},
                request_only=True,
            )
        ],
    )
    def patch(self, request: Request, school_slug: str) -> Response:
        body = ProviderSettingsPatchSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        settings_services.school_settings_update(actor=self.membership, **body.validated_data)
        return Response(_provider_settings(self))


# --- Provider keys ---------------------------------------------------------------------------


class ProviderKeySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    # Named like Field.label, which the stubs see; DRF's metaclass takes it off the class.
    label = serializers.CharField()  # type: ignore[assignment]
    last_four = serializers.CharField(help_text="The key itself is never shown again.")
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)
    revoked_at = serializers.DateTimeField(allow_null=True)


class CreatedProviderKeySerializer(ProviderKeySerializer):
    key = serializers.CharField(
        required=False,
        help_text="The full key, in this answer only. Absent from an Idempotency-Key replay.",
    )


class ProviderKeyInputSerializer(InputSerializer):
    key = serializers.CharField(max_length=500, help_text="The provider's API key.")
    label = serializers.CharField(  # type: ignore[assignment]  # as in ProviderKeySerializer
        max_length=80, required=False, allow_blank=True, default=""
    )
    activate = serializers.BooleanField(
        required=False, default=True, help_text="Make it the school's active key at once."
    )


class ProviderKeyListApi(SchoolApiView):
    required_role = ADMIN_ROLE

    @extend_schema(
        tags=[ADMIN],
        summary="The school's provider keys (last four characters only)",
        description="Newest first.",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(ProviderKeySerializer)},
    )
    def get(self, request: Request, school_slug: str) -> Response:
        keys = selectors.provider_key_list(school=self.school)
        return paginate(self, request, keys.order_by("-created_at", "-id"), ProviderKeySerializer)

    @extend_schema(
        tags=[ADMIN],
        summary="Add a provider key (shown once)",
        description="Stored encrypted. The answer carries the key this once; keep it if you "
        "need it, Lantern will only ever show its last four characters.",
        request=ProviderKeyInputSerializer,
        responses={201: CreatedProviderKeySerializer},
        examples=[
            OpenApiExample(
                "A key",
                value={"key": "sk-live-…", "label": "Main account", "activate": True},
                request_only=True,
            )
        ],
    )
    @idempotent(redact=("key",))
    def post(self, request: Request, school_slug: str) -> Response:
        body = ProviderKeyInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        created = key_services.provider_key_create(
            actor=self.membership,
            secret=body.validated_data["key"],
            label=body.validated_data["label"],
            activate=body.validated_data["activate"],
        )
        data = dict(ProviderKeySerializer(created.key).data)
        data["key"] = created.plaintext
        location = request.build_absolute_uri(
            reverse("api-admin-provider-keys", kwargs={"school_slug": school_slug})
        )
        # The key is in this answer: no browser or proxy cache may keep a copy.
        return Response(
            data, status=201, headers={"Location": location, "Cache-Control": "no-store"}
        )


class _ProviderKeyActionApi(SchoolApiView):
    required_role = ADMIN_ROLE

    def _key_action(self, key_id: str, *, activate: bool) -> Response:
        key = selectors.provider_key_get(school=self.school, public_id=key_id)
        if activate:
            key = key_services.provider_key_activate(actor=self.membership, key=key)
        else:
            key = key_services.provider_key_revoke(actor=self.membership, key=key)
        return Response(ProviderKeySerializer(key).data)


class ProviderKeyActivateApi(_ProviderKeyActionApi):
    @extend_schema(
        tags=[ADMIN],
        summary="Make a key the active one",
        description="Calls already running keep the key they started with.",
        request=None,
        responses={200: ProviderKeySerializer},
    )
    @idempotent()
    def post(self, request: Request, school_slug: str, key_id: str) -> Response:
        return self._key_action(key_id, activate=True)


class ProviderKeyRevokeApi(_ProviderKeyActionApi):
    @extend_schema(
        tags=[ADMIN],
        summary="Revoke a key",
        description="Its encrypted value is erased; it cannot be activated again.",
        request=None,
        responses={200: ProviderKeySerializer},
    )
    @idempotent()
    def post(self, request: Request, school_slug: str, key_id: str) -> Response:
        return self._key_action(key_id, activate=False)
