"""A fake OpenAI-compatible HTTP server for tests, benchmarks and demos.

Pure stdlib. One thread per connection (`ThreadingHTTPServer`, daemon threads, deep listen
backlog), HTTP/1.1 keep-alive, so hundreds of slow generations can be in flight at once.

    with FakeOpenAI(latency=0.2) as fake:
        fake.script(Error.rate_limited(retry_after=3), Reply("second try works"))
        ...  # point the code under test at fake.base_url
        assert fake.chat_requests()[0]["model"] == "gpt-4o-mini"

Behaviour of each chat call, first match wins: the next scripted action (`script()`), a
random fault (`set_chaos()`), the default reply. Deliberately stricter than OpenAI in one
place: the default 401 message quotes the presented key in full (OpenAI masks it), so tests
that check the key never leaks into errors have teeth.

Standalone: `python -m tests.fakes.openai_server --port 8765 --latency 1.0`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import signal
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "DEFAULT_MODERATION_TRIGGERS",
    "Action",
    "Disconnect",
    "Error",
    "FakeOpenAI",
    "Hang",
    "Malformed",
    "Reply",
]

JsonDict = dict[str, Any]
ReplyText = str | Callable[[JsonDict], str]

MODERATION_CATEGORIES: tuple[str, ...] = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)

# Phrase (matched case-insensitively on word boundaries) -> moderation category.
DEFAULT_MODERATION_TRIGGERS: Mapping[str, str] = {
    "kill myself": "self-harm",
    "hurt myself": "self-harm",
    "bomb": "violence",
    "shoot": "violence",
}

MODELS: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "omni-moderation-latest")


# -- scriptable behaviours -----------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """Answer successfully. `text` may be a callable receiving the request body (to echo).

    Token counts default to word counts (prompt: all message contents; completion: the
    reply). `include_usage=False` omits usage entirely, like some compatible servers do.
    `latency=None` uses the server default.
    """

    text: ReplyText
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int = 0
    finish_reason: str = "stop"
    include_usage: bool = True
    latency: float | None = None


@dataclass(frozen=True)
class Error:
    """Answer with an OpenAI-shaped error body, immediately (no latency).

    `retry_after` becomes the `retry-after` header (seconds, or an HTTP date as a string);
    `retry_after_ms` the `retry-after-ms` header. Missing code/type/message get realistic
    defaults for the status.
    """

    status: int
    code: str | None = None
    message: str | None = None
    retry_after: float | str | None = None
    retry_after_ms: int | None = None
    type: str | None = None

    @classmethod
    def rate_limited(cls, retry_after: float | str | None = None) -> Error:
        return cls(429, code="rate_limit_exceeded", retry_after=retry_after)

    @classmethod
    def quota_exhausted(cls) -> Error:
        return cls(429, code="insufficient_quota")

    @classmethod
    def server_error(cls, status: int = 500) -> Error:
        return cls(status)

    @classmethod
    def invalid_api_key(cls) -> Error:
        return cls(401, code="invalid_api_key")

    @classmethod
    def context_length_exceeded(cls) -> Error:
        return cls(400, code="context_length_exceeded")

    @classmethod
    def model_not_found(cls) -> Error:
        return cls(404, code="model_not_found")


@dataclass(frozen=True)
class Hang:
    """Send nothing for `seconds` (meant to exceed the client timeout), then close.

    `FakeOpenAI.stop()` cuts the wait short, so a hang never holds up a test's teardown.
    """

    seconds: float


@dataclass(frozen=True)
class Malformed:
    """Answer 200 with a broken body: truncated JSON, or for a stream one good chunk
    followed by an event whose data is not JSON."""


@dataclass(frozen=True)
class Disconnect:
    """Drop the connection: before any response, or for a stream after `after_chunks`
    content chunks, without terminating the chunked body."""

    after_chunks: int = 1


Action = Reply | Error | Hang | Malformed | Disconnect


# -- server --------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver would join every handler thread in server_close(); FakeOpenAI.stop()
    # unblocks and waits for them itself, with a bound.
    block_on_close = False
    request_queue_size = 1024
    allow_reuse_address = True

    fake: FakeOpenAI

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or disconnect mid-answer are routine here; stay quiet.
        pass


class FakeOpenAI:
    """A scriptable, concurrent fake of the OpenAI HTTP API on 127.0.0.1.

    Endpoints: `POST /v1/chat/completions` (JSON and SSE streaming), `POST /v1/moderations`,
    `GET /v1/models`. All state changes are thread-safe and take effect on the next request.
    `GET /_stats` (not recorded) reports chat calls in flight, their peak, the number of
    chat calls, of moderation requests and of the texts they carried, and when each stream's
    first content chunk was written (wall clock, with the request's `safety_identifier`); `POST /_stats/reset` starts a new measurement
    (benchmarks run the fake as a subprocess and read it over HTTP).
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        reply: ReplyText = "default reply",
        chunk_delay: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
    ) -> None:
        """`api_key`, when set, makes every request presenting another key get a 401."""
        self._initial = (latency, reply, chunk_delay)
        self._host = host
        self._port = port
        self._api_key = api_key
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._connections_changed = threading.Condition(self._lock)
        self.requests: list[JsonDict] = []
        self._in_flight = 0
        self._in_flight_peak = 0
        self._chat_calls = 0
        self._moderation_calls = 0
        self._moderation_texts = 0
        self._first_chunks: deque[JsonDict] = deque(maxlen=5000)
        self._init_behaviour()

    def _init_behaviour(self) -> None:
        self._latency, self._reply, self._chunk_delay = self._initial
        self._script: deque[Action] = deque()
        self._moderation_script: deque[Action] = deque()
        self._chaos: list[tuple[float, str]] = []
        self._chaos_random = random.Random()
        self._chaos_hang_seconds = 120.0
        self._chaos_retry_after: float | None = 1.0
        self._triggers: dict[str, str] = dict(DEFAULT_MODERATION_TRIGGERS)

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        """Bind (port 0 = ephemeral), serve in a daemon thread, return self."""
        if self._server is not None:
            raise RuntimeError("FakeOpenAI already started")
        server = _Server((self._host, self._port), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-openai-{server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, cut short every latency/hang wait, drop open connections and wait
        (up to `timeout`) for handler threads to finish. Idempotent."""
        server = self._server
        if server is None or self._stopping.is_set():
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        with self._connections_changed:
            while self._connections and time.monotonic() < deadline:
                self._connections_changed.wait(0.05)
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeOpenAI not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """e.g. `http://127.0.0.1:41234/v1`, what an OpenAI client takes as base URL."""
        return f"http://{self._host}:{self.port}/v1"

    # -- scripting -------------------------------------------------------------------

    def script(self, *actions: Action) -> None:
        """Queue behaviours for the next chat calls, consumed one per call in order."""
        with self._lock:
            self._script.extend(actions)

    def script_moderation(self, *actions: Error | Hang | Malformed | Disconnect) -> None:
        """Queue behaviours for the next moderation calls, consumed one per call."""
        with self._lock:
            self._moderation_script.extend(actions)

    def set_default(
        self,
        *,
        reply: ReplyText | None = None,
        latency: float | None = None,
        chunk_delay: float | None = None,
    ) -> None:
        """Change the behaviour used once the script is empty; None leaves a value as is."""
        with self._lock:
            if reply is not None:
                self._reply = reply
            if latency is not None:
                self._latency = latency
            if chunk_delay is not None:
                self._chunk_delay = chunk_delay

    def set_chaos(
        self,
        rates: Mapping[str, float],
        *,
        seed: int | None = None,
        hang_seconds: float = 120.0,
        retry_after: float | None = 1.0,
    ) -> None:
        """Make unscripted chat calls fail at random, e.g. `{"429": 0.2, "hang": 0.05}`.

        Keys: an HTTP status (`"429"`, `"500"`, `"503"`, ...), `"hang"`, `"malformed"`,
        `"disconnect"`. Rates are per call and must sum to at most 1. `seed` makes the
        sequence reproducible; an empty mapping turns chaos off.
        """
        table: list[tuple[float, str]] = []
        total = 0.0
        for kind, rate in rates.items():
            if not (kind.isdigit() or kind in ("hang", "malformed", "disconnect")):
                raise ValueError(f"unknown chaos kind {kind!r}")
            if rate < 0:
                raise ValueError(f"negative chaos rate for {kind!r}")
            total += rate
            table.append((total, kind))
        if total > 1.0 + 1e-9:
            raise ValueError(f"chaos rates sum to {total}, more than 1")
        with self._lock:
            self._chaos = table
            self._chaos_random = random.Random(seed)
            self._chaos_hang_seconds = hang_seconds
            self._chaos_retry_after = retry_after

    def set_moderation_triggers(self, triggers: Mapping[str, str]) -> None:
        """Replace the phrase -> category table used to flag moderation inputs."""
        with self._lock:
            self._triggers = dict(triggers)

    def reset(self) -> None:
        """Forget recorded requests and restore the constructor's behaviour: empty scripts,
        no chaos, default triggers."""
        with self._lock:
            self.requests.clear()
            self._init_behaviour()

    # -- inspection ------------------------------------------------------------------

    def chat_requests(self) -> list[JsonDict]:
        """Bodies of every chat completion request received, in arrival order."""
        return self._bodies("/chat/completions")

    def moderation_requests(self) -> list[JsonDict]:
        """Bodies of every moderation request received, in arrival order."""
        return self._bodies("/moderations")

    def stats(self) -> JsonDict:
        """Chat calls being answered now, the most at once and the total, and moderation
        requests and the texts they carried, since the last `reset_stats()` (or start)."""
        with self._lock:
            return {
                "in_flight": self._in_flight,
                "in_flight_peak": self._in_flight_peak,
                "chat_calls": self._chat_calls,
                "moderation_calls": self._moderation_calls,
                "moderation_texts": self._moderation_texts,
                "first_chunks": list(self._first_chunks),
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._in_flight_peak = self._in_flight
            self._chat_calls = 0
            self._moderation_calls = self._moderation_texts = 0
            self._first_chunks.clear()

    def _first_chunk_sent(self, user: str) -> None:
        with self._lock:
            self._first_chunks.append({"at": time.time(), "user": user})

    def _bodies(self, suffix: str) -> list[JsonDict]:
        with self._lock:
            return [r["json"] for r in self.requests if r["path"].rstrip("/").endswith(suffix)]

    # -- used by the handler -----------------------------------------------------------

    def _chat_started(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._chat_calls += 1
            self._in_flight_peak = max(self._in_flight_peak, self._in_flight)

    def _moderated(self, texts: int) -> None:
        with self._lock:
            self._moderation_calls += 1
            self._moderation_texts += texts

    def _chat_ended(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _record(self, entry: JsonDict) -> None:
        with self._lock:
            self.requests.append(entry)

    def _track(self, connection: socket.socket, *, is_open: bool) -> None:
        with self._connections_changed:
            if is_open:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)
            self._connections_changed.notify_all()

    def _next_chat_action(self) -> tuple[Action, float, float]:
        """The action for this chat call, with the latency and chunk delay to apply."""
        with self._lock:
            latency, chunk_delay = self._latency, self._chunk_delay
            if self._script:
                return self._script.popleft(), latency, chunk_delay
            if self._chaos:
                draw = self._chaos_random.random()
                for threshold, kind in self._chaos:
                    if draw < threshold:
                        return self._chaos_action(kind), latency, chunk_delay
            return Reply(self._reply), latency, chunk_delay

    def _chaos_action(self, kind: str) -> Action:
        if kind == "hang":
            return Hang(self._chaos_hang_seconds)
        if kind == "malformed":
            return Malformed()
        if kind == "disconnect":
            return Disconnect()
        status = int(kind)
        return Error(status, retry_after=self._chaos_retry_after if status == 429 else None)

    def _next_moderation_action(self) -> Action | None:
        with self._lock:
            return self._moderation_script.popleft() if self._moderation_script else None

    def _moderation_triggers(self) -> dict[str, str]:
        with self._lock:
            return dict(self._triggers)

    def _wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; False if the server is stopping (abandon the request)."""
        if seconds <= 0:
            return not self._stopping.is_set()
        return not self._stopping.wait(seconds)


class _Abandon(Exception):
    """The response cannot or should not be completed; close the connection."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, delayed ACKs add ~40 ms
    # to every response.
    disable_nagle_algorithm = True
    server: _Server

    # -- plumbing ---------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, is_open=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._track(self.connection, is_open=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        try:
            self._route()
        except (_Abandon, OSError):
            self.close_connection = True

    def _route(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = None
        path = self.path.split("?", 1)[0].rstrip("/")
        if path.startswith("/_stats"):
            if self.command == "POST" and path == "/_stats/reset":
                fake.reset_stats()
            self._send_json(200, fake.stats())
            return
        fake._record(
            {
                "method": self.command,
                "path": path,
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "json": body,
                "received_at": time.monotonic(),
            }
        )
        if fake._api_key is not None and self._presented_key() != fake._api_key:
            self._send_error(Error.invalid_api_key())
            return
        if body is None:
            self._send_error(Error(400, message="We could not parse the JSON body."))
            return
        if self.command == "GET" and path == "/v1/models":
            self._send_json(200, {"object": "list", "data": [_model(m) for m in MODELS]})
        elif self.command == "POST" and path == "/v1/chat/completions":
            fake._chat_started()
            try:
                self._chat(body)
            finally:
                fake._chat_ended()
        elif self.command == "POST" and path == "/v1/moderations":
            self._moderation(body)
        else:
            self._send_error(
                Error(404, code="unknown_url", message=f"Unknown request URL: {path}.")
            )

    def _presented_key(self) -> str:
        authorization = self.headers.get("authorization") or ""
        return authorization.removeprefix("Bearer ").strip()

    def _send_json(
        self, status: int, payload: object, headers: Mapping[str, str] | None = None
    ) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), "application/json", headers)

    def _send_bytes(
        self,
        status: int,
        data: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", _request_id())
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, error: Error) -> None:
        kind, code, message = _error_defaults(error, self._presented_key())
        headers: dict[str, str] = {}
        if error.retry_after is not None:
            headers["retry-after"] = _header_number(error.retry_after)
        if error.retry_after_ms is not None:
            headers["retry-after-ms"] = str(error.retry_after_ms)
        payload = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        self._send_json(error.status, payload, headers)

    def _drop(self) -> None:
        """Close the connection without finishing the response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        raise _Abandon

    def _hang(self, seconds: float) -> None:
        self.server.fake._wait(seconds)
        self._drop()

    def _sleep(self, seconds: float) -> None:
        if not self.server.fake._wait(seconds):
            self._drop()

    # -- chat completions ---------------------------------------------------------------

    def _chat(self, body: JsonDict) -> None:
        action, latency, chunk_delay = self.server.fake._next_chat_action()
        if isinstance(action, Error):
            self._send_error(action)
            return
        if isinstance(action, Hang):
            self._hang(action.seconds)
            return
        if isinstance(action, Reply) and action.latency is not None:
            latency = action.latency
        self._sleep(latency)
        streaming = bool(body.get("stream"))
        if isinstance(action, Disconnect) and not streaming:
            self._drop()
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        model = str(body.get("model") or "gpt-4o-mini")
        if isinstance(action, Malformed):
            if streaming:
                self._stream_malformed(completion_id, model)
            else:
                truncated = f'{{"id": "{completion_id}", "object": "chat.completion", "choices": ['
                self._send_bytes(200, truncated.encode(), "application/json")
            return
        reply = action if isinstance(action, Reply) else Reply(self.server.fake._reply)
        text = reply.text(body) if callable(reply.text) else reply.text
        usage = _usage(body, text, reply) if reply.include_usage else None
        if not streaming:
            self._send_json(200, _completion(completion_id, model, text, reply, usage))
            return
        stream_options = body.get("stream_options") or {}
        include_usage = bool(stream_options.get("include_usage")) and usage is not None
        cut_after = action.after_chunks if isinstance(action, Disconnect) else None
        self._stream(
            completion_id,
            model,
            text,
            finish_reason=reply.finish_reason,
            usage=usage if include_usage else None,
            usage_requested=include_usage,
            chunk_delay=chunk_delay,
            cut_after=cut_after,
            user=str(body.get("safety_identifier") or body.get("user") or ""),
        )

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("x-request-id", _request_id())
        self.end_headers()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _event(self, payload: JsonDict | str) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        self._write_chunk(f"data: {data}\n\n".encode())

    def _end_stream(self) -> None:
        self._event("[DONE]")
        self.wfile.write(b"0\r\n\r\n")

    def _stream(
        self,
        completion_id: str,
        model: str,
        text: str,
        *,
        finish_reason: str,
        usage: JsonDict | None,
        usage_requested: bool,
        chunk_delay: float,
        cut_after: int | None,
        user: str = "",
    ) -> None:
        created = int(time.time())
        # With include_usage OpenAI sends `"usage": null` on every chunk but the last.
        extra: JsonDict = {"usage": None} if usage_requested else {}

        def chunk(delta: JsonDict, reason: str | None = None) -> JsonDict:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
            return _chunk(completion_id, model, created, [choice]) | extra

        self._start_stream()
        self._event(chunk({"role": "assistant", "content": "", "refusal": None}))
        for number, piece in enumerate(_pieces(text)):
            if cut_after is not None and number >= cut_after:
                self._drop()
            if number:
                self._sleep(chunk_delay)
            self._event(chunk({"content": piece}))
            if not number:
                self.server.fake._first_chunk_sent(user)
        if cut_after is not None:
            self._drop()
        self._event(chunk({}, finish_reason))
        if usage is not None:
            self._event(_chunk(completion_id, model, created, []) | {"usage": usage})
        self._end_stream()

    def _stream_malformed(self, completion_id: str, model: str) -> None:
        self._start_stream()
        good = _chunk(
            completion_id,
            model,
            int(time.time()),
            [{"index": 0, "delta": {"content": "Half an"}, "finish_reason": None}],
        )
        self._event(good)
        self._event('{"id": "' + completion_id + '", "choices": [{"delta": {"content": "ans')
        self._end_stream()

    # -- moderation -------------------------------------------------------------------

    def _moderation(self, body: JsonDict) -> None:
        action = self.server.fake._next_moderation_action()
        if isinstance(action, Error):
            self._send_error(action)
            return
        if isinstance(action, Hang):
            self._hang(action.seconds)
            return
        if isinstance(action, Disconnect):
            self._drop()
        if isinstance(action, Malformed):
            self._send_bytes(200, b'{"id": "modr-broken", "results": [', "application/json")
            return
        raw_input = body.get("input", "")
        inputs = raw_input if isinstance(raw_input, list) else [raw_input]
        self.server.fake._moderated(len(inputs))
        triggers = self.server.fake._moderation_triggers()
        results = [_moderation_result(_input_text(item), triggers) for item in inputs]
        model = str(body.get("model") or "omni-moderation-latest")
        self._send_json(
            200, {"id": f"modr-{uuid.uuid4().hex[:24]}", "model": model, "results": results}
        )


# -- response bodies -------------------------------------------------------------------------


def _request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def _header_number(value: float | str) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _model(model_id: str) -> JsonDict:
    return {"id": model_id, "object": "model", "created": 1_700_000_000, "owned_by": "fake"}


def _error_defaults(error: Error, presented_key: str) -> tuple[str, str | None, str]:
    """(type, code, message) for an error, filling realistic OpenAI defaults."""
    code = error.code
    if code is None and error.status == 429:
        code = "rate_limit_exceeded"
    defaults: dict[str | None, tuple[str, str]] = {
        "rate_limit_exceeded": (
            "requests",
            "Rate limit reached for requests. Please try again in a moment.",
        ),
        "insufficient_quota": (
            "insufficient_quota",
            "You exceeded your current quota, please check your plan and billing details.",
        ),
        "invalid_api_key": (
            "invalid_request_error",
            f"Incorrect API key provided: {presented_key}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
        ),
        "context_length_exceeded": (
            "invalid_request_error",
            "This model's maximum context length is 128000 tokens. However, your messages "
            "resulted in 131072 tokens. Please reduce the length of the messages.",
        ),
        "model_not_found": (
            "invalid_request_error",
            "The model does not exist or you do not have access to it.",
        ),
    }
    if code in defaults:
        kind, message = defaults[code]
    elif error.status >= 500:
        kind, message = (
            "server_error",
            "The server had an error while processing your request. Sorry about that!",
        )
    else:
        kind, message = "invalid_request_error", f"Fake error {error.status}."
    return error.type or kind, code, error.message or message


def _words(text: str) -> int:
    return len(text.split())


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _usage(body: JsonDict, text: str, reply: Reply) -> JsonDict:
    messages = body.get("messages") or []
    prompt = reply.prompt_tokens
    if prompt is None:
        prompt = sum(
            _words(_content_text(m.get("content"))) for m in messages if isinstance(m, dict)
        )
    completion = reply.completion_tokens if reply.completion_tokens is not None else _words(text)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": reply.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _completion(
    completion_id: str, model: str, text: str, reply: Reply, usage: JsonDict | None
) -> JsonDict:
    body: JsonDict = {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": reply.finish_reason,
            }
        ],
    }
    if usage is not None:
        body["usage"] = usage
    return body


