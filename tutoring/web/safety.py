"""Safety and privacy pages.

Teachers (/s/<school>/safety/review/…): the review queue of flagged and blocked messages of
the classes they teach (school admins: every class), and the decision form.
Students (/s/<school>/policy/): read and accept the school's AI-use policy.
School admins (/s/<school>/admin/…): safety settings, policy versions and acceptance,
the audit trail, and a student's data (export, deletion).

Views parse, call one service or selector, and render; the school comes from
SchoolViewMixin (the one door), every object through the safety selectors.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache

from accounts.access import SchoolViewMixin
from accounts.audit import audit_event_list
from accounts.models import Membership
from base.web_errors import error_message_for_page, form_error_add
from tutoring.errors import InvalidInput, TutoringError
from tutoring.safety import data_rights, policy, review, rules, selectors
from tutoring.safety.forms import (
    AuditFilterForm,
    BirthDateForm,
    GuardianForm,
    PolicyPublishForm,
    ReviewDecisionForm,
    ReviewFilterForm,
    SafetySettingsForm,
    StudentDeleteForm,
)

REVIEW_PER_PAGE = 25
AUDIT_PER_PAGE = 50
STUDENTS_PER_PAGE = 50


class SafetyView(SchoolViewMixin, View):
    def page(
        self, template: str, context: dict[str, Any] | None = None, status: int = 200
    ) -> HttpResponse:
        full = {"school": self.school, "membership": self.membership, **(context or {})}
        return render(self.request, f"tutoring/safety/{template}", full, status=status)


class TeacherSafetyView(SafetyView):
    required_role = Membership.Role.TEACHER


class AdminSafetyView(SafetyView):
    required_role = Membership.Role.SCHOOL_ADMIN


def _page(request: HttpRequest, queryset: Any, per_page: int) -> Any:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


# --- Review queue (teachers) ----------------------------------------------------------------


class ReviewQueueView(TeacherSafetyView):
    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = ReviewFilterForm(request.GET or None)
        show = form.show_value()
        items = selectors.review_item_list(school=self.school, member=self.membership, show=show)
        page_obj = _page(request, items, REVIEW_PER_PAGE)
        return self.page(
            "review_queue.html",
            {"form": form, "show": show, "page_obj": page_obj, "items": list(page_obj)},
        )


class ReviewItemView(TeacherSafetyView):
    def get(self, request: HttpRequest, item_id: str, **kwargs: Any) -> HttpResponse:
        item = selectors.review_item_get(
            school=self.school, member=self.membership, public_id=item_id
        )
        return self._render(item, ReviewDecisionForm())

    def post(self, request: HttpRequest, item_id: str, **kwargs: Any) -> HttpResponse:
        item = selectors.review_item_get(
            school=self.school, member=self.membership, public_id=item_id
        )
        form = ReviewDecisionForm(request.POST)
        if form.is_valid():
            try:
                review.review_item_decide(
                    actor=self.membership,
                    item=item,
                    status=form.cleaned_data["status"],
                    note=form.cleaned_data["note"],
                )
            except TutoringError as exc:
                form_error_add(form, exc)
            else:
                messages.success(request, _("Decision saved."))
                return redirect("safety_review", school_slug=self.school.slug)
        return self._render(item, form, status=400)

    def _render(self, item: Any, form: ReviewDecisionForm, status: int = 200) -> HttpResponse:
        return self.page("review_item.html", {"item": item, "form": form}, status=status)


# --- AI-use policy (students) ---------------------------------------------------------------


class PolicyView(SafetyView):
    """Any member reads the current policy; a student accepts it here."""

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self._render()

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        version = policy.policy_current(self.school)
        if version is None or self.membership.role != Membership.Role.STUDENT:
            return self._render(status=400)
        try:
            number = int(request.POST.get("version", ""))
        except ValueError:
            number = -1
        try:
            if number != version.number:
                raise InvalidInput(
                    _("A newer version of the policy was published. Read it and accept it.")
                )
            policy.policy_accept(actor=self.membership, version=version)
        except TutoringError as exc:
            messages.error(request, error_message_for_page(exc))
            return self._render(status=400)
        messages.success(request, _("Thank you. You accepted the AI-use policy."))
        return redirect("safety_policy", school_slug=self.school.slug)

    def _render(self, status: int = 200) -> HttpResponse:
        is_student = self.membership.role == Membership.Role.STUDENT
        standing = (
            policy.policy_status(school=self.school, student_id=self.membership.user_id)
            if is_student
            else None
        )
        return self.page(
            "policy.html",
            {
                "version": policy.policy_current(self.school),
                "standing": standing,
                "is_student": is_student,
            },
            status=status,
        )


# --- School admin ---------------------------------------------------------------------------


class SafetySettingsView(AdminSafetyView):
    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        row = rules.safety_settings_get(self.school)
        return self._render(SafetySettingsForm(initial=SafetySettingsForm.initial_for(row)))

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = SafetySettingsForm(request.POST)
        if form.is_valid():
            try:
                rules.safety_settings_update(actor=self.membership, **form.service_fields())
            except TutoringError as exc:
                form_error_add(form, exc)
            else:
                messages.success(request, _("Safety settings saved."))
                return redirect("admin_safety", school_slug=self.school.slug)
        return self._render(form, status=400)

    def _render(self, form: SafetySettingsForm, status: int = 200) -> HttpResponse:
        return self.page("settings.html", {"form": form}, status=status)


class PolicyAdminView(AdminSafetyView):
    """Publish a new version; see who has and has not accepted the current one."""

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self._render(PolicyPublishForm())

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = PolicyPublishForm(request.POST)
        if form.is_valid():
            try:
                version = policy.policy_publish(
                    actor=self.membership, text=form.cleaned_data["text"]
                )
            except TutoringError as exc:
                form_error_add(form, exc)
            else:
                messages.success(request, _("Version %(n)s published.") % {"n": version.number})
                return redirect("admin_policy", school_slug=self.school.slug)
        return self._render(form, status=400)

    def _render(self, form: PolicyPublishForm, status: int = 200) -> HttpResponse:
        overview = selectors.policy_overview(school=self.school)
        if not form.is_bound and overview.version is not None:
            form = PolicyPublishForm(initial={"text": overview.version.text})
        return self.page(
            "policy_admin.html",
            {
                "form": form,
                "overview": overview,
                "settings_row": rules.safety_settings_get(self.school),
                "guardian_form": GuardianForm(),
            },
            status=status,
        )


class PolicyStudentActionView(AdminSafetyView):
    """POST: record a guardian's confirmation, or a student's birth date."""

    def post(
        self, request: HttpRequest, member_id: str, action: str, **kwargs: Any
    ) -> HttpResponse:
        student = selectors.student_user_get(school=self.school, member_id=member_id)
        try:
            if action == "guardian":
                form: GuardianForm | BirthDateForm = GuardianForm(request.POST)
                version = policy.policy_current(self.school)
                if version is None:
                    raise InvalidInput(_("Publish a policy first."))
                if not form.is_valid():
                    raise InvalidInput(_("Write the guardian's name."))
                policy.guardian_confirm(
                    actor=self.membership,
                    student=student,
                    version=version,
                    guardian_name=form.cleaned_data["guardian_name"],
                )
                messages.success(request, _("Guardian's confirmation recorded."))
            else:
                form = BirthDateForm(request.POST)
                if not form.is_valid():
                    raise InvalidInput(_("Enter a date such as 2014-09-01."))
                policy.birth_date_set(
                    actor=self.membership,
                    student=student,
                    birth_date=form.cleaned_data["birth_date"],
                )
                messages.success(request, _("Birth date saved."))
        except TutoringError as exc:
            messages.error(request, error_message_for_page(exc))
        return redirect("admin_policy", school_slug=self.school.slug)


class AuditLogView(AdminSafetyView):
    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = AuditFilterForm(request.GET or None)
        action = form.action_value()
        page_obj = _page(
            request, audit_event_list(school=self.school, action=action), AUDIT_PER_PAGE
        )
        return self.page(
            "audit.html",
            {
                "form": form,
                "filtered": bool(action),
                "page_obj": page_obj,
                "events": list(page_obj),
            },
        )


class StudentDataView(AdminSafetyView):
    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        search = request.GET.get("q", "").strip()[:100]
        page_obj = _page(
            request, selectors.student_list(school=self.school, search=search), STUDENTS_PER_PAGE
        )
        return self.page(
            "data.html",
            {
                "search": search,
                "page_obj": page_obj,
                "students": list(page_obj),
                "retention_days": rules.safety_settings_get(self.school).transcript_retention_days,
            },
        )


@method_decorator(never_cache, name="dispatch")
class StudentExportView(AdminSafetyView):
    """POST (an audited action, so never on a prefetched GET): the JSON archive."""

    def post(self, request: HttpRequest, member_id: str, **kwargs: Any) -> HttpResponse:
        student = data_rights.student_membership_get(school=self.school, member_id=member_id)
        data = data_rights.student_data_export(
            school=self.school, student=student, actor=self.membership
        )
        stamp = timezone.now().strftime("%Y%m%d")
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="lantern-student-{student.public_id}-{stamp}.json"'
        )
        return response


class StudentDeleteView(AdminSafetyView):
    def get(self, request: HttpRequest, member_id: str, **kwargs: Any) -> HttpResponse:
        student = data_rights.student_membership_get(school=self.school, member_id=member_id)
        return self._render(student, StudentDeleteForm(expected_email=student.user.email))

    def post(self, request: HttpRequest, member_id: str, **kwargs: Any) -> HttpResponse:
        student = data_rights.student_membership_get(school=self.school, member_id=member_id)
        form = StudentDeleteForm(request.POST, expected_email=student.user.email)
        if form.is_valid():
            try:
                counts = data_rights.student_data_delete(
                    school=self.school, student=student, actor=self.membership
                )
            except TutoringError as exc:
                form_error_add(form, exc)
            else:
                messages.success(
                    request,
                    _("The student's data was deleted: %(n)s sessions, %(m)s explanations.")
                    % {"n": counts["sessions"], "m": counts["explanations"]},
                )
                return redirect("admin_data", school_slug=self.school.slug)
        return self._render(student, form, status=400)

    def _render(
        self, student: Membership, form: StudentDeleteForm, status: int = 200
    ) -> HttpResponse:
        return self.page("data_delete.html", {"student": student, "form": form}, status=status)


_S = "s/<slug:school_slug>/"

urlpatterns = [
    path(f"{_S}safety/review/", ReviewQueueView.as_view(), name="safety_review"),
    path(f"{_S}safety/review/<uuid:item_id>/", ReviewItemView.as_view(), name="safety_review_item"),
    path(f"{_S}policy/", PolicyView.as_view(), name="safety_policy"),
    path(f"{_S}admin/safety/", SafetySettingsView.as_view(), name="admin_safety"),
    path(f"{_S}admin/policy/", PolicyAdminView.as_view(), name="admin_policy"),
    path(
        f"{_S}admin/policy/students/<uuid:member_id>/guardian/",
        PolicyStudentActionView.as_view(),
        {"action": "guardian"},
        name="admin_policy_guardian",
    ),
    path(
        f"{_S}admin/policy/students/<uuid:member_id>/birth-date/",
        PolicyStudentActionView.as_view(),
        {"action": "birth_date"},
        name="admin_policy_birth_date",
    ),
    path(f"{_S}admin/audit/", AuditLogView.as_view(), name="admin_audit"),
    path(f"{_S}admin/data/", StudentDataView.as_view(), name="admin_data"),
    path(
        f"{_S}admin/data/<uuid:member_id>/export/",
        StudentExportView.as_view(),
        name="admin_data_export",
    ),
    path(
        f"{_S}admin/data/<uuid:member_id>/delete/",
        StudentDeleteView.as_view(),
        name="admin_data_delete",
    ),
]
