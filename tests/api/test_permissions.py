"""Who may call what: every endpoint against the whole cast, and other schools' ids.

Anonymous callers get 401; a member of another school (the outsider) gets the same 404 as
a school that does not exist; a member whose role is too low gets 403; an object of
another school named in this school's URL is 404, even for this school's admin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction

from tests.api.conftest import World, bearer_client, school_url

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "outsider", "student", "teacher", "school_admin")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: Callable[[World], str]
    # expected status for: anonymous, outsider, student, teacher, school_admin
    statuses: tuple[int, int, int, int, int]
    body: Callable[[World], dict[str, Any]] | None = None

    def url(self, world: World, slug: str | None = None) -> str:
        return school_url(slug or world.school.slug, self.path(world))


def _student(a: int, b: int, c: int) -> tuple[int, int, int, int, int]:
    return (401, 404, a, b, c)


TEACHERS = (401, 404, 403)
ADMINS = (401, 404, 403, 403)

ENDPOINTS: dict[str, Endpoint] = {
    # --- student side
    "my classes": Endpoint("get", lambda w: "classes", _student(200, 200, 200)),
    "lessons": Endpoint("get", lambda w: "lessons", _student(200, 200, 200)),
    "lesson detail": Endpoint(
        "get", lambda w: f"lessons/{w.lesson.public_id}", _student(200, 200, 200)
    ),
    "answer an exercise": Endpoint(
        "post",
        lambda w: f"exercises/{w.exercise.public_id}/attempts",
        _student(201, 201, 201),
        lambda w: {"answer": "2/5"},
    ),
    "explain my answer": Endpoint(
        "post",
        lambda w: f"attempts/{w.attempt.public_id}/explain",
        _student(202, 404, 404),  # an attempt is its student's alone
        lambda w: {},
    ),
    "my sessions": Endpoint("get", lambda w: "sessions", _student(200, 200, 200)),
    "start a session": Endpoint(
        "post",
        lambda w: "sessions",
        _student(201, 201, 404),  # the admin is not in the class
        lambda w: {"lesson_id": str(w.lesson.public_id)},
    ),
    "session detail": Endpoint(
        "get", lambda w: f"sessions/{w.session.public_id}", _student(200, 200, 200)
    ),
    "ask": Endpoint(
        "post",
        lambda w: f"sessions/{w.session.public_id}/questions",
        _student(202, 404, 404),  # only the session's student asks in it
        lambda w: {"question": "What is a numerator?"},
    ),
    "explanation detail": Endpoint(
        "get", lambda w: f"explanations/{w.explanation.public_id}", _student(200, 200, 200)
    ),
    "explanation stream": Endpoint(
        "get", lambda w: f"explanations/{w.explanation.public_id}/stream", _student(200, 200, 200)
    ),
    "feedback": Endpoint(
        "post",
        lambda w: f"explanations/{w.explanation.public_id}/feedback",
        _student(200, 404, 404),
        lambda w: {"is_helpful": True},
    ),
    "retry": Endpoint(
        "post",
        lambda w: f"explanations/{w.failed_explanation.public_id}/retry",
        _student(202, 404, 404),
        lambda w: {},
    ),
    "my profile": Endpoint("get", lambda w: "profile", _student(200, 200, 200)),
    "change my profile": Endpoint(
        "patch", lambda w: "profile", _student(200, 200, 200), lambda w: {"interests": "chess"}
    ),
    # --- teacher side
    "classes I teach": Endpoint("get", lambda w: "teaching/classes", (*TEACHERS, 200, 200)),
    "create a class": Endpoint(
        "post", lambda w: "teaching/classes", (*TEACHERS, 201, 201), lambda w: {"name": "6C"}
    ),
    "class detail": Endpoint(
        "get", lambda w: f"teaching/classes/{w.classroom.public_id}", (*TEACHERS, 200, 200)
    ),
    "roster": Endpoint(
        "get", lambda w: f"teaching/classes/{w.classroom.public_id}/students", (*TEACHERS, 200, 200)
    ),
    "enrol": Endpoint(
        "post",
        lambda w: f"teaching/classes/{w.classroom.public_id}/students",
        (*TEACHERS, 201, 201),
        lambda w: {"member_id": str(w.student_member.public_id)},
    ),
    "unenrol": Endpoint(
        "delete",
        lambda w: f"teaching/classes/{w.classroom.public_id}/students/{w.enrolment.public_id}",
        (*TEACHERS, 204, 204),
    ),
    "lessons I teach": Endpoint("get", lambda w: "teaching/lessons", (*TEACHERS, 200, 200)),
    "create a lesson": Endpoint(
        "post",
        lambda w: "teaching/lessons",
        (*TEACHERS, 201, 201),
        lambda w: {"classroom_id": str(w.classroom.public_id), "title": "Decimals"},
    ),
    "lesson to edit": Endpoint(
        "get", lambda w: f"teaching/lessons/{w.lesson.public_id}", (*TEACHERS, 200, 200)
    ),
    "edit a lesson": Endpoint(
        "patch",
        lambda w: f"teaching/lessons/{w.lesson.public_id}",
        (*TEACHERS, 200, 200),
        lambda w: {"tone": "playful"},
    ),
    "versions": Endpoint(
        "get", lambda w: f"teaching/lessons/{w.lesson.public_id}/versions", (*TEACHERS, 200, 200)
    ),
    "publish": Endpoint(
        "post",
        lambda w: f"teaching/lessons/{w.lesson.public_id}/publish",
        (*TEACHERS, 200, 200),
        lambda w: {},
    ),
    "unpublish": Endpoint(
        "post",
        lambda w: f"teaching/lessons/{w.lesson.public_id}/unpublish",
        (*TEACHERS, 200, 200),
        lambda w: {},
    ),
    "exercises with keys": Endpoint(
        "get", lambda w: f"teaching/lessons/{w.lesson.public_id}/exercises", (*TEACHERS, 200, 200)
    ),
    "add an exercise": Endpoint(
        "post",
        lambda w: f"teaching/lessons/{w.lesson.public_id}/exercises",
        (*TEACHERS, 201, 201),
        lambda w: {"prompt": "2/7 + 3/7?", "answer_key": "5/7"},
    ),
    "exercise with key": Endpoint(
        "get", lambda w: f"teaching/exercises/{w.exercise.public_id}", (*TEACHERS, 200, 200)
    ),
    "edit an exercise": Endpoint(
        "patch",
        lambda w: f"teaching/exercises/{w.exercise.public_id}",
        (*TEACHERS, 200, 200),
        lambda w: {"solution": "Add the numerators."},
    ),
    "delete an exercise": Endpoint(
        "delete", lambda w: f"teaching/exercises/{w.exercise.public_id}", (*TEACHERS, 204, 204)
    ),
    "transcripts": Endpoint("get", lambda w: "teaching/transcripts", (*TEACHERS, 200, 200)),
    "transcript": Endpoint(
        "get", lambda w: f"teaching/transcripts/{w.session.public_id}", (*TEACHERS, 200, 200)
    ),
    "usage": Endpoint("get", lambda w: "teaching/usage", (*TEACHERS, 200, 200)),
    # --- school admin
    "members": Endpoint("get", lambda w: "admin/members", (*ADMINS, 200)),
    "change a member": Endpoint(
        "patch",
        lambda w: f"admin/members/{w.student_member.public_id}",
        (*ADMINS, 200),
        lambda w: {"role": "teacher"},
    ),
    "invitations": Endpoint("get", lambda w: "admin/invitations", (*ADMINS, 200)),
    "invite": Endpoint(
        "post",
        lambda w: "admin/invitations",
        (*ADMINS, 201),
        lambda w: {"email": "new.teacher@example.test", "role": "teacher"},
    ),
    "revoke an invitation": Endpoint(
        "post",
        lambda w: f"admin/invitations/{w.invitation.public_id}/revoke",
        (*ADMINS, 200),
        lambda w: {},
    ),
    "resend an invitation": Endpoint(
        "post",
        lambda w: f"admin/invitations/{w.invitation.public_id}/resend",
        (*ADMINS, 201),
        lambda w: {},
    ),
    "budget": Endpoint("get", lambda w: "admin/budget", (*ADMINS, 200)),
    "change the budget": Endpoint(
        "patch", lambda w: "admin/budget", (*ADMINS, 200), lambda w: {"monthly_token_budget": 9}
    ),
    "AI service": Endpoint("get", lambda w: "admin/provider", (*ADMINS, 200)),
    "change the AI service": Endpoint(
        "patch", lambda w: "admin/provider", (*ADMINS, 200), lambda w: {"llm_model": "gpt-4o"}
    ),
    "provider keys": Endpoint("get", lambda w: "admin/provider-keys", (*ADMINS, 200)),
    "add a provider key": Endpoint(
        "post",
        lambda w: "admin/provider-keys",
        (*ADMINS, 201),
        lambda w: {"key": "sk-test-new-key-1234"},
    ),
    "activate a key": Endpoint(
        "post",
        lambda w: f"admin/provider-keys/{w.provider_key.public_id}/activate",
        (*ADMINS, 200),
        lambda w: {},
    ),
    "revoke a key": Endpoint(
        "post",
        lambda w: f"admin/provider-keys/{w.provider_key.public_id}/revoke",
        (*ADMINS, 200),
        lambda w: {},
    ),
}


def call(endpoint: Endpoint, user: Any, url: str, world: World) -> Any:
    """Call `endpoint` as `user`, then undo whatever it wrote (a savepoint rolled back), so
    the next caller meets the same world."""
    body = endpoint.body(world) if endpoint.body else None
    with transaction.atomic():
        response = getattr(bearer_client(user), endpoint.method)(url, body, format="json")
        transaction.set_rollback(True)
    return response


EXPECTED_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}


@pytest.mark.parametrize("name", ENDPOINTS)
def test_each_role_gets_the_answer_its_role_allows(
    name: str, world: World, request: pytest.FixtureRequest
) -> None:
    endpoint = ENDPOINTS[name]
    answers = {}
    for role in ROLES:
        user = None if role == "anonymous" else request.getfixturevalue(role)
        response = call(endpoint, user, endpoint.url(world), world)
        code = response.json()["error"]["code"] if response.status_code >= 400 else None
        answers[role] = (response.status_code, code)
    expected = {
        role: (status, EXPECTED_CODES.get(status) if status >= 400 else None)
        for role, status in zip(ROLES, endpoint.statuses, strict=True)
    }
    assert answers == expected


class _Anything:
    """Stands in for a World: every object's public id is ID, to see which paths carry one."""

    ID = "00000000-0000-0000-0000-000000000000"
    public_id = ID

    def __getattr__(self, name: str) -> Any:
        return self


