"""axe-core (through axe-playwright-python) checks every page of every role, in English and
Simplified Chinese, at desktop (1280 px) and phone (390 px) width, against the WCAG 2.1 A
and AA rules.

The page list is not written by hand: the URL configuration is walked (as
tests/test_tenant_isolation.py does) and every route is opened by every role with the Django
test client. Whatever answers a full HTML page is checked in the browser; actions (405 to a
GET), fragments and streams count as covered. A route that no role can open, or whose URL
cannot be filled in, fails the walk: add an example for it to `EXAMPLES` or `examples`.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.services import invitation_create
from accounts.tenancy import school_context
from tests.browser.conftest import DESKTOP, PHONE, TIMEOUT_MS, login
from tests.factories import membership_of
from tests.test_tenant_isolation import victim_ids  # noqa: F401 - a fixture, used by name

pytestmark = pytest.mark.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LANGUAGES = ("en", "zh-hans")
WIDTHS = {"1280": DESKTOP, "390": PHONE}
PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
# Not pages of the site: probes, the operator's Django admin, the API (its own test suite),
# the language switch (a POST) and static files.
NOT_PAGES = ("healthz", "readyz", "operator/", "api/", "i18n/", "^static/")


def _routes(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, bool]]:
    """(route, is the view async): async views are the live streams (SSE), which the
    synchronous test client cannot open next to Playwright's event loop; the streaming
    tests cover them."""
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, inspect.iscoroutinefunction(pattern.callback)


ROUTES = sorted(
    route
    for route, is_async in _routes(get_resolver())
    if not route.startswith(NOT_PAGES) and not is_async
)


@pytest.fixture
def examples(victim_ids, school, school_admin, other_student) -> dict[str, Any]:  # noqa: F811
    """A real value for every URL parameter: the tenant-isolation fixture's objects, plus a
    live invitation token and a valid password-reset link (for a user who never signs in
    here, so the link stays valid)."""
    with school_context(school):
        issued = invitation_create(
            actor=membership_of(school, school_admin), email="new2@riverside.test", role="teacher"
        )
    return {
        **victim_ids,
        "school_slug": school.slug,
        "token": issued.token,
        "uidb64": urlsafe_base64_encode(force_bytes(other_student.pk)),
        "reset_token": default_token_generator.make_token(other_student),
    }


def _url(route: str, ids: dict[str, Any]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group("name")
        if name == "token" and "uidb64" in route:
            name = "reset_token"
        if name not in ids:
            raise KeyError(name)
        return str(ids[name])

    return "/" + PARAM.sub(fill, route)


def _walk(users: dict[str, Any], ids: dict[str, Any]) -> tuple[dict[str, list[str]], list[str]]:
    """Open every route as every role: each role's full HTML pages (by the URL the browser
    ends on) and the routes nobody could open or fill in."""
    pages: dict[str, list[str]] = {role: [] for role in users}
    problems: list[str] = []
    for route in ROUTES:
        try:
            url = _url(route, ids)
        except KeyError as missing:
            problems.append(f"{route}: no example for <{missing.args[0]}>; add one to `examples`")
            continue
        covered = False
        for role, user in users.items():
            client = Client()
            if user is not None:
                client.force_login(user)
            response = client.get(url, follow=True)
            if response.status_code == 405:
                covered = True  # an action: its pages are the ones that show its form
                continue
            if response.status_code != 200:
                continue
            covered = True
            if not response.get("Content-Type", "").startswith("text/html"):
                continue  # a stream, a download
            if b"<html" not in response.content[:500]:
                continue  # a fragment (htmx), checked inside the page that shows it
            # Where the browser ends up, without the query (a sign-in page's ?next=).
            final = response.redirect_chain[-1][0] if response.redirect_chain else url
            final = final.split("?", 1)[0]
            if final not in pages[role]:
                pages[role].append(final)
        if not covered:
            problems.append(
                f"{route} ({url}): no role gets a page; add an example to `examples` so the "
                "accessibility walk can open it"
            )
    return pages, problems


def _violations(page: Any) -> list[str]:
    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": WCAG_TAGS},
            "resultTypes": ["violations"],
        },
    )
    found = []
    for violation in results.response["violations"]:
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            found.append(f"{violation['id']} ({violation['impact']}): {target}")
    return found


def _check(context: Any, base_url: str, user: Any, language: str, urls: list[str]) -> list[str]:
    """Every URL in one browser context (one role, language and width): its violations,
    each named by rule, impact and selector, and a wrong <html lang>."""
    page = context.new_page()
    if user is not None:
        login(page, user)
    context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
    failures = []
    for url in urls:
        page.goto(url)
        lang = page.evaluate("document.documentElement.lang")
        if lang != language:
            failures.append(f"{url}: <html lang={lang!r}>, expected {language!r}")
        failures += [f"{url}: {violation}" for violation in _violations(page)]
    return failures


def test_every_page_of_every_role_has_no_wcag_violations(
    _live_suite, live_app, examples, student, teacher, school_admin
):
    users = {"student": student, "teacher": teacher, "school_admin": school_admin}
    users["anonymous"] = None
    pages, problems = _walk(users, examples)
    assert problems == [], "\n".join(problems)
    # A page two roles share (a school admin also sees the teaching pages) is checked once,
    # as the first role that reaches it.
    seen: set[str] = set()
    for role in users:
        pages[role] = [url for url in pages[role] if not (url in seen or seen.add(url))]
    failures: list[str] = []
    for role, user in users.items():
        for language in LANGUAGES:
            for width, viewport in WIDTHS.items():
                context = _live_suite.browser.new_context(
                    base_url=live_app, viewport=viewport, locale="en-US"
                )
                context.set_default_timeout(TIMEOUT_MS)
                try:
                    found = _check(context, live_app, user, language, pages[role])
                finally:
                    context.close()
                failures += [f"{role} {language} {width}px {line}" for line in found]
    checked = sum(len(urls) for urls in pages.values())
    print(f"accessibility: {checked} pages x {len(LANGUAGES) * len(WIDTHS)} combinations")
    assert checked > 30  # the walk found the pages
    assert failures == [], "\n".join(failures)


def test_a_route_the_walk_cannot_fill_in_or_open_fails_with_a_hint(monkeypatch):
    """A new page without an example fails the walk and says what to add."""
    monkeypatch.setattr(
        sys.modules[__name__],
        "ROUTES",
        ["s/<slug:school_slug>/new/<uuid:gadget_id>/", "accounts/login/"],
    )
    pages, problems = _walk({}, {"school_slug": "riverside"})
    assert problems == [
        "s/<slug:school_slug>/new/<uuid:gadget_id>/: no example for <gadget_id>; add one to "
        "`examples`",
        "accounts/login/ (/accounts/login/): no role gets a page; add an example to "
        "`examples` so the accessibility walk can open it",
    ]
