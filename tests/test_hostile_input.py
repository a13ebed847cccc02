"""Hostile input on every URL gets a 4xx in the interface's own form, and writes nothing.

The URL list is not written by hand: like test_tenant_isolation, the test walks the URL
configuration, so a page or endpoint is covered the day it is added (a new regex route
must be given an example below, or the walk fails). Every URL is fed, as the member whose
role the view requires and anonymously:

- a query string with a NUL byte (`?q=a%00b`, and every query parameter the pages and the
  OpenAPI schema know), and one with invalid UTF-8 (`%ff%fe`);
- POST (and PUT/PATCH where the view has them) bodies: one over the size limit (413), and
  for the API a JSON body nested 1,000 deep, a JSON string with a NUL and invalid UTF-8
  bytes (400); for the web pages a form with a NUL and one with invalid UTF-8 (400).

API answers are in the error envelope, web answers are the site's own page, and the row
counts of every table are the same afterwards.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import get_resolver, resolve
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Membership, User
from accounts.tenancy import cross_school
from tests import test_tenant_isolation as isolation
from tests.test_tenant_isolation import PARAM, _routes

victim_ids = isolation.victim_ids  # the fixture: one real object for every id a URL takes

# Regex routes cannot be filled from their converters: each gets a concrete example. None:
# not walked (static files are served before any view and read no input).
REGEX_ROUTE_EXAMPLES: dict[str, str | None] = {
    "operator/^(?P<app_label>auth|accounts|token_blacklist|axes)/$": "operator/accounts/",
    "operator/(?P<url>.*)$": "operator/no-such-page/",
    "api/v1/^.*$": "api/v1/no/such/endpoint",
    "^static/(?P<path>.*)$": None,
}

# Query parameters the web pages read (their filter forms and views); the API's come from
# the committed OpenAPI schema, per path.
WEB_QUERY_PARAMETERS = (
    "q", "page", "page_size", "show", "status", "action", "student", "lesson", "feedback",
    "flagged", "classroom", "last_event_id", "next",
)  # fmt: skip
# Field names the forms and serializers take: the NUL goes into every one of them.
BODY_FIELDS = (
    "question", "title", "name", "email", "password", "refresh", "answer", "message",
    "comment", "role", "lesson_id", "status", "note", "material", "objectives", "q",
)  # fmt: skip

BODY_LIMIT: int = getattr(settings, "REQUEST_BODY_MAX_BYTES", 1024 * 1024)
WRITE_METHODS = ("post", "put", "patch")


def _walked_routes() -> list[str]:
    routes = []
    for route in sorted(set(_routes(get_resolver()))):
        if "^" in route or "(?P" in route:
            assert route in REGEX_ROUTE_EXAMPLES, f"give the regex route {route!r} an example"
            example = REGEX_ROUTE_EXAMPLES[route]
            if example is not None:
                routes.append(example)
        else:
            routes.append(route)
    return routes


ROUTES = _walked_routes()


@cache
def _schema_query_parameters() -> dict[str, set[str]]:
    """{"/api/v1/schools/{school_slug}/lessons": {"classroom", "page", …}, …}"""
    schema = yaml.safe_load(Path(settings.BASE_DIR, "openapi/schema.yaml").read_text())
    found: dict[str, set[str]] = {}
    for path, operations in schema["paths"].items():
        names = found.setdefault(re.sub(r"\{\w+\}", "{}", path), set())
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    names.add(parameter["name"])
    return found


def _query_parameters(url: str) -> set[str]:
    template = re.sub(r"/[0-9a-f-]{36}", "/{}", url.split("?")[0]).replace("/riverside/", "/{}/")
    return set(WEB_QUERY_PARAMETERS) | _schema_query_parameters().get(template, set())


def _fill(route: str, ids: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group("name")
        return "riverside" if name == "school_slug" else str(ids[name])

    return "/" + PARAM.sub(value, route)


def _view_class(url: str) -> type | None:
    func = resolve(url.split("?")[0]).func
    return getattr(func, "view_class", None) or getattr(func, "cls", None)


def _write_methods(url: str) -> list[str]:
    """POST always (the edge answers before any routing); PUT/PATCH where the view has them."""
    view = _view_class(url)
    return ["post"] + [m for m in ("put", "patch") if view is not None and hasattr(view, m)]


class Members:
    """A client per member of the cast: a session for the pages, a bearer token for the API."""

    def __init__(self, users: dict[str, User]) -> None:
        # Signing in writes (a session, an outstanding token): all of it before the walk.
        self.users = users
        self.clients: dict[str | None, Client] = {None: Client(raise_request_exception=False)}
        for role, user in users.items():
            client = Client(raise_request_exception=False)
            client.force_login(user)
            access = RefreshToken.for_user(user).access_token
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {access}"
            self.clients[role] = client

    @staticmethod
    def role_for(route: str, url: str) -> str:
        if route.startswith("operator/"):
            return "operator"
        required = getattr(_view_class(url), "required_role", None)
        return required or Membership.Role.STUDENT


def _row_counts() -> dict[str, int]:
    """Rows of every table, all schools (one query)."""
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
    selects = ", ".join(f'(SELECT count(*) FROM "{table}")' for table in tables)
    with cross_school("test: nothing may be written by hostile input"):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {selects}")
            return dict(zip(tables, cursor.fetchone(), strict=True))


def _problem(url: str, response: Any, status: int, code: str) -> str | None:
    """None when the answer is `status` in the interface's own form; else what is wrong."""
    if response.status_code != status:
        return f"{response.status_code} (expected {status})"
    if url.startswith("/api/"):
        try:
            body = json.loads(response.content)
        except ValueError:
            return "not JSON"
        error = body.get("error") if isinstance(body, dict) else None
        if set(body) != {"error"} or not isinstance(error, dict):
            return f"not the envelope: {body!r:.100}"
        if set(error) != {"code", "message", "fields"} or not error["message"]:
            return f"not the envelope: {body!r:.100}"
        if error["code"] != code:
            return f"code {error['code']!r} (expected {code!r})"
        return None
    text = response.content.decode("utf-8", "replace")
    if "text/html" not in response.get("Content-Type", "") or 'class="site-header"' not in text:
        return "not the site's own page"
    return None


