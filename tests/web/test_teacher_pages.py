"""Teacher pages: classes, lessons, previews, transcripts and usage, as a teacher sees them."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from accounts.tenancy import school_context
from tests.factories import TEST_PASSWORD, member, membership_of, published_lesson
from tutoring.models import (
    Classroom,
    ClassroomMember,
    Exercise,
    Explanation,
    Lesson,
    LessonVersion,
    TutoringSession,
    UsageEntry,
)
from tutoring.services import explanations as explanation_services
from tutoring.services import lessons as lesson_services

pytestmark = pytest.mark.django_db

BASE = "/s/riverside/teach/"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")


def login(client, user):
    assert client.login(email=user.email, password=TEST_PASSWORD)
    return client


def page(response) -> str:
    return response.content.decode()


def ask(school, user, lesson, question="How do I add fractions?", session=None):
    """A student's question, queued as the web page would queue it."""
    with school_context(school):
        actor = membership_of(school, user)
        session = session or explanation_services.session_start(actor=actor, lesson=lesson)
        return explanation_services.explanation_request(
            actor=actor, session=session, question=question
        )


def answer(
    school, explanation, content="Add the **numerators**: $\\frac{3}{5}$.", tokens=(120, 40)
):
    """What the worker writes when it finishes (services/generation.py), without a worker."""
    with school_context(school):
        Explanation.objects.filter(pk=explanation.pk).update(
            status=Explanation.Status.SUCCEEDED,
            content=content,
            provider="offline",
            model="offline-v1",
            prompt_version="p7",
            messages_sent=[
                {
                    "role": "system",
                    "content": "You are a patient tutor. <b>Stay in the lesson.</b>",
                },
                {"role": "user", "content": explanation.question},
            ],
            prompt_tokens=tokens[0],
            completion_tokens=tokens[1],
            cost_microdollars=2500,
            finished_at=timezone.now(),
        )
        UsageEntry.objects.create(
            school=school,
            explanation=explanation,
            student_id=None if explanation.is_preview else explanation.student_id,
            is_preview=explanation.is_preview,
            provider="offline",
            model="offline-v1",
            prompt_tokens=tokens[0],
            completion_tokens=tokens[1],
            cost_microdollars=2500,
        )
        explanation.refresh_from_db()
    return explanation


def loaded(lesson):
    """The lesson with its class and version loaded (RLS hides them outside a context)."""
    with school_context(lesson.school_id):
        return Lesson.objects.select_related("classroom", "published_version").get(pk=lesson.pk)


@pytest.fixture
def lesson(school, teacher, student, other_student):
    return loaded(published_lesson(school, teacher, [student, other_student]))


@pytest.fixture
def other_teacher(school):
    return member(school, "teacher", email="otto@riverside.test", full_name="Otto Other")


def teacher_urls(lesson, session_id=None, preview_id=None):
    with school_context(lesson.school):
        lesson = Lesson.objects.select_related("classroom").get(pk=lesson.pk)
        exercise = Exercise.objects.filter(lesson=lesson).first()
        enrolled = ClassroomMember.objects.filter(
            classroom=lesson.classroom, role="student"
        ).first()
    c, lid, x = lesson.classroom.public_id, lesson.public_id, exercise.public_id
    urls = {
        "GET": [
            BASE,
            f"{BASE}classes/",
            f"{BASE}classes/{c}/",
            f"{BASE}lessons/",
            f"{BASE}lessons/new/",
            f"{BASE}lessons/{lid}/",
            f"{BASE}lessons/{lid}/versions/",
            f"{BASE}lessons/{lid}/versions/1/",
            f"{BASE}lessons/{lid}/exercises/new/",
            f"{BASE}lessons/{lid}/exercises/{x}/",
            f"{BASE}lessons/{lid}/try/",
            f"{BASE}transcripts/",
            f"{BASE}usage/",
        ],
        "POST": [
            f"{BASE}classes/",
            f"{BASE}classes/{c}/",
            f"{BASE}classes/{c}/students/{enrolled.public_id}/remove/",
            f"{BASE}lessons/new/",
            f"{BASE}lessons/markdown-preview/",
            f"{BASE}lessons/{lid}/",
            f"{BASE}lessons/{lid}/publish/",
            f"{BASE}lessons/{lid}/unpublish/",
            f"{BASE}lessons/{lid}/exercises/new/",
            f"{BASE}lessons/{lid}/exercises/{x}/",
            f"{BASE}lessons/{lid}/exercises/{x}/delete/",
            f"{BASE}lessons/{lid}/try/",
        ],
    }
    if session_id:
        urls["GET"].append(f"{BASE}transcripts/{session_id}/")
    if preview_id:
        urls["GET"].append(f"{BASE}previews/{preview_id}/")
        urls["POST"].append(f"{BASE}previews/{preview_id}/")
    return urls


