"""Browser tests: the real app, served for real, driven by Playwright in Debian's Chromium.

For a run of browser tests, the app runs under ASGI (`uvicorn config.asgi:application`, so SSE streams
for real) and a real Celery worker consumes the explanation queue, both as subprocesses on
this run's test database (as the runtime role), this run's Redis database and the session's
fake OpenAI server. Tests using them are transactional: what a test creates is committed,
so the server and the worker see it.

Fixtures for every browser test module (students, teachers, admins):

    live_app        the base URL, e.g. "http://127.0.0.1:41234" (makes the test transactional)
    browser_page    a Playwright page at desktop width (1280) whose relative URLs go to the
                    app; `page.console_errors` collects console errors and page errors
    login(page, user)   sign in through the login form (a helper, not a fixture)

On failure, screenshots at 1280 px and 390 px go to test-results/screenshots/; the server's
and the worker's logs are in test-results/logs/.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import wait_for
from tests.factories import TEST_PASSWORD
from tests.live import answers_ok, free_port

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results"
SCREENSHOTS = RESULTS / "screenshots"
LOGS = RESULTS / "logs"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Every wait in a browser test is bounded by this (milliseconds): a stuck page fails fast.
TIMEOUT_MS = 15_000


# --- Knowing whether a test failed (for the screenshots) -----------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# --- The app and the worker as subprocesses ------------------------------------------------


def _app_env(fake_base_url: str) -> dict[str, str]:
    """The environment of the server and the worker: the test database (whose name is
    known only once it is created), this run's Redis, the fake model."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    database_url = "postgres://{user}:{password}@{host}:{port}/{name}".format(
        user=quote(db["USER"], safe=""),
        password=quote(db["PASSWORD"], safe=""),
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        name=quote(db["NAME"], safe=""),
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "OPENAI_", "LLM_", "PYTEST_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="1",
        LANTERN_TESTING="1",
        DATABASE_URL=database_url,
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_URL=settings.REDIS_URL,
        LLM_PROVIDER="openai",
        OPENAI_BASE_URL=fake_base_url,
        OPENAI_API_KEY="sk-test-" + secrets.token_hex(12),
        LLM_TIMEOUT_SECONDS="10",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def _start(name: str, args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path]:
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"{name}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    log.close()
    return process, log_path


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _alive(process: subprocess.Popen[bytes], log_path: Path) -> None:
    if process.poll() is not None:
        raise RuntimeError(f"{log_path.stem} exited early:\n{log_path.read_text()[-3000:]}")


class _LiveSuite:
    """The server, the worker and the browser, shared by consecutive browser tests.

    Started by the first browser test and stopped after the last one of a run of them
    (see `pytest_runtest_teardown`): the worker never outlives the browser tests (it would
    take tasks meant for another test's in-process worker), and starting costs are paid
    once per run of browser tests, not per module.
    """

    def __init__(self, fake_base_url: str, db_blocker: Any) -> None:
        self.fake_base_url = fake_base_url
        self.db_blocker = db_blocker
        self.base_url = ""
        self.browser: Any = None
        self._processes: list[tuple[subprocess.Popen[bytes], Path]] = []
        self._playwright: Any = None
        self._previous_async_unsafe: str | None = None

    def start(self) -> None:
        if self.base_url:
            return
        if not Path(CHROMIUM).exists():
            pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does it)")
        try:
            self._start()
        except BaseException:
            # Stopped here, or the next browser test would start its own server and worker
            # and these would live on, taking tasks from later tests' workers.
            self.stop()
            raise

    def _start(self) -> None:
        from config.celery import app

        with self.db_blocker.unblock():
            env = _app_env(self.fake_base_url)
        app.control.purge()  # leftovers of earlier tests would only waste the worker's time
        port = free_port()
        server = _start(
            "uvicorn",
            [
                sys.executable, "-m", "uvicorn", "config.asgi:application",
                "--host", "127.0.0.1", "--port", str(port),
                "--log-level", "warning", "--lifespan", "off", "--no-access-log",
            ],
            env,
        )  # fmt: skip
        worker = _start(
            "celery",
            [
                sys.executable, "-m", "celery", "-A", "config", "worker",
                "-P", "threads", "-c", "8", "-Q", "default,llm",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "--loglevel", "INFO", "-n", f"browser-{os.getpid()}@%h",
            ],
            env,
        )  # fmt: skip
        self._processes = [server, worker]
        # Chromium starts while the server and the worker import Django.
        self._start_browser()
        base_url = f"http://127.0.0.1:{port}"

        def both_ready() -> bool:
            for process, log_path in self._processes:
                _alive(process, log_path)
            return answers_ok(f"{base_url}/readyz") and b" ready." in worker[1].read_bytes()

        wait_for(both_ready, timeout=90, interval=0.1)
        self.base_url = base_url

    def _start_browser(self) -> None:
        from playwright.sync_api import expect, sync_playwright

        # Playwright's sync API keeps an event loop in this thread; Django would then refuse
        # the test's own (synchronous) database work. Only while the browser is open.
        self._previous_async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        expect.set_options(timeout=TIMEOUT_MS)
        self._playwright = sync_playwright().start()
        self.browser = self._playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )

    def stop(self) -> None:
        from config.celery import app

        for process, _log_path in self._processes:
            _stop(process)
        self._processes = []
        if self.browser is not None:
            self.browser.close()
            self._playwright.stop()
            self.browser = self._playwright = None
            if self._previous_async_unsafe is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = self._previous_async_unsafe
        if self.base_url:
            app.control.purge()
        self.base_url = ""


