"""The ``vllm`` and ``openai`` brains against one real vLLM server (CPU build) and a tiny model.

The server is the session fixture ``vllm_server`` (tests/plugins/models.py): started once with
adapter A loaded, stopped at the end. Tests marked ``vllm`` never skip; under CI=true a server
that cannot start fails the run with its log.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from agent import serving
from agent.brain import BrainError, BrainRequest
from agent.brains.vllm_brain import VllmBrain
from agent.keys import LOCAL_PLACEHOLDER_KEY
from agent.registry import BrainContext, BrainSpec, create_brain
from agent.state import StudentState
from personas.loader import PersonaLibrary
from tests.tinymodel import make_lora_adapter
from tui.cli import main


class ShortRequest(BrainRequest):
    """A request with a one-line system prompt, so tests that need no persona stay short."""

    def as_chat_messages(self) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": f"You are {self.persona.name}, a quiet second-grader."},
            {"role": "user", "content": self.message},
        ]


@pytest.fixture(scope="module")
def request_() -> BrainRequest:
    maya = PersonaLibrary().get("maya")
    return ShortRequest(maya, StudentState.initial(maya), [], "What is 52 - 27?")


def brain(request_: BrainRequest, kind: str, **options) -> VllmBrain:
    options.setdefault("max_tokens", 24)
    spec = BrainSpec(f"test-{kind}", kind, options)
    return create_brain(spec, BrainContext(persona=request_.persona))  # type: ignore[return-value]


def greedy_reply(server, model: str, request: BrainRequest, max_tokens: int = 24) -> str:
    """What the server itself answers ``request`` with ``model`` at temperature 0 (one plain,
    unstreamed request straight to its API): the reference a brain's streamed reply must equal."""
    import httpx

    response = httpx.post(
        f"{server.base_url}/v1/chat/completions",
        json={"model": model, "messages": request.as_chat_messages(), "max_tokens": max_tokens,
              "temperature": 0},
        timeout=120,
    )  # fmt: skip
    response.raise_for_status()
    return response.json()["choices"][0]["message"]["content"]


@pytest.mark.vllm
async def test_streams_from_adapter_a_using_the_serve_record(
    vllm_server, request_, monkeypatch
) -> None:
    """Greedy decoding: the streamed reply is exactly what adapter A answers to the request the
    brain was given, and not what the bare base model answers (the stronger pattern of
    tests/test_local_brain.py, where the adapter must change the output)."""
    monkeypatch.setenv("UTTA_HOME", str(vllm_server.record_home))  # where `utta serve` recorded it
    ft = brain(request_, "vllm", adapter=vllm_server.adapter_a, temperature=0)
    assert ft.server_url == vllm_server.base_url and ft.model == vllm_server.adapter_a
    assert (await ft.health()).ok
    chunks = [chunk async for chunk in ft.stream(request_)]
    assert len(chunks) >= 3
    text = "".join(chunks)
    assert text == greedy_reply(vllm_server, vllm_server.adapter_a, request_)
    assert text != greedy_reply(vllm_server, vllm_server.model, request_)
    assert ft.usage.completion_tokens and ft.usage.completion_tokens >= len(chunks)
    assert ft.usage.prompt_tokens and ft.usage.prompt_tokens > 10  # the chat template + prompt
    await ft.aclose()


@pytest.mark.vllm
async def test_health_loads_a_missing_adapter_at_runtime(vllm_server, adapter_b, request_) -> None:
    assert "adapter-b" not in serving.list_models(vllm_server.base_url)
    ft = brain(
        request_, "vllm", base_url=vllm_server.base_url, adapter="adapter-b",
        adapter_path=adapter_b, temperature=0,
    )  # fmt: skip
    try:
        health = await ft.health()
        assert health.ok, health.detail
        assert "loaded adapter adapter-b" in health.detail
        entries = {e["id"]: e for e in serving.model_entries(vllm_server.base_url)}
        assert entries["adapter-b"]["parent"] == vllm_server.model
        text = "".join([c async for c in ft.stream(request_)])
        assert text == greedy_reply(vllm_server, "adapter-b", request_)  # B answers, loaded
        assert text != greedy_reply(vllm_server, vllm_server.adapter_a, request_)
        assert (await ft.health()).detail.startswith("adapter-b is served")  # no second load
    finally:
        await ft.aclose()
        serving.unload_adapter(vllm_server.base_url, "adapter-b")
    assert "adapter-b" not in serving.list_models(vllm_server.base_url)


