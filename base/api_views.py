"""The base views of REST API v1.

School-scoped views subclass `SchoolApiView`: the token says who, the URL says which
school, and `accounts.access.school_access()` (the one door) checks the membership on every
call, right after DRF has authenticated the request.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

if TYPE_CHECKING:  # names for the type checker only: base imports no app at run time
    from accounts.models import Membership, School


@cache
def _tenancy_hooks() -> tuple[Callable[..., Any], Callable[[Any], None]]:
    """The school door and the database's user context, wired in by settings
    (API_SCHOOL_DOOR, API_DB_USER_SET): base sits below the apps and names none of them."""
    return import_string(settings.API_SCHOOL_DOOR), import_string(settings.API_DB_USER_SET)


class ApiView(APIView):
    """Base of API views that need a signed-in user but no school (`/me`)."""

    permission_classes = [IsAuthenticated]
    # status codes an endpoint can answer beyond the defaults, per method (for the schema)
    extra_error_statuses: ClassVar[dict[str, tuple[int, ...]]] = {}
    # False on a view whose 201/202 has no `Location` (the schema declares it otherwise)
    sends_location: ClassVar[bool] = True

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        if request.user and request.user.is_authenticated:
            # JWT authentication happens here, after the request middleware: let the
            # database know the user so they can read their own memberships (RLS).
            _tenancy_hooks()[1](request.user.pk)


class SchoolApiView(ApiView):
    """Base of every view under /api/v1/schools/<school_slug>/.

    Sets `self.school` and `self.membership`. Declare `required_role` (the lowest role
    allowed) on the view. Anonymous -> 401; not a member or no such school -> 404 (the
    same answer, so slugs cannot be probed); role too low -> 403; suspended -> 403.
    """

    required_role: ClassVar[str] = "student"  # accounts' Membership.Role.STUDENT
    school: School
    membership: Membership

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # DRF's order (negotiation, authentication, permissions, throttles) with the school
        # resolved after authentication and before throttles, which may count per school.
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(
            request
        )
        request.version, request.versioning_scheme = self.determine_version(
            request, *args, **kwargs
        )
        self.perform_authentication(request)
        self.check_permissions(request)
        school_access = _tenancy_hooks()[0]
        self.school, self.membership = school_access(
            user=request.user,  # type: ignore[arg-type]
            slug=kwargs["school_slug"],
            required_role=self.required_role,
        )
        self.check_throttles(request)
