"""The lesson page's rough edges: a long question is counted, never cut; the way to the
tutor stays on screen on a long lesson; the header stays compact on a phone."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.tenancy import school_context
from tests.browser.conftest import DESKTOP, PHONE, login
from tests.factories import published_lesson
from tutoring.models import Explanation

pytestmark = pytest.mark.browser


@pytest.fixture
def lesson(school, teacher, student):
    return published_lesson(school, teacher, [student])


def test_a_long_question_is_counted_and_refused_never_cut(browser_page, school, student, lesson):
    page = browser_page
    login(page, student)
    page.goto(f"/s/riverside/lessons/{lesson.public_id}/")
    box = page.get_by_label("Your question")
    counter = page.locator("#question-count")
    # Without script it reads "At most 2000 characters"; the script counts from the start.
    expect(counter).to_have_text("0 of 2000 characters")
    box.fill("Why? " * 401)  # 2,005 characters
    expect(box).to_have_value("Why? " * 401)  # nothing cut
    expect(counter).to_have_text("2005 of 2000 characters")
    expect(page.locator("#question-too-long")).to_have_text(
        "Your question is too long: shorten it to at most 2000 characters."
    )
    expect(box).to_have_attribute("aria-invalid", "true")
    # Sent anyway: the server refuses it with the form's message and keeps the text.
    page.get_by_role("button", name="Ask", exact=True).click()
    expect(page.locator("#ask-errors")).to_contain_text("Your question is too long")
    expect(box).to_have_value("Why? " * 401)
    with school_context(school):
        assert not Explanation.objects.exists()

    box.fill("Why does the denominator stay the same?")
    expect(counter).to_have_text("39 of 2000 characters")
    expect(page.locator("#question-too-long")).to_have_text("")
    expect(box).not_to_have_attribute("aria-invalid", "true")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_the_ask_box_stays_within_reach_on_a_long_lesson(
    browser_page, school, teacher, student, viewport
):
    long = "\n\n".join(f"Paragraph {n}: fractions are parts of a whole." for n in range(150))
    lesson = published_lesson(school, teacher, [student], material=long)
    page = browser_page
    page.set_viewport_size(viewport)
    login(page, student)
    page.goto(f"/s/riverside/lessons/{lesson.public_id}/")
    expect(page.get_by_text("Paragraph 149")).to_be_attached()
    page.get_by_text("Paragraph 60:").scroll_into_view_if_needed()
    jump = page.get_by_role("link", name="Ask the tutor")
    assert _in_viewport(page, jump), "the link to the tutor is off screen mid-lesson"
    jump.focus()
    page.keyboard.press("Enter")
    box = page.get_by_label("Your question")
    page.wait_for_function(
        "document.getElementById('tutor').getBoundingClientRect().top < window.innerHeight"
    )
    assert _in_viewport(page, box)


def _in_viewport(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_on_a_phone_the_header_is_one_row_with_a_menu_that_opens_by_keyboard(
    browser_page, school_admin
):
    page = browser_page
    login(page, school_admin)  # the role with the most menu items
    page.set_viewport_size(PHONE)
    page.goto("/s/riverside/admin/settings/")
    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["height"] < 80, header
    menu = page.locator(".nav-compact > summary")
    expect(menu).to_have_text("Menu")
    members = page.locator(".nav-compact").get_by_role("link", name="Members")
    expect(members).to_be_hidden()
    menu.focus()
    page.keyboard.press("Enter")
    expect(members).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.set_viewport_size(DESKTOP)
    expect(menu).to_be_hidden()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Members")
    ).to_be_visible()