@pytest.mark.vllm
@pytest.mark.parametrize(
    ("build", "field"),
    [({"rank": 16}, "`r` is 16"), ({"modules_to_save": ["lm_head"]}, "`modules_to_save`")],
)
async def test_a_malformed_adapter_is_refused(
    vllm_server, tiny_base: Path, tmp_path: Path, request_, build, field
) -> None:
    bad = make_lora_adapter(tiny_base, tmp_path / "bad", seed=3, **build)
    ft = brain(request_, "vllm", base_url=vllm_server.base_url, adapter="bad", adapter_path=bad)
    health = await ft.health()
    assert not health.ok
    assert field in health.detail and "adapter_config.json" in health.detail
    with pytest.raises(BrainError, match=field):
        [c async for c in ft.stream(request_)]
    assert "bad" not in serving.list_models(vllm_server.base_url)


@pytest.mark.vllm
async def test_openai_brain_streams_from_the_base_model(vllm_server, request_) -> None:
    base = brain(
        request_, "openai", model=vllm_server.model, base_url=f"{vllm_server.base_url}/v1",
        temperature=0,
    )  # fmt: skip
    assert (await base.health()).ok
    text = "".join([c async for c in base.stream(request_)])
    assert text == greedy_reply(vllm_server, vllm_server.model, request_)
    assert base.usage.completion_tokens
    await base.aclose()


@pytest.mark.vllm
async def test_an_openai_brain_on_a_local_server_gets_the_placeholder_key(
    vllm_server, request_, monkeypatch
) -> None:
    """The ``openai`` kind pointed at a local OpenAI-compatible server (the real vLLM one): the
    OpenAI key never goes there, only a placeholder (every request seen through httpx's public
    request hook on the brain's own client); its health reads the server's model list."""
    import httpx

    from agent.brains.openai_compat import OpenAICompatBrain

    openai_key = "sk-proj-test0123456789abcdefSECRET"
    monkeypatch.setenv("OPENAI_API_KEY", openai_key)
    url = f"{vllm_server.base_url}/v1"
    spec = BrainSpec("local", "openai", {"model": vllm_server.model, "base_url": url})
    assert create_brain(spec, BrainContext(persona=request_.persona)).max_tokens == 150
    sent: list[tuple[str, bytes]] = []

    async def seen(request: httpx.Request) -> None:
        sent.append((request.headers.get("Authorization", ""), request.content))

    local = OpenAICompatBrain(
        name="local", model=vllm_server.model, base_url=url, max_tokens=8,
        http_client=httpx.AsyncClient(event_hooks={"request": [seen]}),
    )  # fmt: skip
    assert (await local.health()).ok
    [c async for c in local.stream(request_)]
    assert local.usage.completion_tokens  # the real server answered
    await local.aclose()
    assert sent and {auth for auth, _ in sent} == {f"Bearer {LOCAL_PLACEHOLDER_KEY}"}
    assert not any(openai_key.encode() in body for _, body in sent)

    other = OpenAICompatBrain(name="local", model="other", base_url=url)
    health = await other.health()
    await other.aclose()
    assert not health.ok and vllm_server.model in health.detail  # it lists what is served


@pytest.mark.vllm
def test_serve_status_reports_the_running_server(vllm_server, monkeypatch, capsys) -> None:
    monkeypatch.setenv("UTTA_HOME", str(vllm_server.record_home))
    assert main(["serve", "status"]) == 0
    out = capsys.readouterr().out
    assert f"{vllm_server.base_url}/v1" in out and "adapter:    adapter-a" in out


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_a_down_server_is_unhealthy_with_the_serve_fix(request_) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    ft = brain(request_, "vllm", base_url=url, adapter="a", base="my-base")
    health = await ft.health()
    assert not health.ok
    assert f"vLLM server at {url} is not answering" in health.detail
    assert "`utta serve vllm --base my-base`" in health.detail
    with pytest.raises(BrainError, match="is not answering"):
        [c async for c in ft.stream(request_)]


