"""The review queue: the right teachers see flagged messages, decide, and escalate."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Membership
from accounts.tenancy import school_context
from tests.api.conftest import bearer_client, school_url
from tests.factories import member, published_lesson
from tests.safety.conftest import ask, configure, review_items
from tutoring.models import ReviewItem

pytestmark = pytest.mark.django_db
Role = Membership.Role
FLAGGED = "If I beat him up, is 1/5 + 2/5 = 3/5?"


@pytest.fixture
def flagged(school, teacher, student, other_student):
    """A flagged message in Class 5B (taught by `teacher`); Class 6C has another teacher."""
    lesson = published_lesson(school, teacher, [student], class_name="Class 5B")
    other_teacher = member(school, Role.TEACHER, email="tom@riverside.test", full_name="Tom T")
    published_lesson(school, other_teacher, [other_student], class_name="Class 6C")
    ask(school, student, lesson, FLAGGED)
    [item] = review_items(school)
    return item, other_teacher


def _queue(client, slug="riverside", **params):
    return client.get(reverse("safety_review", args=[slug]), params)


def _item_url(item, slug="riverside"):
    return reverse("safety_review_item", args=[slug, item.public_id])


def test_a_flagged_message_is_in_its_class_teachers_queue_and_the_admins(
    client, flagged, teacher, school_admin
):
    item, _ = flagged
    for user in (teacher, school_admin):
        client.force_login(user)
        page = _queue(client).content.decode()
        assert "Alice Anders" in page and "Class 5B" in page and "Violence" in page
        detail = client.get(_item_url(item)).content.decode()
        assert FLAGGED.replace("'", "&#x27;") in detail


def test_another_classs_teacher_does_not_see_it(client, flagged):
    item, other_teacher = flagged
    client.force_login(other_teacher)
    assert "Nothing to review" in _queue(client).content.decode()
    assert client.get(_item_url(item)).status_code == 404
    response = client.post(_item_url(item), {"status": "reviewed"})
    assert response.status_code == 404


def test_another_schools_admin_gets_404_everywhere(client, flagged, outsider):
    item, _ = flagged
    client.force_login(outsider)
    assert _queue(client).status_code == 404
    assert client.get(_item_url(item)).status_code == 404
    assert client.get(_item_url(item, slug="hilltop")).status_code == 404
    assert "Nothing to review" in _queue(client, slug="hilltop").content.decode()


def test_students_cannot_open_the_queue(client, flagged, student):
    client.force_login(student)
    assert _queue(client).status_code == 403


def test_a_false_positive_needs_a_note_and_the_queue_shows_who_decided_when(
    client, flagged, teacher
):
    item, _ = flagged
    client.force_login(teacher)
    refused = client.post(_item_url(item), {"status": "false_positive", "note": ""})
    assert refused.status_code == 400
    assert "A note is required for a false positive." in refused.content.decode()
    saved = client.post(
        _item_url(item), {"status": "false_positive", "note": "Maths word problem."}
    )
    assert saved.status_code == 302
    page = _queue(client, show="decided").content.decode()
    assert "False positive" in page and "by Tess Teacher" in page
    assert "Maths word problem." in client.get(_item_url(item)).content.decode()
    assert "Nothing to review" in _queue(client).content.decode()


def test_escalating_emails_the_safety_contacts(
    client, flagged, teacher, school, django_capture_on_commit_callbacks
):
    item, _ = flagged
    configure(school, safety_contacts=["counsellor@riverside.test"])
    client.force_login(teacher)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_item_url(item), {"status": "escalated", "note": "Called home."})
    [email] = mail.outbox
    assert email.to == ["counsellor@riverside.test"]
    assert "escalated" in email.subject and "Tess Teacher" in email.body
    with school_context(school):
        assert ReviewItem.objects.get().status == "escalated"


def test_the_queue_costs_the_same_queries_for_one_item_or_many(
    client, flagged, teacher, student, school, django_assert_num_queries
):
    client.force_login(teacher)
    _queue(client)  # warm up: settings rows and sessions exist
    with django_assert_num_queries(11):
        _queue(client, show="all")
    item, _ = flagged
    with school_context(school):
        lesson = item.explanation.session.lesson
    for n in range(4):
        ask(school, student, lesson, f"I will beat him up {n}")
    with django_assert_num_queries(11):
        response = _queue(client, show="all")
    assert response.content.decode().count("Alice Anders") == 5


def test_the_api_lists_only_the_callers_classes_and_records_a_decision(flagged, teacher):
    item, other_teacher = flagged
    url = school_url("riverside", "safety/review-items")
    listed = bearer_client(teacher).get(url).json()
    assert [r["id"] for r in listed["results"]] == [str(item.public_id)]
    assert listed["results"][0]["categories"] == ["violence"]
    assert bearer_client(other_teacher).get(url).json()["results"] == []
    decision = school_url("riverside", f"safety/review-items/{item.public_id}/decision")
    refused = bearer_client(teacher).post(decision, {"status": "false_positive"})
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["note"]
    decided = bearer_client(teacher).post(decision, {"status": "reviewed"})
    assert decided.status_code == 200 and decided.json()["decided_by"] == "Tess Teacher"
    assert bearer_client(other_teacher).post(decision, {"status": "reviewed"}).status_code == 404
