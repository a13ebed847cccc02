"""The student's API: lessons (never the answers), exercises, sessions, asking, feedback."""

from __future__ import annotations

import pytest

from accounts.tenancy import school_context
from tests.api.conftest import World, bearer_client, school_url
from tests.factories import membership_of, published_lesson
from tutoring.models import Explanation, Lesson
from tutoring.services import explanations as explanation_services
from tutoring.services import lessons as lesson_services

pytestmark = pytest.mark.django_db


def url(path: str) -> str:
    return school_url("riverside", path)


# --- Lessons ---------------------------------------------------------------------------------


def test_students_see_only_published_lessons_of_their_own_classes(
    world: World, school, teacher, student, other_student
) -> None:
    published_lesson(school, teacher, [other_student], class_name="Other class", title="Not mine")
    with school_context(school):
        lesson_services.lesson_create(
            actor=membership_of(school, teacher), classroom=world.classroom, title="Draft"
        )
    body = bearer_client(student).get(url("lessons")).json()
    assert [lesson["title"] for lesson in body["results"]] == ["Fractions"]
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None


def test_lessons_can_be_filtered_by_class(world: World, school, teacher, student) -> None:
    published_lesson(school, teacher, [student], class_name="6A", title="Decimals")
    client = bearer_client(student)
    everything = client.get(url("lessons")).json()
    only_5b = client.get(url("lessons"), {"classroom": str(world.classroom.public_id)}).json()
    assert {lesson["title"] for lesson in everything["results"]} == {"Fractions", "Decimals"}
    assert [lesson["title"] for lesson in only_5b["results"]] == ["Fractions"]


