"""Data rights: export and deletion of one student's data, and transcript retention.

All three are school-scoped (run in the school's context: RLS keeps every other school out)
and recorded in the audit trail. The usage ledger keeps anonymous totals: a deleted
student's usage rows stay, with the student set to NULL, so the school's monthly figures
and invoices do not change.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import AuditEvent, audit_record
from accounts.models import Membership, School
from accounts.tenancy import school_context
from accounts.tokens import user_tokens_revoke
from tutoring.errors import InvalidInput, NotFound, PermissionDeniedError
from tutoring.models import (
    ClassroomMember,
    ExerciseAttempt,
    Explanation,
    Message,
    PolicyAcceptance,
    ReviewItem,
    StudentBirthDate,
    StudentProfile,
    TutoringSession,
    UsageEntry,
)
from tutoring.safety.rules import safety_settings_get

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "lantern-student-export"
EXPORT_VERSION = 1


def _require_admin(actor: Membership | None) -> None:
    # actor None: an operator command (manage.py export_student), recorded as such.
    if actor is not None and not actor.has_role(Membership.Role.SCHOOL_ADMIN):
        raise PermissionDeniedError()


def student_membership_get(
    *, school: School, member_id: str | None = None, email: str | None = None
) -> Membership:
    """A student's membership in `school` by public id or e-mail, or NotFound."""
    memberships = Membership.objects.for_school(school).select_related("user", "school")
    if member_id is not None:
        memberships = memberships.filter(public_id=member_id)
    elif email is not None:
        memberships = memberships.filter(user__email=email.strip().lower())
    else:
        raise NotFound()
    membership = memberships.filter(role=Membership.Role.STUDENT).first()
    if membership is None:
        raise NotFound(_("No student with that address in this school."))
    return membership


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def student_data_export(
    *, school: School, student: Membership, actor: Membership | None, via: str = "web"
) -> dict[str, Any]:
    """Everything the school holds about one student, as JSON-ready data.

    Profile, classes, sessions with their messages and explanations (questions, answers,
    the exact messages sent to the AI provider, feedback), exercise answers, policy
    acceptances, the recorded birth date, flagged-message records and usage totals. Only
    rows of this student in this school. School admins only (or an operator command with
    `actor=None`). Recorded in the audit trail. Call inside the school's context.
    """
    _require_admin(actor)
    if student.school_id != school.pk or student.role != Membership.Role.STUDENT:
        raise NotFound()
    user = student.user
    sessions = list(
        TutoringSession.objects.for_school(school)
        .filter(student=user)
        .select_related("lesson", "lesson_version")
        .order_by("started_at", "id")
    )
    messages: dict[int, list[dict[str, Any]]] = {}
    for message in (
        Message.objects.for_school(school)
        .filter(session__student=user)
        .order_by("created_at", "id")
    ):
        messages.setdefault(message.session_id, []).append(
            {"role": message.role, "content": message.content, "at": _iso(message.created_at)}
        )
    explanations: dict[int, list[dict[str, Any]]] = {}
    for e in Explanation.objects.for_school(school).filter(student=user).order_by("queued_at"):
        explanations.setdefault(e.session_id, []).append(
            {
                "id": str(e.public_id),
                "kind": e.kind,
                "question": e.question,
                "status": e.status,
                "answer": e.content,
                "asked_at": _iso(e.queued_at),
                "finished_at": _iso(e.finished_at),
                "provider": e.provider,
                "model": e.model,
                "messages_sent_to_provider": e.messages_sent,
                "tokens": {"prompt": e.prompt_tokens, "completion": e.completion_tokens},
                "feedback": {
                    "is_helpful": e.is_helpful,
                    "comment": e.feedback_comment,
                    "at": _iso(e.feedback_at),
                },
            }
        )
    profile = StudentProfile.objects.for_school(school).filter(user=user).first()
    birth = StudentBirthDate.objects.for_school(school).filter(student=user).first()
    usage = (
        UsageEntry.objects.for_school(school)
        .filter(student=user)
        .aggregate(prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens"))
    )
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": _iso(timezone.now()),
        "school": {"name": school.name, "slug": school.slug},
        "student": {
            "id": str(student.public_id),
            "email": user.email,
            "full_name": user.full_name,
            "role": student.role,
            "member_since": _iso(student.created_at),
            "is_active": student.is_active,
        },
        "profile": (
            {
                "grade": profile.grade,
                "preferred_language": profile.preferred_language,
                "reading_level": profile.reading_level,
                "interests": profile.interests,
                "accommodations": profile.accommodations,
                "pseudonym_sent_to_provider": str(profile.pseudonym),
            }
            if profile
            else None
        ),
        "birth_date": birth.birth_date.isoformat() if birth else None,
        "classes": sorted(
            ClassroomMember.objects.for_school(school)
            .filter(user=user)
            .values_list("classroom__name", flat=True)
        ),
        "sessions": [
            {
                "id": str(s.public_id),
                "lesson": s.lesson.title,
                "lesson_version": s.lesson_version.number,
                "is_preview": s.is_preview,
                "started_at": _iso(s.started_at),
                "ended_at": _iso(s.ended_at),
                "messages": messages.get(s.pk, []),
                "explanations": explanations.get(s.pk, []),
            }
            for s in sessions
        ],
        "exercise_answers": [
            {
                "exercise": a.exercise.prompt,
                "answer": a.answer,
                "is_correct": a.is_correct,
                "at": _iso(a.created_at),
            }
            for a in ExerciseAttempt.objects.for_school(school)
            .filter(student=user)
            .select_related("exercise")
            .order_by("created_at")
        ],
        "policy_acceptances": [
            {
                "version": p.version.number,
                "accepted_at": _iso(p.accepted_at),
                "guardian_confirmed_at": _iso(p.guardian_confirmed_at),
                "guardian_name": p.guardian_name,
            }
            for p in PolicyAcceptance.objects.for_school(school)
            .filter(student=user)
            .select_related("version")
            .order_by("version__number")
        ],
        "flagged_messages": [
            {
                "source": r.source,
                "categories": r.categories,
                "action": r.action,
                "status": r.status,
                "flagged_at": _iso(r.created_at),
                "decided_at": _iso(r.decided_at),
            }
            for r in ReviewItem.objects.for_school(school).filter(student=user).order_by("id")
        ],
        "usage_tokens": {
            "prompt": int(usage["prompt"] or 0),
            "completion": int(usage["completion"] or 0),
        },
    }
    audit_record(
        school=school,
        action=AuditEvent.Action.STUDENT_EXPORTED,
        actor=actor,
        target=f"student {student.public_id}",
        details={"via": via, "sessions": len(sessions)},
    )
    return data


