"""GET /api/v1/schools/<slug>/explanations/<id>/stream: an explanation as Server-Sent Events.

The events are the web page's (tutoring/live/sse.py, reused here, not rewritten):
`delta` {"text"} with `id:` = characters sent so far, `status` {"status", "label"},
`reset` {} (a retry began: drop the text), `done` {"status", "label", "html", "text"}.
Resume after a dropped connection with `Last-Event-ID: <characters you have>` (or
`?last_event_id=`): nothing you already have is sent again. The viewer's access is
re-checked while the stream is open and the stream ends when it has ended (see
tutoring/live/sse.py).

A plain async Django view, not DRF (DRF has no async views): an open stream then costs no
thread while it waits. It authenticates the bearer token itself and goes through the same
one door (`school_access`) as every other view, inside `open_stream`.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.http import Http404, HttpRequest, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.access import SchoolSuspended
from base.api_errors import UNAVAILABLE_ERRORS, UNAVAILABLE_RETRY_SECONDS, error_body
from tutoring.live.sse import event_stream, open_stream, release_connection

STREAM_PATH = "/api/v1/schools/{school_slug}/explanations/{explanation_id}/stream"


def _bearer_user(request: HttpRequest) -> Any:
    """The user of a valid `Authorization: Bearer` token, None without one; raises
    AuthenticationFailed (InvalidToken) for a bad one."""
    try:
        found = JWTAuthentication().authenticate(request)  # type: ignore[arg-type]
    finally:
        release_connection()  # a worker-pool thread: give the pooled connection back
    return found[0] if found else None


def _error(status: int, code: str, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse(error_body(code, message), status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _resume_from(request: HttpRequest) -> int | None:
    """Characters the client has (header first, then `?last_event_id=`); None when the
    value is not a whole number (a 400, like any query parameter that does not parse)."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id", "0")
    return int(raw) if raw.isdigit() else None


