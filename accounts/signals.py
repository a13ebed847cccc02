"""Receivers of Django's own signals (connected in AccountsConfig.ready()).

Only audit side effects: domain flow never goes through signals (DESIGN.md).
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.audit import AuditEvent, audit_record, client_ip
from accounts.models import User
from accounts.selectors import membership_list_for_user
from accounts.tenancy import school_context, set_db_user

logger = logging.getLogger("accounts.audit")


@receiver(user_logged_in, dispatch_uid="lantern_audit_sign_in")
def _record_sign_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """A sign-in is recorded in the trail of every school the person belongs to.

    An audit side effect, so a signal is acceptable here: every way of signing in (the
    login page, an accepted invitation) goes through `login()`. Failing to write the record
    is logged and does not stop the sign-in.
    """
    try:
        with transaction.atomic():
            # The login request started anonymous: let RLS show this user's memberships.
            set_db_user(user.pk)
            for membership in membership_list_for_user(user=user):
                with school_context(membership.school):
                    audit_record(
                        school=membership.school,
                        action=AuditEvent.Action.SIGN_IN,
                        actor=user,
                        target=membership.role,
                        ip_address=client_ip(request),
                    )
    except Exception:  # noqa: BLE001 - the trail must not lock people out
        logger.exception("could not record the sign-in of user %s", user.pk)
