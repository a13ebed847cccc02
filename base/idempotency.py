"""`Idempotency-Key` on POST: a retried request replays the first answer, never a second row.

A mobile client on a bad network cannot tell "my question was lost" from "the answer was
lost". It sends a unique key with each intended operation and retries with the same key:

- same key, same body: the first response (status, body, Location) is replayed with
  `Idempotent-Replayed: true`, and nothing new is created;
- same key, another body (or another endpoint): 409 `idempotency_key_reused`;
- same key while the first request is still running: the retry waits up to
  API_IDEMPOTENCY_WAIT_SECONDS for it, then gets 409 `idempotency_in_progress` with
  `Retry-After`.

Only successful (2xx) responses are recorded, and only once the request's transaction has
committed: a failed request created nothing, so retrying it with the same key simply runs
it again (after the budget resets, say), and a response whose transaction rolled back is
never replayed.

Why Redis and not a table: the record is a cache of a response with a 24-hour life, which
Redis expires by itself (a table needs a sweeper and a migration; models are frozen for the
API); the in-flight lock must be visible to a concurrent retry at once, while a row written
inside the first request's transaction is invisible until it commits; and recording every
POST would add a write on the primary database to the hottest path (asking). Losing Redis
loses only the replay window, never data: the database stays the source of truth.

Record: `idem:<user_id>:<school_id>:<Idempotency-Key>` -> {fingerprint, status, body,
location} for 24 hours; lock: `idem-lock:<same>` for at most LOCK_SECONDS.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from base.api_errors import ApiError
from base.api_headers import IDEMPOTENCY_KEY_RE
from base.api_throttles import api_cache

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RECORD_SECONDS = 24 * 60 * 60
# Longer than any request should take; a lock left by a crashed process frees itself.
LOCK_SECONDS = 30
POLL_SECONDS = 0.05

Handler = TypeVar("Handler", bound=Callable[..., Response])


class IdempotencyKeyReused(ApiError):
    code = "idempotency_key_reused"
    status = 409


class IdempotencyInProgress(ApiError):
    code = "idempotency_in_progress"
    status = 409


def idempotent(*, redact: Sequence[str] = ()) -> Callable[[Handler], Handler]:
    """Decorate an API view's `post` so it honours `Idempotency-Key`.

    `redact`: top-level response fields never stored for replay (a provider key shown
    once: a replay answers without it).
    """

    def decorate(method: Handler) -> Handler:
        @wraps(method)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            return idempotency_guard(
                request=request,
                school_id=getattr(getattr(view, "school", None), "pk", 0),
                handler=lambda: method(view, request, *args, **kwargs),
                redact=redact,
            )

        wrapper.idempotent = True  # type: ignore[attr-defined]  # read by the schema
        return wrapper  # type: ignore[return-value]

    return decorate


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), cls=JSONEncoder)
    raw = f"{request.method}\n{request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _replay(record: dict[str, Any], fingerprint: str) -> Response:
    if record["fingerprint"] != fingerprint:
        raise IdempotencyKeyReused(
            _("This Idempotency-Key was already used with a different request.")
        )
    headers = {REPLAYED_HEADER: "true"}
    if record.get("location"):
        headers["Location"] = record["location"]
    return Response(json.loads(record["body"]), status=record["status"], headers=headers)


def _wait_for_record(key: str) -> dict[str, Any] | None:
    cache = api_cache()
    deadline = time.monotonic() + settings.API_IDEMPOTENCY_WAIT_SECONDS
    while time.monotonic() < deadline:
        record = cache.get(key)
        if record is not None:
            return record
        time.sleep(POLL_SECONDS)
    return cache.get(key)


def idempotency_guard(
    *,
    request: Request,
    school_id: int,
    handler: Callable[[], Response],
    redact: Sequence[str] = (),
) -> Response:
    """Run `handler` at most once per (user, school, Idempotency-Key); see the module doc."""
    supplied = request.headers.get(HEADER)
    if supplied is None:
        return handler()
    if not IDEMPOTENCY_KEY_RE.fullmatch(supplied):
        raise exceptions.ValidationError(
            {HEADER: [_("Use 1 to 200 characters: letters, digits, and . _ : - (a UUID).")]}
        )
    scope = f"{request.user.pk}:{school_id}:{supplied}"
    key, lock = f"idem:{scope}", f"idem-lock:{scope}"
    fingerprint = _fingerprint(request)
    cache = api_cache()

    record = cache.get(key)
    if record is not None:
        return _replay(record, fingerprint)
    if not cache.add(lock, fingerprint, LOCK_SECONDS):
        record = _wait_for_record(key)
        if record is not None:
            return _replay(record, fingerprint)
        raise IdempotencyInProgress(
            _("A request with this Idempotency-Key is still being processed. Retry shortly."),
            headers={"Retry-After": "1"},
        )
    # The first request may have finished between our read and taking the lock.
    record = cache.get(key)
    if record is not None:
        cache.delete(lock)
        return _replay(record, fingerprint)

    try:
        response = handler()
    except BaseException:
        cache.delete(lock)
        raise
    if not 200 <= response.status_code < 300:
        cache.delete(lock)
        return response

    data = response.data
    if redact and isinstance(data, dict):
        data = {name: value for name, value in data.items() if name not in redact}
    stored = {
        "fingerprint": fingerprint,
        "status": response.status_code,
        "body": json.dumps(data, cls=JSONEncoder),
        "location": response.headers.get("Location", ""),
    }

    def remember() -> None:
        cache.set(key, stored, RECORD_SECONDS)
        cache.delete(lock)

    # Recorded only if the request's transaction commits: a rolled-back response must
    # never be replayed. Until then the lock makes a concurrent retry wait.
    transaction.on_commit(remember)
    return response


__all__ = ["HEADER", "REPLAYED_HEADER", "idempotency_guard", "idempotent"]
