"""check_tenancy, health probes and production settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_check_tenancy_passes_on_the_migrated_database(capsys):
    call_command("check_tenancy")
    assert "every tenant table is protected" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_check_tenancy_fails_naming_a_table_without_rls():
    owner, password = settings.DATABASE_OWNER_CREDENTIALS
    dsn = dict(
        host="127.0.0.1",
        port=5432,
        dbname=connection.settings_dict["NAME"],
        user=owner,
        password=password,
    )
    with psycopg.connect(**dsn, autocommit=True) as owner_conn:
        owner_conn.execute("CREATE TABLE rogue_notes (id serial, school_id bigint)")
        try:
            with pytest.raises(CommandError) as excinfo:
                call_command("check_tenancy")
            assert excinfo.value.returncode == 1
            owner_conn.execute("ALTER TABLE rogue_notes ENABLE ROW LEVEL SECURITY")
            with pytest.raises(CommandError):
                call_command("check_tenancy")
        finally:
            owner_conn.execute("DROP TABLE rogue_notes")


@pytest.mark.django_db(transaction=True)
def test_check_tenancy_names_the_offending_table(capsys):
    from accounts.tenancy_checks import tenancy_problems

    owner, password = settings.DATABASE_OWNER_CREDENTIALS
    with psycopg.connect(
        host="127.0.0.1",
        dbname=connection.settings_dict["NAME"],
        user=owner,
        password=password,
        autocommit=True,
    ) as owner_conn:
        owner_conn.execute("ALTER TABLE accounts_invitation NO FORCE ROW LEVEL SECURITY")
        try:
            assert tenancy_problems() == ["accounts_invitation: row-level security is not forced"]
        finally:
            owner_conn.execute("ALTER TABLE accounts_invitation FORCE ROW LEVEL SECURITY")


def test_healthz_answers_without_a_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_database_and_broker(client):
    body = client.get("/readyz").json()
    assert body["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_naming_the_broker_when_it_is_down(client, settings):
    from config.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("failing")
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_its_secrets(missing):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS")}
    env.update(
        DEBUG="0",
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY="x" * 50,
        FIELD_ENCRYPTION_KEYS="bGFudGVybi1kZXYtb25seS1ub3QtZm9yLXByb2QtMzI=",
    )
    del env[missing]
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and missing in result.stderr
