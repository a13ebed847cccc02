"""Tenancy is enforced three times: URL + membership, the ORM door, row-level security."""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import Membership
from accounts.tenancy import (
    SchoolContextMismatch,
    SchoolContextMissing,
    school_context,
)

pytestmark = pytest.mark.django_db


def _visible_membership_schools() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT school_id FROM accounts_membership")
        return {row[0] for row in cursor.fetchall()}


def test_tests_run_as_the_runtime_role_without_bypass(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        name, is_super, bypass = cursor.fetchone()
    assert name == "lantern_app"
    assert not is_super and not bypass


def test_default_manager_refuses_to_run_without_a_school(student):
    with pytest.raises(SchoolContextMissing):
        list(Membership.objects.all())


def test_for_school_inside_another_schools_context_is_refused(school, other_school, student):
    with school_context(school), pytest.raises(SchoolContextMismatch):
        Membership.objects.for_school(other_school)


def test_school_context_scopes_the_orm_to_that_school(school, other_school, student, outsider):
    with school_context(school):
        emails = {m.user.email for m in Membership.objects.all()}
    assert emails == {"alice@riverside.test"}


def test_raw_sql_sees_only_the_schools_rows(school, other_school, student, outsider):
    with school_context(school):
        assert _visible_membership_schools() == {school.pk}
    with school_context(other_school):
        assert _visible_membership_schools() == {other_school.pk}


def test_raw_sql_without_context_sees_no_tenant_rows(school, other_school, student, outsider):
    assert _visible_membership_schools() == set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_invitation")
        assert cursor.fetchone()[0] == 0


def test_inserting_a_row_for_another_school_is_refused_by_the_database(
    school, other_school, student
):
    from django.db import DatabaseError, transaction

    with school_context(school):
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO accounts_membership "
                    "(school_id, user_id, public_id, role, is_active, created_at) "
                    "VALUES (%s, %s, gen_random_uuid(), 'student', true, now())",
                    [other_school.pk, student.pk],
                )


def test_updating_another_schools_rows_touches_nothing(school, other_school, outsider):
    with school_context(school), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_membership SET role = 'student' WHERE school_id = %s",
            [other_school.pk],
        )
        assert cursor.rowcount == 0
    with school_context(other_school):
        assert Membership.objects.get(user=outsider).role == "school_admin"


def test_a_user_lists_their_own_memberships_across_schools(both_schools_user, outsider):
    from django.db import transaction

    from accounts.selectors import membership_list_for_user
    from accounts.tenancy import set_db_user

    with transaction.atomic():
        set_db_user(both_schools_user.pk)
        memberships = membership_list_for_user(user=both_schools_user)
    assert {m.school.slug for m in memberships} == {"riverside", "hilltop"}


def test_own_membership_policy_does_not_allow_deleting_in_another_school(
    school, other_school, both_schools_user
):
    from accounts.tenancy import set_db_user

    with school_context(school):
        set_db_user(both_schools_user.pk)
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM accounts_membership WHERE school_id = %s", [other_school.pk]
            )
            assert cursor.rowcount == 0