# Endpoints that name an object of the school in their URL.
OBJECT_ENDPOINTS = [
    name
    for name, endpoint in ENDPOINTS.items()
    if _Anything.ID in endpoint.path(_Anything())  # type: ignore[arg-type]  # any World will do
]


def test_another_schools_ids_are_not_found_even_for_this_schools_admin(
    world: World, other_world: World, school_admin: Any
) -> None:
    answers = {}
    for name in OBJECT_ENDPOINTS:
        endpoint = ENDPOINTS[name]
        # Hilltop's object ids, in a Riverside URL, asked by Riverside's school admin.
        url = endpoint.url(other_world, slug=world.school.slug)
        response = call(endpoint, school_admin, url, world)
        answers[name] = (response.status_code, response.json()["error"]["code"])
    assert len(OBJECT_ENDPOINTS) > 25
    assert answers == {name: (404, "not_found") for name in OBJECT_ENDPOINTS}


def test_an_unknown_school_and_a_school_you_are_not_in_look_the_same(
    world: World, outsider: Any
) -> None:
    client = bearer_client(outsider)
    missing = client.get(school_url("no-such-school", "lessons"))
    not_mine = client.get(school_url(world.school.slug, "lessons"))
    assert missing.status_code == not_mine.status_code == 404
    assert missing.json() == not_mine.json()


def test_a_member_of_both_schools_sees_each_schools_lessons_under_its_own_slug(
    world: World, other_world: World, both_schools_user: Any
) -> None:
    client = bearer_client(both_schools_user)
    riverside = client.get(school_url("riverside", "teaching/lessons")).json()
    hilltop = client.get(school_url("hilltop", "teaching/lessons")).json()
    assert [lesson["id"] for lesson in riverside["results"]] == [str(world.lesson.public_id)]
    assert [lesson["id"] for lesson in hilltop["results"]] == [str(other_world.lesson.public_id)]
