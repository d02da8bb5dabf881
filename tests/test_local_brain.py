"""The local brain on the real thing: the tiny Llama and two LoRA adapters from
``tests/plugins/models.py``, run by transformers and PEFT on the CPU. The model writes noise;
these tests check plumbing (streaming, usage, adapter switching, cancellation, errors).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from agent.brain import BrainError, BrainRequest
from agent.brains.local import LocalBrain, LocalModel, create
from agent.registry import BrainContext, BrainSpec, factory_for
from agent.state import StudentState
from personas.loader import PersonaLibrary
from personas.schema import Persona

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def persona() -> Persona:
    return PersonaLibrary().get("maya")


@pytest.fixture(scope="module")
def local_model(tiny_base: Path, adapter_a: Path, adapter_b: Path) -> Iterator[LocalModel]:
    """One loaded model with both adapters, shared by the module (loading PEFT takes seconds)."""
    model = LocalModel(tiny_base, {"a": adapter_a, "b": adapter_b}, adapter="a")
    model.load()
    yield model
    model.close()


@pytest.fixture
def brain(local_model: LocalModel) -> LocalBrain:
    local_model.use_adapter("a")
    return LocalBrain(local_model, name="tiny", max_new_tokens=12, temperature=0.0)


def request_for(persona: Persona, message: str = "what is 52 minus 27?") -> BrainRequest:
    history = [HumanMessage("hi maya"), AIMessage("hi")]
    return BrainRequest(persona, StudentState.initial(persona), history, message)


async def collect(brain: LocalBrain, request: BrainRequest) -> list[str]:
    return [chunk async for chunk in brain.stream(request)]


def test_local_kind_is_registered() -> None:
    assert factory_for("local") is create


async def test_streams_a_reply_in_chunks_and_sets_usage(
    brain: LocalBrain, local_model: LocalModel, persona: Persona
) -> None:
    request = request_for(persona)
    chunks = await collect(brain, request)

    assert len(chunks) >= 2, chunks
    assert all(isinstance(chunk, str) and chunk for chunk in chunks)
    prompt_ids = local_model.encode(request.as_chat_messages())["input_ids"]
    assert brain.usage.prompt_tokens == prompt_ids.shape[1]
    assert brain.usage.completion_tokens is not None
    assert 0 < brain.usage.completion_tokens <= 12


async def test_use_adapter_switches_without_reloading_the_base(
    brain: LocalBrain, local_model: LocalModel, persona: Persona
) -> None:
    request = request_for(persona)
    base = local_model.base_model
    reply_a = "".join(await collect(brain, request))
    logits_a = next_token_logits(local_model, request)

    brain.use_adapter("b")
    reply_b = "".join(await collect(brain, request))
    logits_b = next_token_logits(local_model, request)

    assert local_model.base_model is base  # the same object: nothing was reloaded
    assert local_model.model.active_adapter == "b"
    assert "b" in brain.name
    assert not logits_a.allclose(logits_b)
    assert reply_a != reply_b  # greedy decoding: only the adapter differs

    brain.use_adapter("a")
    assert "".join(await collect(brain, request)) == reply_a  # and back again

    brain.use_adapter(None)  # the bare base model, adapters disabled
    assert "".join(await collect(brain, request)) not in (reply_a, reply_b)
    assert local_model.base_model is base


def next_token_logits(model: LocalModel, request: BrainRequest):  # -> torch.Tensor
    """Greedy generation of one token, returning that step's scores under the active adapter."""
    import torch

    inputs = model.encode(request.as_chat_messages())
    with torch.inference_mode():
        if model.model.active_adapter != model.active_adapter:
            model.model.set_adapter(model.active_adapter)
        return model.model(**inputs).logits[0, -1].clone()


async def test_unknown_adapter_is_refused(brain: LocalBrain) -> None:
    with pytest.raises(BrainError, match="no adapter called 'c'"):
        brain.use_adapter("c")


async def test_missing_base_folder_makes_health_not_ok(tmp_path: Path, persona: Persona) -> None:
    missing = tmp_path / "no-such-model"
    brain = create(BrainSpec("broken", "local", {"base": str(missing)}), BrainContext(persona))

    health = await brain.health()

    assert not health.ok
    assert str(missing) in health.detail
    assert "base" in health.detail  # the fix names the option to change
    with pytest.raises(BrainError, match="model folder not found"):
        await collect(brain, request_for(persona))


async def test_missing_adapter_folder_makes_health_not_ok(
    tiny_base: Path, tmp_path: Path, persona: Persona
) -> None:
    missing = tmp_path / "no-such-adapter"
    spec = BrainSpec("broken", "local", {"base": str(tiny_base), "adapters": {"x": str(missing)}})

    health = await create(spec, BrainContext(persona)).health()

    assert not health.ok
    assert "adapter 'x'" in health.detail
    assert str(missing) in health.detail


def test_spec_without_base_is_refused(persona: Persona) -> None:
    with pytest.raises(BrainError, match="needs a `base` option"):
        create(BrainSpec("broken", "local", {}), BrainContext(persona))


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"base": "m", "temprature": 1}, "no option 'temprature'"),
        ({"base": "m", "max_new_tokens": "lots"}, "option `max_new_tokens` must be a whole number"),
        ({"base": "m", "temperature": "hot"}, "option `temperature` must be a number"),
        ({"base": 5}, "option `base` must be text"),
    ],
)
def test_bad_options_are_brain_errors(persona: Persona, options: dict, expected: str) -> None:
    with pytest.raises(BrainError, match=expected):
        create(BrainSpec("broken", "local", options), BrainContext(persona))


async def test_consumer_stopping_early_stops_the_generation_thread(
    local_model: LocalModel, persona: Persona
) -> None:
    brain = LocalBrain(local_model, max_new_tokens=400, temperature=0.0)
    stream = brain.stream(request_for(persona))

    first = await anext(stream)
    await stream.aclose()  # what `async with aclosing(...)` or a cancelled task does

    run = local_model.last_run
    assert first and run is not None
    run.thread.join(timeout=30)
    assert not run.thread.is_alive()
    assert run.cancelled
    assert run.completion_tokens < 400  # stopped early, not run to max_new_tokens


async def test_cancelling_the_consuming_task_stops_the_generation_thread(
    local_model: LocalModel, persona: Persona
) -> None:
    import asyncio

    brain = LocalBrain(local_model, max_new_tokens=400, temperature=0.0)
    first_chunk = asyncio.Event()

    async def consume() -> None:
        async for _ in brain.stream(request_for(persona)):
            first_chunk.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_chunk.wait(), timeout=30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    run = local_model.last_run
    assert run is not None
    run.thread.join(timeout=30)
    assert not run.thread.is_alive()
    assert run.completion_tokens < 400
