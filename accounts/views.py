"""Accounts pages: the school picker, invitations, members (school admin)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts import services
from accounts.access import SchoolViewMixin
from accounts.forms import AcceptInvitationForm, InvitationForm, MemberRoleForm
from accounts.models import Invitation, Membership, School
from accounts.selectors import (
    invitation_list,
    member_list,
    membership_list_for_user,
    school_get_by_slug,
)
from accounts.tenancy import activate_school
from base.web_errors import error_message_for_page, form_error_add


class HomeView(LoginRequiredMixin, TemplateView):
    """The school picker; a user with one school goes straight to it."""

    template_name = "accounts/home.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        memberships = membership_list_for_user(user=request.user)  # type: ignore[arg-type]
        if len(memberships) == 1:
            return redirect("school_home", school_slug=memberships[0].school.slug)
        return self.render_to_response({"memberships": memberships})


class SchoolHomeView(SchoolViewMixin, TemplateView):
    """Each role's start page: students their lessons, teachers and admins their dashboard
    (this plain page only while that page does not exist)."""

    template_name = "accounts/school_home.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        is_student = self.membership.role == Membership.Role.STUDENT
        try:
            url = reverse(
                "student_dashboard" if is_student else "teacher_dashboard",
                kwargs={"school_slug": self.school.slug},
            )
        except NoReverseMatch:
            return super().get(request, *args, **kwargs)
        return HttpResponseRedirect(url)


class MembersView(SchoolViewMixin, View):
    required_role = Membership.Role.SCHOOL_ADMIN

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self._render(request, InvitationForm())

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = InvitationForm(request.POST)
        if form.is_valid():
            try:
                issued = services.invitation_create(
                    actor=self.membership,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                )
            except services.AccountsError as exc:
                form_error_add(form, exc, default_field="email")
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s.") % {"email": issued.invitation.email},
                )
                return redirect("members", school_slug=self.school.slug)
        return self._render(request, form, status=400)

    def _render(
        self, request: HttpRequest, form: InvitationForm, status: int = 200
    ) -> HttpResponse:
        context = {
            "school": self.school,
            "membership": self.membership,
            "form": form,
            "members": list(member_list(school=self.school)),
            "invitations": [i for i in invitation_list(school=self.school) if i.is_pending],
            "role_choices": Membership.Role.choices,
        }
        return render(request, "accounts/members.html", context, status=status)


class MemberActionView(SchoolViewMixin, View):
    required_role = Membership.Role.SCHOOL_ADMIN

    def post(
        self, request: HttpRequest, school_slug: str, member_id: str, action: str
    ) -> HttpResponse:
        target = member_list(school=self.school).filter(public_id=member_id).first()
        if target is None:
            raise Http404
        try:
            if action == "role":
                form = MemberRoleForm(request.POST)
                if not form.is_valid():
                    raise services.AccountsError(_("Choose a valid role."))
                services.membership_change_role(
                    actor=self.membership, membership=target, role=form.cleaned_data["role"]
                )
            elif action in ("deactivate", "activate"):
                services.membership_set_active(
                    actor=self.membership, membership=target, is_active=action == "activate"
                )
            else:
                raise Http404
        except services.AccountsError as exc:
            messages.error(request, error_message_for_page(exc))
        else:
            messages.success(request, _("Saved."))
        return redirect("members", school_slug=self.school.slug)


class InvitationActionView(SchoolViewMixin, View):
    required_role = Membership.Role.SCHOOL_ADMIN

    def post(
        self, request: HttpRequest, school_slug: str, invitation_id: str, action: str
    ) -> HttpResponse:
        invitation = invitation_list(school=self.school).filter(public_id=invitation_id).first()
        if invitation is None:
            raise Http404
        if action == "revoke":
            services.invitation_revoke(actor=self.membership, invitation=invitation)
            messages.success(request, _("Invitation revoked."))
        elif action == "resend":
            issued = services.invitation_resend(actor=self.membership, invitation=invitation)
            messages.success(
                request,
                _("Invitation sent again to %(email)s.") % {"email": issued.invitation.email},
            )
        else:
            raise Http404
        return redirect("members", school_slug=self.school.slug)


# One answer for every invitation link that cannot be used: a token never issued, one used,
# revoked or expired, and a school that does not exist. The same status and page (nothing
# school-specific on it), so guessing slugs tells an anonymous visitor nothing. 404, not
# 410: most such links never existed, and "not found" is what the rest of the site answers
# for a school you may not see. The holder of a real expired link learns no less from the
# message ("invalid, used or expired: ask for a new one") than from a separate "expired".
INVITATION_UNUSABLE_STATUS = 404


def _invitation_unusable(request: HttpRequest) -> HttpResponse:
    message = _("This invitation link is invalid, used or expired. Ask for a new one.")
    return render(
        request,
        "accounts/invitation_invalid.html",
        {"message": message},
        status=INVITATION_UNUSABLE_STATUS,
    )


class InvitationAcceptView(View):
    """Public: the invitee needs no membership yet, only the token."""

    def _invitation(self, school_slug: str, token: str) -> tuple[School, Invitation] | None:
        """The school and pending invitation of the link, None when it cannot be used."""
        school = school_get_by_slug(slug=school_slug)
        if school is None:
            return None
        # The token is the credential here; the context only scopes the lookup to the URL's school.
        activate_school(school)
        try:
            return school, services.invitation_get_pending(school=school, token=token)
        except services.AccountsError:
            return None

    def get(self, request: HttpRequest, school_slug: str, token: str) -> HttpResponse:
        found = self._invitation(school_slug, token)
        if found is None:
            return _invitation_unusable(request)
        school, invitation = found
        return render(
            request,
            "accounts/invitation_accept.html",
            {"school": school, "invitation": invitation, "form": AcceptInvitationForm()},
        )

    def post(self, request: HttpRequest, school_slug: str, token: str) -> HttpResponse:
        found = self._invitation(school_slug, token)
        if found is None:
            return _invitation_unusable(request)
        school, invitation = found
        signed_in = request.user.is_authenticated
        form = AcceptInvitationForm(request.POST)
        if not signed_in and not form.is_valid():
            return render(
                request,
                "accounts/invitation_accept.html",
                {"school": school, "invitation": invitation, "form": form},
                status=400,
            )
        try:
            membership = services.invitation_accept(
                school=school,
                token=token,
                password=None if signed_in else form.cleaned_data["password1"],
                full_name="" if signed_in else form.cleaned_data["full_name"],
                user=request.user if signed_in else None,  # type: ignore[arg-type]
            )
        except services.AccountsError as exc:
            form_error_add(form, exc)
            return render(
                request,
                "accounts/invitation_accept.html",
                {"school": school, "invitation": invitation, "form": form},
                status=400,
            )
        if not signed_in:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome to %(school)s.") % {"school": school.name})
        return HttpResponseRedirect(reverse("school_home", kwargs={"school_slug": school.slug}))
