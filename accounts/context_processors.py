"""Navigation: the signed-in user's schools and roles, for base.html."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.selectors import membership_list_for_user


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_memberships": membership_list_for_user(user=user),
        "current_school": getattr(request, "school", None),
        "current_membership": getattr(request, "membership", None),
    }
