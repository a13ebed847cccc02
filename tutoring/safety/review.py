"""The review queue: flagged and blocked messages for the class's teachers.

An item is created (or updated) once per explanation and side (the student's message, the
tutor's reply), so a retried generation never queues twice. Categories the school marked
`notify` (self-harm and violence by default) e-mail the safety contacts at once, after the
transaction commits; so does a teacher's escalation. The e-mail names the class, the
categories and a link, never the student or the message: those stay behind the sign-in.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.audit import AuditEvent, audit_record
from accounts.models import Membership, School
from tutoring.errors import InvalidInput, NotFound
from tutoring.models import Classroom, Explanation, Lesson, ModerationCategory, ReviewItem
from tutoring.safety.moderation import Verdict
from tutoring.safety.rules import action_rank, safety_settings_get, severity_rank
from tutoring.selectors.classes import teaches

logger = logging.getLogger(__name__)

MAX_NOTE_CHARS = 2000
DECISIONS = (
    ReviewItem.Status.REVIEWED,
    ReviewItem.Status.FALSE_POSITIVE,
    ReviewItem.Status.ESCALATED,
)


def _classroom_id(school: School, explanation: Explanation) -> int | None:
    return (
        Lesson.objects.for_school(school)
        .filter(sessions__pk=explanation.session_id)
        .values_list("classroom_id", flat=True)
        .first()
    )


def review_item_create(
    *, school: School, explanation: Explanation, source: str, verdict: Verdict, text: str
) -> ReviewItem | None:
    """Queue `explanation` for review by its class's teachers. Call in the school's context.

    Idempotent per (explanation, source): a second verdict on the same side merges its
    categories into the existing item (strictest action, highest severity). Previews
    (teachers trying a lesson) are never queued. When the verdict asks to notify and the
    item has not notified yet, the safety contacts are e-mailed after commit.
    Returns the item, or None when nothing needs review.
    """
    if not verdict.needs_review or explanation.is_preview:
        return None
    with transaction.atomic():
        item = (
            ReviewItem.objects.for_school(school)
            .select_for_update()
            .filter(explanation=explanation, source=source)
            .first()
        )
        if item is None:
            item = ReviewItem.objects.for_school(school).create(
                school=school,
                explanation=explanation,
                classroom_id=_classroom_id(school, explanation),
                student_id=explanation.student_id,
                source=source,
                action=verdict.action,
                categories=list(verdict.categories),
                severity=verdict.severity,
                detector=verdict.detector,
                flagged_text=text,
            )
        else:
            item.categories = sorted(set(item.categories) | set(verdict.categories))
            item.action = max(item.action, verdict.action, key=action_rank)
            item.severity = max(item.severity, verdict.severity, key=severity_rank)
            detectors = set(item.detector.split("+")) | set(verdict.detector.split("+"))
            item.detector = "+".join(sorted(d for d in detectors if d))[:20]
            item.flagged_text = text or item.flagged_text
            item.save(
                update_fields=["categories", "action", "severity", "detector", "flagged_text"]
            )
        if verdict.notify and item.notified_at is None:
            item.notified_at = timezone.now()
            item.save(update_fields=["notified_at"])
            _notify_on_commit(school, item, escalated_by=None)
    return item


def review_item_decide(
    *, actor: Membership, item: ReviewItem, status: str, note: str = ""
) -> ReviewItem:
    """Record a teacher's decision on an item: reviewed, false positive (a note is
    required) or escalated (the safety contacts are e-mailed). Teachers of the item's class
    and school admins only. The decision can be changed; each one is in the audit trail.
    """
    if item.school_id != actor.school_id:
        raise NotFound()
    if not _may_review(actor, item):
        raise NotFound()  # the queue of another class does not exist for this teacher
    note = (note or "").strip()
    if status not in DECISIONS:
        raise InvalidInput(_("Choose a decision."), fields={"status": [_("Choose a decision.")]})
    if status == ReviewItem.Status.FALSE_POSITIVE and not note:
        raise InvalidInput(
            _("Say briefly why this is a false positive."),
            fields={"note": [_("A note is required for a false positive.")]},
        )
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(
            _("The note is too long (at most %(n)s characters).") % {"n": MAX_NOTE_CHARS},
            fields={"note": [_("Too long.")]},
        )
    with transaction.atomic():
        item.status = status
        item.decided_by = actor.user
        item.decided_at = timezone.now()
        item.decision_note = note
        item.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit_record(
            school=actor.school,
            action=AuditEvent.Action.REVIEW_DECIDED,
            actor=actor,
            target=f"review item {item.public_id}",
            details={"status": status, "categories": item.categories, "note": note},
        )
        if status == ReviewItem.Status.ESCALATED:
            _notify_on_commit(actor.school, item, escalated_by=actor)
    return item


def _may_review(actor: Membership, item: ReviewItem) -> bool:
    if item.classroom_id is None:  # an item of no class: the school's admins only
        return actor.has_role(Membership.Role.SCHOOL_ADMIN)
    return teaches(actor, Classroom(pk=item.classroom_id, school_id=item.school_id))


def _notify_on_commit(school: School, item: ReviewItem, *, escalated_by: Membership | None) -> None:
    contacts = list(safety_settings_get(school).safety_contacts)
    if not contacts:
        logger.warning("school %s has no safety contacts; review item %s", school.pk, item.pk)
        return
    classroom = (
        Classroom.objects.for_school(school).filter(pk=item.classroom_id).first()
        if item.classroom_id
        else None
    )
    path = reverse(
        "safety_review_item", kwargs={"school_slug": school.slug, "item_id": item.public_id}
    )
    subject, body = _message(school, item, classroom, escalated_by, path)
    transaction.on_commit(lambda: _send(subject, body, contacts))


def _message(
    school: School,
    item: ReviewItem,
    classroom: Classroom | None,
    escalated_by: Membership | None,
    path: str,
) -> tuple[str, str]:
    with override(school.default_language or settings.LANGUAGE_CODE):
        labels = dict(ModerationCategory.choices)
        categories = ", ".join(str(labels.get(c, c)) for c in item.categories)
        if escalated_by is not None:
            subject = _("[Lantern] A teacher escalated a message: %(categories)s")
        else:
            subject = _("[Lantern] A message needs attention: %(categories)s")
        lines = [
            _("School: %(school)s") % {"school": school.name},
            _("Class: %(classroom)s")
            % {"classroom": classroom.name if classroom else _("(no class)")},
            _("Categories: %(categories)s") % {"categories": categories},
            _("When: %(when)s") % {"when": item.created_at.strftime("%Y-%m-%d %H:%M UTC")},
        ]
        if escalated_by is not None:
            lines.append(_("Escalated by: %(who)s") % {"who": escalated_by.user.display_name})
        lines += [
            "",
            _("Sign in to see the message and the student, and to record what you did:"),
            settings.SITE_URL.rstrip("/") + path,
        ]
        return subject % {"categories": categories}, "\n".join(lines)


def _send(subject: str, body: str, contacts: list[str]) -> None:
    try:
        send_mail(subject=subject, message=body, from_email=None, recipient_list=contacts)
    except Exception:  # noqa: BLE001 - the item is queued either way; the log says why
        logger.exception("could not e-mail the safety contacts")


__all__ = ["DECISIONS", "review_item_create", "review_item_decide"]
