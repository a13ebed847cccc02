"""An open live stream re-checks its viewer's access: a member removed or deactivated while
watching stops receiving the explanation within the re-check interval, on the web page's
stream and on the API's alike. A member who stays keeps the stream to its `done`."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable

import pytest
from django.db import connection

from accounts import services as account_services
from accounts.models import Membership, User
from accounts.tenancy import school_context
from tests.api.conftest import bearer_client, school_url
from tests.conftest import wait_for
from tests.factories import membership_of, published_lesson
from tutoring.live import channel as streaming
from tutoring.live import sse as stream
from tutoring.models import Explanation
from tutoring.services import explanations as explanation_services

pytestmark = pytest.mark.django_db(transaction=True)

RECHECK_SECONDS = 0.2
# Unfixed, a stream runs until its deadline: kept short so such a run fails, not hangs.
STREAM_SECONDS = 4.0
# The stream must end within the interval, plus one event and the check's round trip.
CLOSE_WITHIN_SECONDS = RECHECK_SECONDS + 0.8


@pytest.fixture
def short_streams(settings, monkeypatch):
    settings.STREAM_MEMBERSHIP_RECHECK_SECONDS = RECHECK_SECONDS
    monkeypatch.setattr(stream, "STREAM_MAX_SECONDS", STREAM_SECONDS)


def _running_explanation(school, teacher, student) -> str:
    lesson = published_lesson(school, teacher, [student])
    with school_context(school):
        actor = membership_of(school, student)
        session = explanation_services.session_start(actor=actor, lesson=lesson)
        explanation = explanation_services.explanation_request(
            actor=actor, session=session, question="Why keep the denominator?"
        )
        Explanation.objects.filter(pk=explanation.pk).update(status=Explanation.Status.RUNNING)
    return str(explanation.public_id)


def _deactivate_membership(school, school_admin, student) -> None:
    with school_context(school):
        account_services.membership_set_active(
            actor=membership_of(school, school_admin),
            membership=membership_of(school, student),
            is_active=False,
        )


def _remove_membership(school, school_admin, student) -> None:
    with school_context(school):
        Membership.objects.for_school(school).filter(user=student).delete()


def _deactivate_user(school, school_admin, student) -> None:
    User.objects.filter(pk=student.pk).update(is_active=False)


ENDINGS: dict[str, Callable] = {
    "membership deactivated": _deactivate_membership,
    "membership removed": _remove_membership,
    "user deactivated": _deactivate_user,
}


def _open(interface: str, client, student, public_id: str):
    if interface == "web":
        client.force_login(student)
        return client.get(f"/s/riverside/explanations/{public_id}/stream")
    return bearer_client(student).get(school_url("riverside", f"explanations/{public_id}/stream"))


class _Generation(threading.Thread):
    """A model writing without end: a delta every 50 ms until stopped; after `end_after`
    seconds of live text (if given) it runs `end` once and records when."""

    def __init__(self, public_id: str, end: Callable[[], None] | None, end_after: float = 0.5):
        super().__init__(daemon=True)
        self.public_id = public_id
        self.end, self.end_after = end, end_after
        self.ended_at: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        redis = streaming._client()
        assert redis is not None, "the stream tests need Redis"
        wait_for(lambda: redis.pubsub_numsub(streaming.channel(self.public_id))[0][1])
        publisher = streaming.DeltaPublisher(self.public_id)
        started = time.monotonic()
        try:
            while not self.stop.is_set():
                publisher.delta("word ")
                if (
                    self.end
                    and self.ended_at is None
                    and time.monotonic() - started > self.end_after
                ):
                    self.end()
                    self.ended_at = time.monotonic()
                time.sleep(0.05)
        finally:
            connection.close()


def _gather(response) -> str:
    with warnings.catch_warnings():
        # The test client is synchronous: Django gathers the async stream, and says so.
        warnings.simplefilter("ignore")
        return b"".join(response).decode()


@pytest.mark.parametrize("interface", ["web", "api"])
@pytest.mark.parametrize("ending", list(ENDINGS))
def test_a_stream_closes_within_the_recheck_interval_once_the_viewers_access_ends(
    interface, ending, client, school, teacher, student, school_admin, short_streams
):
    public_id = _running_explanation(school, teacher, student)
    generation = _Generation(public_id, end=lambda: ENDINGS[ending](school, school_admin, student))
    generation.start()
    try:
        response = _open(interface, client, student, public_id)
        assert response.status_code == 200
        body = _gather(response)
        closed_at = time.monotonic()
    finally:
        generation.stop.set()
        generation.join(10)

    assert generation.ended_at is not None
    assert "event: delta" in body  # it was live before the access ended
    assert "event: done" not in body
    assert closed_at - generation.ended_at < CLOSE_WITHIN_SECONDS


@pytest.mark.parametrize("interface", ["web", "api"])
def test_a_reconnect_after_the_access_ended_is_refused(
    interface, client, school, teacher, student, school_admin
):
    public_id = _running_explanation(school, teacher, student)
    _deactivate_membership(school, school_admin, student)
    response = _open(interface, client, student, public_id)
    assert response.status_code == 404


def test_a_member_who_stays_keeps_the_stream_to_its_end(
    client, school, teacher, student, short_streams
):
    public_id = _running_explanation(school, teacher, student)
    generation = _Generation(public_id, end=None)
    generation.start()

    def finish_after_several_rechecks() -> None:
        time.sleep(RECHECK_SECONDS * 5)
        with school_context(school):
            Explanation.objects.filter(public_id=public_id).update(
                status=Explanation.Status.SUCCEEDED, content="word word"
            )
        generation.stop.set()
        streaming.DeltaPublisher(public_id).done("succeeded")
        connection.close()

    finisher = threading.Thread(target=finish_after_several_rechecks, daemon=True)
    finisher.start()
    try:
        body = _gather(_open("api", client, student, public_id))
    finally:
        generation.stop.set()
        finisher.join(10)
        generation.join(10)
    assert body.count("event: delta") > 1 and "event: done" in body


def test_the_recheck_is_one_query_in_its_own_school_context(
    school, teacher, student, django_assert_num_queries
):
    public_id = _running_explanation(school, teacher, student)
    start = stream.open_stream(student, "riverside", public_id)
    # Its own transaction: BEGIN, the transaction-local school setting, the check, COMMIT.
    with django_assert_num_queries(4) as captured:
        assert stream._membership_current(start) is True
    statements = [query["sql"] for query in captured.captured_queries]
    assert statements[0] == "BEGIN" and statements[-1] == "COMMIT"
    assert "set_config('app.school_id'" in statements[1]
    assert '"accounts_membership"."id" = ' in statements[2]


def test_without_redis_the_stream_of_the_stored_row_closes_too(
    client, school, teacher, student, school_admin, short_streams, settings, monkeypatch
):
    public_id = _running_explanation(school, teacher, student)
    settings.REDIS_URL = ""
    real_open = stream.open_stream

    def open_then_deactivate(*args):
        start = real_open(*args)
        _deactivate_membership(school, school_admin, student)
        return start

    monkeypatch.setattr(stream, "open_stream", open_then_deactivate)
    opened_at = time.monotonic()
    body = _gather(_open("web", client, student, public_id))
    assert "event: done" not in body
    assert time.monotonic() - opened_at < CLOSE_WITHIN_SECONDS + 1.0
