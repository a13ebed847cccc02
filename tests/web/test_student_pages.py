"""The student's pages through the test client: what a student sees, and what nobody else
may see."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.tenancy import school_context
from tests.factories import TEST_PASSWORD, membership_of, published_lesson
from tutoring import selectors
from tutoring.models import ExerciseAttempt, Explanation, Message, StudentProfile, TutoringSession
from tutoring.services import explanations as svc
from tutoring.services.budgets import school_settings_get

pytestmark = pytest.mark.django_db

Status = Explanation.Status
HTMX = {"HTTP_HX_REQUEST": "true"}


def login(client, user):
    assert client.login(email=user.email, password=TEST_PASSWORD)
    return client


@pytest.fixture
def lesson(school, teacher, student, other_student):
    return published_lesson(school, teacher, [student, other_student])


def ask(school, user, lesson, question="How do I add fractions?"):
    """A question asked through the services (as the page does), still queued."""
    with school_context(school):
        actor = membership_of(school, user)
        session = selectors.session_current_for_lesson(member=actor, lesson=lesson)
        session = session or svc.session_start(actor=actor, lesson=lesson)
        return svc.explanation_request(actor=actor, session=session, question=question)


def finish(school, explanation, status=Status.SUCCEEDED, **fields):
    """Move an explanation to a final state, as the worker would."""
    with school_context(school):
        Explanation.objects.filter(pk=explanation.pk).update(
            status=status, finished_at=timezone.now(), **fields
        )
        explanation.refresh_from_db()
    return explanation


def answered(school, user, lesson, question="How do I add fractions?", **fields):
    fields.setdefault("content", "Add the **numerators**: $\\frac{3}{5}$.")
    return finish(school, ask(school, user, lesson, question), **fields)


def attempt(school, user, lesson, answer="2/10"):
    from tutoring.services.lessons import exercise_attempt_submit

    with school_context(school):
        exercise = selectors.exercise_list(school=school, lesson=lesson).get()
        return exercise_attempt_submit(
            actor=membership_of(school, user), exercise=exercise, answer=answer
        )


def first_exercise(school, lesson):
    with school_context(school):
        return selectors.exercise_list(school=school, lesson=lesson).get()


def explanation_count(school):
    with school_context(school):
        return Explanation.objects.count()


# --- Every page renders for a student -----------------------------------------------------


def test_school_home_sends_a_student_to_their_lessons(client, student, lesson):
    response = login(client, student).get("/s/riverside/")
    assert response.status_code == 302
    assert response["Location"] == "/s/riverside/lessons/"


def test_dashboard_lists_the_students_classes_and_published_lessons(
    client, school, teacher, student, lesson
):
    from tutoring.services.lessons import lesson_create

    with school_context(school):
        lesson_create(
            actor=membership_of(school, teacher), classroom=lesson.classroom, title="Decimals"
        )
    page = login(client, student).get("/s/riverside/lessons/").content.decode()
    assert "Class 5B" in page
    assert f'href="/s/riverside/lessons/{lesson.public_id}/"' in page
    assert "Decimals" not in page  # a draft
    for link in ("/s/riverside/lessons/", "/s/riverside/history/", "/s/riverside/profile/"):
        assert f'href="{link}"' in page


def test_dashboard_tells_a_student_without_a_class_whom_to_ask(client, student):
    page = login(client, student).get("/s/riverside/lessons/").content.decode()
    assert "You are not in a class yet — ask your teacher to add you." in page


def test_dashboard_shows_answers_being_written_and_new_ones(client, school, student, lesson):
    ask(school, student, lesson, "What is a numerator?")
    answered(school, student, lesson, "What is a denominator?")
    page = login(client, student).get("/s/riverside/lessons/").content.decode()
    assert "What is a numerator?" in page and "Waiting for the tutor…" in page
    assert "What is a denominator?" in page and "Answered" in page


def test_lesson_page_shows_the_material_with_math_objectives_and_exercises(client, student, lesson):
    response = login(client, student).get(f"/s/riverside/lessons/{lesson.public_id}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'class="lesson-material math-render">\s*<p>To add fractions', page)
    assert (
        '<span class="math inline">\\(\\frac{1}{5} + \\frac{2}{5} = \\frac{3}{5}\\)</span>' in page
    )
    assert "Add fractions with the same denominator" in page
    assert "What is 1/5 + 2/5?" in page
    assert "Check my answer" in page
    assert 'id="ask-form"' in page
    assert "js/student.js" in page


def test_lesson_page_carries_no_inline_script_or_style(client, student, lesson):
    page = login(client, student).get(f"/s/riverside/lessons/{lesson.public_id}/").content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert " style=" not in page
    assert not re.search(r"\son[a-z]+=", page)


def test_history_and_profile_render_for_a_student(client, student, lesson):
    login(client, student)
    history = client.get("/s/riverside/history/")
    assert history.status_code == 200
    assert "You have not asked the tutor anything yet." in history.content.decode()
    profile = client.get("/s/riverside/profile/")
    assert profile.status_code == 200
    assert "Reading level" in profile.content.decode()


def test_teacher_sees_the_lesson_without_the_tutor_form(client, teacher, lesson):
    page = login(client, teacher).get(f"/s/riverside/lessons/{lesson.public_id}/").content.decode()
    assert "To add fractions" in page
    assert 'id="ask-form"' not in page
    assert "use the preview on your teaching pages" in page


def test_chinese_interface_renders_the_student_pages(client, settings, student, lesson):
    login(client, student)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    for path in (
        "/s/riverside/lessons/",
        f"/s/riverside/lessons/{lesson.public_id}/",
        "/s/riverside/history/",
        "/s/riverside/profile/",
    ):
        response = client.get(path)
        assert response.status_code == 200
        assert '<html lang="zh-hans">' in response.content.decode()


# --- Nobody else's data --------------------------------------------------------------------


@pytest.fixture
def riverside_ids(school, student, lesson):
    explanation = answered(school, student, lesson)
    return {
        "lesson": lesson.public_id,
        "exercise": first_exercise(school, lesson).public_id,
        "attempt": attempt(school, student, lesson).public_id,
        "explanation": explanation.public_id,
    }


def _student_urls(slug, ids):
    get = [
        f"/s/{slug}/lessons/{ids['lesson']}/",
        f"/s/{slug}/explanations/{ids['explanation']}/",
        f"/s/{slug}/explanations/{ids['explanation']}/poll",
        f"/s/{slug}/explanations/{ids['explanation']}/stream",
    ]
    post = [
        f"/s/{slug}/lessons/{ids['lesson']}/ask",
        f"/s/{slug}/exercises/{ids['exercise']}/attempt",
        f"/s/{slug}/attempts/{ids['attempt']}/explain",
        f"/s/{slug}/explanations/{ids['explanation']}/retry",
        f"/s/{slug}/explanations/{ids['explanation']}/feedback",
    ]
    return get, post


def test_outsider_gets_404_on_every_student_url_of_the_school(client, outsider, riverside_ids):
    login(client, outsider)
    get, post = _student_urls("riverside", riverside_ids)
    get += ["/s/riverside/lessons/", "/s/riverside/history/", "/s/riverside/profile/"]
    for url in get:
        assert client.get(url).status_code == 404, url
    for url in [*post, "/s/riverside/profile/"]:
        assert (
            client.post(url, {"question": "hi", "answer": "1", "helpful": "yes"}).status_code == 404
        ), url
    for url in post:
        assert client.post(url, {"question": "hi"}, **HTMX).status_code == 404, url


def test_outsider_gets_404_for_the_schools_ids_under_their_own_school(
    client, school, outsider, riverside_ids
):
    login(client, outsider)
    get, post = _student_urls("hilltop", riverside_ids)
    for url in get:
        assert client.get(url).status_code == 404, url
    for url in post:
        assert (
            client.post(url, {"question": "hi", "answer": "1", "helpful": "yes"}).status_code == 404
        ), url
    assert explanation_count(school) == 1


def test_student_cannot_open_another_students_explanation(
    client, school, student, other_student, lesson
):
    theirs = answered(school, other_student, lesson)
    wrong = attempt(school, other_student, lesson)
    login(client, student)
    base = f"/s/riverside/explanations/{theirs.public_id}"
    for url in (f"{base}/", f"{base}/poll", f"{base}/stream"):
        assert client.get(url).status_code == 404, url
        assert client.get(url, **HTMX).status_code == 404, url
    assert client.post(f"{base}/feedback", {"helpful": "yes"}).status_code == 404
    assert client.post(f"{base}/retry").status_code == 404
    assert client.post(f"/s/riverside/attempts/{wrong.public_id}/explain").status_code == 404
    with school_context(school):
        assert Explanation.objects.get(pk=theirs.pk).is_helpful is None


def test_student_cannot_open_a_lesson_of_a_class_they_are_not_in(
    client, school, teacher, student, other_student
):
    elsewhere = published_lesson(school, teacher, [other_student], class_name="Class 6A")
    login(client, student)
    assert client.get(f"/s/riverside/lessons/{elsewhere.public_id}/").status_code == 404
    assert (
        client.post(
            f"/s/riverside/lessons/{elsewhere.public_id}/ask", {"question": "Hi?"}
        ).status_code
        == 404
    )
    exercise = first_exercise(school, elsewhere)
    assert (
        client.post(
            f"/s/riverside/exercises/{exercise.public_id}/attempt", {"answer": "3/5"}
        ).status_code
        == 404
    )


def test_anonymous_visitor_is_sent_to_sign_in_from_the_stream(client, school, student, lesson):
    explanation = answered(school, student, lesson)
    response = client.get(f"/s/riverside/explanations/{explanation.public_id}/stream")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- Query counts --------------------------------------------------------------------------


def _with_history(school, student, lesson, n=3):
    for i in range(n):
        answered(school, student, lesson, f"Question number {i}?")


def test_dashboard_costs_a_fixed_number_of_queries(
    client, school, student, lesson, django_assert_num_queries
):
    _with_history(school, student, lesson)
    login(client, student)
    with django_assert_num_queries(13):
        assert client.get("/s/riverside/lessons/").status_code == 200
    _with_history(school, student, lesson, n=5)
    with django_assert_num_queries(13):
        assert client.get("/s/riverside/lessons/").status_code == 200


def test_lesson_page_costs_a_fixed_number_of_queries(
    client, school, student, lesson, django_assert_num_queries
):
    _with_history(school, student, lesson)
    login(client, student)
    url = f"/s/riverside/lessons/{lesson.public_id}/"
    with django_assert_num_queries(13):
        assert client.get(url).status_code == 200
    _with_history(school, student, lesson, n=5)
    with django_assert_num_queries(13):
        page = client.get(url).content.decode()
    assert page.count('class="chat explanation-card"') == 8


def test_history_costs_a_fixed_number_of_queries(
    client, school, student, lesson, django_assert_num_queries
):
    _with_history(school, student, lesson)
    login(client, student)
    with django_assert_num_queries(12):
        assert client.get("/s/riverside/history/").status_code == 200
    _with_history(school, student, lesson, n=5)
    with django_assert_num_queries(12):
        assert client.get("/s/riverside/history/?page=2").status_code == 200
    with django_assert_num_queries(11):  # a search lists no sessions
        assert client.get("/s/riverside/history/?q=question").status_code == 200


# --- Asking the tutor -----------------------------------------------------------------------


def test_asking_returns_the_card_that_follows_the_live_answer(client, school, student, lesson):
    login(client, student)
    response = client.post(
        f"/s/riverside/lessons/{lesson.public_id}/ask",
        {"question": "Why do we keep the <b>denominator</b>?"},
        **HTMX,
    )
    assert response.status_code == 200
    page = response.content.decode()
    explanation = selectors_latest(school)
    assert "Why do we keep the &lt;b&gt;denominator&lt;/b&gt;?" in page
    assert (
        f'data-explanation-stream="/s/riverside/explanations/{explanation.public_id}/stream"'
        in page
    )
    assert f'data-poll-url="/s/riverside/explanations/{explanation.public_id}/poll"' in page
    assert "Waiting for the tutor…" in page
    assert 'id="ask-errors" hx-swap-oob="innerHTML"' in page


def selectors_latest(school):
    with school_context(school):
        return Explanation.objects.order_by("-queued_at").first()


def test_follow_up_questions_continue_the_same_session(client, school, student, lesson):
    login(client, student)
    url = f"/s/riverside/lessons/{lesson.public_id}/ask"
    client.post(url, {"question": "What is a fraction?"}, **HTMX)
    client.post(url, {"question": "And a denominator?"}, **HTMX)
    with school_context(school):
        assert TutoringSession.objects.count() == 1
        assert Explanation.objects.values("session").distinct().count() == 1
    page = client.get(f"/s/riverside/lessons/{lesson.public_id}/").content.decode()
    assert page.index("What is a fraction?") < page.index("And a denominator?")


def test_a_visit_after_twelve_hours_starts_a_new_session(client, school, student, lesson):
    login(client, student)
    url = f"/s/riverside/lessons/{lesson.public_id}/ask"
    client.post(url, {"question": "What is a fraction?"}, **HTMX)
    with time_machine.travel(timezone.now() + timedelta(hours=13)):
        login(client, student)  # the sign-in itself lasts 12 hours too
        page = client.get(f"/s/riverside/lessons/{lesson.public_id}/").content.decode()
        assert "Ask the tutor" in page and "What is a fraction?" not in page
        assert client.post(url, {"question": "Back again?"}, **HTMX).status_code == 200
    with school_context(school):
        assert TutoringSession.objects.count() == 2


def test_without_javascript_asking_returns_to_the_lesson(client, school, student, lesson):
    login(client, student)
    response = client.post(
        f"/s/riverside/lessons/{lesson.public_id}/ask", {"question": "What is a fraction?"}
    )
    explanation = selectors_latest(school)
    assert response.status_code == 302
    assert response["Location"] == (
        f"/s/riverside/lessons/{lesson.public_id}/#explanation-{explanation.public_id}"
    )
    page = client.get(response["Location"]).content.decode()
    assert "What is a fraction?" in page


@pytest.mark.parametrize("htmx", [True, False])
def test_an_empty_question_shows_the_form_error_and_writes_nothing(
    client, school, student, lesson, htmx
):
    login(client, student)
    response = client.post(
        f"/s/riverside/lessons/{lesson.public_id}/ask",
        {"question": "   "},
        **(HTMX if htmx else {}),
    )
    assert response.status_code == 400
    assert "Type a question first." in response.content.decode()
    if htmx:
        assert response["HX-Retarget"] == "#ask-errors"
    with school_context(school):
        assert not Explanation.objects.exists()
        assert not TutoringSession.objects.exists()
        assert not Message.objects.exists()


def test_a_used_up_budget_says_so_and_whom_to_ask(client, school, student, lesson):
    with school_context(school):
        row = school_settings_get(school)
        row.student_daily_token_budget = 0
        row.save()
    login(client, student)
    response = client.post(
        f"/s/riverside/lessons/{lesson.public_id}/ask", {"question": "What is a fraction?"}, **HTMX
    )
    assert response.status_code == 429
    page = response.content.decode()
    assert "You have used today&#x27;s tutor budget" in page
    assert "ask your teacher" in page
    with school_context(school):
        assert not Explanation.objects.exists()
        assert not TutoringSession.objects.exists()


def test_a_teacher_cannot_ask_as_a_student(client, school, teacher, lesson):
    response = login(client, teacher).post(
        f"/s/riverside/lessons/{lesson.public_id}/ask", {"question": "Hi?"}
    )
    assert response.status_code == 403
    assert explanation_count(school) == 0


# --- One explanation: card, poll, stream, retry, feedback ------------------------------------


def test_a_finished_answer_is_rendered_with_math_and_the_cache_badge(
    client, school, student, lesson
):
    explanation = answered(school, student, lesson, served_from_cache=True)
    page = (
        login(client, student)
        .get(f"/s/riverside/explanations/{explanation.public_id}/", **HTMX)
        .content.decode()
    )
    assert "<strong>numerators</strong>" in page
    assert '<span class="math inline">\\(\\frac{3}{5}\\)</span>' in page
    assert "served from cache" in page
    assert "data-explanation-stream" not in page
    assert "Was this helpful?" in page


def test_the_card_without_htmx_is_a_page_of_its_own(client, school, student, lesson):
    explanation = answered(school, student, lesson)
    response = login(client, student).get(f"/s/riverside/explanations/{explanation.public_id}/")
    page = response.content.decode()
    assert "<html" in page and "Fractions" in page and "<strong>numerators</strong>" in page


def test_poll_returns_the_state_and_sanitized_html(client, school, student, lesson):
    queued = ask(school, student, lesson, "First?")
    done = answered(
        school, student, lesson, "Second?", content="Hi <script>alert(1)</script> $\\frac{1}{2}$"
    )
    login(client, student)
    data = client.get(f"/s/riverside/explanations/{queued.public_id}/poll").json()
    assert data["status"] == "queued" and data["html"] == "" and data["label"]
    data = client.get(f"/s/riverside/explanations/{done.public_id}/poll").json()
    assert data["status"] == "succeeded"
    assert "<script>" not in data["html"] and "&lt;script&gt;" in data["html"]
    assert '<span class="math inline">' in data["html"]
    assert data["text"].startswith("Hi <script>")
    assert data["served_from_cache"] is False


def test_stream_of_a_finished_answer_sends_done_at_once(client, school, student, lesson):
    explanation = answered(school, student, lesson)
    response = login(client, student).get(
        f"/s/riverside/explanations/{explanation.public_id}/stream"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    assert response["X-Accel-Buffering"] == "no"
    with pytest.warns(Warning, match="asynchronous iterators"):
        body = b"".join(response).decode()
    event = re.search(r"event: done\ndata: (.*)\n\n", body)
    data = json.loads(event.group(1))
    assert data["status"] == "succeeded"
    assert "<strong>numerators</strong>" in data["html"]


@pytest.mark.django_db(transaction=True)
def test_stream_without_redis_watches_the_stored_row_until_it_is_done(
    client, school, teacher, student, settings, monkeypatch
):
    from tutoring.live import sse as stream

    lesson = published_lesson(school, teacher, [student])
    explanation = ask(school, student, lesson)
    settings.REDIS_URL = ""
    monkeypatch.setattr(stream, "DATABASE_POLL_SECONDS", 0.01)
    real_open = stream.open_stream

    def open_then_finish(*args):
        start = real_open(*args)
        assert start.state["status"] == "queued"
        finish(school, explanation, content="Now it is **done**.")
        return start

    monkeypatch.setattr(stream, "open_stream", open_then_finish)
    response = login(client, student).get(
        f"/s/riverside/explanations/{explanation.public_id}/stream"
    )
    with pytest.warns(Warning, match="asynchronous iterators"):
        body = b"".join(response).decode()
    assert "event: done" in body and "<strong>done</strong>" in body


def test_a_failed_answer_shows_its_reason_and_retry_queues_it_again(
    client, school, student, lesson, django_capture_on_commit_callbacks
):
    explanation = finish(
        school,
        ask(school, student, lesson),
        status=Status.FAILED,
        error_message="The AI service is unavailable. Try again in a minute.",
    )
    login(client, student)
    page = client.get(
        f"/s/riverside/explanations/{explanation.public_id}/", **HTMX
    ).content.decode()
    assert "The AI service is unavailable. Try again in a minute." in page
    assert "Try again</button>" in page
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/s/riverside/explanations/{explanation.public_id}/retry", **HTMX)
    page = response.content.decode()
    assert "Waiting for the tutor…" in page and "data-explanation-stream" in page
    assert len(callbacks) == 1  # enqueued once the retry commits


def test_a_blocked_answer_is_explained_kindly(client, school, student, lesson):
    explanation = finish(school, ask(school, student, lesson), status=Status.BLOCKED)
    page = (
        login(client, student)
        .get(f"/s/riverside/explanations/{explanation.public_id}/", **HTMX)
        .content.decode()
    )
    assert "talk to your teacher or another adult you trust" in page


def test_feedback_is_saved_with_its_comment_and_acknowledged(client, school, student, lesson):
    explanation = answered(school, student, lesson)
    response = login(client, student).post(
        f"/s/riverside/explanations/{explanation.public_id}/feedback",
        {"helpful": "no", "comment": "Too fast for me"},
        **HTMX,
    )
    assert response.status_code == 200
    assert "Thanks for telling us." in response.content.decode()
    with school_context(school):
        row = Explanation.objects.get(pk=explanation.pk)
    assert row.is_helpful is False and row.feedback_comment == "Too fast for me"


def test_feedback_on_an_unfinished_answer_is_refused_with_a_reason(client, school, student, lesson):
    explanation = ask(school, student, lesson)
    response = login(client, student).post(
        f"/s/riverside/explanations/{explanation.public_id}/feedback", {"helpful": "yes"}, **HTMX
    )
    assert response.status_code == 409
    assert "once it is written" in response.content.decode()


# --- Exercises ------------------------------------------------------------------------------


def test_a_right_answer_is_praised(client, school, student, lesson):
    exercise = first_exercise(school, lesson)
    response = login(client, student).post(
        f"/s/riverside/exercises/{exercise.public_id}/attempt", {"answer": " 3/5 "}, **HTMX
    )
    assert response.status_code == 200
    assert "Well done!" in response.content.decode()
    assert "Explain my answer" not in response.content.decode()


def test_a_wrong_answer_offers_an_explanation_which_comes_as_a_card(
    client, school, student, lesson
):
    exercise = first_exercise(school, lesson)
    login(client, student)
    response = client.post(
        f"/s/riverside/exercises/{exercise.public_id}/attempt", {"answer": "2/10"}, **HTMX
    )
    page = response.content.decode()
    assert "Not quite" in page and "Explain my answer" in page
    with school_context(school):
        wrong = ExerciseAttempt.objects.get()
    assert f"/s/riverside/attempts/{wrong.public_id}/explain" in page
    response = client.post(f"/s/riverside/attempts/{wrong.public_id}/explain", **HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert "2/10" in page and "data-explanation-stream" in page
    with school_context(school):
        explanation = Explanation.objects.get()
    assert explanation.kind == Explanation.Kind.ANSWER_REVIEW


def test_without_javascript_an_answer_is_checked_and_the_lesson_says_so(
    client, school, student, lesson
):
    exercise = first_exercise(school, lesson)
    login(client, student)
    response = client.post(
        f"/s/riverside/exercises/{exercise.public_id}/attempt", {"answer": "3/5"}, follow=True
    )
    assert response.redirect_chain[-1][0] == (
        f"/s/riverside/lessons/{lesson.public_id}/#exercise-{exercise.public_id}"
    )
    assert "Well done! That is correct." in response.content.decode()


def test_an_empty_answer_is_refused_inline(client, school, student, lesson):
    exercise = first_exercise(school, lesson)
    response = login(client, student).post(
        f"/s/riverside/exercises/{exercise.public_id}/attempt", {"answer": ""}, **HTMX
    )
    assert response.status_code == 400
    assert "Type an answer first." in response.content.decode()
    with school_context(school):
        assert not ExerciseAttempt.objects.exists()


# --- History and profile ----------------------------------------------------------------------


def test_history_searches_and_pages_through_the_students_questions(
    client, school, student, other_student, lesson
):
    for i in range(22):
        answered(school, student, lesson, f"Question {i:02d} about fractions?")
    answered(school, student, lesson, "Something about decimals?")
    answered(school, other_student, lesson, "Bob asks about decimals?")
    login(client, student)
    first = client.get("/s/riverside/history/").content.decode()
    assert first.count('<li class="card">') == 20
    assert "Page 1 of 2" in first and "Bob asks" not in first
    second = client.get("/s/riverside/history/?page=2").content.decode()
    assert second.count('<li class="card">') == 3
    found = client.get("/s/riverside/history/?q=decimals").content.decode()
    assert "Something about decimals?" in found and "Bob asks" not in found
    assert found.count('<li class="card">') == 1
    none = client.get("/s/riverside/history/?q=zebra").content.decode()
    assert "Nothing matches “zebra”" in none


def test_profile_changes_are_saved(client, school, student):
    response = login(client, student).post(
        "/s/riverside/profile/",
        {
            "grade": "5",
            "preferred_language": "zh-hans",
            "reading_level": "elementary",
            "interests": "football",
            "accommodations": "short sentences",
        },
    )
    assert response.status_code == 302
    with school_context(school):
        profile = StudentProfile.objects.get(user=student)
    assert (profile.grade, profile.preferred_language, profile.interests) == (
        "5",
        "zh-hans",
        "football",
    )
    page = client.get("/s/riverside/profile/").content.decode()
    assert "Your profile is saved." in page and 'value="football"' in page


def test_a_bad_profile_value_is_shown_next_to_its_field(client, school, student):
    response = login(client, student).post(
        "/s/riverside/profile/", {"reading_level": "genius", "grade": "5"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'field has-error">\s*<label for="id_reading_level"', page)
    with school_context(school):
        assert not StudentProfile.objects.exists()
