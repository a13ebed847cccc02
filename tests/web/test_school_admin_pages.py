"""School admin pages: provider settings, provider keys (shown once) and budgets."""

from __future__ import annotations

import re

import pytest
from django.utils.html import escape

from accounts.tenancy import school_context
from llm.outbound import REFUSED_MESSAGE
from tests.factories import TEST_PASSWORD, membership_of
from tests.llm.test_outbound import ISSUE_TARGETS
from tutoring.models import ProviderKey, SchoolSettings
from tutoring.services import keys as key_services
from tutoring.services.budgets import school_settings_get, usage_record

pytestmark = pytest.mark.django_db

ADMIN = "/s/riverside/admin/"
SECRET = "sk-live-Zq8vT3nW5pR7yK2mX9aB4cD6"


def login(client, user):
    assert client.login(email=user.email, password=TEST_PASSWORD)
    return client


def page(response) -> str:
    return response.content.decode()


def add_key(school, admin, secret=SECRET, label="Main", activate=True) -> ProviderKey:
    with school_context(school):
        return key_services.provider_key_create(
            actor=membership_of(school, admin), secret=secret, label=label, activate=activate
        ).key


def settings_row(school) -> SchoolSettings:
    with school_context(school):
        return school_settings_get(school)


def use_tokens(school, user, tokens, is_preview=False):
    with school_context(school):
        usage_record(
            school=school,
            explanation_id=None,
            student_id=user.pk if user else None,
            is_preview=is_preview,
            provider="offline",
            model="offline-v1",
            prompt_tokens=tokens - tokens // 4,
            completion_tokens=tokens // 4,
        )


def admin_urls(key: ProviderKey) -> dict[str, list[str]]:
    return {
        "GET": [f"{ADMIN}settings/", f"{ADMIN}keys/", f"{ADMIN}budgets/"],
        "POST": [
            f"{ADMIN}settings/",
            f"{ADMIN}keys/",
            f"{ADMIN}keys/{key.public_id}/activate/",
            f"{ADMIN}keys/{key.public_id}/revoke/",
            f"{ADMIN}budgets/",
        ],
    }


# --- Permissions --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["student", "teacher"])
def test_students_and_teachers_get_403_on_every_admin_page(
    client, request, school, school_admin, who
):
    key = add_key(school, school_admin)
    login(client, request.getfixturevalue(who))
    urls = admin_urls(key)
    for url in urls["GET"]:
        assert client.get(url).status_code == 403, url
    for url in urls["POST"]:
        data = {"key": "sk-intruder-0000000000", "monthly_token_budget": "1", "llm_model": "x"}
        assert client.post(url, data).status_code == 403, url
    with school_context(school):
        assert ProviderKey.objects.count() == 1
        assert ProviderKey.objects.get().is_active
    assert settings_row(school).monthly_token_budget == 2_000_000


def test_an_admin_of_another_school_gets_404_with_this_schools_ids(
    client, school, school_admin, outsider
):
    key = add_key(school, school_admin)
    login(client, outsider)
    urls = admin_urls(key)
    for url in urls["GET"]:
        assert client.get(url).status_code == 404, url
    for url in urls["POST"]:
        assert client.post(url, {"monthly_token_budget": "1"}).status_code == 404, url
    # In their own school, this school's key id is simply not there.
    for action in ("activate", "revoke"):
        url = f"/s/hilltop/admin/keys/{key.public_id}/{action}/"
        assert client.post(url).status_code == 404
    with school_context(school):
        assert ProviderKey.objects.get().is_active


# --- Settings -----------------------------------------------------------------------------


def test_admin_changes_provider_model_prices_and_policy(client, school, school_admin):
    # A base URL of the school's own needs a key of the school's own (issue #13).
    add_key(school, school_admin)
    login(client, school_admin)
    response = client.post(
        f"{ADMIN}settings/",
        {
            "llm_provider": "openai",
            "llm_model": "gpt-4o-mini",
            "llm_base_url": "https://llm.example.test/v1",
            "prompt_price": "0.15",
            "completion_price": "0.6",
            "ai_policy_text": "Use the tutor to understand, not to copy.",
        },
    )
    assert response.status_code == 302
    row = settings_row(school)
    assert (row.llm_provider, row.llm_model) == ("openai", "gpt-4o-mini")
    assert row.llm_base_url == "https://llm.example.test/v1"
    assert row.prompt_price_per_million == 150_000
    assert row.completion_price_per_million == 600_000
    assert row.ai_policy_text == "Use the tutor to understand, not to copy."
    body = page(client.get(response["Location"]))
    assert "Settings saved." in body
    assert 'value="0.15"' in body and 'value="0.6"' in body
    assert "Provider: openai · model: gpt-4o-mini" in body


