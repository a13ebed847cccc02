"""A school to benchmark against, made through the services (RLS on, as the app role).

Users are created without password hashing (hashing 100 passwords would take longer than
the benchmark); clients authenticate with a minted JWT or session instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.models import Membership, School, User
from accounts.services import membership_create, school_create
from accounts.tenancy import school_context
from tutoring.management.commands.demo_content import LESSONS, STUDENTS
from tutoring.models import Classroom, Lesson, SchoolSettings, TutoringSession
from tutoring.services import lessons as lesson_services
from tutoring.services.explanations import session_start
from tutoring.services.profiles import profile_get_or_create, profile_update

Role = Membership.Role
CLASS_SIZE = 25  # the roster is what the PII filter scans for names: keep it realistic


@dataclass
class SeededSchool:
    school: School
    teacher: Membership
    students: list[Membership]
    classrooms: list[Classroom]
    lessons: list[Lesson]  # per class, the published demo lessons
    lessons_by_class: dict[int, list[Lesson]]
    class_of_student: dict[int, int]  # user id -> classroom id
    sessions: list[TutoringSession] = field(default_factory=list)  # one per student


def _users(emails: list[str]) -> list[User]:
    users = [User(email=email, full_name=email.split("@")[0], password="!") for email in emails]
    User.objects.bulk_create(users, ignore_conflicts=True)
    by_email = {u.email: u for u in User.objects.filter(email__in=emails)}
    return [by_email[email] for email in emails]


def school_seed(*, slug: str, students: int, lessons: int = 1) -> SeededSchool:
    """A school with one teacher, `students` students with the demo's profiles (cycled) in
    classes of CLASS_SIZE, each class with `lessons` published demo lessons, budgets out of
    the way."""
    school = School.objects.filter(slug=slug).first() or school_create(name=slug, slug=slug)
    teacher_user, *student_users = _users(
        [f"teacher@{slug}.bench"] + [f"student{i}@{slug}.bench" for i in range(students)]
    )
    teacher = membership_create(school=school, user=teacher_user, role=Role.TEACHER)
    with school_context(school):
        memberships = Membership.objects.for_school(school)
        existing = set(memberships.values_list("user_id", flat=True))
        memberships.bulk_create(
            [
                Membership(school=school, user=user, role=Role.STUDENT)
                for user in student_users
                if user.pk not in existing
            ]
        )
        student_members = list(
            memberships.filter(user__in=student_users).select_related("school", "user")
        )
        teacher = memberships.select_related("school", "user").get(pk=teacher.pk)
        classrooms: list[Classroom] = []
        lessons_by_class: dict[int, list[Lesson]] = {}
        for number in range(max(1, -(-len(student_members) // CLASS_SIZE))):
            classroom = lesson_services.classroom_create(actor=teacher, name=f"Class {number}")
            classrooms.append(classroom)
            lessons_by_class[classroom.pk] = []
            for spec in LESSONS[:lessons]:
                contract = {k: v for k, v in spec.items() if k != "exercises"}
                lesson = lesson_services.lesson_create(
                    actor=teacher, classroom=classroom, **contract
                )
                for exercise in spec.get("exercises", []):
                    lesson_services.exercise_save(actor=teacher, lesson=lesson, **exercise)
                lessons_by_class[classroom.pk].append(
                    lesson_services.lesson_publish(actor=teacher, lesson=lesson)
                )
        class_of_student: dict[int, int] = {}
        for index, membership in enumerate(student_members):
            classroom = classrooms[index // CLASS_SIZE]
            lesson_services.classroom_enroll(
                actor=teacher, classroom=classroom, user=membership.user
            )
            class_of_student[membership.user_id] = classroom.pk
            profile = profile_get_or_create(school_member=membership)
            profile_update(
                actor=membership, profile=profile, **STUDENTS[index % len(STUDENTS)]["profile"]
            )
        SchoolSettings.objects.for_school(school).update_or_create(
            school=school,
            defaults={
                "monthly_token_budget": 10**13,
                "student_daily_token_budget": 10**9,
            },
        )
    return SeededSchool(
        school,
        teacher,
        student_members,
        classrooms,
        [lesson for class_lessons in lessons_by_class.values() for lesson in class_lessons],
        lessons_by_class,
        class_of_student,
    )


def sessions_start(seeded: SeededSchool, lesson_index: int = 0) -> list[TutoringSession]:
    """One session per student on their class's `lesson_index`-th lesson."""
    with school_context(seeded.school):
        seeded.sessions = [
            session_start(
                actor=membership,
                lesson=seeded.lessons_by_class[seeded.class_of_student[membership.user_id]][
                    lesson_index
                ],
            )
            for membership in seeded.students
        ]
    return seeded.sessions
