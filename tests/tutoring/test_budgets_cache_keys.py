"""Budgets stop spending before it happens; the cache saves calls; keys stay secret."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet

from accounts.tenancy import school_context
from tests.conftest import wait_for
from tests.factories import member, membership_of, published_lesson
from tutoring.errors import BudgetExhausted
from tutoring.models import Explanation, ProviderKey, UsageEntry, UsagePeriod
from tutoring.services import explanations as svc
from tutoring.services import generation, keys
from tutoring.services.budgets import budget_use, school_settings_get, usage_record

Status = Explanation.Status


def _ask(school, user, lesson, question="How do I add fractions?"):
    with school_context(school):
        actor = membership_of(school, user)
        session = svc.session_start(actor=actor, lesson=lesson)
        return svc.explanation_request(actor=actor, session=session, question=question)


def _generate(school, explanation):
    generation.explanation_generate(school_id=school.pk, explanation_id=explanation.pk)
    with school_context(school):
        return Explanation.objects.get(pk=explanation.pk)


def _set_budget(school, **limits):
    with school_context(school):
        row = school_settings_get(school)
        for name, value in limits.items():
            setattr(row, name, value)
        row.save()


# --- Budgets --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_student_daily_budget_exhausted_refuses_new_questions(school, teacher, student, fake_llm):
    from tests.fakes.openai_server import Reply

    lesson = published_lesson(school, teacher, [student])
    fake_llm.script(Reply("Answer.", prompt_tokens=900, completion_tokens=100))
    _set_budget(school, student_daily_token_budget=5000)
    first = _generate(school, _ask(school, student, lesson))
    assert first.status == Status.SUCCEEDED
    _set_budget(school, student_daily_token_budget=1000)
    with pytest.raises(BudgetExhausted) as excinfo:
        _ask(school, student, lesson, "And subtraction?")
    assert excinfo.value.code == "budget_exhausted"
    assert "ask your teacher" in excinfo.value.message.lower()


@pytest.mark.django_db(transaction=True)
def test_budget_that_cannot_cover_the_estimate_fails_the_explanation_readably(
    school, teacher, student, fake_llm
):
    lesson = published_lesson(school, teacher, [student])
    explanation = _ask(school, student, lesson)
    _set_budget(school, monthly_token_budget=50)  # below one prompt + max completion
    explanation = _generate(school, explanation)
    assert explanation.status == Status.FAILED
    assert explanation.error_code == "budget_exhausted"
    assert fake_llm.chat_requests() == []  # nothing was spent


@pytest.mark.django_db(transaction=True)
def test_usage_is_settled_from_the_providers_usage_and_costed(school, teacher, student, fake_llm):
    from tests.fakes.openai_server import Reply

    lesson = published_lesson(school, teacher, [student])
    fake_llm.script(Reply("Answer.", prompt_tokens=1000, completion_tokens=500))
    _set_budget(school, prompt_price_per_million=150_000, completion_price_per_million=600_000)
    explanation = _generate(school, _ask(school, student, lesson))
    # 1000 * $0.15/M + 500 * $0.60/M = $0.00045 = 450 micro-dollars
    assert explanation.cost_microdollars == 450
    with school_context(school):
        use = budget_use(school=school, student_id=student.pk)
        entry = UsageEntry.objects.get(explanation=explanation)
    assert entry.total_tokens == 1500
    assert use.school_used == use.student_used == 1500


@pytest.mark.django_db(transaction=True)
def test_teacher_preview_is_not_billed_to_a_student(school, teacher, student, fake_llm):
    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        actor = membership_of(school, teacher)
        session = svc.session_start(
            actor=actor, lesson=lesson, preview_profile={"reading_level": "early"}
        )
        explanation = svc.explanation_request(actor=actor, session=session, question="Why?")
    explanation = _generate(school, explanation)
    assert explanation.status == Status.SUCCEEDED and explanation.is_preview
    with school_context(school):
        entry = UsageEntry.objects.get(explanation=explanation)
        assert entry.student_id is None and entry.is_preview
        assert budget_use(school=school, student_id=teacher.pk).student_used == 0


@pytest.mark.django_db(transaction=True)
def test_the_period_counters_the_budget_check_reads_match_the_ledger(
    school, teacher, student, other_student, fake_llm
):
    from tests.fakes.openai_server import Reply

    fake_llm.script(*[Reply("Answer.", prompt_tokens=700, completion_tokens=50)] * 4)
    lesson = published_lesson(school, teacher, [student, other_student])
    for user, question in ((student, "Why?"), (student, "And then?"), (other_student, "How?")):
        assert _generate(school, _ask(school, user, lesson, question)).status == Status.SUCCEEDED
    with school_context(school):
        actor = membership_of(school, teacher)
        session = svc.session_start(actor=actor, lesson=lesson, preview_profile={})
        preview = svc.explanation_request(actor=actor, session=session, question="Preview?")
    assert _generate(school, preview).status == Status.SUCCEEDED
    with school_context(school):
        periods = {p.student_id: p.tokens for p in UsagePeriod.objects.all()}
        ledger = list(UsageEntry.objects.values_list("student_id", "prompt_tokens"))
        use = budget_use(school=school, student_id=student.pk)
        other_use = budget_use(school=school, student_id=other_student.pk)
    assert len(ledger) == 4
    assert periods == {None: 4 * 750, student.pk: 2 * 750, other_student.pk: 750}
    assert (use.school_used, use.student_used, other_use.student_used) == (3000, 1500, 750)

    # The check refuses from the counters: 1,500 used today leave nothing of 1,500.
    _set_budget(school, student_daily_token_budget=1500)
    with pytest.raises(BudgetExhausted):
        _ask(school, student, lesson, "One more?")
    _ask(school, other_student, lesson, "One more?")  # 750 of 1,500: still asks


@pytest.mark.django_db
def test_usage_counters_never_cross_schools(school, other_school, student, both_schools_user):
    def charge(where, user, tokens):
        with school_context(where):
            usage_record(
                school=where,
                explanation_id=None,
                student_id=user.pk,
                is_preview=False,
                provider="openai",
                model="m",
                prompt_tokens=tokens,
                completion_tokens=0,
            )

    charge(school, student, 100)
    charge(school, both_schools_user, 50)
    charge(other_school, both_schools_user, 999)
    with school_context(school):
        # Row-level security: even an unscoped read sees only this school's counters.
        seen = set(UsagePeriod.objects.unscoped_cross_school().values_list("school_id", flat=True))
        use = budget_use(school=school, student_id=both_schools_user.pk)
    assert seen == {school.pk}
    assert (use.school_used, use.student_used) == (150, 50)
    with school_context(other_school):
        assert budget_use(school=other_school, student_id=both_schools_user.pk).student_used == 999


@pytest.mark.django_db
def test_the_migration_backfills_this_months_and_todays_counters_from_the_ledger(
    school, student, other_student
):
    import importlib
    from datetime import timedelta

    from django.apps import apps
    from django.db import connection
    from django.utils import timezone

    backfill = importlib.import_module(
        "tutoring.migrations.0003_usage_period"
    ).usage_periods_backfill
    now = timezone.now()
    with school_context(school):
        for user, tokens, preview, when in (
            (student, 100, False, now),
            (student, 200, False, now),
            (other_student, 40, True, now),  # a preview: the school pays, no student does
            (student, 5000, False, now - timedelta(days=40)),  # an earlier month
        ):
            entry = UsageEntry.objects.create(
                school=school,
                student=None if preview else user,
                is_preview=preview,
                provider="openai",
                model="m",
                prompt_tokens=tokens,
                completion_tokens=0,
            )
            UsageEntry.objects.filter(pk=entry.pk).update(created_at=when)
        UsagePeriod.objects.all().delete()
        backfill(apps, type("SchemaEditor", (), {"connection": connection})())
        periods = {p.student_id: p.tokens for p in UsagePeriod.objects.all()}
    assert periods == {None: 340, student.pk: 300}


# --- Cache ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_identical_question_from_a_student_with_the_same_profile_is_served_from_cache(
    school, teacher, student, other_student, fake_llm
):
    lesson = published_lesson(school, teacher, [student, other_student])
    first = _generate(school, _ask(school, student, lesson, "What is a fraction?"))
    assert len(fake_llm.chat_requests()) == 1
    second = _ask(school, other_student, lesson, "what is a  fraction")
    assert second.status == Status.SUCCEEDED
    assert second.served_from_cache and second.cached_from_id == first.pk
    assert second.content == first.content
    assert len(fake_llm.chat_requests()) == 1  # no provider call
    with school_context(school):
        assert not UsageEntry.objects.filter(explanation=second).exists()


@pytest.mark.django_db(transaction=True)
def test_a_different_reading_level_is_not_served_from_cache(
    school, teacher, student, other_student, fake_llm
):
    from tutoring.services.profiles import profile_get_or_create, profile_update

    lesson = published_lesson(school, teacher, [student, other_student])
    _generate(school, _ask(school, student, lesson, "What is a fraction?"))
    with school_context(school):
        actor = membership_of(school, other_student)
        profile_update(
            actor=actor, profile=profile_get_or_create(school_member=actor), reading_level="high"
        )
    second = _ask(school, other_student, lesson, "What is a fraction?")
    assert second.status == Status.QUEUED and not second.served_from_cache


@pytest.mark.django_db(transaction=True)
def test_cache_never_crosses_schools(school, other_school, teacher, student, fake_llm):
    lesson = published_lesson(school, teacher, [student])
    _generate(school, _ask(school, student, lesson, "What is a fraction?"))
    other_teacher = member(other_school, "teacher", email="t@hilltop.test")
    other_pupil = member(other_school, "student", email="p@hilltop.test")
    other_lesson = published_lesson(other_school, other_teacher, [other_pupil])
    answer = _ask(other_school, other_pupil, other_lesson, "What is a fraction?")
    assert not answer.served_from_cache


# --- Keys -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_school_key_is_encrypted_at_rest_and_shown_once(school, school_admin):
    secret = "sk-test-" + "a1b2" * 8
    with school_context(school):
        created = keys.provider_key_create(actor=membership_of(school, school_admin), secret=secret)
        stored = ProviderKey.objects.get()
    assert created.plaintext == secret
    assert secret not in stored.encrypted_key and stored.last_four == secret[-4:]
    assert secret not in repr(stored) and secret not in str(stored) and secret not in repr(created)
    with school_context(school):
        assert keys.active_key_for_school(school) == secret


@pytest.mark.django_db(transaction=True)
def test_rotating_the_school_key_switches_calls_without_downtime(
    school, teacher, student, school_admin, fake_llm
):
    lesson = published_lesson(school, teacher, [student])
    old, new = "sk-test-old-" + "0" * 16, "sk-test-new-" + "1" * 16
    with school_context(school):
        admin = membership_of(school, school_admin)
        keys.provider_key_create(actor=admin, secret=old)
    _generate(school, _ask(school, student, lesson, "One?"))
    with school_context(school):
        keys.provider_key_create(actor=admin, secret=new)  # activates the new key
        assert ProviderKey.objects.filter(is_active=True).count() == 1
    _generate(school, _ask(school, student, lesson, "Two?"))
    used = [r["headers"]["authorization"] for r in fake_llm.requests if "chat" in r["path"]]
    assert used == [f"Bearer {old}", f"Bearer {new}"]


@pytest.mark.django_db
def test_encryption_keys_rotate_with_multifernet(school, school_admin, settings):
    secret = "sk-test-" + "c3d4" * 8
    with school_context(school):
        keys.provider_key_create(actor=membership_of(school, school_admin), secret=secret)
    newest = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [newest, *settings.FIELD_ENCRYPTION_KEYS]
    with school_context(school):
        assert keys.active_key_for_school(school) == secret  # old ciphertext still readable
        assert keys.provider_keys_reencrypt(school=school) == 1
    settings.FIELD_ENCRYPTION_KEYS = [newest]  # the old encryption key is retired
    with school_context(school):
        assert keys.active_key_for_school(school) == secret


@pytest.mark.django_db(transaction=True)
def test_keys_never_reach_logs_or_stored_errors(
    school, teacher, student, school_admin, fake_llm, caplog
):
    from tests.fakes.openai_server import Error

    secret = "sk-test-leak-" + "9" * 20
    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        keys.provider_key_create(actor=membership_of(school, school_admin), secret=secret)
    fake_llm.script(Error.invalid_api_key())  # the fake quotes the presented key in full
    caplog.set_level(logging.DEBUG)
    explanation = _generate(school, _ask(school, student, lesson))
    assert explanation.status == Status.FAILED
    stored = " ".join(
        [explanation.error_message, explanation.last_error_detail, explanation.content]
    )
    assert secret not in stored
    assert secret not in caplog.text


@pytest.mark.worker
def test_worker_end_to_end_with_the_school_key(
    school, teacher, student, school_admin, fake_llm, celery_worker_thread, settings
):
    settings.OPENAI_API_KEY = ""
    secret = "sk-test-school-" + "7" * 16
    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        keys.provider_key_create(actor=membership_of(school, school_admin), secret=secret)
    explanation = _ask(school, student, lesson)

    def done():
        with school_context(school):
            return Explanation.objects.get(pk=explanation.pk).is_terminal

    wait_for(done)
    assert fake_llm.requests[-1]["headers"]["authorization"] == f"Bearer {secret}"


@pytest.mark.django_db
def test_rotate_field_keys_command_moves_every_school_to_the_newest_key(
    school, other_school, school_admin, outsider, settings, capsys
):
    from django.core.management import call_command

    secrets = {school: "sk-test-" + "e5f6" * 8, other_school: "sk-test-" + "a7b8" * 8}
    for owner, admin in ((school, school_admin), (other_school, outsider)):
        with school_context(owner):
            keys.provider_key_create(actor=membership_of(owner, admin), secret=secrets[owner])
    newest = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [newest, *settings.FIELD_ENCRYPTION_KEYS]
    call_command("rotate_field_keys")
    assert "Re-encrypted 2 provider key(s)." in capsys.readouterr().out
    settings.FIELD_ENCRYPTION_KEYS = [newest]  # the old encryption key is retired
    for owner in (school, other_school):
        with school_context(owner):
            assert keys.active_key_for_school(owner) == secrets[owner]
