"""A Python client generated from the committed schema, and the real app for it to talk to.

`generate_client(tmp)` runs openapi-python-client (a dev dependency; it works offline and
runs no post-hooks here) on openapi/schema.yaml and imports the package it writes, so a
test drives the API exactly as a mobile team's generated client would: typed request
bodies, typed responses parsed by the generated models, and `raise_on_unexpected_status`,
so a status the schema does not list fails the test.

`LiveApp` serves the app under uvicorn (ASGI: the SSE stream streams for real) on this
run's test database and Redis, as the runtime role. The explanations are written by the
test's in-process Celery worker (`celery_worker_thread`) through the fake OpenAI server.
"""

from __future__ import annotations

import importlib
import os
import secrets
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import yaml

from tests.conftest import wait_for
from tests.live import answers_ok, free_port

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "openapi" / "schema.yaml"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "lantern_client"
# No post-hooks: the generator would otherwise run `ruff` over the generated code, which
# needs ruff on PATH and only formats it.
CONFIG = (
    f"package_name_override: {PACKAGE}\nproject_name_override: lantern-client\npost_hooks: []\n"
)


def generate_client(directory: Path) -> ModuleType:
    """Generate the client package into `directory` and import it (fresh each call)."""
    config = directory / "generator.yaml"
    config.write_text(CONFIG)
    output = directory / PACKAGE
    completed = subprocess.run(  # noqa: S603 - our own venv's tool, fixed arguments
        [
            str(GENERATOR), "generate", "--path", str(SCHEMA), "--config", str(config),
            "--meta", "none", "--output-path", str(output), "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
        del sys.modules[name]
    sys.path.insert(0, str(directory))
    try:
        return importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(directory))


def operation(operation_id: str) -> ModuleType:
    """The generated module of one operation (`lantern_client.api.<tag>.<operation_id>`)."""
    package_file = sys.modules[PACKAGE].__file__
    assert package_file is not None, "the generated package is a regular package"
    for tag_dir in (Path(package_file).parent / "api").iterdir():
        if (tag_dir / f"{operation_id}.py").exists():
            return importlib.import_module(f"{PACKAGE}.api.{tag_dir.name}.{operation_id}")
    raise LookupError(operation_id)


def models() -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.models")


# --- What the generated models cannot check ---------------------------------------------


def schema() -> dict[str, Any]:
    return yaml.safe_load(SCHEMA.read_text())


def schema_operation(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    for operations in spec["paths"].values():
        for found in operations.values():
            if isinstance(found, dict) and found.get("operationId") == operation_id:
                return found
    raise LookupError(operation_id)


# Headers that are part of the contract: a client reads them, so the schema must say so.
CONTRACT_HEADERS = ("Location", "ETag", "Retry-After", "Idempotent-Replayed", "Last-Modified")


def undeclared_headers(spec: dict[str, Any], operation_id: str, response: Any) -> list[str]:
    """Contract headers the server sent that the schema does not declare for this status
    (the generator ignores response headers, so this is checked against the schema)."""
    declared = schema_operation(spec, operation_id)["responses"].get(str(response.status_code))
    names = {name.lower() for name in (declared or {}).get("headers", {})}
    return [
        name
        for name in CONTRACT_HEADERS
        if name.lower() in {key.lower() for key in response.headers} and name.lower() not in names
    ]


def missing_headers(spec: dict[str, Any], operation_id: str, response: Any) -> list[str]:
    """Headers the schema declares required for this status that the server did not send."""
    declared = schema_operation(spec, operation_id)["responses"].get(str(response.status_code))
    sent = {key.lower() for key in response.headers}
    return [
        name
        for name, header in (declared or {}).get("headers", {}).items()
        if header.get("required") and name.lower() not in sent
    ]


def undeclared_fields(parsed: Any, path: str = "") -> list[str]:
    """Fields the server sent that the schema does not declare, anywhere in `parsed` (the
    generated models keep them in `additional_properties` instead of failing)."""
    found: list[str] = []
    if isinstance(parsed, list):
        for index, item in enumerate(parsed):
            found += undeclared_fields(item, f"{path}[{index}]")
        return found
    fields = getattr(type(parsed), "__attrs_attrs__", None)
    if fields is None:
        return found
    declared = [field.name for field in fields if field.name != "additional_properties"]
    if declared and getattr(parsed, "additional_properties", None):
        found += [f"{path}.{name}" for name in parsed.additional_properties]
    for name in declared:
        found += undeclared_fields(getattr(parsed, name), f"{path}.{name}")
    return found


# --- The live app -------------------------------------------------------------------------


class LiveApp:
    """uvicorn serving config.asgi on the test database, as a subprocess of this test."""

    def __init__(self, fake_base_url: str, log_path: Path) -> None:
        self.fake_base_url = fake_base_url
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def _env(self) -> dict[str, str]:
        from django.conf import settings
        from django.db import connection

        db = connection.settings_dict
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "CELERY_", "OPENAI_", "LLM_", "PYTEST_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DEBUG="1",
            LANTERN_TESTING="1",
            DATABASE_URL="postgres://{}:{}@{}:{}/{}".format(
                quote(db["USER"], safe=""),
                quote(db["PASSWORD"], safe=""),
                db["HOST"] or "127.0.0.1",
                db["PORT"] or 5432,
                quote(db["NAME"], safe=""),
            ),
            REDIS_URL=settings.REDIS_URL,
            CELERY_BROKER_URL=settings.REDIS_URL,
            LLM_PROVIDER="openai",
            OPENAI_BASE_URL=self.fake_base_url,
            OPENAI_API_KEY="sk-test-" + secrets.token_hex(12),
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        return env

    def start(self) -> str:
        port = free_port()
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            [
                sys.executable, "-m", "uvicorn", "config.asgi:application",
                "--host", "127.0.0.1", "--port", str(port),
                "--log-level", "warning", "--lifespan", "off", "--no-access-log",
            ],
            cwd=ROOT, env=self._env(), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        base_url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited:\n{self.log_path.read_text()[-3000:]}")
            return answers_ok(f"{base_url}/healthz")

        wait_for(ready, timeout=60, interval=0.1)
        self.base_url = base_url
        return base_url

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""
