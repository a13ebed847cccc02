"""The live explanation: Server-Sent Events for the tutor panel, and the state the poll
endpoint and the stream share.

The stream view is async so an open stream costs no thread while it waits: it awaits Redis
pub/sub (`streaming.alive_events`) or `asyncio.sleep`, and touches the database only in
short `sync_to_async` checks. Those checks open their own transaction and school context:
the request middleware's transaction has closed by the time a streaming body runs.

Events (the contract of static/js/lantern.js): `delta` {"text"} with `id:` = characters sent
so far (a reconnect resumes from Last-Event-ID), `status` {"status", "label"}, `reset` {}
(a retry began), `done` {"status", "label", "html", "text"} with html already sanitized.

Access is re-checked while the stream is open: every STREAM_MEMBERSHIP_RECHECK_SECONDS (one
query on primary keys, in its own transaction and school context) the viewer's membership
must still be active, with its user active and its school not suspended. When it is not,
the stream ends at once, without `done` (the protocol has no event for it): EventSource
reconnects, and the reconnect is refused like any request of a non-member (404, or the
sign-in page / 401 for a deactivated user), so a client stops there.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import connection, transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from accounts.access import SchoolSuspended, school_access
from accounts.models import Membership
from accounts.selectors import membership_is_current
from accounts.tenancy import deactivate_school, school_context
from tutoring import selectors
from tutoring.errors import NotFound
from tutoring.live import channel as streaming
from tutoring.models import Explanation
from tutoring.rendering import render_markdown

logger = logging.getLogger(__name__)
Status = Explanation.Status

# One stream lives at most this long; EventSource then reconnects with Last-Event-ID, so a
# stuck generation never pins a connection forever.
STREAM_MAX_SECONDS = 300.0
# Without an event for this long: a keep-alive comment and a look at the stored row (the
# row may have finished before we subscribed, so its `done` was never seen).
LIVE_IDLE_SECONDS = 5.0
# Without Redis (the zero-setup demo) the stored row is the only source: checked this often.
DATABASE_POLL_SECONDS = 1.0
KEEP_ALIVE_SECONDS = 15.0
RECONNECT_MILLISECONDS = 2000


def status_label(status: str) -> str:
    """What the student reads for each state of an explanation."""
    labels = {
        Status.QUEUED: _("Waiting for the tutor…"),
        Status.RUNNING: _("Writing…"),
        Status.SUCCEEDED: _("Answered"),
        Status.FAILED: _("Could not answer"),
        Status.BLOCKED: _("Not answered"),
    }
    return str(labels.get(status, status))  # type: ignore[call-overload]


BUSY_LABEL = _("The tutor is busy right now. Your question is saved and will be answered.")


def explanation_label(explanation: Explanation) -> str:
    """The status line a student reads, including the "busy, saved" state of retries."""
    if explanation.is_retrying:
        return str(BUSY_LABEL)
    return status_label(explanation.status)


def explanation_state(explanation: Explanation) -> dict[str, Any]:
    """The JSON the poll endpoint returns and the `done` event carries. `html` is the
    sanitized rendering of what the student may read: the answer once it has succeeded, or
    the kind reply of a blocked question; '' otherwise."""
    shown = explanation.status in (Status.SUCCEEDED, Status.BLOCKED)
    return {
        "status": explanation.status,
        "label": explanation_label(explanation),
        "html": str(render_markdown(explanation.content)) if shown else "",
        "text": explanation.content if shown else "",
        "error_message": explanation.error_text,
        "served_from_cache": explanation.served_from_cache,
    }


def is_terminal(state: dict[str, Any]) -> bool:
    return state["status"] in Explanation.TERMINAL


@dataclass(frozen=True)
class _StreamStart:
    membership: Membership
    public_id: str
    state: dict[str, Any]


def release_connection() -> None:
    # Streams are long; the pooled connection goes back between checks. Inside an atomic
    # block (the request's own transaction, or a test's) it is not ours to close.
    if not connection.in_atomic_block:
        connection.close()


def open_stream(user: Any, school_slug: str, public_id: str) -> _StreamStart:
    """The one access check: the school from the URL and the user's membership, then the
    explanation through its selector. Raises Http404 / SchoolSuspended."""
    try:
        with transaction.atomic():
            try:
                _school, membership = school_access(user=user, slug=school_slug)
                explanation = selectors.explanation_get(member=membership, public_id=public_id)
                return _StreamStart(membership, public_id, explanation_state(explanation))
            except NotFound as exc:
                raise Http404 from exc
            finally:
                deactivate_school()
    finally:
        release_connection()


def _stored_state(start: _StreamStart) -> dict[str, Any] | None:
    """The row as stored now, or None when it is gone (deleted with its session)."""
    try:
        with school_context(start.membership.school):
            explanation = selectors.explanation_get(
                member=start.membership, public_id=start.public_id
            )
            return explanation_state(explanation)
    except NotFound:
        return None
    finally:
        release_connection()


def _membership_current(start: _StreamStart) -> bool:
    """Whether the viewer may still watch: one indexed query, in its own transaction."""
    try:
        with school_context(start.membership.school):
            return membership_is_current(membership=start.membership)
    finally:
        release_connection()


# A worker-pool thread, not the request's own thread: the check takes a pooled connection
# for a moment and gives it back, and no thread waits on behalf of an idle stream.
_reload = sync_to_async(_stored_state, thread_sensitive=False)
_recheck = sync_to_async(_membership_current, thread_sensitive=False)


class _AccessWatch:
    """Re-checks the viewer's membership at most once per interval while a stream is open
    (removed or deactivated members must stop receiving an explanation they could watch)."""

    def __init__(self, start: _StreamStart) -> None:
        self.start = start
        self.interval = float(settings.STREAM_MEMBERSHIP_RECHECK_SECONDS)
        self._loop = asyncio.get_running_loop()
        self._next_at = self._loop.time() + self.interval

    async def ended(self) -> bool:
        """True once the membership no longer grants access (checked when due)."""
        now = self._loop.time()
        if now < self._next_at:
            return False
        self._next_at = now + self.interval
        if await _recheck(self.start):
            return False
        logger.info("live stream for %s closed: the viewer's access ended", self.start.public_id)
        return True


def _event(name: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    # json.dumps escapes newlines, so the payload is always exactly one `data:` line.
    return f"{head}event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _done(state: dict[str, Any]) -> bytes:
    text = state["text"] or state["error_message"]
    return _event(
        "done",
        {"status": state["status"], "label": state["label"], "html": state["html"], "text": text},
    )


KEEP_ALIVE = b": keep-alive\n\n"


@dataclass
class _Cursor:
    sent: int  # characters of live text the client has (the `id:` of the last delta)
    finished: bool = False  # `done` was sent


async def _follow_live(
    start: _StreamStart, cursor: _Cursor, deadline: float, access: _AccessWatch
) -> AsyncIterator[bytes]:
    """Relay the worker's live events until the stored row is terminal, the deadline, or
    the viewer's access ends."""
    loop = asyncio.get_running_loop()
    events = streaming.alive_events(
        # Idle, the reader wakes at least once per re-check interval, so an ended membership
        # closes a quiet stream as soon as a busy one.
        start.public_id,
        skip=cursor.sent,
        idle_timeout=min(LIVE_IDLE_SECONDS, access.interval),
    )
    async with aclosing(events):
        async for event in events:
            if await access.ended():
                cursor.finished = True
                return
            if event is None or event.type == "done":
                if event is None:
                    yield KEEP_ALIVE
                state = await _reload(start)
                if state is None:
                    cursor.finished = True
                    return
                if is_terminal(state):
                    cursor.finished = True
                    yield _done(state)
                    return
            elif event.type == "delta":
                cursor.sent += len(event.text)
                yield _event("delta", {"text": event.text}, event_id=cursor.sent)
            elif event.type == "reset":
                cursor.sent = 0
                yield _event("reset", {}, event_id=0)
            elif event.type == "status":
                # The worker announces `queued` only when it gives a question back after a
                # provider error: the "busy, saved" state.
                label = (
                    str(BUSY_LABEL) if event.status == Status.QUEUED else status_label(event.status)
                )
                yield _event("status", {"status": event.status, "label": label})
            if loop.time() > deadline:
                cursor.finished = True
                return