_suites: list[_LiveSuite] = []


@pytest.fixture(scope="session")
def _live_suite(
    django_db_setup: None, django_db_blocker: Any, _fake_openai_server: Any
) -> Iterator[_LiveSuite]:
    suite = _LiveSuite(_fake_openai_server.base_url, django_db_blocker)
    _suites.append(suite)
    yield suite
    suite.stop()
    _suites.remove(suite)


def _is_browser_test(item: pytest.Item | None) -> bool:
    return item is not None and Path(str(item.fspath)).is_relative_to(Path(__file__).parent)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield  # the test's own fixtures (its transactional flush) are torn down first
    if _is_browser_test(item) and not _is_browser_test(nextitem):
        for suite in _suites:
            suite.stop()


@pytest.fixture
def live_app(_live_suite: _LiveSuite, transactional_db: None, fake_llm: Any) -> str:
    """The app's base URL. The test is transactional and the fake model is reset."""
    _live_suite.start()
    return _live_suite.base_url


# --- Playwright ----------------------------------------------------------------------------


@pytest.fixture
def browser_page(
    _live_suite: _LiveSuite, live_app: str, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """A fresh browser context at desktop width. `page.console_errors` lists every console
    error and uncaught page error (CSP violations included), as text."""
    context = _live_suite.browser.new_context(base_url=live_app, viewport=DESKTOP, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []

    def on_console(message: Any) -> None:
        # Browsers ask for /favicon.ico on their own; the app has none, and that is no
        # error of a page's.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"{message.text} ({message.location.get('url', '')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.console_errors = errors
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        _screenshots(page, request.node.name)
    context.close()


def _screenshots(page: Any, test_name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in test_name)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        try:
            page.set_viewport_size(size)
            page.screenshot(path=str(SCREENSHOTS / f"{safe}-{label}.png"), full_page=True)
        except Exception as exc:  # noqa: BLE001 - a screenshot must not hide the real failure
            print(f"screenshot {label} failed: {exc}")


def _use_a_hash_the_server_accepts(user: Any) -> None:
    # The test settings hash with MD5 for speed; the server runs the real settings, which
    # do not accept MD5. A PBKDF2 hash with few iterations is accepted (and upgraded).
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(TEST_PASSWORD, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])


def login(page: Any, user: Any) -> None:
    """Sign `user` in through the login form; returns on the page the app lands on."""
    _use_a_hash_the_server_accepts(user)
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if "/accounts/login/" in page.url:
        raise AssertionError(f"sign-in failed for {user.email}")
