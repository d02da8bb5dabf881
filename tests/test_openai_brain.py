"""The ``openai`` brain against a local HTTP fake of OpenAI's chat-completions API.

This is a FAKE of a paid cloud service: tests must not spend money, need a key, or depend on the
network, so a pytest-httpserver on 127.0.0.1 answers the way OpenAI documents — the streaming
``chat.completion.chunk`` server-sent events ending in ``data: [DONE]``, a final usage chunk when
``stream_options.include_usage`` is set, and ``{"error": {...}}`` bodies with 401 / 404 / 429.
To exercise the cloud path (real key, ``api.openai.com``), the brain's HTTP client gets a transport
that delivers requests addressed to api.openai.com to the fake. The OpenAI-compatible path against
a local server (its placeholder key, its model list) runs against a real one, vLLM's CPU build, in
tests/test_vllm_brain.py.
"""

from __future__ import annotations

import json
import threading

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from agent.brain import BrainError, BrainRequest
from agent.brains.openai_compat import OpenAICompatBrain, create
from agent.registry import BrainContext, BrainSpec
from agent.state import StudentState
from personas.loader import PersonaLibrary

SECRET = "sk-proj-test0123456789abcdefSECRET"
FT_MODEL = "ft:gpt-4o-mini-2024-07-18:org::abc"
CHAT = "/v1/chat/completions"


@pytest.fixture(scope="module")
def request_() -> BrainRequest:
    maya = PersonaLibrary().get("maya")
    return BrainRequest(maya, StudentState.initial(maya), [], "What is 52 - 27?")


def sse(model: str, pieces: list[str], prompt_tokens: int = 41) -> str:
    """A streamed chat completion as OpenAI sends it."""
    base = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": model,
        "system_fingerprint": "fp_fake",
    }
    events = [
        {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": ""},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
        }
    ]
    events += [
        {
            **base,
            "choices": [
                {"index": 0, "delta": {"content": piece}, "logprobs": None, "finish_reason": None}
            ],
        }
        for piece in pieces
    ]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": len(pieces),
        "total_tokens": prompt_tokens + len(pieces),
    }
    events.append({**base, "choices": [], "usage": usage})
    return "".join(f"data: {json.dumps(event)}\n\n" for event in events) + "data: [DONE]\n\n"


def error_body(message: str, type_: str, code: str | None) -> dict:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


class ToFake(httpx.AsyncBaseTransport):
    """Sends requests meant for api.openai.com to the local fake instead."""

    def __init__(self, fake: HTTPServer) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.fake = fake
        self.hosts: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        request.url = request.url.copy_with(scheme="http", host=self.fake.host, port=self.fake.port)
        return await self.inner.handle_async_request(request)


def cloud_brain(httpserver: HTTPServer, **options) -> tuple[OpenAICompatBrain, ToFake]:
    transport = ToFake(httpserver)
    options.setdefault("model", FT_MODEL)
    options.setdefault("max_retries", 0)
    brain = OpenAICompatBrain(
        name="cloud", http_client=httpx.AsyncClient(transport=transport), **options
    )
    return brain, transport


async def collect(brain: OpenAICompatBrain, request: BrainRequest) -> list[str]:
    return [chunk async for chunk in brain.stream(request)]