def _chunk(completion_id: str, model: str, created: int, choices: list[JsonDict]) -> JsonDict:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": choices,
    }


def _pieces(text: str) -> list[str]:
    """Split into word-sized pieces that concatenate back to exactly `text`."""
    pieces = re.findall(r"\s*\S+", text)
    consumed = "".join(pieces)
    if len(consumed) < len(text):
        trailing = text[len(consumed) :]
        if pieces:
            pieces[-1] += trailing
        else:
            pieces = [trailing]
    return pieces


def _input_text(item: object) -> str:
    if isinstance(item, dict):
        return str(item.get("text", ""))
    return str(item)


def _moderation_result(text: str, triggers: Mapping[str, str]) -> JsonDict:
    hits = {
        category
        for phrase, category in triggers.items()
        if re.search(rf"\b{re.escape(phrase)}\b", text, re.IGNORECASE)
    }
    categories = {name: name in hits for name in MODERATION_CATEGORIES}
    scores = {name: (0.97 if name in hits else 0.0001) for name in MODERATION_CATEGORIES}
    return {
        "flagged": bool(hits),
        "categories": categories,
        "category_scores": scores,
        "category_applied_input_types": {
            name: (["text"] if name in hits else []) for name in MODERATION_CATEGORIES
        },
    }


# -- standalone ----------------------------------------------------------------------------


def _parse_chaos(spec: str) -> dict[str, float]:
    rates: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kind, _, rate = item.partition("=")
        rates[kind.strip()] = float(rate)
    return rates


def main(argv: Iterable[str] | None = None) -> None:
    """Run the fake until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before answering")
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between chunks")
    parser.add_argument("--reply", default="default reply")
    parser.add_argument("--chaos", default="", help='e.g. "429=0.2,500=0.1,hang=0.05"')
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--api-key", default=None, help="reject other keys with 401")
    args = parser.parse_args(list(argv) if argv is not None else None)

    fake = FakeOpenAI(
        latency=args.latency,
        reply=args.reply,
        chunk_delay=args.chunk_delay,
        host=args.host,
        port=args.port,
        api_key=args.api_key,
    )
    if args.chaos:
        fake.set_chaos(_parse_chaos(args.chaos), seed=args.seed)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    fake.start()
    print(f"Fake OpenAI listening on {fake.base_url}", flush=True)
    try:
        # A timed wait keeps the main thread responsive to Ctrl-C and SIGTERM.
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
