"""The teacher's API: classes and enrolment, lessons and versions, exercises with their
keys, transcripts and usage."""

from __future__ import annotations

import pytest

from accounts.tenancy import school_context
from tests.api.conftest import World, bearer_client, school_url
from tests.factories import member, membership_of, published_lesson
from tutoring.models import UsageEntry
from tutoring.services import explanations as explanation_services
from tutoring.services import lessons as lesson_services

pytestmark = pytest.mark.django_db


def url(path: str) -> str:
    return school_url("riverside", path)


# --- Classes ---------------------------------------------------------------------------------


def test_a_teacher_creates_a_class_and_teaches_it(world: World, teacher) -> None:
    client = bearer_client(teacher)
    created = client.post(url("teaching/classes"), {"name": "6C", "subject": "Maths"})
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "6C" and body["student_count"] == 0
    assert client.get(created.headers["Location"]).json()["id"] == body["id"]
    listed = client.get(url("teaching/classes")).json()
    assert [c["name"] for c in listed["results"]] == ["Class 5B", "6C"]


def test_a_class_needs_a_name(world: World, teacher) -> None:
    response = bearer_client(teacher).post(url("teaching/classes"), {"name": ""})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["name"]


def test_a_teacher_does_not_see_classes_they_do_not_teach(world: World, school) -> None:
    other_teacher = member(school, "teacher", email="otto@riverside.test")
    client = bearer_client(other_teacher)
    assert client.get(url("teaching/classes")).json()["count"] == 0
    response = client.get(url(f"teaching/classes/{world.classroom.public_id}"))
    assert response.status_code == 404


def test_enrolling_by_email_and_removing_again(world: World, teacher, other_student) -> None:
    client = bearer_client(teacher)
    roster_url = url(f"teaching/classes/{world.classroom.public_id}/students")
    enrolled = client.post(roster_url, {"email": "BOB@riverside.test"})
    assert enrolled.status_code == 201
    assert enrolled.json()["email"] == "bob@riverside.test"
    roster = client.get(roster_url).json()
    assert [s["email"] for s in roster["results"]] == ["alice@riverside.test", "bob@riverside.test"]
    assert (
        client.get(url(f"teaching/classes/{world.classroom.public_id}")).json()["student_count"]
        == 2
    )

    removed = client.delete(f"{roster_url}/{enrolled.json()['id']}")
    assert removed.status_code == 204
    assert client.get(roster_url).json()["count"] == 1


def test_enrolling_someone_outside_the_school_is_not_found(
    world: World, other_world: World, teacher
) -> None:
    response = bearer_client(teacher).post(
        url(f"teaching/classes/{world.classroom.public_id}/students"),
        {"email": "hana@hilltop.test"},
    )
    assert response.status_code == 404


