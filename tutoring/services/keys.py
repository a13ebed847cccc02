"""Provider keys: encrypted at rest with MultiFernet, shown once, rotatable.

FIELD_ENCRYPTION_KEYS lists Fernet keys newest first: encryption uses the first, decryption
tries all, so the encryption key itself rotates by prepending a new one and running
`provider_keys_reencrypt` (`python manage.py rotate_field_keys`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import AuditEvent, audit_record
from accounts.models import Membership, School
from tutoring.errors import InvalidInput, NotFound
from tutoring.models import ProviderKey
from tutoring.services import worker_sql


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def _cipher() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_secret(value: str) -> str:
    return _cipher().encrypt(value.encode()).decode()


def decrypt_secret(token: str) -> str:
    """Raises InvalidToken when no configured key can decrypt (a key was dropped too early)."""
    return _cipher().decrypt(token.encode()).decode()


@dataclass(frozen=True)
class CreatedKey:
    key: ProviderKey
    plaintext: str  # returned once to the admin who created it; never stored or shown again

    def __repr__(self) -> str:
        return f"<CreatedKey …{self.key.last_four}>"


def provider_key_create(
    *, actor: Membership, secret: str, label: str = "", activate: bool = True
) -> CreatedKey:
    """Store a school's provider key encrypted; optionally make it the active one."""
    secret = secret.strip()
    if len(secret) < 8 or any(c.isspace() for c in secret):
        raise InvalidInput(
            _("That does not look like an API key."), fields={"key": [_("Invalid key.")]}
        )
    with transaction.atomic():
        key = ProviderKey.objects.for_school(actor.school).create(
            school=actor.school,
            label=label[:80],
            encrypted_key=encrypt_secret(secret),
            last_four=secret[-4:],
            created_by=actor.user,
        )
        _audit(actor, AuditEvent.Action.KEY_CREATED, key)
        if activate:
            provider_key_activate(actor=actor, key=key)
    return CreatedKey(key=key, plaintext=secret)


def _audit(actor: Membership, action: str, key: ProviderKey) -> None:
    # Keys are named by label and last four characters only: never the key itself.
    audit_record(
        school=actor.school,
        action=action,
        actor=actor,
        target=f"{key.label or 'key'} …{key.last_four}",
    )


def provider_key_activate(*, actor: Membership, key: ProviderKey) -> ProviderKey:
    """Make `key` the only active key. Calls in flight keep the key they started with."""
    if key.school_id != actor.school_id or key.revoked_at is not None:
        raise NotFound()
    with transaction.atomic():
        ProviderKey.objects.for_school(actor.school).filter(is_active=True).exclude(
            pk=key.pk
        ).update(is_active=False)
        was_active = key.is_active
        key.is_active = True
        key.save(update_fields=["is_active"])
        if not was_active:
            _audit(actor, AuditEvent.Action.KEY_ACTIVATED, key)
    return key


def provider_key_revoke(*, actor: Membership, key: ProviderKey) -> ProviderKey:
    if key.school_id != actor.school_id:
        raise NotFound()
    was_revoked = key.revoked_at is not None
    key.is_active = False
    key.revoked_at = key.revoked_at or timezone.now()
    key.encrypted_key = ""  # nothing to decrypt any more
    key.save(update_fields=["is_active", "revoked_at", "encrypted_key"])
    if not was_revoked:
        _audit(actor, AuditEvent.Action.KEY_REVOKED, key)
    return key


def active_key_for_school(school: School) -> str | None:
    """The decrypted active key of `school`, or None. Call inside the school's context."""
    key = worker_sql.active_provider_key_row(school)  # every claim reads it
    if key is None or not key.encrypted_key:
        return None
    try:
        return decrypt_secret(key.encrypted_key)
    except InvalidToken:
        return None


def provider_keys_reencrypt(*, school: School) -> int:
    """Re-encrypt a school's keys with the newest encryption key. Returns how many."""
    cipher = _cipher()
    count = 0
    for key in ProviderKey.objects.for_school(school).exclude(encrypted_key=""):
        key.encrypted_key = cipher.rotate(key.encrypted_key.encode()).decode()
        key.save(update_fields=["encrypted_key"])
        count += 1
    return count