async def test_no_record_and_no_url_says_how_to_start(request_) -> None:
    ft = brain(request_, "vllm", adapter="a")
    health = await ft.health()
    assert not health.ok and "utta serve vllm --base" in health.detail


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"adaptor": "a"}, "no option 'adaptor'"),
        ({"max_tokens": "lots"}, "option `max_tokens` must be a whole number above 0"),
        ({"temperature": "hot"}, "option `temperature` must be a number"),
        ({"max_lora_rank": "big"}, "option `max_lora_rank` must be a whole number"),
        ({"adapter_path": 5}, "option `adapter_path` must be text"),
    ],
)
def test_bad_options_are_brain_errors(request_, options: dict, expected: str) -> None:
    with pytest.raises(BrainError, match=expected):
        brain(request_, "vllm", **options)


@pytest.mark.vllm
async def test_a_vllm_server_that_is_not_the_recorded_one_never_gets_the_openai_key(
    vllm_server, request_, monkeypatch
) -> None:
    """The real server reached as ``localhost`` (not the recorded 127.0.0.1 address) is, to the
    brain, a server on another machine. Every request it sends is seen through httpx's public
    request event hook, on the brain's own HTTP client; the server really answers."""
    import httpx

    openai_key = "sk-real-openai-key-000000000"
    monkeypatch.setenv("OPENAI_API_KEY", openai_key)
    monkeypatch.delenv("VLLM_API_KEY", raising=False)
    monkeypatch.setenv("UTTA_HOME", str(vllm_server.record_home))  # the recorded server exists
    remote_url = vllm_server.base_url.replace("127.0.0.1", "localhost")

    async def talk() -> list[str]:
        sent: list[str] = []

        async def seen(request: httpx.Request) -> None:
            sent.append(request.headers.get("Authorization", ""))

        remote = VllmBrain(
            name="remote", server_url=remote_url, adapter=vllm_server.adapter_a, max_tokens=8,
            http_client=httpx.AsyncClient(event_hooks={"request": [seen]}),
        )  # fmt: skip
        assert (await remote.health()).ok
        [c async for c in remote.stream(request_)]
        assert remote.usage.completion_tokens  # the real server answered
        await remote.aclose()
        return sent

    sent = await talk()
    assert len(sent) >= 2  # the model list and the chat completion
    assert set(sent) == {f"Bearer {LOCAL_PLACEHOLDER_KEY}"} and openai_key not in str(sent)
    # a server started elsewhere with --api-key: VLLM_API_KEY is sent, still never the OpenAI key
    monkeypatch.setenv("VLLM_API_KEY", "class-server-key")
    assert set(await talk()) == {"Bearer class-server-key"}


@pytest.mark.vllm
async def test_an_adapter_trained_on_another_base_is_refused(
    vllm_server, adapter_b: Path, request_, tmp_path: Path
) -> None:
    other_base = tmp_path / "other-base"
    other_base.mkdir()
    ft = brain(
        request_, "vllm", base_url=vllm_server.base_url, adapter="elsewhere",
        adapter_path=str(adapter_b), base=str(other_base),
    )  # fmt: skip
    health = await ft.health()
    assert not health.ok and "trained on" in health.detail and "utta serve vllm" in health.detail
    assert "elsewhere" not in serving.list_models(vllm_server.base_url)


@pytest.mark.vllm
async def test_health_refuses_a_brain_whose_persona_does_not_fit_the_servers_context(
    vllm_server, request_
) -> None:
    """The session server has a 1,024-token context. Maya's prompt is ~510 tokens in the tiny
    tokenizer: with her default reply budget it fits; with a 600-token budget it does not; a
    persona whose prompt alone is longer is refused by the server itself."""
    maya = request_.persona
    spec = BrainSpec("maya-base", "vllm", {"base_url": vllm_server.base_url})
    fits = create_brain(spec, BrainContext(persona=maya))
    assert (await fits.health()).ok
    await fits.aclose()

    greedy = BrainSpec("maya-long", "vllm", {"base_url": vllm_server.base_url, "max_tokens": 600})
    long_replies = create_brain(greedy, BrainContext(persona=maya))
    health = await long_replies.health()
    await long_replies.aclose()
    assert not health.ok
    assert "cannot answer as Maya" in health.detail and "context of 1024 tokens" in health.detail
    assert "--max-model-len" in health.detail

    wordy = maya.model_copy(update={"summary": "Maya " + "likes horses and " * 300 + "ponies."})
    too_long = create_brain(spec, BrainContext(persona=wordy))
    health = await too_long.health()
    await too_long.aclose()
    assert not health.ok and "refused a request of the persona's size (HTTP 400" in health.detail