def student_data_delete(
    *, school: School, student: Membership, actor: Membership | None, via: str = "web"
) -> dict[str, int]:
    """Delete one student's data in `school`: sessions with their messages, explanations
    and review items, exercise answers, profile, policy records, birth date, class
    enrolments and the membership itself. Usage rows stay with the student set to NULL
    (anonymous totals). The account (global e-mail login, maybe in other schools) is left
    to the platform operator. Other students' rows are never touched.

    School admins only (or an operator command with `actor=None`); an admin cannot delete
    themselves (only students can be deleted). Atomic. Recorded in the audit trail with
    the counts. Returns the counts.
    """
    _require_admin(actor)
    if student.school_id != school.pk:
        raise NotFound()
    if student.role != Membership.Role.STUDENT:
        raise InvalidInput(_("Only a student's data can be deleted here."))
    user_id = student.user_id
    with transaction.atomic():
        counts = {
            "usage_rows_anonymised": UsageEntry.objects.for_school(school)
            .filter(student_id=user_id)
            .update(student=None),
            "sessions": TutoringSession.objects.for_school(school)
            .filter(student_id=user_id)
            .count(),
            "messages": Message.objects.for_school(school)
            .filter(session__student_id=user_id)
            .count(),
            "explanations": Explanation.objects.for_school(school)
            .filter(student_id=user_id)
            .count(),
        }
        ReviewItem.objects.for_school(school).filter(student_id=user_id).delete()
        Explanation.objects.for_school(school).filter(student_id=user_id).delete()
        TutoringSession.objects.for_school(school).filter(student_id=user_id).delete()
        counts["exercise_answers"] = (
            ExerciseAttempt.objects.for_school(school).filter(student_id=user_id).delete()[0]
        )
        for model in (StudentProfile, ClassroomMember):
            model.objects.for_school(school).filter(user_id=user_id).delete()
        for student_model in (PolicyAcceptance, StudentBirthDate):
            student_model.objects.for_school(school).filter(student_id=user_id).delete()
        audit_record(
            school=school,
            action=AuditEvent.Action.STUDENT_DELETED,
            actor=actor,
            target=f"student {student.public_id}",
            details={"via": via, **counts},
        )
        Membership.objects.for_school(school).filter(pk=student.pk).delete()
        # Removed from this school: their API tokens end too (for every school, since a
        # token is the user's; they sign in again for the others).
        user_tokens_revoke(user=student.user)
    return counts


def transcripts_purge(*, school: School, now: datetime | None = None) -> int:
    """Delete the school's tutoring sessions with no activity for longer than its
    retention (`SafetySettings.transcript_retention_days`, default 365): their messages,
    explanations and review items go with them; usage totals stay. Idempotent. Recorded in
    the audit trail when anything was deleted. Call inside the school's context.
    Returns the number of sessions deleted.
    """
    now = now or timezone.now()
    row = safety_settings_get(school)
    cutoff = now - timedelta(days=row.transcript_retention_days)
    recent = Message.objects.for_school(school).filter(
        session=OuterRef("pk"), created_at__gte=cutoff
    )
    stale = (
        TutoringSession.objects.for_school(school)
        .filter(started_at__lt=cutoff)
        .exclude(Exists(recent))
    )
    ids = list(stale.values_list("pk", flat=True))
    if not ids:
        return 0
    with transaction.atomic():
        ReviewItem.objects.for_school(school).filter(explanation__session_id__in=ids).delete()
        Explanation.objects.for_school(school).filter(session_id__in=ids).delete()
        TutoringSession.objects.for_school(school).filter(pk__in=ids).delete()
        audit_record(
            school=school,
            action=AuditEvent.Action.TRANSCRIPTS_PURGED,
            target=_("sessions older than %(n)s days") % {"n": row.transcript_retention_days},
            details={"sessions": len(ids), "cutoff": cutoff.isoformat()},
        )
    return len(ids)


def transcripts_purge_all(*, now: datetime | None = None) -> dict[str, int]:
    """The daily retention run over every school, each in its own transaction and context
    (one school's failure does not stop the others). Returns {school slug: sessions}."""
    results: dict[str, int] = {}
    for school in School.objects.order_by("pk"):
        try:
            with school_context(school):
                deleted = transcripts_purge(school=school, now=now)
        except Exception:  # noqa: BLE001 - logged; the next day's run tries again
            logger.exception("transcript purge failed for school %s", school.pk)
            continue
        if deleted:
            results[school.slug] = deleted
    return results


__all__ = [
    "EXPORT_FORMAT",
    "student_data_delete",
    "student_data_export",
    "student_membership_get",
    "transcripts_purge",
    "transcripts_purge_all",
]