async def _follow_database(
    start: _StreamStart, deadline: float, access: _AccessWatch
) -> AsyncIterator[bytes]:
    """No live channel: watch the stored row until it is terminal or the access ends."""
    loop = asyncio.get_running_loop()
    last_status = start.state["status"]
    next_keep_alive = loop.time() + KEEP_ALIVE_SECONDS
    while loop.time() < deadline:
        await asyncio.sleep(min(DATABASE_POLL_SECONDS, access.interval))
        if await access.ended():
            return
        state = await _reload(start)
        if state is None:
            return
        if is_terminal(state):
            yield _done(state)
            return
        if state["status"] != last_status:
            last_status = state["status"]
            yield _event("status", {"status": last_status, "label": state["label"]})
            next_keep_alive = loop.time() + KEEP_ALIVE_SECONDS
        elif loop.time() >= next_keep_alive:
            yield KEEP_ALIVE
            next_keep_alive = loop.time() + KEEP_ALIVE_SECONDS


async def event_stream(start: _StreamStart, skip: int) -> AsyncIterator[bytes]:
    yield f"retry: {RECONNECT_MILLISECONDS}\n\n".encode()
    if is_terminal(start.state):
        yield _done(start.state)
        return
    deadline = asyncio.get_running_loop().time() + STREAM_MAX_SECONDS
    access = _AccessWatch(start)
    if settings.REDIS_URL:
        cursor = _Cursor(sent=skip)
        try:
            async for chunk in _follow_live(start, cursor, deadline, access):
                yield chunk
        except RedisError as exc:
            # The live channel is a nicety; the stored row still tells us when it is done.
            logger.warning("live stream for %s lost: %s", start.public_id, type(exc).__name__)
        if cursor.finished:
            return
    async for chunk in _follow_database(start, deadline, access):
        yield chunk


def _last_event_id(request: HttpRequest) -> int:
    raw = request.headers.get("Last-Event-ID", "")
    return int(raw) if raw.isdigit() else 0


async def explanation_stream(
    request: HttpRequest, school_slug: str, explanation_id: Any
) -> HttpResponseBase:
    """GET /s/<slug>/explanations/<uuid>/stream: the explanation as Server-Sent Events."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    user = await request.auser()
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        start = await sync_to_async(open_stream)(user, school_slug, str(explanation_id))
    except SchoolSuspended:
        return HttpResponse(status=403)
    response = StreamingHttpResponse(
        event_stream(start, _last_event_id(request)), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
