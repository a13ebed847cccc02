"""Keyboard-only journeys: no clicks, no fills, only keyboard.press and keyboard.type.

A student asks the tutor a question, answers an exercise and asks for an explanation of a
wrong answer; a teacher records a safety review decision. Along the way: the streaming
answer is a polite live region, busy while it streams, and after asking, focus is back in
the question box (the chosen pattern: the answer is announced, focus never jumps away).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.tenancy import school_context
from tests.browser.conftest import _use_a_hash_the_server_accepts
from tests.factories import TEST_PASSWORD, published_lesson
from tests.test_tenant_isolation import victim_ids  # noqa: F401 - a fixture, used by name
from tutoring.models.safety import ReviewItem

pytestmark = pytest.mark.browser

MAX_TABS = 80


def _focused(locator: Any) -> bool:
    return bool(locator.evaluate("element => element === document.activeElement"))


def tab_to(page: Any, locator: Any) -> None:
    """Press Tab until `locator` has the focus (fails if it never does: unreachable)."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if _focused(locator):
            return
    raise AssertionError(f"{locator} cannot be reached with the Tab key")


def keyboard_login(page: Any, user: Any) -> None:
    _use_a_hash_the_server_accepts(user)
    page.goto("/accounts/login/")
    tab_to(page, page.get_by_label("E-mail address"))
    page.keyboard.type(user.email)
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/accounts/login/" not in page.url


def test_a_student_asks_answers_and_gets_an_explanation_with_the_keyboard_only(
    browser_page, fake_llm, school, teacher, student
):
    lesson = published_lesson(school, teacher, [student])
    page = browser_page
    fake_llm.set_default(reply="Keep the denominator: $\\frac{3}{5}$.", chunk_delay=0.15)
    keyboard_login(page, student)
    page.goto(f"/s/riverside/lessons/{lesson.public_id}/")

    # Ask a question.
    box = page.get_by_label("Your question")
    tab_to(page, box)
    page.keyboard.type("Why does the denominator stay the same?")
    tab_to(page, page.get_by_role("button", name="Ask", exact=True))
    page.keyboard.press("Enter")
    card = page.locator("#chat .explanation-card").first
    live = card.locator(".explanation-live")
    # While it streams the answer is a polite live region, marked busy.
    expect(live).to_have_attribute("aria-live", "polite")
    expect(live).to_have_attribute("aria-busy", "true")
    expect(card.locator("[data-status]")).to_have_text("Answered")
    expect(card.locator(".explanation .katex").first).to_be_visible()
    # Focus is back in the (emptied) box, ready for a follow-up.
    expect(box).to_have_value("")
    expect(box).to_be_focused()

    # Answer an exercise, wrongly, then ask for an explanation.
    exercise = page.locator(".exercise").first
    tab_to(page, exercise.get_by_label("Your answer"))
    page.keyboard.type("3/10")
    page.keyboard.press("Enter")
    expect(exercise.get_by_text("Not quite")).to_be_visible()
    tab_to(page, exercise.get_by_role("button", name="Explain my answer"))
    page.keyboard.press("Enter")
    explained = exercise.locator(".explanation-card")
    expect(explained.locator(".msg-student")).to_contain_text("3/10")
    expect(explained.locator("[data-status]")).to_have_text("Answered")
    assert page.console_errors == []


def test_a_teacher_records_a_review_decision_with_the_keyboard_only(
    browser_page,
    school,
    teacher,
    victim_ids,  # noqa: F811
):
    page = browser_page
    keyboard_login(page, teacher)
    page.goto(f"/s/riverside/safety/review/{victim_ids['item_id']}/")
    # The first radio of the group takes the focus; the arrow keys move the choice.
    first = page.get_by_role("radio").first
    tab_to(page, first)
    page.keyboard.press("Space")
    expect(first).to_be_checked()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    escalate = page.get_by_role("radio", name="Escalate: tell the school's safety contacts now")
    expect(escalate).to_be_checked()
    tab_to(page, page.get_by_label("Note"))
    page.keyboard.type("Talked to the student.")
    tab_to(page, page.get_by_role("button", name="Save decision"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    with school_context(school):
        item = ReviewItem.objects.get(public_id=victim_ids["item_id"])
    assert item.status == "escalated" and item.decision_note == "Talked to the student."
    assert page.console_errors == []


FOCUS_RING = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) { return null; }
  const style = getComputedStyle(element);
  const ring = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  return {ring, name: element.tagName + (element.id ? "#" + element.id : "") + " " +
          (element.textContent || element.getAttribute("aria-label") || "").trim().slice(0, 30)};
}"""


@pytest.mark.parametrize("role", ["student", "school_admin"])
def test_every_tab_stop_shows_a_focus_ring(
    browser_page, school, teacher, student, school_admin, role
):
    """Tab through a whole page: each element that takes the focus draws a visible outline
    (the :focus-visible rule), none hides it."""
    lesson = published_lesson(school, teacher, [student])
    user = {"student": student, "school_admin": school_admin}[role]
    page = browser_page
    keyboard_login(page, user)
    url = (
        f"/s/riverside/lessons/{lesson.public_id}/"
        if role == "student"
        else "/s/riverside/admin/members/"
    )
    page.goto(url)
    seen, missing = 0, []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUS_RING)
        if focused is None:
            break  # past the last tab stop
        seen += 1
        if not focused["ring"]:
            missing.append(focused["name"])
    assert seen > 5
    assert missing == []
