"""Export and deletion of one student's data; transcript retention."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.audit import AuditEvent
from accounts.models import Membership
from accounts.tenancy import school_context
from tests.api.conftest import bearer_client, school_url
from tests.factories import member, membership_of, published_lesson
from tests.safety.conftest import ask, configure
from tutoring.errors import InvalidInput, NotFound
from tutoring.models import (
    ClassroomMember,
    Explanation,
    Message,
    ReviewItem,
    StudentProfile,
    TutoringSession,
    UsageEntry,
)
from tutoring.safety import data_rights
from tutoring.safety.tasks import transcripts_purge

pytestmark = pytest.mark.django_db


def _with_usage(school, explanation):
    """What the worker records for an answered question (the ledger row)."""
    with school_context(school):
        UsageEntry.objects.create(
            school=school,
            explanation=explanation,
            student_id=explanation.student_id,
            provider="offline",
            model="offline-v1",
            prompt_tokens=100,
            completion_tokens=20,
        )


@pytest.fixture
def two_students(school, student, other_student, lesson):
    alice = ask(school, student, lesson, "Alice asks about numerators")
    ask(school, student, lesson, "I will beat him up", session=alice.session)  # flagged
    bob = ask(school, other_student, lesson, "Bob asks about denominators")
    _with_usage(school, alice)
    _with_usage(school, bob)
    return alice, bob


def _export(school, user, actor=None):
    with school_context(school):
        student = membership_of(school, user)
        return data_rights.student_data_export(school=school, student=student, actor=actor)


def test_the_export_holds_exactly_one_students_data(school, student, two_students):
    data = _export(school, student)
    text = json.dumps(data)
    assert data["student"]["email"] == "alice@riverside.test"
    assert "Alice asks about numerators" in text and "I will beat him up" in text
    assert "Bob" not in text and "bob@riverside.test" not in text and "denominators" not in text
    [session] = data["sessions"]
    assert [m["role"] for m in session["messages"]] == ["student", "student"]
    assert len(session["explanations"]) == 2
    assert data["flagged_messages"][0]["categories"] == ["violence"]
    assert data["usage_tokens"] == {"prompt": 100, "completion": 20}
    assert data["classes"] == ["Class 5B"]


def test_the_admin_page_downloads_the_archive_and_the_export_is_audited(
    client, school, school_admin, student, two_students
):
    with school_context(school):
        member_id = membership_of(school, student).public_id
    client.force_login(school_admin)
    page = client.get(reverse("admin_data", args=["riverside"])).content.decode()
    assert "alice@riverside.test" in page and "bob@riverside.test" in page
    response = client.post(reverse("admin_data_export", args=["riverside", member_id]))
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)["student"]["email"] == "alice@riverside.test"
    with school_context(school):
        event = AuditEvent.objects.get(action="student_exported")
    assert event.actor_label == "admin@riverside.test" and event.target == f"student {member_id}"


def test_the_export_command_writes_the_archive(tmp_path, school, student, two_students):
    out = tmp_path / "alice.json"
    call_command(
        "export_student", school="riverside", email="Alice@Riverside.test", output=str(out)
    )
    assert json.loads(out.read_text())["student"]["full_name"] == "Alice Anders"
    with school_context(school):
        event = AuditEvent.objects.get(action="student_exported")
    assert event.actor is None and event.details["via"] == "command"


def test_another_schools_admin_cannot_export_or_delete(client, school, student, outsider):
    with school_context(school):
        member_id = membership_of(school, student).public_id
    client.force_login(outsider)
    for slug in ("riverside", "hilltop"):
        assert client.post(reverse("admin_data_export", args=[slug, member_id])).status_code == 404
        assert client.get(reverse("admin_data_delete", args=[slug, member_id])).status_code == 404


def test_deleting_a_student_removes_their_data_and_nothing_of_other_students(
    school, school_admin, student, other_student, two_students
):
    _alice, bob = two_students
    with school_context(school):
        counts = data_rights.student_data_delete(
            school=school,
            student=membership_of(school, student),
            actor=membership_of(school, school_admin),
        )
        assert counts["sessions"] == 1 and counts["explanations"] == 2
        assert not TutoringSession.objects.filter(student=student).exists()
        assert not Explanation.objects.filter(student=student).exists()
        assert not StudentProfile.objects.filter(user=student).exists()
        assert not ClassroomMember.objects.filter(user=student).exists()
        assert not Membership.objects.filter(user=student).exists()
        assert not ReviewItem.objects.exists()  # Alice's flagged message went with her data
        # Usage totals stay, anonymous.
        assert UsageEntry.objects.filter(student=None).count() == 1
        assert UsageEntry.objects.filter(student=other_student).count() == 1
        # Bob is untouched.
        assert Explanation.objects.get(student=other_student).question == bob.question
        assert Message.objects.filter(session__student=other_student).count() == 1
        assert Membership.objects.filter(user=other_student).exists()
        event = AuditEvent.objects.get(action="student_deleted")
    assert event.details["sessions"] == 1


def test_only_students_data_can_be_deleted_here(school, school_admin, teacher):
    with school_context(school):
        admin = membership_of(school, school_admin)
        with pytest.raises(NotFound):
            data_rights.student_membership_get(school=school, email="teacher@riverside.test")
        with pytest.raises(InvalidInput):
            data_rights.student_data_delete(
                school=school, student=membership_of(school, teacher), actor=admin
            )


def test_the_delete_page_asks_for_the_students_email_first(
    client, school, school_admin, student, two_students
):
    with school_context(school):
        member_id = membership_of(school, student).public_id
    client.force_login(school_admin)
    url = reverse("admin_data_delete", args=["riverside", member_id])
    assert "cannot be undone" in client.get(url).content.decode()
    refused = client.post(url, {"confirm_email": "bob@riverside.test"})
    assert refused.status_code == 400
    assert "not the student" in refused.content.decode()
    assert client.post(url, {"confirm_email": "ALICE@riverside.test"}).status_code == 302
    with school_context(school):
        assert not TutoringSession.objects.filter(student=student).exists()


def test_the_api_exports_and_deletes(school, school_admin, student, two_students):
    with school_context(school):
        member_id = membership_of(school, student).public_id
    api = bearer_client(school_admin)
    exported = api.post(school_url("riverside", f"admin/students/{member_id}/export"))
    assert exported.json()["student"]["email"] == "alice@riverside.test"
    deleted = api.delete(school_url("riverside", f"admin/students/{member_id}/data"))
    assert deleted.status_code == 200 and deleted.json()["sessions"] == 1
    again = api.delete(school_url("riverside", f"admin/students/{member_id}/data"))
    assert again.status_code == 404


def test_transcripts_past_the_retention_are_purged_and_recent_ones_kept(
    school, teacher, student, lesson
):
    configure(school, transcript_retention_days=30)
    with time_machine.travel(timezone.now() - timedelta(days=40), tick=False):
        old = ask(school, student, lesson, "An old question")
        revived = ask(school, student, lesson, "Old, but continued later")
    ask(school, student, lesson, "A fresh question", session=revived.session)
    recent = ask(school, student, lesson, "A recent question")
    purged = transcripts_purge()
    assert purged == {"riverside": 1}
    with school_context(school):
        assert not TutoringSession.objects.filter(pk=old.session_id).exists()
        assert TutoringSession.objects.filter(pk=revived.session_id).exists()
        assert TutoringSession.objects.filter(pk=recent.session_id).exists()
        event = AuditEvent.objects.get(action="transcripts_purged")
    assert event.actor is None and event.details["sessions"] == 1
    assert transcripts_purge() == {}  # idempotent


def test_the_purge_leaves_other_schools_alone(school, other_school, teacher, student, outsider):
    configure(school, transcript_retention_days=1)
    # Only students can be enrolled as students (issue #13), so Hilltop gets a pupil.
    pupil = member(other_school, Membership.Role.STUDENT, email="hana@hilltop.test")
    lesson_there = published_lesson(other_school, outsider, [pupil])
    with time_machine.travel(timezone.now() - timedelta(days=10), tick=False):
        theirs = ask(other_school, pupil, lesson_there, "An old question at Hilltop")
    assert transcripts_purge() == {}
    with school_context(other_school):
        assert TutoringSession.objects.filter(pk=theirs.session_id).exists()