def test_enrolling_needs_exactly_one_of_member_id_or_email(world: World, teacher) -> None:
    response = bearer_client(teacher).post(
        url(f"teaching/classes/{world.classroom.public_id}/students"), {}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"


# --- Lessons ---------------------------------------------------------------------------------


def test_a_lesson_is_created_as_a_draft_then_published_as_version_1(
    world: World, teacher, student
) -> None:
    client = bearer_client(teacher)
    created = client.post(
        url("teaching/lessons"),
        {
            "classroom_id": str(world.classroom.public_id),
            "title": "Decimals",
            "material": "Tenths: $0.1$",
            "answer_policy": "worked_step",
        },
    )
    assert created.status_code == 201
    lesson = created.json()
    assert lesson["status"] == "draft" and lesson["published_version"] is None
    assert lesson["answer_policy"] == "worked_step"
    assert '<span class="math inline">' in lesson["material_html"]
    student_view = bearer_client(student).get(url(f"lessons/{lesson['id']}"))
    assert student_view.status_code == 404

    published = client.post(url(f"teaching/lessons/{lesson['id']}/publish"), {})
    assert published.json()["status"] == "published"
    assert published.json()["published_version"] == 1
    assert bearer_client(student).get(url(f"lessons/{lesson['id']}")).status_code == 200

    unpublished = client.post(url(f"teaching/lessons/{lesson['id']}/unpublish"), {})
    assert unpublished.json()["status"] == "draft"


def test_a_lesson_needs_a_title_and_a_known_class(world: World, teacher) -> None:
    client = bearer_client(teacher)
    no_title = client.post(
        url("teaching/lessons"), {"classroom_id": str(world.classroom.public_id)}
    )
    assert no_title.status_code == 400
    assert list(no_title.json()["error"]["fields"]) == ["title"]
    no_class = client.post(
        url("teaching/lessons"),
        {"classroom_id": "00000000-0000-0000-0000-000000000000", "title": "X"},
    )
    assert no_class.status_code == 404


def test_editing_a_published_lesson_makes_a_new_version(world: World, teacher) -> None:
    client = bearer_client(teacher)
    path = url(f"teaching/lessons/{world.lesson.public_id}")
    edited = client.patch(path, {"material": "Better material.", "tone": "calm"})
    assert edited.status_code == 200
    assert edited.json()["material"] == "Better material."
    assert edited.json()["published_version"] == 2
    versions = client.get(f"{path}/versions").json()
    assert [v["number"] for v in versions["results"]] == [2, 1]
    assert versions["results"][0]["created_by"] == "teacher@riverside.test"


def test_an_unknown_answer_policy_is_refused(world: World, teacher) -> None:
    response = bearer_client(teacher).patch(
        url(f"teaching/lessons/{world.lesson.public_id}"), {"answer_policy": "give_it_away"}
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["answer_policy"]


# --- Exercises -------------------------------------------------------------------------------


def test_teachers_see_and_edit_answer_keys(world: World, teacher) -> None:
    client = bearer_client(teacher)
    exercises_url = url(f"teaching/lessons/{world.lesson.public_id}/exercises")
    listed = client.get(exercises_url).json()["results"]
    assert listed[0]["answer_key"] == "3/5"
    assert listed[0]["accepted_answers"] == ["three fifths"]

    created = client.post(
        exercises_url,
        {"prompt": "2/7 + 3/7?", "answer_key": "5/7", "accepted_answers": ["five sevenths"]},
    )
    assert created.status_code == 201
    assert created.json()["position"] == 1
    exercise_url = created.headers["Location"]

    patched = client.patch(exercise_url, {"answer_key": "5 / 7"})
    assert patched.json()["answer_key"] == "5 / 7"
    assert patched.json()["prompt"] == "2/7 + 3/7?"  # unchanged fields stay

    assert client.delete(exercise_url).status_code == 204
    assert client.get(exercise_url).status_code == 404


def test_an_exercise_needs_a_question_and_an_answer(world: World, teacher) -> None:
    response = bearer_client(teacher).post(
        url(f"teaching/lessons/{world.lesson.public_id}/exercises"), {"prompt": "2+2?"}
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["answer_key"]


# --- Transcripts and usage -------------------------------------------------------------------


def test_transcripts_show_the_conversation_and_what_the_tutor_was_told(
    world: World, teacher
) -> None:
    client = bearer_client(teacher)
    listed = client.get(url("teaching/transcripts")).json()
    assert listed["count"] == 1
    summary = listed["results"][0]
    assert summary["student"] == {"email": "alice@riverside.test", "full_name": "Alice Anders"}
    assert summary["explanation_count"] == 2

    detail = client.get(url(f"teaching/transcripts/{world.session.public_id}")).json()
    assert [m["content"] for m in detail["messages"]] == [
        "Why keep the denominator?",
        "And why not add them?",
    ]
    first, second = detail["explanations"]
    assert first["messages_sent"] == [{"role": "system", "content": "You are a tutor."}]
    assert first["prompt_tokens"] == 120 and first["status"] == "succeeded"
    assert second["error"]["code"] == "provider_unavailable"


def test_transcripts_filter_by_student_lesson_and_feedback(
    world: World, school, teacher, student, other_student
) -> None:
    other_lesson = published_lesson(
        school, teacher, [student, other_student], class_name="6A", title="Decimals"
    )
    with school_context(school):
        bob = membership_of(school, other_student)
        explanation_services.session_start(actor=bob, lesson=other_lesson)
        explanation_services.explanation_feedback(
            actor=membership_of(school, student), explanation=world.explanation, is_helpful=True
        )
    client = bearer_client(teacher)

    def ids(**query: str) -> list[str]:
        return [s["id"] for s in client.get(url("teaching/transcripts"), query).json()["results"]]

    alice = str(world.session.public_id)
    assert len(ids()) == 2
    assert ids(student=str(world.student_member.public_id)) == [alice]
    assert ids(lesson=str(world.lesson.public_id)) == [alice]
    assert ids(feedback="helpful") == [alice]
    assert ids(feedback="not_helpful") == []
    assert len(ids(feedback="none")) == 1
    unknown = client.get(url("teaching/transcripts"), {"student": str(world.lesson.public_id)})
    assert unknown.status_code == 400
    assert list(unknown.json()["error"]["fields"]) == ["student"]


def test_usage_has_thirty_days_with_todays_tokens(world: World, school, teacher) -> None:
    with school_context(school):
        UsageEntry.objects.create(
            school=school,
            explanation=world.explanation,
            student=world.student_member.user,
            provider="openai",
            model="gpt-4o-mini",
            prompt_tokens=120,
            completion_tokens=30,
            cost_microdollars=42,
        )
    body = bearer_client(teacher).get(url("teaching/usage")).json()
    assert len(body["days"]) == 30
    assert body["days"][-1]["tokens"] == 150
    assert body["days"][-1]["explanations"] == 2
    assert body["total_tokens"] == 150 and body["total_cost_microdollars"] == 42


# --- Query counts ----------------------------------------------------------------------------


def _classes(school, teacher, student, n: int) -> None:
    for i in range(n):
        published_lesson(school, teacher, [student], class_name=f"Class {i}", title=f"L{i}")


@pytest.mark.parametrize("n", [2, 10])
def test_teaching_lists_cost_the_same_queries_for_2_or_10(
    school, teacher, student, n, django_assert_num_queries
) -> None:
    _classes(school, teacher, student, n)
    with school_context(school):
        actor = membership_of(school, student)
        for lesson in lesson_services.Lesson.objects.all():
            explanation_services.session_start(actor=actor, lesson=lesson)
    client = bearer_client(teacher)
    for path in ("teaching/classes", "teaching/lessons", "teaching/transcripts"):
        with django_assert_num_queries(9):
            assert client.get(url(path)).json()["count"] == n


@pytest.mark.parametrize("n", [2, 10])
def test_a_roster_costs_the_same_queries_for_2_or_10(
    world: World, school, teacher, n, django_assert_num_queries
) -> None:
    with school_context(school):
        actor = membership_of(school, teacher)
        for i in range(n - 1):
            pupil = member(school, "student", email=f"pupil{i}@riverside.test")
            lesson_services.classroom_enroll(actor=actor, classroom=world.classroom, user=pupil)
    client = bearer_client(teacher)
    with django_assert_num_queries(10):
        body = client.get(url(f"teaching/classes/{world.classroom.public_id}/students")).json()
    assert body["count"] == n


@pytest.mark.parametrize("n", [2, 10])
def test_versions_and_exercises_cost_the_same_queries_for_2_or_10(
    world: World, school, teacher, n, django_assert_num_queries
) -> None:
    with school_context(school):
        actor = membership_of(school, teacher)
        for i in range(n - 1):
            lesson_services.lesson_update(actor=actor, lesson=world.lesson, tone=f"tone {i}")
            lesson_services.exercise_save(
                actor=actor, lesson=world.lesson, prompt=f"{i}+1?", answer_key=str(i + 1)
            )
    client = bearer_client(teacher)
    for path in ("versions", "exercises"):
        with django_assert_num_queries(10):
            body = client.get(url(f"teaching/lessons/{world.lesson.public_id}/{path}")).json()
        assert body["count"] == n
