"""OpenAIProvider against the fake OpenAI server: real SDK, real HTTP, no network beyond
127.0.0.1 and no Django."""

from __future__ import annotations

import email.utils
import pickle
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

import pytest

from llm import (
    CompletionRequest,
    LLMError,
    LLMPermanentError,
    LLMTransientError,
    OpenAIProvider,
    Provider,
)
from tests.fakes.openai_server import (
    Action,
    Disconnect,
    Error,
    FakeOpenAI,
    Hang,
    Malformed,
    Reply,
)

MESSAGES = [
    {"role": "system", "content": "You are a patient maths tutor."},
    {"role": "user", "content": "Why is two plus two four?"},
]


def make_request(**overrides: object) -> CompletionRequest:
    fields: dict[str, object] = {"messages": MESSAGES, "model": "gpt-4o-mini"}
    fields.update(overrides)
    return CompletionRequest(**fields)  # type: ignore[arg-type]


def raised_by(provider: OpenAIProvider, *, stream: bool = False) -> LLMError:
    on_delta = (lambda text: None) if stream else None
    with pytest.raises(LLMError) as caught:
        provider.complete(make_request(), on_delta=on_delta)
    return caught.value


# -- success ---------------------------------------------------------------------------------


def test_plain_completion_returns_the_reply_with_reported_usage(
    fake_openai: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake_openai.script(
        Reply("Because counting works.", prompt_tokens=42, completion_tokens=5, cached_tokens=16)
    )

    completion = provider.complete(make_request())

    assert completion.content == "Because counting works."
    assert completion.model == "gpt-4o-mini"
    assert (completion.prompt_tokens, completion.completion_tokens) == (42, 5)
    assert completion.cached_tokens == 16
    assert completion.finish_reason == "stop"
    assert completion.request_id is not None and completion.request_id.startswith("req_")
    assert completion.latency_ms >= 0


def test_default_usage_counts_words_of_prompt_and_reply(
    fake_openai: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake_openai.set_default(reply="one two three")

    completion = provider.complete(make_request())

    assert completion.prompt_tokens == 6 + 6
    assert completion.completion_tokens == 3


def test_streamed_deltas_arrive_in_order_and_concatenate_to_the_content(
    fake_openai: FakeOpenAI, provider: OpenAIProvider
) -> None:
    answer = "Two plus two is four because you count two more after two."
    fake_openai.script(Reply(answer, prompt_tokens=30, completion_tokens=13, cached_tokens=8))
    deltas: list[str] = []

    completion = provider.complete(make_request(), on_delta=deltas.append)

    assert len(deltas) == len(answer.split())
    assert deltas[0] == "Two" and deltas[-1] == " two."
    assert "".join(deltas) == completion.content == answer
    assert (completion.prompt_tokens, completion.completion_tokens) == (30, 13)
    assert completion.cached_tokens == 8
    assert completion.finish_reason == "stop"
    assert completion.request_id is not None
    sent = fake_openai.chat_requests()[0]
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}


def test_reply_can_echo_the_request(fake_openai: FakeOpenAI, provider: OpenAIProvider) -> None:
    fake_openai.set_default(reply=lambda body: f"echo: {body['messages'][-1]['content']}")

    completion = provider.complete(make_request())

    assert completion.content == "echo: Why is two plus two four?"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_missing_usage_is_estimated_from_text_length(
    fake_openai: FakeOpenAI, provider: OpenAIProvider, stream: bool
) -> None:
    fake_openai.script(Reply("x" * 400, include_usage=False))
    on_delta = (lambda text: None) if stream else None

    completion = provider.complete(make_request(), on_delta=on_delta)

    prompt_chars = sum(len(message["content"]) for message in MESSAGES)
    assert completion.completion_tokens == 100
    assert completion.prompt_tokens == prompt_chars // 4
    assert completion.cached_tokens == 0


def test_request_carries_messages_model_limits_safety_identifier_and_key(
    fake_openai: FakeOpenAI, provider: OpenAIProvider, api_key: str
) -> None:
    provider.complete(
        make_request(
            model="gpt-4.1-mini", max_tokens=321, temperature=0.1, safety_identifier="u_5f3a"
        )
    )

    [logged] = fake_openai.requests
    assert logged["path"] == "/v1/chat/completions"
    assert logged["headers"]["authorization"] == f"Bearer {api_key}"
    body = logged["json"]
    assert body["messages"] == MESSAGES
    assert body["model"] == "gpt-4.1-mini"
    assert body["max_completion_tokens"] == 321
    assert body["temperature"] == 0.1
    assert body["safety_identifier"] == "u_5f3a"
    assert "stream" not in body


def test_unset_temperature_and_safety_identifier_are_not_sent(
    fake_openai: FakeOpenAI, provider: OpenAIProvider
) -> None:
    provider.complete(make_request(temperature=None))

    body = fake_openai.chat_requests()[0]
    assert "temperature" not in body
    assert "safety_identifier" not in body
    assert "user" not in body


def test_provider_satisfies_the_provider_protocol(provider: OpenAIProvider) -> None:
    assert isinstance(provider, Provider)
    assert provider.name == "openai"


# -- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_rate_limit_is_transient_and_carries_the_retry_after_header(
    fake_openai: FakeOpenAI, provider: OpenAIProvider, stream: bool
) -> None:
    fake_openai.script(Error.rate_limited(retry_after=7))

    error = raised_by(provider, stream=stream)

    assert isinstance(error, LLMTransientError)
    assert error.code == "rate_limited"
    assert error.retry_after == 7.0
    assert "busy" in error.user_message