def test_a_class_filter_that_is_not_an_id_is_invalid_input(world: World, student) -> None:
    response = bearer_client(student).get(url("lessons"), {"classroom": "5B"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert list(error["fields"]) == ["classroom"]


def test_lesson_detail_has_rendered_material_and_exercises_but_no_answers(
    world: World, school, teacher, student
) -> None:
    with school_context(school):
        lesson_services.exercise_save(
            actor=membership_of(school, teacher),
            lesson=world.lesson,
            exercise=world.exercise,
            prompt="What is 1/5 + 2/5?",
            answer_key="3/5",
            accepted_answers=["three fifths"],
            solution="SECRET-WORKED-SOLUTION",
        )
    response = bearer_client(student).get(url(f"lessons/{world.lesson.public_id}"))
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Fractions" and body["version"] == 1
    assert '<span class="math inline">\\(\\frac{1}{5} + \\frac{2}{5}' in body["material_html"]
    assert [exercise["prompt"] for exercise in body["exercises"]] == ["What is 1/5 + 2/5?"]
    raw = response.content.decode()
    for secret in ("3/5", "three fifths", "SECRET-WORKED-SOLUTION", "answer_key", "solution"):
        assert secret not in raw
    assert "misconceptions" not in body  # the teacher's notes for the tutor


def test_lesson_detail_answers_304_while_unchanged_and_200_after_an_edit(
    world: World, school, teacher, student
) -> None:
    client = bearer_client(student)
    path = url(f"lessons/{world.lesson.public_id}")
    first = client.get(path)
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"].endswith("GMT")

    unchanged = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["ETag"] == etag

    with school_context(school):
        lesson_services.lesson_update(
            actor=membership_of(school, teacher), lesson=world.lesson, material="New material."
        )
    changed = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["material"] == "New material." and changed.json()["version"] == 2
    assert changed.headers["ETag"] != etag


def test_a_new_exercise_changes_the_etag(world: World, school, teacher, student) -> None:
    client = bearer_client(student)
    path = url(f"lessons/{world.lesson.public_id}")
    etag = client.get(path).headers["ETag"]
    with school_context(school):
        lesson_services.exercise_save(
            actor=membership_of(school, teacher), lesson=world.lesson, prompt="2+2?", answer_key="4"
        )
    assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_an_unpublished_lesson_is_not_found_for_students(world: World, school, teacher, student):
    with school_context(school):
        lesson_services.lesson_unpublish(actor=membership_of(school, teacher), lesson=world.lesson)
    response = bearer_client(student).get(url(f"lessons/{world.lesson.public_id}"))
    assert response.status_code == 404


# --- Exercises -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "is_correct"), [("3/5", True), (" Three Fifths ", True), ("4/10", False)]
)
def test_an_answer_is_checked_on_the_server(world: World, student, answer, is_correct) -> None:
    response = bearer_client(student).post(
        url(f"exercises/{world.exercise.public_id}/attempts"), {"answer": answer}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["is_correct"] is is_correct
    assert body["exercise_id"] == str(world.exercise.public_id)
    assert "answer_key" not in body


def test_a_blank_answer_is_refused_with_the_field(world: World, student) -> None:
    response = bearer_client(student).post(
        url(f"exercises/{world.exercise.public_id}/attempts"), {"answer": " "}
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"answer": ["This field may not be blank."]}


def test_explain_my_answer_queues_an_answer_review(world: World, student) -> None:
    response = bearer_client(student).post(url(f"attempts/{world.attempt.public_id}/explain"), {})
    assert response.status_code == 202
    body = response.json()
    assert body["kind"] == "answer_review" and body["status"] == "queued"
    assert "3/10" in body["question"]
    assert response.headers["Location"].endswith(f"/explanations/{body['id']}")


def test_a_correct_answer_needs_no_explaining(world: World, student) -> None:
    client = bearer_client(student)
    attempt = client.post(url(f"exercises/{world.exercise.public_id}/attempts"), {"answer": "3/5"})
    response = client.post(url(f"attempts/{attempt.json()['id']}/explain"), {})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"


# --- Sessions and asking ---------------------------------------------------------------------


def test_starting_a_session_answers_201_with_its_location(world: World, student) -> None:
    response = bearer_client(student).post(
        url("sessions"), {"lesson_id": str(world.lesson.public_id)}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["lesson"] == {"id": str(world.lesson.public_id), "title": "Fractions"}
    assert response.headers["Location"].endswith(f"/sessions/{body['id']}")


def test_sessions_can_be_filtered_by_lesson(world: World, school, teacher, student) -> None:
    other = published_lesson(school, teacher, [student], class_name="6A", title="Decimals")
    client = bearer_client(student)
    client.post(url("sessions"), {"lesson_id": str(other.public_id)})
    everything = client.get(url("sessions")).json()
    fractions = client.get(url("sessions"), {"lesson": str(world.lesson.public_id)}).json()
    assert everything["count"] == 2
    assert [s["id"] for s in fractions["results"]] == [str(world.session.public_id)]


def test_session_detail_lists_the_conversation_in_order(world: World, student) -> None:
    body = bearer_client(student).get(url(f"sessions/{world.session.public_id}")).json()
    assert [m["content"] for m in body["messages"]] == [
        "Why keep the denominator?",
        "And why not add them?",
    ]
    assert [m["explanation_status"] for m in body["messages"]] == ["succeeded", "failed"]
    assert body["messages"][0]["explanation_id"] == str(world.explanation.public_id)


def test_asking_answers_202_with_a_queued_explanation_and_its_location(
    world: World, student
) -> None:
    client = bearer_client(student)
    response = client.post(
        url(f"sessions/{world.session.public_id}/questions"), {"question": "What is a numerator?"}
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["question"] == "What is a numerator?"
    assert body["session_id"] == str(world.session.public_id)
    polled = client.get(response.headers["Location"])
    assert polled.status_code == 200 and polled.json()["id"] == body["id"]


@pytest.mark.parametrize(
    ("question", "field_error"),
    [
        ("", "This field may not be blank."),
        ("x" * 2001, "Ensure this field has no more than 2000 characters."),
    ],
)
def test_a_bad_question_is_refused_and_nothing_is_asked(
    world: World, school, student, question, field_error
) -> None:
    response = bearer_client(student).post(
        url(f"sessions/{world.session.public_id}/questions"), {"question": question}
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_input",
        "message": "Some fields are not valid: see `fields`.",
        "fields": {"question": [field_error]},
    }
    with school_context(school):
        assert Explanation.objects.count() == 2  # the world's two, nothing new


def test_a_whitespace_question_is_refused_by_the_service_with_its_message(
    world: World, student
) -> None:
    response = bearer_client(student).post(
        url(f"sessions/{world.session.public_id}/questions"), {"question": "   \n "}
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"question": ["This field may not be blank."]}


def test_an_exhausted_budget_answers_429_budget_exhausted(world: World, school, student) -> None:
    from tutoring.services.budgets import school_settings_get

    with school_context(school):
        row = school_settings_get(school)
        row.student_daily_token_budget = 0
        row.save()
    response = bearer_client(student).post(
        url(f"sessions/{world.session.public_id}/questions"), {"question": "Why?"}
    )
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "budget_exhausted"


# --- Explanations ----------------------------------------------------------------------------


def test_a_succeeded_explanation_has_sanitized_html_usage_and_zoned_times(
    world: World, school, student
) -> None:
    with school_context(school):
        Explanation.objects.filter(pk=world.explanation.pk).update(
            content="**Bold** <script>alert(1)</script> $x^2$"
        )
    body = bearer_client(student).get(url(f"explanations/{world.explanation.public_id}")).json()
    assert body["status"] == "succeeded"
    assert "<strong>Bold</strong>" in body["content_html"]
    assert "<script>" not in body["content_html"]
    assert "&lt;script&gt;" in body["content_html"]
    assert body["usage"] == {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
    assert body["error"] is None and body["served_from_cache"] is False
    for stamp in (body["created_at"], body["finished_at"]):
        assert stamp.endswith("Z") or stamp[-6] in "+-"


def test_a_failed_explanation_says_why_and_can_be_retried(world: World, student) -> None:
    client = bearer_client(student)
    path = url(f"explanations/{world.failed_explanation.public_id}")
    failed = client.get(path).json()
    assert failed["status"] == "failed"
    assert failed["error"] == {
        "code": "provider_unavailable",
        # Known codes are shown in the reader's language, not as stored by the worker.
        "message": "The AI service is temporarily unavailable. Please try again in a moment.",
    }
    retried = client.post(f"{path}/retry", {})
    assert retried.status_code == 202
    assert retried.json()["status"] == "queued" and retried.json()["error"] is None
    assert retried.headers["Location"].endswith(path)


def test_feedback_is_recorded_and_can_be_changed(world: World, student) -> None:
    client = bearer_client(student)
    path = url(f"explanations/{world.explanation.public_id}/feedback")
    first = client.post(path, {"is_helpful": False, "comment": "Too long"})
    assert first.status_code == 200
    assert first.json()["is_helpful"] is False and first.json()["feedback_comment"] == "Too long"
    second = client.post(path, {"is_helpful": True})
    assert second.json()["is_helpful"] is True and second.json()["feedback_comment"] == ""


def test_feedback_on_an_unfinished_explanation_is_a_conflict(world: World, student) -> None:
    response = bearer_client(student).post(
        url(f"explanations/{world.failed_explanation.public_id}/feedback"), {"is_helpful": True}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_another_students_explanation_is_not_found(world: World, other_student) -> None:
    response = bearer_client(other_student).get(url(f"explanations/{world.explanation.public_id}"))
    assert response.status_code == 404


# --- Profile ---------------------------------------------------------------------------------


def test_the_profile_is_empty_at_first_and_changes_field_by_field(world: World, student) -> None:
    client = bearer_client(student)
    assert client.get(url("profile")).json() == {
        "grade": "",
        "preferred_language": "",
        "reading_level": "",
        "interests": "",
        "accommodations": "",
    }
    changed = client.patch(url("profile"), {"interests": "football", "reading_level": "middle"})
    assert changed.status_code == 200
    assert changed.json()["interests"] == "football"
    assert client.get(url("profile")).json()["reading_level"] == "middle"


def test_an_unknown_reading_level_is_refused(world: World, student) -> None:
    response = bearer_client(student).patch(url("profile"), {"reading_level": "genius"})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["reading_level"]


# --- Query counts ----------------------------------------------------------------------------


def _lessons(school, teacher, student, n: int) -> None:
    for i in range(n):
        published_lesson(school, teacher, [student], class_name=f"Class {i}", title=f"L{i}")


def _sessions(school, student, n: int) -> None:
    with school_context(school):
        actor = membership_of(school, student)
        lesson = Lesson.objects.filter(status=Lesson.Status.PUBLISHED).first()
        assert lesson is not None
        for _ in range(n):
            explanation_services.session_start(actor=actor, lesson=lesson)


@pytest.mark.parametrize("n", [2, 10])
def test_my_classes_cost_the_same_queries_for_2_or_10(
    school, teacher, student, n, django_assert_num_queries
) -> None:
    _lessons(school, teacher, student, n)
    client = bearer_client(student)
    with django_assert_num_queries(9):
        body = client.get(url("classes")).json()
    assert body["count"] == n


@pytest.mark.parametrize("n", [2, 10])
def test_lessons_cost_the_same_queries_for_2_or_10(
    school, teacher, student, n, django_assert_num_queries
) -> None:
    _lessons(school, teacher, student, n)
    client = bearer_client(student)
    with django_assert_num_queries(9):
        body = client.get(url("lessons")).json()
    assert body["count"] == n


@pytest.mark.parametrize("n", [2, 10])
def test_sessions_cost_the_same_queries_for_2_or_10(
    school, teacher, student, n, django_assert_num_queries
) -> None:
    _lessons(school, teacher, student, 1)
    _sessions(school, student, n)
    client = bearer_client(student)
    with django_assert_num_queries(9):
        body = client.get(url("sessions")).json()
    assert body["count"] == n


@pytest.mark.parametrize("n", [2, 10])
def test_a_sessions_messages_cost_the_same_queries_for_2_or_10(
    world: World, school, student, n, django_assert_num_queries
) -> None:
    with school_context(school):
        actor = membership_of(school, student)
        session = explanation_services.session_start(actor=actor, lesson=world.lesson)
        for i in range(n):
            explanation_services.explanation_request(
                actor=actor, session=session, question=f"Question {i}?"
            )
    client = bearer_client(student)
    with django_assert_num_queries(9):
        body = client.get(url(f"sessions/{session.public_id}")).json()
    assert len(body["messages"]) == n
