"""Seed the demo school: a teacher, students with different profiles, a class and lessons.

Idempotent: a second run finds everything in place and changes nothing.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Membership, School, User
from accounts.services import membership_create, school_create
from accounts.tenancy import school_context
from tutoring.management.commands.demo_content import LESSONS, STUDENTS
from tutoring.models import Classroom, Lesson
from tutoring.safety.policy import policy_accept, policy_current, policy_publish
from tutoring.services import lessons as lesson_services
from tutoring.services.profiles import profile_get_or_create, profile_update

Role = Membership.Role
DEMO_SLUG = "demo"
DEMO_POLICY = (
    "The AI tutor helps you learn; it does not do your work for you. Ask it to explain, "
    "give hints and check your thinking. Do not share your name, address, phone number or "
    "passwords with it. Your teachers can read your conversations with the tutor. If "
    "something worries you, talk to a teacher."
)


class Command(BaseCommand):
    help = "Seed (idempotently) the demo school and print its logins."

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DEMO_PASSWORD", "lantern-demo")
        with transaction.atomic():
            created = self._seed(password)
        self.stdout.write(
            self.style.SUCCESS("Demo school ready." if created else "Demo school already seeded.")
        )
        self.stdout.write(
            f"\nDemo logins (password: {password}):\n"
            "  teacher@demo.lantern.test   teacher\n"
            "  admin@demo.lantern.test     school admin\n"
            + "".join(f"  {s['email']:<28}student\n" for s in STUDENTS)
        )

    def _user(self, email: str, full_name: str, password: str, **extra: Any) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, password=password, full_name=full_name, **extra)
        return user

    def _seed(self, password: str) -> bool:
        school = School.objects.filter(slug=DEMO_SLUG).first()
        created = school is None
        if school is None:
            school = school_create(name="Lantern Demo School", slug=DEMO_SLUG)
        self._user(
            "operator@demo.lantern.test",
            "Platform Operator",
            password,
            is_staff=True,
            is_superuser=True,
        )
        teacher = self._user("teacher@demo.lantern.test", "Tara Teacher", password)
        admin = self._user("admin@demo.lantern.test", "Adam Admin", password)
        membership_create(school=school, user=teacher, role=Role.TEACHER)
        membership_create(school=school, user=admin, role=Role.SCHOOL_ADMIN)
        with school_context(school):
            actor = Membership.objects.for_school(school).get(user=teacher)
            classroom = Classroom.objects.for_school(school).filter(name="Class 5B").first()
            if classroom is None:
                classroom = lesson_services.classroom_create(
                    actor=actor, name="Class 5B", subject="Mixed"
                )
            for spec in STUDENTS:
                student = self._user(spec["email"], spec["full_name"], password)
                membership = membership_create(school=school, user=student, role=Role.STUDENT)
                lesson_services.classroom_enroll(actor=actor, classroom=classroom, user=student)
                profile = profile_get_or_create(school_member=membership)
                if not profile.reading_level:
                    profile_update(actor=membership, profile=profile, **spec["profile"])
            for spec in LESSONS:
                if Lesson.objects.for_school(school).filter(title=spec["title"]).exists():
                    continue
                fields = {k: v for k, v in spec.items() if k != "exercises"}
                lesson = lesson_services.lesson_create(actor=actor, classroom=classroom, **fields)
                for position, exercise in enumerate(spec["exercises"]):
                    lesson_services.exercise_save(
                        actor=actor, lesson=lesson, position=position, **exercise
                    )
                lesson_services.lesson_publish(actor=actor, lesson=lesson)
            self._seed_policy(school, admin)
        return created

    def _seed_policy(self, school: School, admin: User) -> None:
        """Publish the AI-use policy and accept it for the demo students, so the admin's
        acceptance page has something to show. The gate itself stays off, as in every new
        school (Safety settings turn it on)."""
        if policy_current(school) is not None:
            return
        actor = Membership.objects.for_school(school).select_related("school").get(user=admin)
        version = policy_publish(actor=actor, text=DEMO_POLICY)
        students = Membership.objects.for_school(school).filter(role=Role.STUDENT)
        for student in students.select_related("school", "user"):
            policy_accept(actor=student, version=version)
