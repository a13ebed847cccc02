"""Reads of accounts data. Every tenant read is given the school."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Invitation, Membership, School, User


def membership_list_for_user(*, user: User) -> list[Membership]:
    """The user's active memberships in active or suspended schools, with the school.

    Works before a school is chosen: RLS lets a user read their own memberships
    (`app.user_id`, set by the request middleware).
    """
    # cross-school: a user's own memberships span schools by definition (the school picker).
    return list(
        Membership.objects.unscoped_cross_school()
        .filter(user=user, is_active=True)
        .select_related("school")
        .order_by("school__name")
    )


def membership_get(*, school: School, user: User) -> Membership | None:
    return (
        Membership.objects.for_school(school)
        .filter(user=user, is_active=True)
        .select_related("school")
        .first()
    )


def membership_is_current(*, membership: Membership) -> bool:
    """Whether `membership` still grants access: active, its user active, its school not
    suspended. Call inside the membership's school context.

    One query on primary keys (the membership's, joined to its user and school by theirs):
    cheap enough for every open live stream to ask every few seconds.
    """
    return (
        Membership.objects.for_school(membership.school)
        .filter(
            pk=membership.pk,
            is_active=True,
            user__is_active=True,
            school__status=School.Status.ACTIVE,
        )
        .exists()
    )


def member_list(*, school: School) -> QuerySet[Membership]:
    return Membership.objects.for_school(school).select_related("user").order_by("user__email")


def invitation_list(*, school: School) -> QuerySet[Invitation]:
    return (
        Invitation.objects.for_school(school).select_related("invited_by").order_by("-created_at")
    )


def school_get_by_slug(*, slug: str) -> School | None:
    return School.objects.filter(slug=slug).first()