@pytest.mark.parametrize(
    "field, value, error",
    [
        ("llm_provider", "anthropic", "Select a valid choice"),
        ("llm_model", "gpt 4o", "no spaces"),
        ("llm_base_url", "ftp://files.example.test", "http:// or https://"),
        ("llm_base_url", "not a url", "Enter a valid URL"),
        ("prompt_price", "-1", "greater than or equal to 0"),
        ("completion_price", "lots", "Enter a number"),
        ("ai_policy_text", "x" * 5001, "at most 5000 characters"),
    ],
)
def test_bad_settings_show_a_form_error_and_change_nothing(
    client, school, school_admin, field, value, error
):
    data = {
        "llm_provider": "",
        "llm_model": "good-model",
        "llm_base_url": "",
        "prompt_price": "1",
        "completion_price": "2",
        "ai_policy_text": "Fine.",
        field: value,
    }
    response = login(client, school_admin).post(f"{ADMIN}settings/", data)
    assert response.status_code == 400
    body = page(response)
    assert "field-error" in body and error in body
    row = settings_row(school)
    assert row.llm_model == "" and row.prompt_price_per_million == 0 and row.ai_policy_text == ""


@pytest.mark.parametrize("target", ISSUE_TARGETS)
def test_every_address_a_school_may_not_reach_is_refused_by_the_form_with_one_message(
    client, school, school_admin, target
):
    add_key(school, school_admin)
    data = {
        "llm_provider": "openai",
        "llm_model": "",
        "llm_base_url": target,
        "prompt_price": "",
        "completion_price": "",
        "ai_policy_text": "",
    }
    response = login(client, school_admin).post(f"{ADMIN}settings/", data)
    assert response.status_code == 400
    body = page(response)
    assert "field-error" in body and escape(str(REFUSED_MESSAGE)) in body
    assert settings_row(school).llm_base_url == ""


def test_a_base_url_of_the_schools_own_without_its_own_key_is_refused_by_the_form(
    client, school, school_admin
):
    data = {
        "llm_provider": "openai",
        "llm_model": "",
        "llm_base_url": "https://llm.example.org/v1",
        "prompt_price": "",
        "completion_price": "",
        "ai_policy_text": "",
    }
    response = login(client, school_admin).post(f"{ADMIN}settings/", data)
    assert response.status_code == 400
    assert "own API key" in page(response)
    assert settings_row(school).llm_base_url == ""


def test_settings_service_refuses_all_or_nothing(school, school_admin, teacher):
    from tutoring.errors import InvalidInput, PermissionDeniedError
    from tutoring.services.school_admin import school_settings_update

    with school_context(school):
        actor = membership_of(school, school_admin)
        with pytest.raises(InvalidInput) as excinfo:
            school_settings_update(
                actor=actor, llm_model="fine", monthly_token_budget=-5, ai_policy_text="ok"
            )
        assert set(excinfo.value.fields) == {"monthly_token_budget"}
        with pytest.raises(InvalidInput):
            school_settings_update(actor=actor, encrypted_key="x")
        with pytest.raises(PermissionDeniedError):
            school_settings_update(actor=membership_of(school, teacher), llm_model="x")
        row = school_settings_get(school)
        assert row.llm_model == "" and row.ai_policy_text == ""


def test_settings_page_costs_a_fixed_number_of_queries(
    client, school, school_admin, django_assert_num_queries
):
    settings_row(school)  # the row exists, as on every school after its first request
    login(client, school_admin)
    with django_assert_num_queries(12):
        client.get(f"{ADMIN}settings/")
    add_key(school, school_admin)
    with django_assert_num_queries(12):
        client.get(f"{ADMIN}settings/")


# --- Provider keys ------------------------------------------------------------------------


def test_a_new_key_is_shown_once_then_only_its_last_four(client, school, school_admin):
    login(client, school_admin)
    response = client.post(f"{ADMIN}keys/", {"label": "OpenAI", "key": SECRET, "activate": "on"})
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    body = page(response)
    shown = re.search(r'<input id="new-key" type="text" value="([^"]+)" readonly', body)
    assert shown and shown.group(1) == SECRET
    assert 'data-copy-target="#new-key"' in body
    assert "this is the only time Lantern shows this key" in body
    assert body.count(SECRET) == 1

    with school_context(school):
        key = ProviderKey.objects.get()
        assert key.is_active and key.last_four == "4cD6" and SECRET not in key.encrypted_key
    assert SECRET not in str(dict(client.session.items()))

    for url in (f"{ADMIN}keys/", f"{ADMIN}settings/", f"{ADMIN}budgets/", "/s/riverside/teach/"):
        later = page(client.get(url))
        assert SECRET not in later, url
        assert SECRET[:-4] not in later, url
    keys_page = page(client.get(f"{ADMIN}keys/"))
    assert "…4cD6" in keys_page and "In use" in keys_page and "OpenAI" in keys_page
    assert 'id="new-key"' not in keys_page
    assert "…4cD6" in page(client.get(f"{ADMIN}settings/"))


def test_an_invalid_key_is_refused_without_echoing_it_and_nothing_is_stored(
    client, school, school_admin
):
    response = login(client, school_admin).post(
        f"{ADMIN}keys/", {"label": "Oops", "key": "sk short key", "activate": "on"}
    )
    assert response.status_code == 400
    body = page(response)
    assert "That does not look like an API key." in body
    assert "sk short key" not in body
    with school_context(school):
        assert not ProviderKey.objects.exists()
    response = client.post(f"{ADMIN}keys/", {"label": "Empty", "key": ""})
    assert response.status_code == 400 and "field-error" in page(response)