def start_preview(school, teacher, lesson, **profile):
    with school_context(school):
        return explanation_services.session_start(
            actor=membership_of(school, teacher), lesson=lesson, preview_profile=profile
        )


# --- Permissions --------------------------------------------------------------------------


def test_a_student_gets_403_on_every_teacher_page(client, school, teacher, student, lesson):
    session = ask(school, student, lesson).session
    preview = start_preview(school, teacher, lesson)
    login(client, student)
    urls = teacher_urls(lesson, session.public_id, preview.public_id)
    for url in urls["GET"]:
        assert client.get(url).status_code == 403, url
    for url in urls["POST"]:
        assert client.post(url, {"title": "Hacked", "name": "X"}).status_code == 403, url
    with school_context(school):
        assert not Lesson.objects.filter(title="Hacked").exists()
        assert Exercise.objects.filter(lesson=lesson).count() == 1


def test_an_admin_of_another_school_gets_404_on_every_url_with_this_schools_ids(
    client, school, teacher, student, lesson, outsider
):
    session = ask(school, student, lesson).session
    preview = start_preview(school, teacher, lesson)
    login(client, outsider)
    urls = teacher_urls(lesson, session.public_id, preview.public_id)
    for url in urls["GET"]:
        assert client.get(url).status_code == 404, url
    for url in urls["POST"]:
        assert client.post(url, {"title": "Hacked"}).status_code == 404, url
    # This school's ids under the outsider's own school (where they are an admin): not found.
    assert len([u for u in urls["GET"] + urls["POST"] if UUID.search(u)]) >= 15
    for url in urls["GET"]:
        if UUID.search(url):
            assert client.get(url.replace("/riverside/", "/hilltop/")).status_code == 404, url
    for url in urls["POST"]:
        if UUID.search(url):
            foreign = url.replace("/riverside/", "/hilltop/")
            assert client.post(foreign, {"title": "Hacked"}).status_code == 404, url
    with school_context(school):
        assert not Lesson.objects.filter(title="Hacked").exists()


def test_a_teacher_of_another_class_cannot_see_this_class_or_its_lessons_and_transcripts(
    client, school, teacher, student, lesson, other_teacher
):
    session = ask(school, student, lesson).session
    preview = start_preview(school, teacher, lesson)
    login(client, other_teacher)
    urls = teacher_urls(lesson, session.public_id, preview.public_id)
    own_pages = {
        BASE,
        f"{BASE}classes/",
        f"{BASE}lessons/",
        f"{BASE}lessons/new/",
        f"{BASE}transcripts/",
        f"{BASE}usage/",
    }
    for url in urls["GET"]:
        expected = 200 if url in own_pages else 404
        assert client.get(url).status_code == expected, url
    listing = page(client.get(f"{BASE}transcripts/"))
    assert "Alice Anders" not in listing and "No sessions yet" in listing
    assert "Fractions" not in page(client.get(f"{BASE}lessons/"))
    assert client.post(f"{BASE}lessons/{lesson.public_id}/", {"title": "Mine"}).status_code == 404
    with school_context(school):
        assert Lesson.objects.get(pk=lesson.pk).title == "Fractions"


