"""Seed rows into every tenant table with the OLD code (run by check_layout_migration.py).

Usage: python scripts/layout_migration_seed.py OLD_TREE   (cwd: OLD_TREE, environment set)

Written against the baseline commit's API (BASELINE in check_layout_migration.py), which
never changes, so this file does not follow later refactors of the services it calls. It
goes through that code's own services and test factories, as a school would have produced
the rows: `manage.py demo` has seeded the demo school already; this adds a second school,
and in both schools exercise attempts, sessions, messages, succeeded, queued and failed
explanations, usage entries and periods, a flagged question with its review item and a
decision on it, an invitation, a provider key, a birth date and a settings change (audit
rows for the last ones), and an outstanding refresh token.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

OLD_TREE = Path(sys.argv[1]).resolve()
sys.path.insert(0, str(OLD_TREE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.test import override_settings  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

import tutoring  # noqa: E402
from accounts.models import Membership, School  # noqa: E402
from accounts.services import invitation_create  # noqa: E402
from accounts.tenancy import school_context  # noqa: E402
from tests.factories import SchoolFactory, member, published_lesson  # noqa: E402
from tutoring.models import Exercise, Explanation, Lesson  # noqa: E402
from tutoring.models.safety import ReviewItem  # noqa: E402
from tutoring.safety.policy import birth_date_set, policy_accept, policy_publish  # noqa: E402
from tutoring.safety.review import review_item_decide  # noqa: E402
from tutoring.services import explanations as explanation_services  # noqa: E402
from tutoring.services import generation  # noqa: E402
from tutoring.services.keys import provider_key_create  # noqa: E402
from tutoring.services.lessons import exercise_attempt_submit  # noqa: E402
from tutoring.services.school_admin import school_settings_update  # noqa: E402

Role = Membership.Role

# The same interpreter runs both trees: make sure this is the old one, not an editable
# install or a stray path pointing at today's code.
if not Path(tutoring.__file__).resolve().is_relative_to(OLD_TREE):
    sys.exit(f"seed: imported tutoring from {tutoring.__file__}, not from {OLD_TREE}")


def _membership(school: School, role: str) -> Membership:
    return (
        Membership.objects.for_school(school)
        .select_related("school", "user")
        .filter(role=role)
        .order_by("pk")[0]
    )


def _second_school() -> School:
    school = SchoolFactory.create(name="Hilltop Upgrade Academy", slug="hilltop-upgrade")
    teacher = member(school, Role.TEACHER, email="teacher@hilltop.test", full_name="Hal Teacher")
    member(school, Role.SCHOOL_ADMIN, email="admin@hilltop.test", full_name="Hana Admin")
    pupils = [
        member(school, Role.STUDENT, email=f"pupil{n}@hilltop.test", full_name=f"Pupil {n}")
        for n in (1, 2)
    ]
    published_lesson(school, teacher, pupils)
    with school_context(school):
        version = policy_publish(actor=_membership(school, Role.SCHOOL_ADMIN), text="Be kind.")
        policy_accept(actor=_membership(school, Role.STUDENT), version=version)
    return school


def _generate(school: School, explanation: Explanation) -> str:
    generation.explanation_generate(school_id=school.pk, explanation_id=explanation.pk)
    with school_context(school):
        return Explanation.objects.for_school(school).get(pk=explanation.pk).status


def _seed(school: School) -> dict[str, int]:
    statuses: dict[str, int] = {}
    with school_context(school):
        pupil = _membership(school, Role.STUDENT)
        teacher = _membership(school, Role.TEACHER)
        admin = _membership(school, Role.SCHOOL_ADMIN)
        published = Lesson.objects.for_school(school).filter(published_version__isnull=False)
        lesson = published.order_by("pk")[0]
        exercise = Exercise.objects.for_school(school).filter(lesson=lesson).order_by("pk")[0]
        attempt = exercise_attempt_submit(actor=pupil, exercise=exercise, answer="not it")
        session = explanation_services.session_start(actor=pupil, lesson=lesson)
        asked = [
            explanation_services.explanation_request(
                actor=pupil, session=session, question="Can you explain this step by step?"
            ),
            # The local rules flag this (violence): a review item for the queue.
            explanation_services.explanation_request(
                actor=pupil, session=session, question="I will kill this homework, how do I?"
            ),
            explanation_services.explain_my_answer(actor=pupil, attempt=attempt, session=session),
        ]
    for explanation in asked:
        status = _generate(school, explanation)
        statuses[status] = statuses.get(status, 0) + 1
    with school_context(school):
        # The same question again, left queued (no worker runs here): a row mid-pipeline.
        queued = explanation_services.explanation_request(
            actor=pupil, session=session, question="Can you explain this step by step?"
        )
        statuses[str(queued.status)] = statuses.get(str(queued.status), 0) + 1
    # No key anywhere and the openai provider chosen: a permanent failure (no_api_key),
    # before the school has a key of its own.
    with override_settings(LLM_PROVIDER="openai", OPENAI_API_KEY=""):
        with school_context(school):
            failing = explanation_services.explanation_request(
                actor=pupil, session=session, question="And what about the next exercise?"
            )
        status = _generate(school, failing)
        statuses[status] = statuses.get(status, 0) + 1
    with school_context(school):
        for item in ReviewItem.objects.for_school(school).select_related("school"):
            review_item_decide(actor=teacher, item=item, status="reviewed", note="Talked to them")
        invitation_create(actor=admin, email=f"new@{school.slug}.test", role=Role.TEACHER)
        provider_key_create(actor=admin, secret="sk-test-" + "7" * 24, label="upgrade check")
        birth_date_set(actor=admin, student=pupil.user, birth_date=date(2012, 3, 4))
        school_settings_update(actor=admin, monthly_token_budget=2_000_000)
    RefreshToken.for_user(pupil.user)
    return statuses


def main() -> None:
    demo = School.objects.get(slug="demo")
    with override_settings(LLM_PROVIDER="offline"):
        results = {school.slug: _seed(school) for school in (demo, _second_school())}
    for slug, statuses in results.items():
        print(f"seed: {slug}: explanations {statuses}")
        if not {"succeeded", "failed"} <= statuses.keys():
            sys.exit(f"seed: {slug} needs both succeeded and failed explanations: {statuses}")


if __name__ == "__main__":
    main()