async def test_streams_a_fine_tuned_model_with_the_real_key(
    httpserver: HTTPServer, request_, monkeypatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    httpserver.expect_request(CHAT, method="POST").respond_with_data(
        sse(FT_MODEL, ["um ", "35", "?"]), content_type="text/event-stream"
    )
    brain, transport = cloud_brain(httpserver)
    assert await collect(brain, request_) == ["um ", "35", "?"]
    assert transport.hosts == ["api.openai.com"]
    sent, _ = httpserver.log[0]
    body = sent.get_json()
    assert body["model"] == FT_MODEL
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["messages"][0]["role"] == "system" and "Maya" in body["messages"][0]["content"]
    assert body["messages"][-1] == {"role": "user", "content": "What is 52 - 27?"}
    assert body["max_completion_tokens"] == 150
    assert sent.headers["Authorization"] == f"Bearer {SECRET}"
    assert brain.usage.prompt_tokens == 41 and brain.usage.completion_tokens == 3
    await brain.aclose()


async def test_401_tells_how_to_set_the_key(httpserver: HTTPServer, request_, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    masked = f"Incorrect API key provided: {SECRET[:8]}***{SECRET[-4:]}. Find your key online."
    httpserver.expect_request(CHAT).respond_with_json(
        error_body(masked, "invalid_request_error", "invalid_api_key"), status=401
    )
    brain, _ = cloud_brain(httpserver)
    with pytest.raises(BrainError) as caught:
        await collect(brain, request_)
    text = str(caught.value)
    assert "did not accept the API key" in text
    assert "utta keys set openai" in text
    assert SECRET not in text and SECRET[-4:] not in text


@pytest.mark.parametrize(
    ("code", "expected", "fix", "not_expected"),
    [
        ("rate_limit_exceeded", "rate-limiting", "send again", "credit"),
        ("insufficient_quota", "no credit left", "add credit", "rate-limiting"),
    ],
)
async def test_429_is_a_rate_limit_message(
    httpserver: HTTPServer, request_, monkeypatch, code, expected, fix, not_expected
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    httpserver.expect_request(CHAT).respond_with_json(
        error_body("Rate limit reached for gpt-4o-mini", "requests", code),
        status=429,
        headers={"retry-after": "0"},
    )
    brain, _ = cloud_brain(httpserver)
    with pytest.raises(BrainError) as caught:
        await collect(brain, request_)
    said = f"{caught.value.message} / {caught.value.fix}"
    assert expected in caught.value.message and fix in (caught.value.fix or ""), said
    assert not_expected not in said  # each case has its own text, not the other's


async def test_a_slow_server_gives_a_timeout_message(
    httpserver: HTTPServer, request_, monkeypatch
) -> None:
    """Proved by order, not by time: the fake holds its answer until the brain has given up
    (30 s at most, a bound that only a brain ignoring its timeout reaches, and then it gets the
    answer and the test fails). The HTTP client's own read limit is set far above that."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    gave_up = threading.Event()

    def slow(_: Request) -> Response:
        gave_up.wait(timeout=30)
        return Response(sse("gpt-4o-mini", ["late"]), content_type="text/event-stream")

    httpserver.expect_request(CHAT).respond_with_handler(slow)
    brain, _ = cloud_brain(httpserver, model="gpt-4o-mini", timeout=0.2, token_timeout=120)
    try:
        with pytest.raises(BrainError) as caught:
            await collect(brain, request_)
    finally:
        gave_up.set()
    assert "took longer than 0.2 s" in caught.value.message
    assert "timeout" in (caught.value.fix or "")


async def test_unknown_model_and_bad_request(httpserver: HTTPServer, request_, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    httpserver.expect_oneshot_request(CHAT).respond_with_json(
        error_body(
            f"The model `{FT_MODEL}` does not exist", "invalid_request_error", "model_not_found"
        ),
        status=404,
    )
    httpserver.expect_oneshot_request(CHAT).respond_with_json(
        error_body("max_tokens is too large", "invalid_request_error", None), status=400
    )
    brain, _ = cloud_brain(httpserver)
    with pytest.raises(BrainError) as not_found:
        await collect(brain, request_)
    assert f"no model called `{FT_MODEL}`" in not_found.value.message
    with pytest.raises(BrainError) as bad:
        await collect(brain, request_)
    assert "refused the request: max_tokens is too large" in bad.value.message


async def test_missing_key_fails_with_the_fix(httpserver: HTTPServer, request_) -> None:
    brain, _ = cloud_brain(httpserver)
    with pytest.raises(BrainError, match=r"No OpenAI key found.*utta keys set openai"):
        await collect(brain, request_)
    health = await brain.health()
    assert not health.ok and "No OpenAI key found" in health.detail
    assert httpserver.log == []


async def test_health_checks_the_model(httpserver: HTTPServer, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    model = {"id": FT_MODEL, "object": "model", "created": 1, "owned_by": "org"}
    httpserver.expect_request(f"/v1/models/{FT_MODEL}", method="GET").respond_with_json(model)
    brain, _ = cloud_brain(httpserver)
    assert (await brain.health()).ok
    httpserver.clear()
    httpserver.expect_request(f"/v1/models/{FT_MODEL}").respond_with_json(
        error_body("no such model", "invalid_request_error", "model_not_found"), status=404
    )
    health = await brain.health()
    assert not health.ok and "no model called" in health.detail


def test_options_are_checked(request_) -> None:
    context = BrainContext(persona=request_.persona)
    with pytest.raises(BrainError, match="needs a `model`"):
        create(BrainSpec("x", "openai", {}), context)
    with pytest.raises(BrainError, match="no option 'temprature'"):
        create(BrainSpec("x", "openai", {"model": "m", "temprature": 1}), context)
    for name, value in (("max_tokens", "lots"), ("temperature", "hot"), ("timeout", 0)):
        with pytest.raises(BrainError, match=f"option `{name}` must be") as caught:
            create(BrainSpec("x", "openai", {"model": "m", name: value}), context)
        assert f"e.g. {name}:" in (caught.value.fix or "")
    brain = create(
        BrainSpec("x", "openai", {"model": "m", "max_tokens": "40", "max_retries": 0}), context
    )
    assert (brain.max_tokens, brain.max_retries) == (40, 0)


def completion(model: str, prompt_tokens: int) -> dict:
    """A non-streamed chat completion as OpenAI documents it (one token of reply)."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "um"},
                "logprobs": None,
                "finish_reason": "length",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": 1,
            "total_tokens": prompt_tokens + 1,
        },
    }


async def test_health_sends_one_request_of_the_personas_size(
    httpserver: HTTPServer, request_, monkeypatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    maya = request_.persona
    model = {"id": FT_MODEL, "object": "model", "created": 1, "owned_by": "org"}
    httpserver.expect_request(f"/v1/models/{FT_MODEL}", method="GET").respond_with_json(model)
    httpserver.expect_request(CHAT, method="POST").respond_with_json(completion(FT_MODEL, 900))
    brain, _ = cloud_brain(httpserver, persona=maya)
    health = await brain.health()
    assert health.ok, health.detail
    (sent, _), *_ = [entry for entry in httpserver.log if entry[0].path == CHAT]
    body = sent.get_json()
    system = body["messages"][0]
    assert system["role"] == "system" and maya.name in system["content"]
    assert body["messages"][1] == {"role": "user", "content": maya.examples[0].teacher}
    assert body["max_completion_tokens"] == 1 and "stream" not in body  # cheap: one token


async def test_a_persona_too_large_for_the_endpoint_is_refused_at_the_swap(
    httpserver: HTTPServer, request_
) -> None:
    """A local OpenAI-compatible server with a short context refuses the persona's prompt."""
    listing = {"object": "list", "data": [{"id": "small-ctx", "object": "model"}]}
    httpserver.expect_request("/v1/models").respond_with_json(listing)
    refusal = error_body(
        "This model's maximum context length is 512 tokens. However, you requested 1601 tokens.",
        "invalid_request_error",
        None,
    )
    httpserver.expect_request(CHAT, method="POST").respond_with_json(refusal, status=400)
    brain = OpenAICompatBrain(
        name="small", model="small-ctx", base_url=httpserver.url_for("/v1"),
        persona=request_.persona, max_retries=0,
    )  # fmt: skip
    health = await brain.health()
    assert not health.ok
    assert f"cannot answer as {request_.persona.name}" in health.detail
    assert "HTTP 400" in health.detail and "maximum context length is 512" in health.detail
    assert "longer context" in health.detail  # the fix travels with the reason


async def test_the_persona_check_explains_other_errors_as_any_request(
    httpserver: HTTPServer, request_, monkeypatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    model = {"id": FT_MODEL, "object": "model", "created": 1, "owned_by": "org"}
    httpserver.expect_request(f"/v1/models/{FT_MODEL}", method="GET").respond_with_json(model)
    denied = error_body("not allowed", "invalid_request_error", "model_not_allowed")
    httpserver.expect_request(CHAT, method="POST").respond_with_json(denied, status=403)
    brain, _ = cloud_brain(httpserver, persona=request_.persona)
    health = await brain.health()
    assert not health.ok and "may not use the model" in health.detail
    assert "persona's size" not in health.detail


def test_the_openai_kind_knows_its_persona(request_) -> None:
    context = BrainContext(persona=request_.persona)
    brain = create(BrainSpec("x", "openai", {"model": "m"}), context)
    assert brain.persona is request_.persona