async def explanation_stream_api(
    request: HttpRequest, school_slug: str, explanation_id: Any
) -> HttpResponseBase:
    if request.method != "GET":
        return _error(405, "method_not_allowed", _("Only GET is allowed here."), Allow="GET")
    try:
        user = await sync_to_async(_bearer_user)(request)
    except AuthenticationFailed:
        return _error(
            401,
            "token_invalid",
            _("The token is invalid or expired."),
            WWW_Authenticate='Bearer realm="api"',
        )
    if user is None:
        # A signed-in browser (the docs page) may use its session instead of a token.
        session_user = await request.auser()
        user = session_user if session_user.is_authenticated else None
    if user is None:
        return _error(
            401,
            "not_authenticated",
            _("Authentication credentials were not provided."),
            WWW_Authenticate='Bearer realm="api"',
        )
    try:
        start = await sync_to_async(open_stream)(user, school_slug, str(explanation_id))
    except Http404:
        return _error(404, "not_found", _("Not found."))
    except SchoolSuspended:
        return _error(403, "school_suspended", _("This school is suspended. Contact your school."))
    except UNAVAILABLE_ERRORS:
        return _error(
            503,
            "service_unavailable",
            _("The service is unavailable for a moment. Try again shortly."),
            Retry_After=str(UNAVAILABLE_RETRY_SECONDS),
        )
    resume_from = _resume_from(request)
    if resume_from is None:
        fields = {"last_event_id": [_("Use a whole number from 0.")]}
        message = _("Some fields are not valid: see `fields`.")
        return JsonResponse(error_body("invalid_input", message, fields), status=400)
    response = StreamingHttpResponse(
        event_stream(start, resume_from), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    # Proxies (nginx) must pass each event on at once rather than buffer the response.
    response["X-Accel-Buffering"] = "no"
    return response


explanation_stream_api.csrf_exempt = True  # type: ignore[attr-defined]  # GET only, token auth


def _error_response(description: str, *headers: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if headers:
        response["headers"] = {name: {"schema": {"type": "string"}} for name in headers}
    return response


def _object(description: str, **properties: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "description": description}
    if properties:
        schema.update(properties=properties, required=list(properties))
    return schema


_STRING = {"type": "string"}
_STATUS = {"$ref": "#/components/schemas/ExplanationStatusEnum"}
# The `data:` of each event type, as components a generated client gets models for.
STREAM_EVENTS: dict[str, dict[str, Any]] = {
    "StreamDelta": _object(
        "`event: delta`: append `text`. Its `id:` is the number of characters sent so far "
        "(send it back as `last_event_id` / `Last-Event-ID` to resume after it).",
        text=_STRING,
    ),
    "StreamStatus": _object(
        "`event: status`: the status changed; show `label`.", status=_STATUS, label=_STRING
    ),
    "StreamReset": _object("`event: reset` (`id: 0`): a retry began; clear the text."),
    "StreamDone": _object(
        "`event: done`: finished; `html` is the whole answer, sanitized, `text` the same "
        "as Markdown (or the failure's message). The server then closes the stream.",
        status=_STATUS,
        label=_STRING,
        html=_STRING,
        text=_STRING,
    ),
}
_RESUME = "Characters already received (the `id:` of the last `delta`): resume after them."


def add_stream_to_schema(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: document the stream, which is not a DRF view."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(STREAM_EVENTS)
    events = {
        name.removeprefix("Stream").lower(): {"$ref": f"#/components/schemas/{name}"}
        for name in STREAM_EVENTS
    }
    result.setdefault("paths", {})[STREAM_PATH] = {
        "get": {
            "operationId": "explanation_stream_get",
            "summary": "Watch an explanation being written (Server-Sent Events)",
            "description": (
                "`text/event-stream`, read as it arrives (not one string at the end). "
                "It starts with `retry: 2000`; each event is `id:` (deltas and reset "
                "only), `event:` and one `data:` line of JSON: `delta` (StreamDelta), "
                "`status` (StreamStatus), `reset` (StreamReset), `done` (StreamDone), "
                "after which the server closes the stream. Comments (`: keep-alive`) "
                "arrive while nothing happens. Reconnect with `last_event_id` (or the "
                "`Last-Event-ID` header, which wins) to resume; a stream lasts at most "
                "5 minutes. It also ends, without `done`, when your access ends "
                "(membership or account deactivated, school suspended): the reconnect is "
                "then refused (401/403/404)."
            ),
            "tags": ["asking the tutor"],
            "parameters": [
                {
                    "name": "school_slug",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
                },
                {
                    "name": "explanation_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "format": "uuid"},
                },
                {
                    "name": "last_event_id",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 0},
                    "description": _RESUME + " For clients that cannot set headers.",
                },
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 0},
                    "description": _RESUME + " Sent by SSE libraries on reconnect.",
                },
            ],
            "security": [{"jwt": []}, {"cookieAuth": []}],
            "responses": {
                "200": {
                    "description": "The event stream. Event data types: "
                    + ", ".join(
                        f"`{event}` {ref['$ref'].rsplit('/', 1)[1]}"
                        for event, ref in events.items()
                    )
                    + ".",
                    "content": {
                        "text/event-stream": {
                            "schema": {"type": "string", "x-sse-events": events},
                            "example": (
                                "retry: 2000\n\nid: 12\nevent: delta\n"
                                'data: {"text": "A fraction "}\n\nevent: done\n'
                                'data: {"status": "succeeded", "label": "Answered", '
                                '"html": "<p>A fraction …</p>", "text": "A fraction …"}\n\n'
                            ),
                        }
                    },
                },
                "400": _error_response("`last_event_id` / `Last-Event-ID` is not a whole number."),
                "401": _error_response(
                    "Not signed in, or the token is invalid.", "WWW-Authenticate"
                ),
                "403": _error_response("The school is suspended."),
                "404": _error_response("No such school, explanation, or not yours."),
                "405": _error_response("Only GET is allowed.", "Allow"),
                "503": _error_response("The database is unreachable for a moment.", "Retry-After"),
            },
        }
    }
    return result


__all__ = ["add_stream_to_schema", "explanation_stream_api"]
