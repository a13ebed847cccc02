"""Django admin for platform operators. Tenant rows are read across schools on purpose."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import Invitation, Membership, School, User
from accounts.tenancy import SchoolOwnedModel, enable_cross_school_for_transaction
from accounts.tokens import user_tokens_revoke


class CrossSchoolAdmin(admin.ModelAdmin):
    """Operators see every school's rows: the ORM escape hatch plus the RLS switch.

    The admin site's views run through `OperatorCrossSchoolMiddleware`-free paths, so the
    database switch is set here for the request's transaction.
    """

    def get_queryset(self, request: HttpRequest) -> QuerySet[SchoolOwnedModel]:
        enable_cross_school_for_transaction()
        return self.model.objects.unscoped_cross_school()  # type: ignore[attr-defined]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "preferred_language")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "is_active"]
    autocomplete_fields = ["user"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        enable_cross_school_for_transaction()
        return Membership.objects.unscoped_cross_school()


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "status", "default_language", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]

    def save_formset(self, request, form, formset, change):  # type: ignore[no-untyped-def]
        for obj in formset.save(commit=False):
            obj.school = form.instance
            obj.save()
            if not obj.is_active:
                user_tokens_revoke(user=obj.user)
        for obj in formset.deleted_objects:
            obj.delete()
            user_tokens_revoke(user=obj.user)


@admin.register(Membership)
class MembershipAdmin(CrossSchoolAdmin):
    list_display = ["user", "school", "role", "is_active", "created_at"]
    list_filter = ["role", "is_active", "school"]
    search_fields = ["user__email"]
    list_select_related = ["user", "school"]
    readonly_fields = ["school"]

    # An operator deactivating or deleting a membership ends the user's API tokens, as
    # the school admin's services do (accounts/tokens.py).
    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        if not obj.is_active:
            user_tokens_revoke(user=obj.user)

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        super().delete_model(request, obj)
        user_tokens_revoke(user=obj.user)

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        users = {membership.user for membership in queryset.select_related("user")}
        super().delete_queryset(request, queryset)
        for user in users:
            user_tokens_revoke(user=user)


@admin.register(Invitation)
class InvitationAdmin(CrossSchoolAdmin):
    list_display = ["email", "school", "role", "created_at", "expires_at", "accepted_at"]
    list_select_related = ["school"]
    readonly_fields = ["school", "token_hash"]
