"""Platform operators use the Django admin across schools; nobody else can."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    return User.objects.create_superuser("ops@lantern.test", password=TEST_PASSWORD)


def test_operator_sees_memberships_of_every_school(client, operator, student, outsider):
    client.login(email=operator.email, password=TEST_PASSWORD)
    page = client.get("/operator/accounts/membership/").content.decode()
    assert "alice@riverside.test" in page and "olga@hilltop.test" in page


def test_operator_opens_a_school_with_its_members_inline(client, operator, school, student):
    client.login(email=operator.email, password=TEST_PASSWORD)
    response = client.get(f"/operator/accounts/school/{school.pk}/change/")
    assert response.status_code == 200
    assert "alice@riverside.test" in response.content.decode() or str(student.pk) in (
        response.content.decode()
    )


def test_school_admin_is_not_an_operator(client, school_admin):
    client.login(email=school_admin.email, password=TEST_PASSWORD)
    response = client.get("/operator/accounts/membership/")
    assert response.status_code == 302 and "/operator/login/" in response["Location"]


@pytest.mark.django_db(transaction=True)
def test_cross_school_switch_does_not_outlive_the_admin_request(
    client, operator, student, outsider
):
    from django.db import connection

    client.login(email=operator.email, password=TEST_PASSWORD)
    client.get("/operator/accounts/membership/")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_membership")
        assert cursor.fetchone()[0] == 0
