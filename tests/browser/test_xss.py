"""Whatever the model (or a student) writes, the page never runs it: it is shown as text."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.factories import published_lesson

pytestmark = pytest.mark.browser

HOSTILE_ANSWER = (
    "Here is a trick.\n\n"
    "<script>window.__xss=1</script>\n\n"
    'Look: <img src=x onerror="window.__xss=2"> and '
    "[click](javascript:window.__xss=3) and "
    '<iframe src="javascript:window.__xss=4"></iframe>\n\n'
    "Still math: $\\frac{1}{2}$"
)
HOSTILE_QUESTION = '<img src=x onerror="window.__xss=5">What is <b>this</b>?'


def test_hostile_model_output_and_question_are_shown_as_text_and_never_run(
    browser_page, fake_llm, school, teacher, student
):
    lesson = published_lesson(school, teacher, [student])
    fake_llm.set_default(reply=HOSTILE_ANSWER, chunk_delay=0.02)
    page = browser_page
    login(page, student)
    page.goto(f"/s/riverside/lessons/{lesson.public_id}/")
    page.get_by_label("Your question").fill(HOSTILE_QUESTION)
    page.get_by_role("button", name="Ask", exact=True).click()

    card = page.locator("#chat .explanation-card").first
    expect(card.locator("[data-status]")).to_have_text("Answered")
    answer = card.locator(".explanation")
    expect(answer.locator(".katex")).to_be_visible()

    expect(answer).to_contain_text("<script>window.__xss=1</script>")
    expect(answer).to_contain_text('<img src=x onerror="window.__xss=2">')
    expect(answer).to_contain_text('<iframe src="javascript:window.__xss=4"></iframe>')
    expect(card.locator(".msg-student")).to_contain_text(HOSTILE_QUESTION)
    assert card.locator("script, img, iframe").count() == 0
    assert card.locator("a[href^='javascript']").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"

    # The same answer again, from the stored row (a reload renders it on the server).
    page.reload()
    expect(page.locator("#chat .explanation .katex")).to_be_visible()
    assert page.locator("#chat script, #chat img, #chat iframe").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
    # Nothing was refused by the CSP either: our own pages never need an exception.
    assert page.console_errors == []
