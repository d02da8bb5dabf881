"""The DSPy brain.

Unit tests use ``dspy.utils.DummyLM`` (DSPy's own scripted LM) or a scripted engine that returns
plain text: both stand in for a language model so the program, its saving and the brain's
streaming can be checked offline and exactly. The tests marked ``slow`` and ``vllm`` run the brain
on the real thing: the tiny Llama in-process, and the session's vLLM server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dspy
import pytest
from dspy.utils import DummyLM
from langchain_core.messages import AIMessage, HumanMessage

from agent.brain import BrainError, BrainRequest
from agent.brains.dspy_brain import (
    DSPyBrain,
    build_program,
    clean_reply,
    create,
    load_program,
    program_inputs,
    save_program,
)
from agent.brains.dspy_lm import api_base, build_lm
from agent.registry import BrainContext, BrainSpec, factory_for
from agent.state import StudentState
from personas.loader import PersonaLibrary, load_persona_file
from personas.schema import Persona

SMALL_PERSONA = Path(__file__).parent / "data" / "personas" / "valid.yaml"


@pytest.fixture
def persona() -> Persona:
    return PersonaLibrary().get("maya")


def request_for(persona: Persona, message: str = "what is 52 minus 27?") -> BrainRequest:
    history = [HumanMessage("hi maya"), AIMessage("hi"), HumanMessage("ready for math?")]
    history.append(AIMessage("ok i guess"))
    return BrainRequest(persona, StudentState.initial(persona), history, message)


class PlainTextEngine:
    """A scripted DSPy engine that answers plain text, as small fine-tuned models do."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.requests: list[Any] = []

    def complete(self, request: Any) -> Any:
        from dspy.lm15 import Message, Response, Usage

        self.requests.append(request)
        return Response(
            id=None,
            model=request.model,
            message=Message.assistant(self.text),
            finish_reason="stop",
            usage=Usage(input_tokens=40, output_tokens=5),
        )


def test_dspy_kind_is_registered() -> None:
    assert factory_for("dspy") is create


def test_program_predicts_the_reply_from_all_inputs_including_history(persona: Persona) -> None:
    lm = DummyLM([{"student_reply": "um 35?"}])
    with dspy.context(lm=lm):
        prediction = build_program()(**program_inputs(request_for(persona)))

    assert prediction.student_reply == "um 35?"
    messages = lm.history[-1]["messages"]
    sent = "\n".join(message["content"] for message in messages)
    assert persona.name in sent and "You still believe" in sent  # persona and state
    assert "what is 52 minus 27?" in messages[-1]["content"]
    # The earlier exchanges went in as their own turns, oldest first.
    turns = [(m["role"], m["content"]) for m in messages[1:-1]]
    assert [role for role, _ in turns] == ["user", "assistant", "user", "assistant"]
    assert "hi maya" in turns[0][1] and "ok i guess" in turns[3][1]


def test_program_uses_predict_not_chain_of_thought() -> None:
    program = build_program()
    (_, predictor), *others = program.named_predictors()
    assert not others
    assert type(predictor) is dspy.Predict
    assert list(predictor.signature.output_fields) == ["student_reply"]


def compiled_program(persona: Persona) -> Any:
    """BootstrapFewShot over three examples with a scripted teacher LM: a program with demos."""
    trainset = []
    for shipped in persona.examples[:3]:
        inputs = program_inputs(request_for(persona, shipped.teacher))
        example = dspy.Example(**inputs, student_reply=shipped.student)
        trainset.append(example.with_inputs(*inputs))
    lm = DummyLM([{"student_reply": f"scripted {i}"} for i in range(10)])
    optimizer = dspy.BootstrapFewShot(
        metric=lambda example, prediction, trace=None: True,
        max_bootstrapped_demos=2,
        max_labeled_demos=2,
    )
    with dspy.context(lm=lm):
        return optimizer.compile(build_program(), trainset=trainset)


