"""Under uvicorn, an oversized body is refused without being read: 413 while the client is
still sending, for a body announced too large and for a chunked one that grows past the
limit; and the edge's other refusals work on the async path too. The app is the real ASGI
application (config.asgi), served on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def served(settings) -> Iterator[tuple[str, int]]:
    settings.REQUEST_BODY_MAX_BYTES = 64 * 1024
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        application, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(timeout=10)


def _response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:])
    }
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def _headers(path: str, extra: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{extra}\r\n"
    ).encode()


def test_a_body_announced_too_large_is_413_before_a_byte_of_it_is_sent(served):
    with socket.create_connection(served) as sock:
        sock.sendall(_headers("/api/v1/auth/token", f"Content-Length: {10 * 1024 * 1024}\r\n"))
        # Not one byte of the 10 MB: the answer comes anyway.
        status, headers, body = _response(sock)
    assert status == 413
    error = json.loads(body)["error"]
    assert error["code"] == "payload_too_large"
    assert "65536 bytes" in error["message"]


def test_a_chunked_body_is_cut_at_the_limit_and_answered_413_while_still_sending(served):
    chunk = b"a" * 16 * 1024
    with socket.create_connection(served) as sock:
        sock.sendall(_headers("/api/v1/auth/token", "Transfer-Encoding: chunked\r\n"))
        sock.sendall(b'5\r\n{"a":\r\n')
        # Five times the limit, and the body never ends (no final zero-length chunk).
        for _ in range(20):
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        status, headers, body = _response(sock)
    assert status == 413
    assert json.loads(body)["error"]["code"] == "payload_too_large"


def test_a_page_gets_the_sites_own_413_page(served):
    with socket.create_connection(served) as sock:
        sock.sendall(
            b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        for _ in range(8):
            sock.sendall(b"%x\r\n%s\r\n" % (16 * 1024, b"a" * 16 * 1024))
        status, headers, body = _response(sock)
    assert status == 413
    assert headers["content-type"].startswith("text/html")
    text = body.decode()
    assert 'class="site-header"' in text
    assert "Request too large" in text


def test_a_body_under_the_limit_still_reaches_the_endpoint(served, student):
    from tests.factories import TEST_PASSWORD

    payload = json.dumps({"email": student.email, "password": TEST_PASSWORD}).encode()
    with socket.create_connection(served) as sock:
        sock.sendall(_headers("/api/v1/auth/token", f"Content-Length: {len(payload)}\r\n"))
        sock.sendall(payload)
        status, headers, body = _response(sock)
    assert status == 200, body
    assert set(json.loads(body)) >= {"access", "refresh"}


def _get(served: tuple[str, int], path: str) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(served) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        return _response(sock)


def test_a_nul_in_the_query_of_a_live_stream_is_400_in_the_envelope(served):
    # The SSE stream is an async view: the middleware's async path, with no thread hop.
    path = "/api/v1/schools/riverside/explanations/00000000-0000-0000-0000-000000000000/stream"
    status, headers, body = _get(served, f"{path}?last_event_id=1%002")
    assert status == 400
    assert json.loads(body)["error"]["code"] == "invalid_encoding"


def test_bad_utf8_in_a_page_query_is_the_sites_400_page_under_asgi(served):
    status, headers, body = _get(served, "/s/riverside/history/?q=%ff%fe")
    assert status == 400
    assert 'class="site-header"' in body.decode()
