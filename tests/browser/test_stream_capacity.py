"""Open live streams cost the server no thread each (ASGI, async view, async Redis)."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import httpx2
import pytest
from django.utils import timezone

from accounts.tenancy import school_context
from tests.browser.conftest import _use_a_hash_the_server_accepts
from tests.conftest import wait_for
from tests.factories import TEST_PASSWORD, membership_of, published_lesson
from tutoring.live.channel import DeltaPublisher
from tutoring.models import Explanation
from tutoring.services import explanations as svc

pytestmark = pytest.mark.browser
STREAMS = 200


def _threads(pid: int) -> int:
    status = open(f"/proc/{pid}/status").read()  # noqa: PTH123
    threads = re.search(r"Threads:\s+(\d+)", status)
    assert threads, status
    return int(threads.group(1))


def test_two_hundred_open_streams_add_no_thread_per_stream(
    live_app, _live_suite, school, teacher, student
):
    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        actor = membership_of(school, student)
        session = svc.session_start(actor=actor, lesson=lesson)
        explanation = svc.explanation_request(actor=actor, session=session, question="Hi?")
        # Being written by a worker that is slow today: the streams stay open, waiting.
        Explanation.objects.filter(pk=explanation.pk).update(
            status=Explanation.Status.RUNNING,
            attempt=1,
            lease_until=timezone.now() + timedelta(minutes=10),
        )
    _use_a_hash_the_server_accepts(student)
    web = httpx2.Client(base_url=live_app, timeout=30)
    web.get("/accounts/login/")
    web.post(
        "/accounts/login/",
        data={
            "username": student.email,
            "password": TEST_PASSWORD,
            "csrfmiddlewaretoken": web.cookies["csrftoken"],
        },
        headers={"Referer": f"{live_app}/accounts/login/"},
    )
    server_pid = _live_suite._processes[0][0].pid
    before = _threads(server_pid)
    url = f"/s/riverside/explanations/{explanation.public_id}/stream"
    opened: list[int] = []
    stop = threading.Event()

    def hold_a_stream() -> None:
        with httpx2.Client(base_url=live_app, cookies=web.cookies, timeout=60) as client:
            with client.stream("GET", url) as response:
                opened.append(response.status_code)
                for _ in response.iter_raw():
                    if stop.is_set():
                        return

    holders = [threading.Thread(target=hold_a_stream, daemon=True) for _ in range(STREAMS)]
    for holder in holders:
        holder.start()
    try:
        wait_for(lambda: len(opened) == STREAMS, timeout=60)
        assert set(opened) == {200}
        assert _threads(server_pid) - before < 20
    finally:
        stop.set()
        with school_context(school):  # let every stream end with `done`
            Explanation.objects.filter(pk=explanation.pk).update(
                status=Explanation.Status.FAILED, error_message="stopped"
            )
        DeltaPublisher(str(explanation.public_id)).done("failed")
        for holder in holders:
            holder.join(10)
