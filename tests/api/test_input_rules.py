"""Rules every interface shares, enforced by the services: a lesson's language is a
well-formed language code (as the web form has always required), and only students are
enrolled as a class's students."""

from __future__ import annotations

import pytest

from accounts.tenancy import school_context
from tests.api.conftest import World, bearer_client, school_url
from tests.factories import membership_of
from tutoring.errors import InvalidInput
from tutoring.models import ClassroomMember
from tutoring.services import lessons as lesson_services

pytestmark = pytest.mark.django_db


def url(path: str) -> str:
    return school_url("riverside", path)


@pytest.mark.parametrize("bad", ["0", "english please", "e", "en-"])
def test_the_api_refuses_a_lesson_language_that_is_not_a_language_code(
    world: World, teacher, bad
) -> None:
    client = bearer_client(teacher)
    created = client.post(
        url("teaching/lessons"),
        {"classroom_id": str(world.classroom.public_id), "title": "Decimals", "language": bad},
    )
    assert created.status_code == 400
    error = created.json()["error"]
    assert error["code"] == "invalid_input" and list(error["fields"]) == ["language"]
    edited = client.patch(url(f"teaching/lessons/{world.lesson.public_id}"), {"language": bad})
    assert edited.status_code == 400
    assert list(edited.json()["error"]["fields"]) == ["language"]
    assert client.get(url(f"teaching/lessons/{world.lesson.public_id}")).json()["language"] == "en"


def test_the_api_stores_a_language_code_as_the_web_form_does(world: World, teacher) -> None:
    created = bearer_client(teacher).post(
        url("teaching/lessons"),
        {"classroom_id": str(world.classroom.public_id), "title": "Ratios", "language": "zh-Hans"},
    )
    assert created.status_code == 201 and created.json()["language"] == "zh-hans"


def test_the_api_refuses_a_preferred_language_that_is_not_a_language_code(
    world: World, student
) -> None:
    response = bearer_client(student).patch(url("profile"), {"preferred_language": "0"})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["preferred_language"]


@pytest.mark.parametrize("who", ["school_admin", "teacher"])
def test_the_api_refuses_to_enrol_a_non_student_as_a_student(
    world: World, teacher, school_admin, who
) -> None:
    target = {"school_admin": school_admin, "teacher": teacher}[who]
    response = bearer_client(teacher).post(
        url(f"teaching/classes/{world.classroom.public_id}/students"), {"email": target.email}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["message"] == "Only students can be enrolled as students."
    with school_context(world.school):
        students = ClassroomMember.objects.filter(
            classroom=world.classroom, role=ClassroomMember.Role.STUDENT
        )
        assert target.pk not in {m.user_id for m in students}


def test_the_service_refuses_to_enrol_the_school_admin_as_a_student(
    world: World, teacher, school_admin
) -> None:
    with school_context(world.school), pytest.raises(InvalidInput):
        lesson_services.classroom_enroll(
            actor=membership_of(world.school, teacher),
            classroom=world.classroom,
            user=school_admin,
        )