def test_retry_after_ms_takes_precedence_over_retry_after(
    fake_openai: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake_openai.script(Error(429, retry_after=10, retry_after_ms=1500))

    error = raised_by(provider)

    assert isinstance(error, LLMTransientError)
    assert error.retry_after == 1.5


def test_retry_after_as_an_http_date_becomes_seconds_from_now(
    fake_openai: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake_openai.script(
        Error.rate_limited(retry_after=email.utils.formatdate(time.time() + 120, usegmt=True))
    )

    error = raised_by(provider)

    assert isinstance(error, LLMTransientError)
    assert error.retry_after is not None and 100 < error.retry_after <= 120


@pytest.mark.parametrize("status", [500, 502, 503, 408, 409])
def test_server_side_failures_are_transient(
    fake_openai: FakeOpenAI, provider: OpenAIProvider, status: int
) -> None:
    fake_openai.script(Error(status))

    error = raised_by(provider)

    assert isinstance(error, LLMTransientError)
    assert error.code == "provider_unavailable"
    assert error.retry_after is None


def test_rejected_key_is_permanent_with_a_message_for_the_school_admin(
    fake_openai: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake_openai.script(Error.invalid_api_key())

    error = raised_by(provider)

    assert isinstance(error, LLMPermanentError)
    assert error.code == "invalid_api_key"
    assert "administrator" in str(error)
    assert "Traceback" not in str(error)


def test_exhausted_quota_is_permanent_although_it_arrives_as_429(
    fake_openai: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake_openai.script(Error.quota_exhausted())

    error = raised_by(provider)

    assert isinstance(error, LLMPermanentError)
    assert error.code == "quota_exhausted"


def test_overlong_prompt_is_permanent_context_too_long(
    fake_openai: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake_openai.script(Error.context_length_exceeded())

    error = raised_by(provider, stream=True)

    assert isinstance(error, LLMPermanentError)
    assert error.code == "context_too_long"
    assert "new session" in error.user_message


@pytest.mark.parametrize(
    ("action", "code"),
    [
        (Error.model_not_found(), "model_not_found"),
        (Error(403, message="Project does not have access"), "permission_denied"),
        (Error(400, message="Invalid value for temperature"), "bad_request"),
        (Error(422), "bad_request"),
    ],
)
def test_other_client_errors_are_permanent(
    fake_openai: FakeOpenAI, provider: OpenAIProvider, action: Action, code: str
) -> None:
    fake_openai.script(action)

    error = raised_by(provider)

    assert isinstance(error, LLMPermanentError)
    assert error.code == code


def test_hanging_server_is_a_transient_timeout_after_the_read_timeout(
    fake_openai: FakeOpenAI, api_key: str
) -> None:
    provider = OpenAIProvider(api_key, fake_openai.base_url, timeout=0.5)
    fake_openai.script(Hang(2.0))
    started = time.monotonic()

    error = raised_by(provider)

    assert isinstance(error, LLMTransientError)
    assert error.code == "timeout"
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_malformed_body_is_a_transient_malformed_response(
    fake_openai: FakeOpenAI, provider: OpenAIProvider, stream: bool
) -> None:
    fake_openai.script(Malformed())

    error = raised_by(provider, stream=stream)

    assert isinstance(error, LLMTransientError)
    assert error.code == "malformed_response"


def test_stream_cut_off_midway_is_a_malformed_response(
    fake_openai: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake_openai.script(Disconnect(after_chunks=2), Reply("four"))
    deltas: list[str] = []

    with pytest.raises(LLMTransientError) as caught:
        provider.complete(make_request(), on_delta=deltas.append)

    assert caught.value.code == "malformed_response"
    assert deltas == ["default", " reply"]
    assert provider.complete(make_request()).content == "four"


def test_connection_dropped_before_any_answer_is_provider_unavailable(
    fake_openai: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake_openai.script(Disconnect())

    error = raised_by(provider)

    assert isinstance(error, LLMTransientError)
    assert error.code == "provider_unavailable"


def test_unreachable_server_is_provider_unavailable(api_key: str) -> None:
    with FakeOpenAI() as stopped:
        base_url = stopped.base_url
    provider = OpenAIProvider(api_key, base_url, timeout=1.0, connect_timeout=1.0)

    error = raised_by(provider)

    assert isinstance(error, LLMTransientError)
    assert error.code == "provider_unavailable"


def test_exception_from_on_delta_propagates_unchanged(provider: OpenAIProvider) -> None:
    class ClientWentAway(Exception):
        pass

    def on_delta(text: str) -> None:
        raise ClientWentAway(text)

    with pytest.raises(ClientWentAway):
        provider.complete(make_request(), on_delta=on_delta)


# -- secrets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        Error.invalid_api_key(),
        Error(401, message="Bad key {key}"),
        Error.rate_limited(retry_after=1),
        Error.quota_exhausted(),
        Error.context_length_exceeded(),
        Error(500),
        Error(400, message="Bad key {key}"),
        Hang(2.0),
        Malformed(),
        Disconnect(),
    ],
)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_api_key_never_appears_in_a_raised_error(
    fake_openai: FakeOpenAI, api_key: str, action: Action, stream: bool
) -> None:
    if isinstance(action, Error) and action.message:
        # The server quotes the key back, as some proxies do, to prove it gets scrubbed.
        action = Error(action.status, message=action.message.format(key=api_key))
    fake_openai.script(action)
    provider = OpenAIProvider(api_key, fake_openai.base_url, timeout=0.5)

    error = raised_by(provider, stream=stream)

    rendered = [
        str(error),
        repr(error),
        error.detail,
        repr(error.args),
        "".join(traceback.format_exception(error)),
    ]
    assert error.detail, "operators need a detail to debug with"
    for text in rendered:
        assert api_key not in text
        assert api_key[8:] not in text


def test_api_key_never_appears_in_the_provider_repr(provider: OpenAIProvider, api_key: str) -> None:
    assert api_key not in repr(provider)
    assert api_key not in str(provider)
    assert api_key not in repr(vars(provider))


def test_provider_without_a_key_fails_with_a_permanent_error(fake_openai: FakeOpenAI) -> None:
    with pytest.raises(LLMPermanentError) as caught:
        OpenAIProvider("", fake_openai.base_url)

    assert caught.value.code == "missing_api_key"
    assert "administrator" in caught.value.user_message


def test_errors_survive_pickling_for_the_task_queue() -> None:
    error = LLMTransientError("rate_limited", "Busy.", detail="429 from upstream", retry_after=3.0)

    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is LLMTransientError
    assert (copy.code, copy.user_message, copy.detail, copy.retry_after) == (
        "rate_limited",
        "Busy.",
        "429 from upstream",
        3.0,
    )
    assert type(error)(*error.args).code == "rate_limited"


def test_error_messages_are_scrubbed_of_key_shaped_text() -> None:
    leaked = "sk-proj-" + "a1b2c3d4" * 4
    error = LLMPermanentError("bad_request", f"Key {leaked} rejected", detail=f"Bearer {leaked}")

    assert leaked not in str(error)
    assert leaked not in repr(error)


# -- moderation --------------------------------------------------------------------------------


def test_moderation_flags_a_trigger_phrase_with_its_category(
    fake_openai: FakeOpenAI, provider: OpenAIProvider
) -> None:
    result = provider.moderate("Sometimes I want to kill myself after maths.")

    assert result.flagged is True
    assert result.categories["self-harm"] > 0.9
    assert result.categories["violence"] < 0.01
    assert fake_openai.moderation_requests()[0]["model"] == "omni-moderation-latest"


def test_moderation_passes_ordinary_text(provider: OpenAIProvider) -> None:
    result = provider.moderate("Can you explain fractions again?")

    assert result.flagged is False
    assert max(result.categories.values()) < 0.01
    assert "self-harm" in result.categories


def test_moderation_triggers_are_configurable(
    fake_openai: FakeOpenAI, provider: OpenAIProvider
) -> None:
    fake_openai.set_moderation_triggers({"homework cheat": "illicit"})

    assert provider.moderate("a bomb of a test").flagged is False
    assert provider.moderate("Give me the homework cheat sheet").categories["illicit"] > 0.9


def test_moderation_failures_are_typed(fake_openai: FakeOpenAI, provider: OpenAIProvider) -> None:
    fake_openai.script_moderation(Error(503), Malformed())

    with pytest.raises(LLMTransientError) as unavailable:
        provider.moderate("hello")
    with pytest.raises(LLMTransientError) as malformed:
        provider.moderate("hello")

    assert unavailable.value.code == "provider_unavailable"
    assert malformed.value.code == "malformed_response"


# -- the fake itself ----------------------------------------------------------------------------


def test_fake_serves_many_slow_requests_concurrently(api_key: str) -> None:
    with FakeOpenAI(latency=0.5, reply="ok") as fake:
        provider = OpenAIProvider(api_key, fake.base_url, timeout=30.0)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=200) as pool:
            completions = list(pool.map(lambda _: provider.complete(make_request()), range(200)))
        elapsed = time.monotonic() - started

    assert [c.content for c in completions] == ["ok"] * 200
    assert len(fake.chat_requests()) == 200
    assert elapsed < 10.0, f"200 requests of 0.5 s took {elapsed:.1f} s; fake is not concurrent"


def test_fake_chaos_is_reproducible_and_reset_clears_it(
    fake_openai: FakeOpenAI, provider: OpenAIProvider
) -> None:
    def outcomes() -> list[str]:
        results = []
        for _ in range(20):
            try:
                provider.complete(make_request())
                results.append("ok")
            except LLMError as error:
                results.append(error.code)
        return results

    fake_openai.set_chaos({"429": 0.3, "500": 0.2, "malformed": 0.1}, seed=7)
    first = outcomes()
    fake_openai.set_chaos({"429": 0.3, "500": 0.2, "malformed": 0.1}, seed=7)
    second = outcomes()
    fake_openai.reset()

    assert first == second
    assert {"ok", "rate_limited", "provider_unavailable"} <= set(first)
    assert provider.complete(make_request()).content == "default reply"
    assert len(fake_openai.requests) == 1


def test_fake_rejects_a_wrong_key_when_given_one(api_key: str) -> None:
    with FakeOpenAI(api_key=api_key) as fake:
        right = OpenAIProvider(api_key, fake.base_url)
        wrong = OpenAIProvider(api_key + "0", fake.base_url)

        assert right.complete(make_request()).content == "default reply"
        with pytest.raises(LLMPermanentError) as caught:
            wrong.complete(make_request())

    assert caught.value.code == "invalid_api_key"


def test_fake_stop_releases_hanging_requests_promptly(api_key: str) -> None:
    fake = FakeOpenAI().start()
    provider = OpenAIProvider(api_key, fake.base_url, timeout=0.3)
    fake.script(Hang(60.0))
    with pytest.raises(LLMTransientError):
        provider.complete(make_request())
    started = time.monotonic()

    fake.stop()

    assert time.monotonic() - started < 2.0
