"""The school admin's API: members, invitations, budgets and provider keys."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.tenancy import school_context
from llm.outbound import REFUSED_MESSAGE
from tests.api.conftest import World, bearer_client, school_url
from tests.factories import member
from tests.llm.test_outbound import ISSUE_TARGETS
from tutoring.models import ProviderKey

pytestmark = pytest.mark.django_db


def url(path: str) -> str:
    return school_url("riverside", path)


# --- Members ---------------------------------------------------------------------------------


def test_members_are_listed_with_roles(world: World, school_admin, other_student) -> None:
    body = bearer_client(school_admin).get(url("admin/members")).json()
    assert [(m["email"], m["role"]) for m in body["results"]] == [
        ("teacher@riverside.test", "teacher"),
        ("alice@riverside.test", "student"),
        ("admin@riverside.test", "school_admin"),
        ("bob@riverside.test", "student"),
    ]


def test_an_admin_changes_a_role_and_deactivates_a_member(
    world: World, school_admin, student
) -> None:
    client = bearer_client(school_admin)
    path = url(f"admin/members/{world.student_member.public_id}")
    assert client.patch(path, {"role": "teacher"}).json()["role"] == "teacher"
    deactivated = client.patch(path, {"is_active": False})
    assert deactivated.json()["is_active"] is False
    # The deactivated member is out at once, with the same 404 as a stranger.
    assert bearer_client(student).get(url("lessons")).status_code == 404


def test_an_admin_cannot_demote_or_deactivate_themselves(world: World, school, school_admin):
    from tests.factories import membership_of

    with school_context(school):
        me = membership_of(school, school_admin)
    client = bearer_client(school_admin)
    demoted = client.patch(url(f"admin/members/{me.public_id}"), {"role": "student"})
    assert demoted.status_code == 409
    assert demoted.json()["error"]["code"] == "own_role"
    gone = client.patch(url(f"admin/members/{me.public_id}"), {"is_active": False})
    assert gone.json()["error"]["code"] == "own_membership"


# --- Invitations -----------------------------------------------------------------------------


def test_inviting_sends_an_email_and_never_returns_the_link(
    world: World, school_admin, django_capture_on_commit_callbacks
) -> None:
    client = bearer_client(school_admin)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            url("admin/invitations"), {"email": "Tess.New@Example.test", "role": "teacher"}
        )
    assert created.status_code == 201
    body = created.json()
    assert body["email"] == "tess.new@example.test" and body["status"] == "pending"
    assert "token" not in created.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["tess.new@example.test"]


def test_inviting_a_member_is_a_conflict(world: World, school_admin) -> None:
    response = bearer_client(school_admin).post(
        url("admin/invitations"), {"email": "alice@riverside.test", "role": "student"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_member"


def test_revoking_and_resending_an_invitation(world: World, school_admin) -> None:
    client = bearer_client(school_admin)
    resent = client.post(url(f"admin/invitations/{world.invitation.public_id}/resend"), {})
    assert resent.status_code == 201
    assert resent.json()["id"] != str(world.invitation.public_id)
    revoked = client.post(url(f"admin/invitations/{resent.json()['id']}/revoke"), {})
    assert revoked.json()["status"] == "revoked"
    statuses = {
        i["id"]: i["status"] for i in client.get(url("admin/invitations")).json()["results"]
    }
    assert statuses == {str(world.invitation.public_id): "revoked", resent.json()["id"]: "revoked"}


# --- Budget ----------------------------------------------------------------------------------


def test_the_budget_shows_limits_and_consumption_and_changes(world: World, school_admin) -> None:
    client = bearer_client(school_admin)
    budget = client.get(url("admin/budget")).json()
    assert budget["monthly_token_budget"] == 2_000_000
    assert budget["month_tokens_used"] == 0 and budget["month_share_used"] == 0
    changed = client.patch(
        url("admin/budget"), {"monthly_token_budget": 5_000_000, "student_daily_token_budget": 1}
    )
    assert changed.status_code == 200
    assert changed.json()["monthly_token_budget"] == 5_000_000
    assert changed.json()["student_daily_token_budget"] == 1


def test_a_negative_budget_is_refused_and_nothing_changes(world: World, school_admin) -> None:
    client = bearer_client(school_admin)
    response = client.patch(
        url("admin/budget"), {"monthly_token_budget": 10, "student_daily_token_budget": -1}
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["student_daily_token_budget"]
    assert client.get(url("admin/budget")).json()["monthly_token_budget"] == 2_000_000


# --- AI service ------------------------------------------------------------------------------


def _add_key(school, admin) -> None:
    from tests.factories import membership_of
    from tutoring.services import keys as key_services

    with school_context(school):
        key_services.provider_key_create(
            actor=membership_of(school, admin), secret="sk-test-own-0123456789", label="Own"
        )


def test_an_admin_points_the_school_at_its_own_server_with_its_own_key(
    world: World, school, school_admin
) -> None:
    _add_key(school, school_admin)
    client = bearer_client(school_admin)
    changed = client.patch(
        url("admin/provider"),
        {"llm_provider": "openai", "llm_base_url": "https://llm.example.org/v1"},
    )
    assert changed.status_code == 200
    body = client.get(url("admin/provider")).json()
    assert body["llm_base_url"] == "https://llm.example.org/v1"
    assert body["effective_provider"] == "openai"


def test_a_base_url_of_the_schools_own_needs_the_schools_own_key(
    world: World, school_admin
) -> None:
    client = bearer_client(school_admin)
    # The world's school has a key: without one, the platform's would be the only key.
    client.post(url(f"admin/provider-keys/{world.provider_key.public_id}/revoke"))
    response = client.patch(url("admin/provider"), {"llm_base_url": "https://llm.example.org/v1"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert "own API key" in error["fields"]["llm_base_url"][0]
    assert client.get(url("admin/provider")).json()["llm_base_url"] == ""


@pytest.mark.parametrize("target", ISSUE_TARGETS)
def test_every_address_a_school_may_not_reach_is_refused_with_one_message(
    world: World, school, school_admin, target: str
) -> None:
    _add_key(school, school_admin)
    client = bearer_client(school_admin)
    response = client.patch(url("admin/provider"), {"llm_base_url": target})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"llm_base_url": [str(REFUSED_MESSAGE)]}
    assert client.get(url("admin/provider")).json()["llm_base_url"] == ""


# --- Provider keys ---------------------------------------------------------------------------


def test_a_provider_key_is_shown_once_then_only_its_last_four(
    world: World, school, school_admin
) -> None:
    client = bearer_client(school_admin)
    created = client.post(
        url("admin/provider-keys"), {"key": "sk-live-abcdefgh-WXYZ", "label": "Main"}
    )
    assert created.status_code == 201
    assert created.json()["key"] == "sk-live-abcdefgh-WXYZ"
    assert created.json()["last_four"] == "WXYZ" and created.json()["is_active"] is True
    listing = client.get(url("admin/provider-keys"))
    assert "sk-live-abcdefgh" not in listing.content.decode()
    assert [k["last_four"] for k in listing.json()["results"]] == ["WXYZ", "0000"]
    with school_context(school):
        stored = ProviderKey.objects.get(public_id=created.json()["id"])
    assert "sk-live" not in stored.encrypted_key


def test_activating_and_revoking_keys(world: World, school_admin) -> None:
    client = bearer_client(school_admin)
    second = client.post(url("admin/provider-keys"), {"key": "sk-second-key-2222"}).json()
    first_url = url(f"admin/provider-keys/{world.provider_key.public_id}")
    assert client.post(f"{first_url}/activate", {}).json()["is_active"] is True
    keys = {
        k["id"]: k["is_active"] for k in client.get(url("admin/provider-keys")).json()["results"]
    }
    assert keys == {str(world.provider_key.public_id): True, second["id"]: False}
    revoked = client.post(f"{first_url}/revoke", {}).json()
    assert revoked["is_active"] is False and revoked["revoked_at"]
    assert client.post(f"{first_url}/activate", {}).status_code == 404


def test_a_key_that_is_not_a_key_is_refused(world: World, school_admin) -> None:
    response = bearer_client(school_admin).post(url("admin/provider-keys"), {"key": "short"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"key": ["Invalid key."]}


# --- Query counts ----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 10])
def test_admin_lists_cost_the_same_queries_for_2_or_10(
    school, school_admin, n, django_assert_num_queries
) -> None:
    from accounts import services as account_services
    from tests.factories import membership_of
    from tutoring.services import keys as key_services

    with school_context(school):
        actor = membership_of(school, school_admin)
        for i in range(n):
            key_services.provider_key_create(actor=actor, secret=f"sk-test-key-{i:04d}")
            account_services.invitation_create(
                actor=actor, email=f"new{i}@example.test", role="student"
            )
    for i in range(n - 1):
        member(school, "student", email=f"pupil{i}@riverside.test")
    client = bearer_client(school_admin)
    for path in ("admin/members", "admin/invitations", "admin/provider-keys"):
        with django_assert_num_queries(9):
            assert client.get(url(path)).json()["count"] == n
