"""The one door from a request to a school: URL slug + the user's membership.

A school that does not exist and one the user is not a member of give the same 404, so
slugs cannot be probed. A member whose role is too low gets 403; a suspended school gets a
clear page (`SchoolSuspended`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.models import ROLE_RANK, Membership, School, User
from accounts.selectors import membership_get, school_get_by_slug
from accounts.tenancy import activate_school
from base.errors import LanternError
from base.web_errors import page_error_raise


class SchoolSuspended(LanternError):
    """The school door's answer for a member of a suspended school (after the membership
    check, so a non-member still sees a 404)."""

    code = "school_suspended"
    status = 403
    default_message = _("This school is suspended. Contact your school.")

    def __init__(self, school: School) -> None:
        super().__init__()
        self.school = school


def school_access(
    *, user: User, slug: str, required_role: str | None = None
) -> tuple[School, Membership]:
    """Resolve and activate the school for `user`, or raise Http404 / PermissionDenied.

    Activates the ORM and database school context for the current transaction.
    Raises SchoolSuspended when the school is suspended (after the membership check, so a
    non-member still sees a 404).
    """
    school = school_get_by_slug(slug=slug)
    if school is None or not user.is_authenticated:
        raise Http404("No such school.")
    # Set the context before reading the membership: RLS on memberships is per school.
    activate_school(school)
    membership = membership_get(school=school, user=user)
    if membership is None:
        raise Http404("No such school.")
    if not school.is_active:
        raise SchoolSuspended(school)
    if required_role is not None and ROLE_RANK[membership.role] < ROLE_RANK[required_role]:
        raise PermissionDenied("Your role in this school does not allow this.")
    return school, membership


class SchoolViewMixin(LoginRequiredMixin):
    """Base of every web view under /s/<school_slug>/.

    Sets `self.school` and `self.membership` (and the same on the request, for templates).
    Declare `required_role = Membership.Role.TEACHER` etc. on the view.
    """

    required_role: str | None = None
    request: HttpRequest
    school: School
    membership: Membership

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        try:
            self.school, self.membership = school_access(
                user=request.user,  # type: ignore[arg-type]
                slug=kwargs["school_slug"],
                required_role=self.required_role,
            )
        except SchoolSuspended as exc:
            return render(
                request, "accounts/school_suspended.html", {"school": exc.school}, status=403
            )
        request.school = self.school  # type: ignore[attr-defined]
        request.membership = self.membership  # type: ignore[attr-defined]
        try:
            return super().dispatch(request, *args, **kwargs)
        except LanternError as exc:
            # The web's one mapping: a service's 404 is the door's 404 page, its 403 the
            # door's 403; anything else a view did not turn into a form error propagates.
            page_error_raise(exc)
            raise

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["school"] = self.school
        context["membership"] = self.membership
        return context