def prompt_of(program: Any, request: BrainRequest) -> list[dict[str, str]]:
    lm = DummyLM([{"student_reply": "x"}])
    with dspy.context(lm=lm):
        program(**program_inputs(request))
    return lm.history[-1]["messages"]


def test_save_and_load_round_trip_preserves_demos(persona: Persona, tmp_path: Path) -> None:
    program = compiled_program(persona)
    assert len(program.reply.demos) == 2

    path = save_program(program, tmp_path / "programs" / "maya.json")
    loaded = load_program(path)

    assert json.loads(path.read_text())["reply"]["demos"]  # plain JSON, no pickle
    assert [d["student_reply"] for d in loaded.reply.demos] == [
        d["student_reply"] for d in program.reply.demos
    ]
    assert isinstance(loaded.reply.demos[0]["history"], dspy.History)
    request = request_for(persona, "how many tens are in 52?")
    assert prompt_of(loaded, request) == prompt_of(program, request)


def test_save_refuses_a_non_json_path(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.json"):
        save_program(build_program(), tmp_path / "program.pkl")


async def test_brain_streams_the_programs_reply(persona: Persona) -> None:
    brain = DSPyBrain(DummyLM([{"student_reply": "um is it 35? i think"}]), name="dummy")

    chunks = [chunk async for chunk in brain.stream(request_for(persona))]

    assert len(chunks) > 1
    assert "".join(chunks) == "um is it 35? i think"


async def test_brain_answers_from_a_saved_program(persona: Persona, tmp_path: Path) -> None:
    path = save_program(compiled_program(persona), tmp_path / "maya.json")
    lm = DummyLM([{"student_reply": "25"}])
    brain = DSPyBrain(lm, program=path)

    assert "".join([chunk async for chunk in brain.stream(request_for(persona))]) == "25"
    sent = "\n".join(m["content"] for m in lm.history[-1]["messages"])
    assert "scripted 0" in sent  # the saved demos are in the prompt


async def test_plain_text_reply_is_taken_without_field_markers(persona: Persona) -> None:
    engine = PlainTextEngine("um 35? [[ ## completed ## ]]")
    brain = DSPyBrain(dspy.LM("test/plain", engine=engine, cache=False))

    reply = "".join([chunk async for chunk in brain.stream(request_for(persona))])

    assert reply == "um 35?"
    assert brain.usage.prompt_tokens == 40 and brain.usage.completion_tokens == 5


async def test_chat_prompt_format_sends_plain_turns(persona: Persona) -> None:
    engine = PlainTextEngine("ok")
    brain = DSPyBrain(dspy.LM("test/plain", engine=engine, cache=False), prompt_format="chat")
    request = request_for(persona)

    assert "".join([chunk async for chunk in brain.stream(request)]) == "ok"

    sent = engine.requests[-1]
    roles = [message.role for message in sent.messages]
    assert roles == ["user", "assistant", "user", "assistant", "user"]
    assert sent.messages[-1].text == request.message
    assert "[[ ##" not in sent.system and persona.name in sent.system


@pytest.mark.parametrize(
    ("raw", "reply"),
    [
        ("[[ ## student_reply ## ]]\num 35?\n\n[[ ## completed ## ]]", "um 35?"),
        ("student_reply: i dont know", "i dont know"),
        ('{"student_reply": "maybe 25"}', "maybe 25"),
        ("just words", "just words"),
    ],
)
def test_clean_reply_strips_field_marker_leakage(raw: str, reply: str) -> None:
    assert clean_reply(raw) == reply


async def test_health_is_not_ok_for_a_missing_program_file(
    persona: Persona, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-program.json"
    options = {"lm": {"kind": "vllm", "base_url": "http://127.0.0.1:9"}, "program": str(missing)}
    brain = create(BrainSpec("dspy", "dspy", options), BrainContext(persona))

    health = await brain.health()

    assert not health.ok
    assert str(missing) in health.detail
    with pytest.raises(BrainError, match="program file not found"):
        [chunk async for chunk in brain.stream(request_for(persona))]


async def test_health_is_not_ok_when_the_lm_is_unreachable(persona: Persona) -> None:
    options = {"lm": {"kind": "vllm", "base_url": "http://127.0.0.1:9", "adapter": "a"}}
    health = await create(BrainSpec("dspy", "dspy", options), BrainContext(persona)).health()
    assert not health.ok


def test_lm_specs() -> None:
    lm, local = build_lm({"kind": "vllm", "base_url": "http://127.0.0.1:8000", "adapter": "a-1"})
    assert local is None
    assert lm.model == "openai/a-1"
    assert lm.kwargs["api_base"] == "http://127.0.0.1:8000/v1"
    assert api_base("http://host:1/v1/") == "http://host:1/v1"
    with pytest.raises(BrainError, match="No OpenAI key found"):
        build_lm({"kind": "openai", "model": "gpt-4o-mini"})  # conftest unsets OPENAI_API_KEY
    with pytest.raises(BrainError, match="unknown lm kind"):
        build_lm({"kind": "ollama"})


def test_spec_errors_are_brain_errors(persona: Persona) -> None:
    with pytest.raises(BrainError, match="needs an `lm` option"):
        create(BrainSpec("dspy", "dspy", {}), BrainContext(persona))
    with pytest.raises(BrainError, match="no option 'temprature'"):
        create(BrainSpec("dspy", "dspy", {"lm": {}, "temprature": 1}), BrainContext(persona))
    with pytest.raises(BrainError, match="option `max_tokens` must be a whole number above 0"):
        create(BrainSpec("dspy", "dspy", {"lm": {}, "max_tokens": "lots"}), BrainContext(persona))
    with pytest.raises(BrainError, match="option `temperature` must be a number"):
        create(BrainSpec("dspy", "dspy", {"lm": {}, "temperature": "hot"}), BrainContext(persona))


@pytest.mark.slow
async def test_brain_on_the_local_tiny_model(tiny_base: Path, adapter_a: Path) -> None:
    """Greedy decoding through the DSPy program: the adapter the lm names answers (its reply is
    not the bare base model's) and the same brain answers the same way twice."""
    persona = load_persona_file(SMALL_PERSONA)

    async def replies(lm: dict) -> tuple[str, str, DSPyBrain]:
        brain = DSPyBrain(lm, temperature=0.0, max_tokens=8, prompt_format="chat")
        try:
            assert (await brain.health()).ok
            said = []
            for _ in range(2):
                request = request_for(persona, "hi")
                said.append("".join([chunk async for chunk in brain.stream(request)]))
        finally:
            await brain.aclose()
        return said[0], said[1], brain

    first, again, brain = await replies(
        {"kind": "local", "base": str(tiny_base), "adapters": {"a": str(adapter_a)}}
    )
    assert first.strip() and first == again
    assert brain.usage.prompt_tokens and brain.usage.completion_tokens
    base, _, _ = await replies({"kind": "local", "base": str(tiny_base)})
    assert base != first  # adapter A changed the answer: it was in use


@pytest.mark.vllm
async def test_brain_end_to_end_on_the_vllm_server(vllm_server: Any) -> None:
    """The tiny model's context is 512 tokens: a short persona and the plain chat format fit."""
    persona = load_persona_file(SMALL_PERSONA)
    options = {
        "lm": {"kind": "vllm", "base_url": vllm_server.base_url, "adapter": vllm_server.adapter_a},
        "temperature": 0.0,
        "max_tokens": 16,
        "prompt_format": "chat",
    }
    brain = create(BrainSpec("dspy-vllm", "dspy", options), BrainContext(persona))

    assert (await brain.health()).ok
    reply = "".join([chunk async for chunk in brain.stream(request_for(persona, "hi"))])

    assert isinstance(reply, str) and reply.strip()
    assert brain.usage.completion_tokens
