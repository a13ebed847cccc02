"""The OpenAPI schema: the committed file matches the code, the docs page works without a
CDN under our CSP, and every operation answers within its schema (schemathesis)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.models import User
from tests.api.conftest import API, World, bearer_client

pytestmark = pytest.mark.django_db

COMMITTED = Path(settings.BASE_DIR) / "openapi" / "schema.yaml"
REGENERATE = "python manage.py spectacular --file openapi/schema.yaml --validate"


def test_the_committed_schema_is_what_the_code_generates(tmp_path: Path) -> None:
    generated = tmp_path / "schema.yaml"
    # --fail-on-warn: a drf-spectacular warning is a schema defect, not noise.
    call_command("spectacular", "--file", str(generated), "--validate", "--fail-on-warn")
    assert generated.read_text() == COMMITTED.read_text(), (
        f"openapi/schema.yaml is out of date with the code. Regenerate it: {REGENERATE}"
    )


def test_the_schema_is_served_as_yaml_and_json(db) -> None:
    client = bearer_client(None)
    as_yaml = client.get(f"{API}/schema/")
    assert as_yaml.status_code == 200
    assert as_yaml.content.startswith(b"openapi: 3.0.3")
    as_json = client.get(f"{API}/schema/", {"format": "json"})
    paths = as_json.json()["paths"]
    assert "/api/v1/schools/{school_slug}/sessions/{session_id}/questions" in paths
    assert "/api/v1/schools/{school_slug}/explanations/{explanation_id}/stream" in paths


def test_every_operation_documents_its_errors_with_the_envelope(db) -> None:
    schema = bearer_client(None).get(f"{API}/schema/", {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            errors = [code for code in responses if code.startswith(("4", "5"))]
            assert errors, f"{method} {path} documents no error"
            for code in errors:
                ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (method, path, code)
            if path.startswith("/api/v1/schools/"):
                assert {"401", "404"} <= set(responses), (method, path)


def test_the_docs_page_loads_only_our_own_scripts_and_styles(db) -> None:
    from django.contrib.staticfiles import finders

    client = bearer_client(None)
    page = client.get(f"{API}/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    # The site's CSP is in force on this page too: scripts and styles from us only.
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "<style" not in html and " style=" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(url.startswith("/") and not url.startswith("//") for url in assets)
    for url in assets:
        if url.startswith(
            settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/"
        ):
            relative = url.split("/static/", 1)[1]
            assert finders.find(relative), f"{relative} is not among our static files"
    start_up = client.get(next(url for url in assets if "script" in url))
    assert start_up.status_code == 200
    assert start_up.headers["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in start_up.content.decode()


# --- Schemathesis ----------------------------------------------------------------------------


@pytest.fixture
def wsgi_app() -> Iterator[object]:
    """The real Django WSGI application, called in this thread and this test's transaction.

    Like Django's test client, it must not close the connection around each request: that
    would end the test's transaction."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _tokens(*users: User) -> list[str]:
    from rest_framework_simplejwt.tokens import RefreshToken

    return [str(RefreshToken.for_user(user).access_token) for user in users]


@pytest.mark.schemathesis
def test_every_operation_answers_within_its_schema_and_never_with_a_server_error(
    wsgi_app, world: World, student, school_admin, settings
) -> None:
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    settings.ALLOWED_HOSTS = ["*"]
    schema = schemathesis.openapi.from_wsgi(f"{API}/schema/?format=json", wsgi_app)
    # The world's ids, so generated requests reach the code behind the school door and
    # behind the object lookups instead of stopping at a 404.
    path_parameters = {
        "school_slug": world.school.slug,
        "lesson_id": str(world.lesson.public_id),
        "exercise_id": str(world.exercise.public_id),
        "attempt_id": str(world.attempt.public_id),
        "session_id": str(world.session.public_id),
        "explanation_id": str(world.explanation.public_id),
        "classroom_id": str(world.classroom.public_id),
        "enrolment_id": str(world.enrolment.public_id),
        "member_id": str(world.student_member.public_id),
        "invitation_id": str(world.invitation.public_id),
        "key_id": str(world.provider_key.public_id),
    }
    student_token, admin_token = _tokens(student, school_admin)
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    # Our own schema parses (it is generated with `spectacular --validate`).
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 50
    # Deletions last, so the world is whole for every other operation.
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")

    for operation in operations:
        if operation.path.endswith("/stream"):
            continue  # text/event-stream: covered by tests/api/test_pipeline.py
        parameters = {
            name: value
            for name, value in path_parameters.items()
            if "{" + name + "}" in operation.path
        }
        # Students' own resources as the student, the rest as the school admin.
        as_student = bool(operation.tags) and operation.tags[0] in STUDENT_TAGS  # type: ignore[index]
        token = student_token if as_student else admin_token
        _fuzz(operation, parameters, {"Authorization": f"Bearer {token}"}, checks)


STUDENT_TAGS = ("student", "asking the tutor")


def _fuzz(operation, path_parameters: dict, headers: dict, checks: list) -> None:
    """A few derandomized examples of one operation, each checked against the schema."""
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hypothesis_settings

    @given(case=operation.as_strategy(path_parameters=path_parameters))
    @hypothesis_settings(
        max_examples=6,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    run()