def _cases(url: str, methods: list[str]) -> list[tuple[str, str, dict[str, Any], int, str]]:
    """(label, method, request kwargs, expected status, expected API code)"""
    names = sorted(_query_parameters(url))
    nul_query = "&".join(f"{name}=a%00b" for name in names)
    bad_utf8_query = "&".join(f"{name}=%ff%fe" for name in names)
    cases: list[tuple[str, str, dict[str, Any], int, str]] = [
        ("query NUL", "get", {"path": f"{url}?{nul_query}"}, 400, "invalid_encoding"),
        ("query UTF-8", "get", {"path": f"{url}?{bad_utf8_query}"}, 400, "invalid_encoding"),
    ]
    is_api = url.startswith("/api/")
    for method in methods:
        if is_api:
            too_big = json.dumps({"question": "a" * BODY_LIMIT}).encode()
            deep = b"[" * 1000 + b"]" * 1000
            nul = json.dumps({field: "a\u0000b" for field in BODY_FIELDS}).encode()
            bad_utf8 = b'{"question": "\xff\xfe", "title": "\xc3("}'
            kind = "application/json"
            bodies = [
                ("body too big", too_big, 413, "payload_too_large"),
                ("JSON 1000 deep", deep, 400, "json_too_deep"),
                ("JSON NUL", nul, 400, "invalid_encoding"),
                ("body UTF-8", bad_utf8, 400, "invalid_encoding"),
            ]
        else:
            too_big = b"q=" + b"a" * BODY_LIMIT
            nul = "&".join(f"{field}=a%00b" for field in BODY_FIELDS).encode()
            bad_utf8 = "&".join(f"{field}=%ff%fe" for field in BODY_FIELDS).encode()
            kind = "application/x-www-form-urlencoded"
            bodies = [
                ("body too big", too_big, 413, "payload_too_large"),
                ("form NUL", nul, 400, "invalid_encoding"),
                ("form UTF-8", bad_utf8, 400, "invalid_encoding"),
            ]
        for label, data, status, code in bodies:
            request = {"path": url, "data": data, "content_type": kind}
            cases.append((f"{method.upper()} {label}", method, request, status, code))
    return cases


@pytest.fixture
def members(school, teacher, student, school_admin) -> Members:
    operator = User.objects.create_superuser("operator@lantern.test", "x" * 20)
    return Members(
        {
            Membership.Role.STUDENT: student,
            Membership.Role.TEACHER: teacher,
            Membership.Role.SCHOOL_ADMIN: school_admin,
            "operator": operator,
        }
    )


def test_the_walk_finds_every_kind_of_url():
    assert len(ROUTES) > 180
    assert {"api/v1/auth/token", "s/<slug:school_slug>/history/"} <= set(ROUTES)
    assert "operator/accounts/user/" in ROUTES


@pytest.mark.django_db(transaction=True)
def test_hostile_input_on_every_url_is_a_4xx_in_its_own_form_and_writes_nothing(
    members, school, victim_ids
):
    ids = {
        **victim_ids,
        "object_id": school.pk,
        "content_type_id": 1,
        "id": members.users["operator"].pk,
        "uidb64": "MQ",
        "token": "not-a-token",
    }
    problems: dict[str, str] = {}
    for route in ROUTES:
        url = _fill(route, ids)
        cases = _cases(url, _write_methods(url))
        before = _row_counts()
        for role in (members.role_for(route, url), None):
            client = members.clients[role]
            for label, method, request, status, code in cases:
                response = getattr(client, method)(**request)
                problem = _problem(url, response, status, code)
                if problem:
                    problems[f"{label} {url} as {role or 'anonymous'}"] = problem
        after = _row_counts()
        changed = {t: (before[t], after[t]) for t in before if before[t] != after.get(t)}
        if changed:
            problems[f"rows written by {url}"] = repr(changed)
    assert sorted(problems.items()) == []
