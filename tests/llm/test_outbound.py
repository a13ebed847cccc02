"""The outbound rule for school-chosen base URLs (issue #13, finding 2): checked when a URL
is saved and again on every connection, against the real SDK and the fake server."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from llm import CompletionRequest, LLMPermanentError, OpenAIProvider
from llm.outbound import REFUSED_CODE, OutboundRefused, check_url
from tests.fakes.dns import ScriptedResolver
from tests.fakes.openai_server import FakeOpenAI

REQUEST = CompletionRequest(messages=[{"role": "user", "content": "Hi"}], model="gpt-4o-mini")

# The targets of issue #13 as a school admin would type them; every one must be refused
# when saved, through the API and the web form alike, with one and the same message.
ISSUE_TARGETS = [
    "http://127.0.0.1:6379",
    "https://localhost:5432",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/v1",
    "https://10.0.0.1/v1",
    "https://0.0.0.0/v1",
    "https://metadata.google.internal/computeMetadata/v1",
    "https://user:secret@llm.example.org/v1",
    "http://llm.example.org/v1",
    "https://llm.example.org:6379/v1",
]

REFUSED_URLS = [
    "http://127.0.0.1:6379",
    "https://127.0.0.1:6379/v1",
    "https://localhost:5432/v1",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/v1",
    "https://10.0.0.1/v1",
    "https://0.0.0.0/v1",
    "https://metadata.google.internal/computeMetadata/v1",
    "https://192.168.1.10/v1",
    "https://172.16.0.1/v1",
    "https://100.100.100.200/v1",  # shared address space: a cloud metadata service
    "https://[fe80::1]/v1",
    "https://[::ffff:127.0.0.1]/v1",  # IPv4-mapped IPv6
    "https://[::ffff:a9fe:a9fe]/v1",  # 169.254.169.254, mapped
    "https://[2002:7f00:1::]/v1",  # 6to4 around 127.0.0.1
    "https://2130706433/v1",  # 127.0.0.1 as one number
    "https://127.1/v1",
    "https://224.0.0.1/v1",
    "https://redis/v1",  # a neighbour container
    "https://llm.corp.internal/v1",
    "https://user:secret@api.example.com/v1",  # credentials in the URL
    "https://api.example.com:6379/v1",  # an unusual port
    "http://api.example.com/v1",  # plain http, not allowed by the operator
    "ftp://api.example.com/v1",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_url_to_a_place_a_school_may_not_reach_is_refused(url: str) -> None:
    with pytest.raises(OutboundRefused):
        check_url(url)


@pytest.mark.parametrize(
    "url", ["https://api.openai.com/v1", "https://8.8.8.8/v1", "https://api.example.com:443/v1"]
)
def test_a_public_https_url_is_accepted(url: str) -> None:
    check_url(url)


def test_http_is_accepted_only_when_the_operator_allows_it(settings) -> None:
    with pytest.raises(OutboundRefused):
        check_url("http://8.8.8.8/v1")
    settings.LLM_OUTBOUND_ALLOW_HTTP = True
    check_url("http://8.8.8.8/v1")


def test_a_name_that_resolves_to_loopback_is_refused_when_saved(monkeypatch) -> None:
    resolver = ScriptedResolver.install(monkeypatch)
    resolver.script("llm.innocent.example", "93.184.216.34", "127.0.0.1")
    check_url("https://llm.innocent.example/v1")
    with pytest.raises(OutboundRefused):
        check_url("https://llm.innocent.example/v1")


# --- At connect time -----------------------------------------------------------------------


def _school_provider(api_key: str, base_url: str) -> OpenAIProvider:
    return OpenAIProvider(api_key, base_url, timeout=2.0, school_chosen_url=True)


def _refused(call) -> LLMPermanentError:  # type: ignore[no-untyped-def]
    with pytest.raises(LLMPermanentError) as caught:
        call()
    assert caught.value.code == REFUSED_CODE
    return caught.value


def test_a_school_url_on_loopback_never_connects_for_chat_or_moderation(
    fake_openai: FakeOpenAI, api_key: str, settings
) -> None:
    # Even with http and the fake's port allowed, loopback is not public.
    settings.LLM_OUTBOUND_ALLOW_HTTP = True
    settings.LLM_OUTBOUND_ALLOWED_PORTS = [443, fake_openai.port]
    provider = _school_provider(api_key, fake_openai.base_url)
    chat = _refused(lambda: provider.complete(REQUEST))
    streamed = _refused(lambda: provider.complete(REQUEST, on_delta=lambda _text: None))
    moderation = _refused(lambda: provider.moderate("hello"))
    assert fake_openai.requests == []
    assert "school administrator" in chat.user_message
    assert chat.user_message == streamed.user_message == moderation.user_message
    assert api_key not in chat.detail + chat.user_message


def test_an_open_and_a_closed_port_give_the_same_answer(
    fake_openai: FakeOpenAI, api_key: str, settings
) -> None:
    """No port scanner: an HTTP service and nothing at all look alike to the school."""
    settings.LLM_OUTBOUND_ALLOW_HTTP = True
    settings.LLM_OUTBOUND_ALLOWED_PORTS = [443, 1, fake_openai.port]
    open_port = _refused(lambda: _school_provider(api_key, fake_openai.base_url).complete(REQUEST))
    closed = _refused(lambda: _school_provider(api_key, "http://127.0.0.1:1/v1").complete(REQUEST))
    assert (open_port.code, open_port.user_message) == (closed.code, closed.user_message)
    assert fake_openai.requests == []


def test_a_name_that_rebinds_to_loopback_after_saving_is_refused_at_connect_time(
    fake_openai: FakeOpenAI, api_key: str, settings, monkeypatch
) -> None:
    settings.LLM_OUTBOUND_ALLOW_HTTP = True
    settings.LLM_OUTBOUND_ALLOWED_PORTS = [443, fake_openai.port]
    resolver = ScriptedResolver.install(monkeypatch)
    resolver.script("llm.rebind.example", "93.184.216.34", "127.0.0.1")
    url = f"http://llm.rebind.example:{fake_openai.port}/v1"
    check_url(url)  # saved while it pointed somewhere public
    error = _refused(lambda: _school_provider(api_key, url).complete(REQUEST))
    assert fake_openai.requests == []
    assert "127.0.0.1" in error.detail  # the operator's log says why; the school is not told


def test_the_allow_list_admits_a_private_server_and_the_socket_goes_to_the_checked_address(
    fake_openai: FakeOpenAI, api_key: str, settings, monkeypatch
) -> None:
    settings.LLM_OUTBOUND_ALLOW_HTTP = True
    settings.LLM_OUTBOUND_ALLOWLIST = ["127.0.0.0/8"]
    resolver = ScriptedResolver.install(monkeypatch)
    resolver.script("models.school.example", "127.0.0.1")
    provider = _school_provider(api_key, f"http://models.school.example:{fake_openai.port}/v1")
    assert provider.complete(REQUEST).content == "default reply"
    # One connection, one lookup: the socket was opened to the address that was checked,
    # not to whatever a second lookup of the name would have said.
    assert resolver.lookups == ["models.school.example"]
    assert provider.moderate("hello").flagged is False
    [chat] = [r for r in fake_openai.requests if r["path"].endswith("/chat/completions")]
    assert chat["headers"]["authorization"] == f"Bearer {api_key}"
    assert chat["headers"]["host"] == f"models.school.example:{fake_openai.port}"


def test_http_to_an_allow_listed_server_still_needs_the_operators_http_setting(
    fake_openai: FakeOpenAI, api_key: str, settings
) -> None:
    settings.LLM_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    _refused(lambda: _school_provider(api_key, fake_openai.base_url).complete(REQUEST))
    assert fake_openai.requests == []
    settings.LLM_OUTBOUND_ALLOW_HTTP = True
    assert _school_provider(api_key, fake_openai.base_url).complete(REQUEST).content


def test_credentials_in_a_school_url_are_refused_before_any_request(
    fake_openai: FakeOpenAI, api_key: str, settings
) -> None:
    settings.LLM_OUTBOUND_ALLOW_HTTP = True
    settings.LLM_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    url = f"http://admin:hunter2@127.0.0.1:{fake_openai.port}/v1"
    _refused(lambda: _school_provider(api_key, url).complete(REQUEST))
    assert fake_openai.requests == []


def test_the_platforms_own_url_is_trusted_even_on_loopback(
    fake_openai: FakeOpenAI, api_key: str
) -> None:
    provider = OpenAIProvider(api_key, fake_openai.base_url, timeout=2.0)
    assert provider.complete(REQUEST).content == "default reply"


class _Redirector(BaseHTTPRequestHandler):
    """Answers every POST with a 307 to `target` (set on the server)."""

    def do_POST(self) -> None:
        self.send_response(307)
        self.send_header("Location", self.server.target + self.path)  # type: ignore[attr-defined]
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_redirect_from_an_allowed_server_to_a_refused_one_is_not_followed(
    fake_openai: FakeOpenAI, api_key: str, settings
) -> None:
    settings.LLM_OUTBOUND_ALLOW_HTTP = True
    settings.LLM_OUTBOUND_ALLOWLIST = ["127.0.0.2"]  # the redirector, not the fake behind it
    server = ThreadingHTTPServer(("127.0.0.2", 0), _Redirector)
    server.target = f"http://127.0.0.1:{fake_openai.port}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.2:{server.server_address[1]}/v1"
        _refused(lambda: _school_provider(api_key, url).complete(REQUEST))
        _refused(lambda: _school_provider(api_key, url).moderate("hello"))
    finally:
        server.shutdown()
        server.server_close()
    assert fake_openai.requests == []
