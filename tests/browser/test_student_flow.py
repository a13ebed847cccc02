"""A student in a real browser: sign in, read a lesson, ask the tutor and watch the answer
arrive, get an explanation of a wrong answer, all on a phone-sized screen too."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.tenancy import school_context
from tests.browser.conftest import PHONE, login
from tests.factories import membership_of, published_lesson
from tutoring.models import Explanation
from tutoring.services import explanations as svc

pytestmark = pytest.mark.browser

ANSWER = (
    "Keep the denominator and add the numerators: one fifth plus two fifths makes "
    "three fifths, which we write as $\\frac{3}{5}$. The bottom number says how many "
    "equal parts the whole has, so it stays the same."
)


@pytest.fixture
def lesson(school, teacher, student):
    return published_lesson(school, teacher, [student])


def test_student_asks_and_watches_the_explanation_stream_in_then_sees_the_math(
    browser_page, fake_llm, student, lesson
):
    page = browser_page
    fake_llm.set_default(reply=ANSWER, chunk_delay=0.08)
    login(page, student)
    expect(page.get_by_role("heading", name="My lessons")).to_be_visible()
    page.get_by_role("link", name="Fractions").click()
    expect(page.locator(".lesson-material .katex").first).to_be_visible()

    page.get_by_label("Your question").fill("Why does the denominator stay the same?")
    page.get_by_role("button", name="Ask", exact=True).click()

    card = page.locator("#chat .explanation-card").first
    expect(card.locator(".msg-student")).to_contain_text("Why does the denominator stay the same?")
    # Streaming: part of the answer is on screen while the tutor is still writing.
    expect(card.locator(".explanation-live.is-streaming")).to_contain_text("Keep the denominator")
    # Done: the stored answer, typeset, with the feedback buttons.
    expect(card.locator(".explanation .katex")).to_be_visible()
    expect(card.locator("[data-status]")).to_have_text("Answered")
    expect(card.get_by_role("button", name="Helpful", exact=True)).to_be_visible()
    expect(page.get_by_label("Your question")).to_have_value("")
    assert page.console_errors == []

    card.get_by_role("button", name="Helpful", exact=True).click()
    expect(card.get_by_text("Thanks! You said this helped.")).to_be_visible()

    # An empty question: the error shows in the panel (the browser logs the 400 itself).
    page.get_by_role("button", name="Ask", exact=True).click()
    expect(page.locator("#ask-errors")).to_have_text("Type a question first.")
    expect(page.locator("#chat .explanation-card")).to_have_count(1)


def test_student_gets_an_explanation_of_a_wrong_answer(browser_page, fake_llm, student, lesson):
    page = browser_page
    fake_llm.set_default(reply="You added the denominators too: keep $5$ and add $1+2$.")
    login(page, student)
    page.goto(f"/s/riverside/lessons/{lesson.public_id}/")

    exercise = page.locator(".exercise").first
    exercise.get_by_label("Your answer").fill("3/10")
    exercise.get_by_role("button", name="Check my answer").click()
    expect(exercise.get_by_text("Not quite")).to_be_visible()
    exercise.get_by_role("button", name="Explain my answer").click()

    card = exercise.locator(".explanation-card")
    expect(card.locator(".msg-student")).to_contain_text("3/10")
    expect(card.locator("[data-status]")).to_have_text("Answered")
    expect(card.locator(".explanation")).to_contain_text("You added the denominators too")
    expect(card.locator(".katex").first).to_be_visible()

    exercise.get_by_label("Your answer").fill("3/5")
    exercise.get_by_role("button", name="Check my answer").click()
    expect(exercise.get_by_text("Well done!")).to_be_visible()
    assert page.console_errors == []


def test_lesson_page_has_no_sideways_scroll_on_a_phone(browser_page, school, student, lesson):
    wide = "$$" + " + ".join(f"\\frac{{{n}}}{{{n + 1}}}" for n in range(1, 30)) + "$$"
    with school_context(school):
        actor = membership_of(school, student)
        explanation = svc.explanation_request(
            actor=actor,
            session=svc.session_start(actor=actor, lesson=lesson),
            question="Can you show me a long sum? " + "fraction " * 40,
        )
        Explanation.objects.filter(pk=explanation.pk).update(
            status=Explanation.Status.SUCCEEDED,
            content=f"Here it is:\n\n{wide}\n\nAnd a long word: {'x' * 120}",
        )
    page = browser_page
    page.set_viewport_size(PHONE)
    login(page, student)
    page.goto(f"/s/riverside/lessons/{lesson.public_id}/")
    expect(page.locator("#chat .explanation .katex").first).to_be_visible()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert page.console_errors == []
