"""Reads of a school's provider keys (never decrypted here).

Every function is given the school or the acting membership and names the related rows it
needs, so a page costs a fixed number of queries.
"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Membership, School
from tutoring.errors import NotFound
from tutoring.models import (
    ProviderKey,
)

Role = Membership.Role


def provider_key_list(*, school: School) -> QuerySet[ProviderKey]:
    """The school's keys, newest first. Never decrypts: pages show only the last four."""
    return (
        ProviderKey.objects.for_school(school)
        .select_related("created_by")
        .defer("encrypted_key")
        .order_by("-created_at")
    )


def provider_key_get(*, school: School, public_id: object) -> ProviderKey:
    key = ProviderKey.objects.for_school(school).filter(public_id=public_id).first()
    if key is None:
        raise NotFound()
    return key
