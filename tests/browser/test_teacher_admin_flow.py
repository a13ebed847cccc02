"""A teacher and a school admin in a real browser: write a lesson with a live Markdown+math
preview, publish it, try it as a student; invite a teacher who joins through the e-mailed
link."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.tenancy import school_context
from tests.browser.conftest import LOGS, login
from tests.conftest import wait_for
from tests.factories import membership_of
from tutoring.models import Lesson, LessonVersion
from tutoring.services import lessons as lesson_services

pytestmark = pytest.mark.browser


def page_errors(page) -> list[str]:
    """Console and page errors from now on, except the browser's own /favicon.ico probe
    (the app serves no favicon: a shared gap, not this flow's)."""
    errors: list[str] = []

    def on_console(message) -> None:  # type: ignore[no-untyped-def]
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    return errors


ANSWER = "Think of a pizza cut into $5$ slices: $\\frac{1}{5} + \\frac{2}{5} = \\frac{3}{5}$."


@pytest.fixture
def draft_lesson(school, teacher, student):
    with school_context(school):
        actor = membership_of(school, teacher)
        classroom = lesson_services.classroom_create(actor=actor, name="Class 5B")
        lesson_services.classroom_enroll(actor=actor, classroom=classroom, user=student)
        return lesson_services.lesson_create(
            actor=actor, classroom=classroom, title="Adding fractions", material="Draft."
        )


def test_teacher_writes_material_sees_the_math_preview_publishes_and_tries_it_as_a_student(
    browser_page, fake_llm, school, teacher, draft_lesson
):
    page = browser_page
    errors = page_errors(page)
    fake_llm.set_default(reply=ANSWER)
    login(page, teacher)
    expect(page.get_by_role("heading", name="Teaching")).to_be_visible()
    page.get_by_role("link", name="Lessons", exact=True).first.click()
    page.get_by_role("link", name="Adding fractions").click()

    material = page.get_by_label("Material (Markdown, math with $…$)")
    material.fill("")
    # Typed like a person, so the preview follows the keystrokes (htmx, 500 ms debounce).
    material.press_sequentially("Same denominators: $\\frac{1}{5} + \\frac{2}{5}$ is **easy**.")
    preview = page.locator("#material-preview")
    expect(preview.locator(".katex").first).to_be_visible()
    expect(preview.locator("strong")).to_have_text("easy")

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("Published: students now see version 1.")).to_be_visible()
    with school_context(school):
        version = LessonVersion.objects.get(lesson=draft_lesson)
        assert "\\frac{1}{5}" in version.material
        assert Lesson.objects.get(pk=draft_lesson.pk).status == "published"

    page.get_by_role("link", name="Version history").click()
    expect(page.get_by_role("link", name="v1")).to_be_visible()
    page.go_back()

    page.get_by_role("link", name="Try as a student").click()
    expect(page.get_by_text("Preview — not billed to a student")).to_be_visible()
    page.get_by_label("Reading level").select_option("early")
    page.get_by_label("Interests").fill("pizza")
    page.get_by_role("button", name="Start the preview").click()

    page.get_by_label("Ask as the student would").fill("Why does the bottom stay 5?")
    page.get_by_role("button", name="Ask the tutor").click()
    card = page.locator(".explanation-card").first
    expect(card.locator(".msg-student")).to_contain_text("Why does the bottom stay 5?")
    expect(card.locator(".explanation")).to_contain_text("Think of a pizza")
    expect(card.locator(".explanation .katex").first).to_be_visible()
    expect(page.get_by_text("Preview — not billed to a student")).to_be_visible()
    # The pretend student's profile reached the tutor; the teacher's identity did not.
    sent = str(fake_llm.chat_requests())
    assert "pizza" in sent and teacher.email not in sent and "Tess" not in sent
    assert errors == []


def _invitation_path(email: str) -> str | None:
    """The invitation link from the e-mail the server printed (console e-mail backend)."""
    log = (LOGS / "uvicorn.log").read_text(errors="replace")
    if email not in log:
        return None
    found = re.findall(r"https?://[^\s/]+(/s/riverside/invitations/[^\s/]+/)", log)
    return found[-1] if found else None


def test_school_admin_invites_a_teacher_who_joins_through_the_emailed_link(
    browser_page, school, school_admin
):
    page = browser_page
    errors = page_errors(page)
    login(page, school_admin)
    page.get_by_role("link", name="Members").click()
    invite = page.locator("form", has=page.get_by_role("button", name="Send invitation"))
    invite.get_by_label("E-mail address").fill("nina.new@riverside.test")
    invite.get_by_label("Role").select_option("teacher")
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to nina.new@riverside.test.")).to_be_visible()
    expect(page.get_by_role("cell", name="nina.new@riverside.test")).to_be_visible()

    path = wait_for(lambda: _invitation_path("nina.new@riverside.test"), timeout=15)
    page.get_by_role("button", name="Sign out").click()

    page.goto(path)
    expect(page.get_by_role("heading", name="Join Riverside School")).to_be_visible()
    page.get_by_label("Your name").fill("Nina New")
    page.get_by_label("Password", exact=True).fill("a-long-unusual-passphrase-42")
    page.get_by_label("Password again").fill("a-long-unusual-passphrase-42")
    page.get_by_role("button", name="Accept invitation").click()

    expect(page.get_by_text("Welcome to Riverside School.")).to_be_visible()
    assert "/s/riverside/teach/" in page.url
    expect(page.get_by_role("heading", name="Teaching")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Transcripts")).to_be_visible()
    expect(nav.get_by_role("link", name="Budgets")).to_have_count(0)
    assert errors == []
    # The link is single-use.
    assert page.goto(path).status == 404
    expect(page.get_by_text("This invitation link is invalid, used or expired.")).to_be_visible()