def test_admin_switches_the_active_key_and_revokes_one(client, school, school_admin):
    first = add_key(school, school_admin, secret="sk-first-aaaaaaaa1111", label="First")
    second = add_key(school, school_admin, secret="sk-second-bbbbbbbb2222", label="Second")
    login(client, school_admin)
    response = client.post(f"{ADMIN}keys/{first.public_id}/activate/")
    assert response.status_code == 302
    with school_context(school):
        assert ProviderKey.objects.get(pk=first.pk).is_active
        assert not ProviderKey.objects.get(pk=second.pk).is_active
    assert "The key ending in 1111 is now in use." in page(client.get(response["Location"]))

    body = page(client.get(f"{ADMIN}keys/"))
    assert "data-confirm=" in body.split(f"keys/{second.public_id}/revoke/")[1][:200]
    client.post(f"{ADMIN}keys/{second.public_id}/revoke/")
    with school_context(school):
        revoked = ProviderKey.objects.get(pk=second.pk)
        assert revoked.revoked_at is not None and revoked.encrypted_key == ""
    body = page(client.get(f"{ADMIN}keys/"))
    assert "Revoked" in body and f"keys/{second.public_id}/activate/" not in body
    assert client.post(f"{ADMIN}keys/{second.public_id}/activate/").status_code == 404


def test_keys_page_without_keys_says_what_to_do(client, school_admin):
    body = page(login(client, school_admin).get(f"{ADMIN}keys/"))
    assert "No school key yet" in body and "Add a key" in body


def test_keys_page_costs_a_fixed_number_of_queries(
    client, school, school_admin, django_assert_num_queries
):
    add_key(school, school_admin, secret="sk-one-aaaaaaaa1111")
    login(client, school_admin)
    with django_assert_num_queries(10):
        client.get(f"{ADMIN}keys/")
    for n in range(3):
        add_key(school, school_admin, secret=f"sk-more-bbbbbbbb{n}{n}{n}{n}")
    with django_assert_num_queries(10):
        body = page(client.get(f"{ADMIN}keys/"))
    assert body.count("<code>…") == 4


# --- Budgets ------------------------------------------------------------------------------


def test_budgets_show_what_the_school_and_each_student_used(
    client, school, school_admin, student, other_student
):
    use_tokens(school, student, 4000)
    use_tokens(school, other_student, 1000)
    use_tokens(school, None, 5000, is_preview=True)
    body = page(login(client, school_admin).get(f"{ADMIN}budgets/"))
    assert "10,000 of 2,000,000 tokens (0%)" in body  # 0.5% rounds to 0
    assert '<meter id="school-meter" min="0" max="2000000" value="10000"' in body
    students = body.split('id="students-heading"')[1]
    assert students.index("Alice Anders") < students.index("Bob Brown")
    assert "4,000" in students and "20%" in students and "5%" in students
    assert 'max="20000" value="4000"' in students


def test_admin_changes_the_budgets_and_bad_numbers_change_nothing(client, school, school_admin):
    login(client, school_admin)
    response = client.post(
        f"{ADMIN}budgets/",
        {"monthly_token_budget": "5000000", "student_daily_token_budget": "30000"},
    )
    assert response.status_code == 302
    row = settings_row(school)
    assert (row.monthly_token_budget, row.student_daily_token_budget) == (5_000_000, 30_000)
    for bad in (
        {"monthly_token_budget": "-1"},
        {"student_daily_token_budget": "lots"},
        {"student_daily_token_budget": "3000000000"},
    ):
        data = {"monthly_token_budget": "7", "student_daily_token_budget": "7", **bad}
        response = client.post(f"{ADMIN}budgets/", data)
        assert response.status_code == 400 and "field-error" in page(response), bad
    row = settings_row(school)
    assert (row.monthly_token_budget, row.student_daily_token_budget) == (5_000_000, 30_000)


def test_budgets_page_costs_a_fixed_number_of_queries(
    client, school, school_admin, student, other_student, django_assert_num_queries
):
    settings_row(school)
    use_tokens(school, student, 100)
    login(client, school_admin)
    with django_assert_num_queries(14):
        client.get(f"{ADMIN}budgets/")
    use_tokens(school, other_student, 300)
    use_tokens(school, student, 300)
    with django_assert_num_queries(14):
        client.get(f"{ADMIN}budgets/")


# --- Navigation -----------------------------------------------------------------------------


def test_school_admins_see_members_settings_and_budgets_in_the_navigation(
    client, school_admin, teacher
):
    nav = page(login(client, school_admin).get(f"{ADMIN}settings/")).split("</nav>")[0]
    for label in ("Members", "Settings & keys", "Budgets", "Classes", "Usage"):
        assert f">{label}</a>" in nav, label
    assert 'aria-current="page">Settings & keys' in nav
    client.logout()
    nav = page(login(client, teacher).get("/s/riverside/teach/")).split("</nav>")[0]
    assert "Settings & keys" not in nav and ">Budgets</a>" not in nav