def test_anonymous_visitors_are_sent_to_sign_in(client, lesson):
    response = client.get(f"{BASE}lessons/{lesson.public_id}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_school_admin_may_use_the_teacher_pages_for_any_class(client, school_admin, lesson):
    login(client, school_admin)
    assert "Fractions" in page(client.get(f"{BASE}lessons/{lesson.public_id}/"))
    assert "Class 5B" in page(client.get(f"{BASE}classes/"))


# --- Dashboard and classes ------------------------------------------------------------------


def test_dashboard_shows_my_classes_with_student_counts_and_recent_questions(
    client, school, teacher, student, lesson
):
    ask(school, student, lesson, question="Why keep the denominator?")
    body = page(login(client, teacher).get(BASE))
    assert "Class 5B" in body and "2 students" in body
    assert "Why keep the denominator?" in body and "Alice Anders" in body
    assert "Flagged messages" in body


def test_dashboard_without_classes_says_what_to_do_next(client, teacher):
    body = page(login(client, teacher).get(BASE))
    assert "You have no classes yet" in body and "Create a class" in body


def test_teacher_creates_a_class_and_lands_on_its_page(client, school, teacher):
    response = login(client, teacher).post(
        f"{BASE}classes/", {"name": "Algebra 7", "subject": "Maths"}
    )
    with school_context(school):
        classroom = Classroom.objects.get(name="Algebra 7")
        assert ClassroomMember.objects.filter(
            classroom=classroom, user=teacher, role="teacher"
        ).exists()
    assert response["Location"] == f"{BASE}classes/{classroom.public_id}/"
    assert "Algebra 7" in page(client.get(response["Location"]))


def test_a_class_without_a_name_is_refused_with_a_form_error(client, school, teacher):
    response = login(client, teacher).post(f"{BASE}classes/", {"name": "  ", "subject": "x"})
    assert response.status_code == 400
    assert "field-error" in page(response)
    with school_context(school):
        assert not Classroom.objects.exists()


def test_enrolling_offers_only_students_not_yet_in_the_class(
    client, school, teacher, student, other_student, school_admin
):
    with school_context(school):
        classroom = lesson_services.classroom_create(
            actor=membership_of(school, teacher), name="7A"
        )
        lesson_services.classroom_enroll(
            actor=membership_of(school, teacher), classroom=classroom, user=student
        )
    url = f"{BASE}classes/{classroom.public_id}/"
    body = page(login(client, teacher).get(url))
    options = re.findall(r"<option value=\"[^\"]+\">([^<]+)</option>", body)
    assert options == ["Bob Brown (bob@riverside.test)"]

    with school_context(school):
        bob = membership_of(school, other_student)
    response = client.post(url, {"student": str(bob.public_id)})
    assert response.status_code == 302
    body = page(client.get(url))
    assert "Bob Brown" in body and "Alice Anders" in body
    assert "Every student of the school is already in this class" in body


def test_enrolling_someone_who_is_not_an_enrollable_student_is_refused(
    client, school, teacher, school_admin, outsider, other_school
):
    with school_context(school):
        classroom = lesson_services.classroom_create(
            actor=membership_of(school, teacher), name="7A"
        )
        admin_membership = membership_of(school, school_admin)
    with school_context(other_school):
        foreign = membership_of(other_school, outsider)
    url = f"{BASE}classes/{classroom.public_id}/"
    login(client, teacher)
    for value in (str(admin_membership.public_id), str(foreign.public_id), "nonsense"):
        response = client.post(url, {"student": value})
        assert response.status_code == 400
        assert "Choose a student of this school." in page(response)
    with school_context(school):
        assert ClassroomMember.objects.filter(classroom=classroom).count() == 1


def test_class_page_shows_who_is_active_and_removes_a_student(
    client, school, teacher, student, other_student, lesson
):
    ask(school, student, lesson)
    url = f"{BASE}classes/{lesson.classroom.public_id}/"
    body = page(login(client, teacher).get(url))
    alice_row = body[body.index("Alice Anders") : body.index("Bob Brown")]
    assert "<time" in alice_row
    bob_row = body[body.index("Bob Brown") :]
    assert "Not yet" in bob_row[:600]

    with school_context(school):
        bob = ClassroomMember.objects.get(classroom=lesson.classroom, user=other_student)
    response = client.post(f"{url}students/{bob.public_id}/remove/")
    assert response.status_code == 302
    body = page(client.get(url))
    assert "Bob Brown was removed from this class." in body
    roster = body.split('id="students-heading"')[1].split('id="enroll-heading"')[0]
    assert "Alice Anders" in roster and "Bob Brown" not in roster
    with school_context(school):
        assert not ClassroomMember.objects.filter(pk=bob.pk).exists()


def test_the_remove_button_cannot_remove_a_teacher_or_someone_from_another_class(
    client, school, teacher, lesson
):
    other = loaded(published_lesson(school, teacher, class_name="Class 6C"))
    with school_context(school):
        teacher_row = ClassroomMember.objects.get(classroom=lesson.classroom, user=teacher)
        alice = ClassroomMember.objects.filter(classroom=lesson.classroom, role="student").first()
    login(client, teacher)
    base = f"{BASE}classes/{lesson.classroom.public_id}/students/"
    assert client.post(f"{base}{teacher_row.public_id}/remove/").status_code == 404
    foreign = f"{BASE}classes/{other.classroom.public_id}/students/{alice.public_id}/remove/"
    assert client.post(foreign).status_code == 404
    with school_context(school):
        assert ClassroomMember.objects.filter(pk__in=[teacher_row.pk, alice.pk]).count() == 2


def test_class_list_and_class_page_cost_a_fixed_number_of_queries(
    client, school, teacher, student, other_student, django_assert_num_queries
):
    lesson = loaded(published_lesson(school, teacher, [student, other_student]))
    login(client, teacher)
    with django_assert_num_queries(10):
        client.get(f"{BASE}classes/")
    with django_assert_num_queries(14):
        client.get(f"{BASE}classes/{lesson.classroom.public_id}/")
    # More classes, students and activity: the same number of queries.
    extra = [member(school, "student", email=f"s{i}@riverside.test") for i in range(3)]
    published_lesson(school, teacher, extra, class_name="Class 6C")
    ask(school, student, lesson)
    with school_context(school):
        for user in extra:
            lesson_services.classroom_enroll(
                actor=membership_of(school, teacher), classroom=lesson.classroom, user=user
            )
    with django_assert_num_queries(10):
        client.get(f"{BASE}classes/")
    with django_assert_num_queries(14):
        client.get(f"{BASE}classes/{lesson.classroom.public_id}/")


# --- Lesson editor --------------------------------------------------------------------------


def lesson_post_data(**overrides):
    data = {
        "title": "Fractions",
        "subject": "Maths",
        "grade_band": "5",
        "objectives": "Add fractions",
        "key_concepts": "numerator",
        "material": "Keep the denominator: $\\frac{1}{5}+\\frac{2}{5}=\\frac{3}{5}$",
        "worked_examples": "Example",
        "misconceptions": "Adding denominators",
        "tone": "warm",
        "reading_level": "elementary",
        "language": "en",
        "answer_policy": "worked_step",
        "full_solution_after_tries": "2",
        "solution_released": "on",
    }
    data.update(overrides)
    return data


def test_teacher_creates_a_lesson_with_every_contract_field(client, school, teacher):
    with school_context(school):
        classroom = lesson_services.classroom_create(
            actor=membership_of(school, teacher), name="7A"
        )
    data = lesson_post_data(classroom=str(classroom.public_id), title="Ratios", language="zh-Hans")
    response = login(client, teacher).post(f"{BASE}lessons/new/", data)
    assert response.status_code == 302
    with school_context(school):
        lesson = Lesson.objects.get(title="Ratios")
    assert response["Location"] == f"{BASE}lessons/{lesson.public_id}/"
    assert lesson.classroom == classroom and lesson.status == "draft"
    assert lesson.answer_policy == "worked_step" and lesson.full_solution_after_tries == 2
    assert lesson.solution_released is True and lesson.language == "zh-hans"
    assert lesson.misconceptions == "Adding denominators" and lesson.grade_band == "5"


def test_lesson_editor_shows_every_field_and_the_rendered_material(client, school, teacher, lesson):
    body = page(login(client, teacher).get(f"{BASE}lessons/{lesson.public_id}/"))
    for name in LessonVersion.CONTRACT_FIELDS:
        assert f'name="{name}"' in body, name
    preview = body[body.index('id="material-preview"') :]
    assert 'class="math inline"' in preview[:2000]
    assert 'hx-trigger="keyup changed delay:500ms"' in body
    assert f'hx-post="{BASE}lessons/markdown-preview/"' in body


def test_bad_lesson_input_shows_form_errors_and_changes_nothing(client, school, teacher, lesson):
    login(client, teacher)
    url = f"{BASE}lessons/{lesson.public_id}/"
    for bad in (
        {"title": ""},
        {"reading_level": "postgraduate"},
        {"answer_policy": "anything"},
        {"full_solution_after_tries": "-1"},
        {"language": "not a language"},
    ):
        response = client.post(url, lesson_post_data(**bad))
        assert response.status_code == 400, bad
        assert "field-error" in page(response), bad
    with school_context(school):
        fresh = Lesson.objects.get(pk=lesson.pk)
        assert fresh.contract() == lesson.contract()
        assert LessonVersion.objects.filter(lesson=lesson).count() == 1


def test_markdown_preview_returns_sanitized_html_with_math(client, teacher):
    login(client, teacher)
    response = client.post(
        f"{BASE}lessons/markdown-preview/",
        {"material": "**Bold** $x^2$ <script>alert(1)</script>"},
    )
    body = page(response)
    assert response.status_code == 200
    assert "<strong>Bold</strong>" in body and 'class="math inline"' in body
    assert "<script>" not in body and "&lt;script&gt;" in body


def test_publishing_creates_a_version_that_the_history_shows(client, school, teacher):
    with school_context(school):
        actor = membership_of(school, teacher)
        classroom = lesson_services.classroom_create(actor=actor, name="7A")
        lesson = lesson_services.lesson_create(
            actor=actor, classroom=classroom, title="Decimals", material="0.5 = $\\frac12$"
        )
    login(client, teacher)
    history = f"{BASE}lessons/{lesson.public_id}/versions/"
    assert "Not published yet" in page(client.get(history))

    response = client.post(f"{BASE}lessons/{lesson.public_id}/publish/")
    assert response.status_code == 302
    assert "Published: students now see version 1." in page(client.get(response["Location"]))
    body = page(client.get(history))
    assert "v1" in body and "Tess Teacher" in body and "current" in body

    client.post(f"{BASE}lessons/{lesson.public_id}/", lesson_post_data(title="Decimals II"))
    body = page(client.get(history))
    assert "v2" in body and "Decimals II" in body

    version_one = page(client.get(f"{history}1/"))
    assert "Decimals" in version_one and "Decimals II" not in version_one
    assert 'class="math inline"' in version_one and "read-only" in version_one
    assert 'name="title"' not in version_one


def test_unpublishing_hides_the_lesson_and_keeps_its_versions(client, school, teacher, lesson):
    login(client, teacher).post(f"{BASE}lessons/{lesson.public_id}/unpublish/")
    with school_context(school):
        fresh = Lesson.objects.get(pk=lesson.pk)
        assert fresh.status == "draft" and fresh.published_version_id is not None
    assert "Unpublished" in page(client.get(f"{BASE}lessons/{lesson.public_id}/"))


def test_teacher_adds_edits_and_deletes_an_exercise(client, school, teacher, lesson):
    login(client, teacher)
    base = f"{BASE}lessons/{lesson.public_id}/exercises/"
    response = client.post(
        f"{base}new/",
        {
            "prompt": "What is 2/7 + 3/7?",
            "answer_key": "5/7",
            "accepted_answers": "five sevenths\n\n 10/14 \n",
            "misconception_tags": "adds denominators, , sign error",
            "solution": "Add the numerators.",
        },
    )
    assert response.status_code == 302
    with school_context(school):
        exercise = Exercise.objects.get(lesson=lesson, answer_key="5/7")
    assert exercise.accepted_answers == ["five sevenths", "10/14"]
    assert exercise.misconception_tags == ["adds denominators", "sign error"]
    assert exercise.solution == "Add the numerators."

    form = page(client.get(f"{base}{exercise.public_id}/"))
    assert "five sevenths\n10/14" in form and "adds denominators, sign error" in form

    client.post(
        f"{base}{exercise.public_id}/",
        {
            "prompt": "What is 2/7 + 4/7?",
            "answer_key": "6/7",
            "accepted_answers": "",
            "misconception_tags": "",
        },
    )
    with school_context(school):
        exercise.refresh_from_db()
    assert exercise.answer_key == "6/7" and exercise.accepted_answers == []

    editor = page(client.get(f"{BASE}lessons/{lesson.public_id}/"))
    assert "6/7" in editor

    client.post(f"{base}{exercise.public_id}/delete/")
    with school_context(school):
        assert not Exercise.objects.filter(pk=exercise.pk).exists()


def test_an_exercise_without_an_answer_is_refused_and_nothing_is_written(
    client, school, teacher, lesson
):
    response = login(client, teacher).post(
        f"{BASE}lessons/{lesson.public_id}/exercises/new/", {"prompt": "Q?", "answer_key": " "}
    )
    assert response.status_code == 400 and "field-error" in page(response)
    with school_context(school):
        assert Exercise.objects.filter(lesson=lesson).count() == 1


def test_an_exercise_of_another_lesson_is_not_found(client, school, teacher, lesson):
    other = published_lesson(school, teacher, class_name="Other class")
    with school_context(school):
        foreign = Exercise.objects.get(lesson=other)
    url = f"{BASE}lessons/{lesson.public_id}/exercises/{foreign.public_id}/"
    login(client, teacher)
    assert client.get(url).status_code == 404
    assert client.post(f"{url}delete/").status_code == 404


def test_lesson_list_costs_a_fixed_number_of_queries(
    client, school, teacher, lesson, django_assert_num_queries
):
    login(client, teacher)
    with django_assert_num_queries(10):
        body = page(client.get(f"{BASE}lessons/"))
    assert "Fractions" in body and "v1" in body
    published_lesson(school, teacher, class_name="Class 6C", title="Decimals")
    published_lesson(school, teacher, class_name="Class 7D", title="Ratios")
    with django_assert_num_queries(10):
        body = page(client.get(f"{BASE}lessons/"))
    assert "Decimals" in body and "Ratios" in body


# --- Try as a student ---------------------------------------------------------------------


def test_teacher_previews_a_lesson_as_a_chosen_student(client, school, teacher, lesson):
    login(client, teacher)
    start = page(client.get(f"{BASE}lessons/{lesson.public_id}/try/"))
    assert "Preview — not billed to a student" in start

    response = client.post(
        f"{BASE}lessons/{lesson.public_id}/try/",
        {"reading_level": "early", "language": "es", "interests": "football"},
    )
    assert response.status_code == 302
    with school_context(school):
        session = TutoringSession.objects.get(is_preview=True)
    assert session.student_id == teacher.pk
    assert session.preview_profile == {
        "reading_level": "early",
        "language": "es",
        "interests": "football",
    }

    response = client.post(response["Location"], {"question": "Why not add the bottoms?"})
    assert response.status_code == 302
    body = page(client.get(response["Location"].split("#")[0]))
    assert "Preview — not billed to a student" in body
    assert "Why not add the bottoms?" in body
    with school_context(school):
        explanation = Explanation.objects.get(session=session)
    assert explanation.is_preview
    # The student side's live card follows the answer as it is written.
    assert (
        f'data-explanation-stream="/s/riverside/explanations/{explanation.public_id}/stream"'
        in body
    )

    answer(school, explanation)
    body = page(client.get(response["Location"].split("#")[0]))
    assert "<strong>numerators</strong>" in body
    # Previews never show up as a student's transcript or in the students' counts.
    assert "Why not add the bottoms?" not in page(client.get(f"{BASE}transcripts/"))


def test_preview_with_a_bad_profile_shows_errors_and_starts_nothing(
    client, school, teacher, lesson
):
    response = login(client, teacher).post(
        f"{BASE}lessons/{lesson.public_id}/try/", {"reading_level": "phd", "language": "??"}
    )
    assert response.status_code == 400 and "field-error" in page(response)
    with school_context(school):
        assert not TutoringSession.objects.exists()


def test_a_never_published_lesson_cannot_be_previewed_yet(client, school, teacher):
    with school_context(school):
        actor = membership_of(school, teacher)
        classroom = lesson_services.classroom_create(actor=actor, name="7A")
        lesson = lesson_services.lesson_create(actor=actor, classroom=classroom, title="Draft")
    login(client, teacher)
    assert "Try as a student" not in page(client.get(f"{BASE}lessons/{lesson.public_id}/"))
    response = client.post(f"{BASE}lessons/{lesson.public_id}/try/", {})
    assert response.status_code == 400 and "not published yet" in page(response)


def test_another_teachers_preview_session_is_not_found(
    client, school, teacher, lesson, school_admin
):
    preview = start_preview(school, teacher, lesson)
    login(client, school_admin)
    assert client.get(f"{BASE}previews/{preview.public_id}/").status_code == 404


# --- Transcripts --------------------------------------------------------------------------


def test_transcript_shows_what_the_tutor_was_told_and_what_it_answered(
    client, school, teacher, student, lesson
):
    explanation = answer(school, ask(school, student, lesson, question="Is 1/5 + 2/5 = 3/10?"))
    login(client, teacher)
    listing = page(client.get(f"{BASE}transcripts/"))
    assert "Alice Anders" in listing and "Fractions" in listing
    body = page(client.get(f"{BASE}transcripts/{explanation.session.public_id}/"))
    assert "Is 1/5 + 2/5 = 3/10?" in body
    assert "<strong>numerators</strong>" in body and 'class="math inline"' in body
    # The header's phone menu is a <details> too: the tutor's one is the first bare <details>.
    start = body.index("<details>")
    details = body[start : body.index("</details>", start)]
    assert "What the tutor was told" in details
    assert "p7" in details and "offline-v1" in details and "120 / 40" in details
    assert "You are a patient tutor. &lt;b&gt;Stay in the lesson.&lt;/b&gt;" in details


def test_transcripts_filter_by_student_lesson_feedback_and_flags(
    client, school, teacher, student, other_student, lesson
):
    second = published_lesson(school, teacher, [student], class_name="Class 6C", title="Decimals")
    helpful = answer(school, ask(school, student, lesson, question="alice fractions"))
    unhelpful = answer(school, ask(school, other_student, lesson, question="bob fractions"))
    ask(school, student, second, question="alice decimals")
    with school_context(school):
        explanation_services.explanation_feedback(
            actor=membership_of(school, student), explanation=helpful, is_helpful=True
        )
        explanation_services.explanation_feedback(
            actor=membership_of(school, other_student), explanation=unhelpful, is_helpful=False
        )
        alice = membership_of(school, student)
    login(client, teacher)

    def shown(**params):
        body = page(client.get(f"{BASE}transcripts/", params))
        results = body.split('id="filter-heading"')[1].split("</form>", 1)[1]
        return {name for name in ("Alice Anders", "Bob Brown") if name in results}, results

    names, body = shown(student=str(alice.public_id))
    assert names == {"Alice Anders"} and body.count("/teach/transcripts/") == 2
    names, body = shown(lesson=str(second.public_id))
    assert names == {"Alice Anders"} and "Decimals" in body
    assert shown(feedback="helpful")[0] == {"Alice Anders"}
    assert shown(feedback="not_helpful")[0] == {"Bob Brown"}
    names, body = shown(feedback="none")
    assert names == {"Alice Anders"} and "Decimals" in body and "Class 5B" not in body
    names, body = shown(flagged="only")
    assert names == set() and "no session is flagged" in body
    response = client.get(f"{BASE}transcripts/", {"student": "not-a-member"})
    assert response.status_code == 400 and "field-error" in page(response)


def test_transcript_list_costs_a_fixed_number_of_queries(
    client, school, teacher, student, other_student, lesson, django_assert_num_queries
):
    ask(school, student, lesson)
    login(client, teacher)
    with django_assert_num_queries(13):
        client.get(f"{BASE}transcripts/")
    for user in (student, other_student):
        for question in ("one", "two"):
            answer(school, ask(school, user, lesson, question=question))
    with django_assert_num_queries(13):
        body = page(client.get(f"{BASE}transcripts/"))
    assert body.count("Bob Brown") >= 2


def test_transcript_page_costs_a_fixed_number_of_queries(
    client, school, teacher, student, lesson, django_assert_num_queries
):
    first = ask(school, student, lesson)
    login(client, teacher)
    url = f"{BASE}transcripts/{first.session.public_id}/"
    with django_assert_num_queries(11):
        client.get(url)
    for question in ("two", "three", "four"):
        answer(school, ask(school, student, lesson, question=question, session=first.session))
    with django_assert_num_queries(11):
        client.get(url)


# --- Usage --------------------------------------------------------------------------------


def test_usage_page_draws_accessible_bar_charts_and_most_asked_questions(
    client, school, teacher, student, other_student, lesson
):
    for user, question in (
        (student, "What is a fraction?"),
        (other_student, "what is a  fraction"),
        (student, "What is a FRACTION?!"),
        (other_student, "Why keep the <denominator>?"),
    ):
        answer(school, ask(school, user, lesson, question=question))
    body = page(login(client, teacher).get(f"{BASE}usage/"))
    assert body.count("<svg") == 3
    assert 'class="chart-bar"' in body and 'class="chart-axis"' in body
    assert "<title" in body and "640 tokens" in body  # today's bar: 4 x (120 + 40)
    assert "Tokens per day" in body and "Cost per day" in body and "Explanations per day" in body
    questions = body[body.index("Most asked questions") :]
    assert "Fractions" in questions
    rows = re.findall(r"<tr><td>([^<]*)</td><td class=\"num\">(\d+)</td></tr>", questions)
    assert rows[0][1] == "3" and "fraction" in rows[0][0].lower()
    assert rows[1] == ("Why keep the &lt;denominator&gt;?", "1")
    assert "<denominator>" not in body


def test_usage_page_of_a_teacher_counts_only_their_classes(
    client, school, teacher, student, other_teacher, lesson
):
    answer(school, ask(school, student, lesson))
    body = page(login(client, other_teacher).get(f"{BASE}usage/"))
    assert "160 tokens" not in body and "No questions in this period" in body


def test_usage_page_costs_a_fixed_number_of_queries(
    client, school, teacher, student, other_student, lesson, django_assert_num_queries
):
    login(client, teacher)
    with django_assert_num_queries(12):
        client.get(f"{BASE}usage/")
    second = published_lesson(school, teacher, [student], class_name="Class 6C", title="Decimals")
    for user, target in ((student, lesson), (other_student, lesson), (student, second)):
        answer(school, ask(school, user, target, question=f"q {target.title}"))
    with django_assert_num_queries(12):
        client.get(f"{BASE}usage/")


# --- Navigation -----------------------------------------------------------------------------


def test_teachers_see_their_links_in_the_school_navigation(client, teacher, student, school):
    nav = page(login(client, teacher).get(BASE)).split("</nav>")[0]
    for label in ("Classes", "Lessons", "Transcripts", "Usage"):
        assert f">{label}</a>" in nav
    assert "Settings & keys" not in nav
    client.logout()
    nav = page(login(client, student).get("/s/riverside/", follow=True)).split("</nav>")[0]
    assert ">History</a>" in nav  # the student's own navigation is there
    assert ">Transcripts</a>" not in nav and ">Usage</a>" not in nav


def test_bar_charts_escape_every_label_and_title():
    from tutoring.charts import Bar, bar_chart

    svg = bar_chart(
        [Bar(label="<b>Mon</b>", value=3, title='3 "tokens" <script>'), Bar("Tue", 0, "none")],
        chart_id="c1",
        title="Tokens & <more>",
        description="<desc>",
        max_label="<3>",
    )
    assert "<script>" not in svg and "<b>" not in svg and "<more>" not in svg
    assert "&lt;b&gt;Mon&lt;/b&gt;" in svg and "3 &quot;tokens&quot; &lt;script&gt;" in svg
    assert 'role="img" aria-labelledby="c1-title"' in svg
    assert svg.count('class="chart-bar"') == 2 and 'class="chart-value"' in svg
    empty = bar_chart([Bar("Mon", 0, "0")], chart_id="c2", title="Nothing")
    assert 'height="0"' in empty and "chart-value" not in empty
