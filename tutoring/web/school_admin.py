"""School admin pages under /s/<school_slug>/admin/: provider settings, keys, budgets.

Members and invitations live in accounts/views.py (`members`). A provider key's plaintext
is shown once, in the response to the POST that created it (never via a redirect, the
session, messages or logs); every later page shows only its last four characters.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from accounts.access import SchoolViewMixin
from accounts.models import Membership
from base.web_errors import form_error_add
from tutoring import selectors
from tutoring.errors import TutoringError
from tutoring.services import keys as key_services
from tutoring.services.budgets import budget_use, school_settings_get
from tutoring.services.providers import model_for, provider_name_for
from tutoring.services.school_admin import school_settings_update
from tutoring.web.forms_teacher import (
    BudgetForm,
    ProviderKeyForm,
    SchoolSettingsForm,
)


class AdminView(SchoolViewMixin, View):
    required_role = Membership.Role.SCHOOL_ADMIN

    def page(
        self, template: str, context: dict[str, Any] | None = None, status: int = 200
    ) -> HttpResponse:
        full = {"school": self.school, "membership": self.membership, **(context or {})}
        return render(self.request, f"tutoring/school_admin/{template}", full, status=status)


class SettingsView(AdminView):
    """Provider, model, base URL, prices and the AI-use policy."""

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        row = school_settings_get(self.school)
        return self._render(SchoolSettingsForm(initial=SchoolSettingsForm.initial_for(row)))

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = SchoolSettingsForm(request.POST)
        if form.is_valid():
            try:
                school_settings_update(actor=self.membership, **form.service_fields())
            except TutoringError as exc:
                form_error_add(form, exc)
            else:
                messages.success(request, _("Settings saved."))
                return redirect("admin_settings", school_slug=self.school.slug)
        return self._render(form, status=400)

    def _render(self, form: SchoolSettingsForm, status: int = 200) -> HttpResponse:
        row = school_settings_get(self.school)
        provider = provider_name_for(self.school, row)
        active_key = selectors.provider_key_list(school=self.school).filter(is_active=True).first()
        return self.page(
            "settings.html",
            {
                "form": form,
                "effective_provider": provider,
                "effective_model": model_for(provider, row),
                "active_key": active_key,
            },
            status=status,
        )


@method_decorator(never_cache, name="dispatch")
@method_decorator(sensitive_post_parameters("key"), name="dispatch")
class KeysView(AdminView):
    """List keys; add one. The new key's plaintext is rendered once, in this POST's answer."""

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self._render(ProviderKeyForm(initial={"activate": True}))

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = ProviderKeyForm(request.POST)
        if form.is_valid():
            try:
                created = key_services.provider_key_create(
                    actor=self.membership,
                    secret=form.cleaned_data["key"],
                    label=form.cleaned_data["label"],
                    activate=form.cleaned_data["activate"],
                )
            except TutoringError as exc:
                form_error_add(form, exc)
            else:
                return self._render(
                    ProviderKeyForm(initial={"activate": True}), created=created, status=201
                )
        return self._render(form, status=400)

    def _render(
        self,
        form: ProviderKeyForm,
        created: key_services.CreatedKey | None = None,
        status: int = 200,
    ) -> HttpResponse:
        keys = list(selectors.provider_key_list(school=self.school))
        return self.page(
            "keys.html", {"form": form, "keys": keys, "created": created}, status=status
        )


class KeyActionView(AdminView):
    def post(self, request: HttpRequest, key_id: str, action: str, **kwargs: Any) -> HttpResponse:
        key = selectors.provider_key_get(school=self.school, public_id=key_id)
        if action == "activate":
            key_services.provider_key_activate(actor=self.membership, key=key)
            messages.success(
                request, _("The key ending in %(last)s is now in use.") % {"last": key.last_four}
            )
        elif action == "revoke":
            key_services.provider_key_revoke(actor=self.membership, key=key)
            messages.success(
                request,
                _("The key ending in %(last)s was revoked and erased.") % {"last": key.last_four},
            )
        else:
            raise Http404
        return redirect(reverse("admin_keys", kwargs={"school_slug": self.school.slug}))


class BudgetsView(AdminView):
    """The school's monthly and the per-student daily token budgets, with what is used."""

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        row = school_settings_get(self.school)
        initial = {
            "monthly_token_budget": row.monthly_token_budget,
            "student_daily_token_budget": row.student_daily_token_budget,
        }
        return self._render(BudgetForm(initial=initial))

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = BudgetForm(request.POST)
        if form.is_valid():
            try:
                school_settings_update(actor=self.membership, **form.cleaned_data)
            except TutoringError as exc:
                form_error_add(form, exc)
            else:
                messages.success(request, _("Budgets saved."))
                return redirect("admin_budgets", school_slug=self.school.slug)
        return self._render(form, status=400)

    def _render(self, form: BudgetForm, status: int = 200) -> HttpResponse:
        use = budget_use(school=self.school)
        students = selectors.student_usage_today(school=self.school)
        return self.page(
            "budgets.html",
            {
                "form": form,
                "use": use,
                "school_percent": _percent(use.school_used, use.school_limit),
                "students": [
                    {
                        "user": s.user,
                        "tokens": s.tokens,
                        "percent": _percent(s.tokens, use.student_limit),
                    }
                    for s in students
                ],
            },
            status=status,
        )


def _percent(used: int, limit: int) -> int:
    if limit <= 0:
        return 100 if used else 0
    return round(100 * used / limit)


_P = "s/<slug:school_slug>/admin/"

urlpatterns = [
    path(f"{_P}settings/", SettingsView.as_view(), name="admin_settings"),
    path(f"{_P}keys/", KeysView.as_view(), name="admin_keys"),
    path(
        f"{_P}keys/<uuid:key_id>/activate/",
        KeyActionView.as_view(),
        {"action": "activate"},
        name="admin_key_activate",
    ),
    path(
        f"{_P}keys/<uuid:key_id>/revoke/",
        KeyActionView.as_view(),
        {"action": "revoke"},
        name="admin_key_revoke",
    ),
    path(f"{_P}budgets/", BudgetsView.as_view(), name="admin_budgets"),
]
