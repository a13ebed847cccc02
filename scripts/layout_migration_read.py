"""Read the seeded rows back through TODAY's code as the runtime role (run by
check_layout_migration.py after the new code's migrate). Prints one JSON object.

For every tenant model in today's app registry (wherever the layout put it), the rows
`Model.objects.for_school(school)` sees inside `school_context(school)` for each school,
keyed by the model's table; the caller compares them with the superuser's per-school
counts, so a model that points at the wrong table or a policy that hides moved rows shows
up. Then one selector and two pages, as a student and a school admin would open them.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
sys.path.insert(0, os.getcwd())

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Model  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from accounts.models import Membership, School  # noqa: E402
from accounts.tenancy import school_context  # noqa: E402
from tutoring.models import Explanation  # noqa: E402
from tutoring.selectors import explanation_list_for_student  # noqa: E402

SEEDED_QUESTION = "Can you explain this step by step?"


def _tenant_models() -> list[type[Model]]:
    found: list[type[Model]] = []
    for model in apps.get_models():
        fields = {f.name for f in model._meta.get_fields()}
        if "school" in fields and hasattr(model._default_manager, "for_school"):
            found.append(model)
    return found


def _counts(schools: list[School]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for model in _tenant_models():
        per_school = counts.setdefault(model._meta.db_table, {})
        manager: Any = model._default_manager  # a SchoolManager (checked by _tenant_models)
        for school in schools:
            with school_context(school):
                per_school[school.slug] = manager.for_school(school).count()
    return counts


def _pages() -> dict[str, object]:
    demo = School.objects.get(slug="demo")
    with school_context(demo):
        asker = Explanation.objects.for_school(demo).order_by("pk")[0].student_id
        members = Membership.objects.for_school(demo).select_related("school", "user")
        pupil = members.get(user_id=asker)
        admin = members.filter(role=Membership.Role.SCHOOL_ADMIN).order_by("pk")[0]
        questions = [e.question for e in explanation_list_for_student(member=pupil)]
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(pupil.user)
    history = client.get(reverse("student_history", kwargs={"school_slug": "demo"}))
    client.force_login(admin.user)
    review = client.get(reverse("safety_review", kwargs={"school_slug": "demo"}) + "?show=all")
    return {
        "selector_explanations": len(questions),
        "selector_has_seeded_question": SEEDED_QUESTION in questions,
        "history_status": history.status_code,
        "history_shows_seeded_question": SEEDED_QUESTION in history.content.decode(),
        "review_queue_status": review.status_code,
    }


def main() -> None:
    if connection.settings_dict["USER"] == os.environ.get("LANTERN_OWNER_ROLE", ""):
        sys.exit("read: connected as the owner; this check must run as the runtime role")
    schools = list(School.objects.order_by("slug"))
    print(json.dumps({"counts": _counts(schools), "pages": _pages()}))


if __name__ == "__main__":
    main()
