"""The DSPy trainer on real SQLite stores: compile, save, register, reload, answer in a session.

The language model is a stand-in except in the test marked ``vllm``: ``dspy.utils.DummyLM``
(DSPy's own scripted LM, answering by the teacher message) or :class:`FieldEngine`, a scripted
engine that fills whatever output fields a signature asks for, so that MIPROv2's proposer and
GEPA's reflection run offline. They check the wiring (data, metric, optimizer arguments, files,
registry, reload), not that a real model gets better. The ``vllm`` test runs BootstrapFewShot on
the session's real vLLM server.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import dspy
import pytest
from dspy.utils import DummyLM

from agent.paths import persona_library
from agent.registry import BrainContext, BrainSpec, create_brain
from agent.state import StudentState
from agent.student import CompletedTurn, StudentAgent
from personas.schema import Persona
from trainers.datasets import BadRows
from trainers.dspy_optimizers import feedback_metric, make_optimizer
from trainers.dspy_trainer import (
    CONFIG_FILE,
    MANIFEST_FILE,
    DSPyTrainingConfig,
    DSPyTrainingError,
)
from trainers.dspy_trainer import train_dspy as _train_dspy
from trainers.lineage import LINEAGE_KEYS
from transcripts import Store
from transcripts.recorder import SessionRecorder
from tui.cli import main

SMALL_PERSONA = Path(__file__).parent / "data" / "personas" / "valid.yaml"
ADULT = "Therefore we regroup the tens, as the algorithm requires."
# An LLM imitating a child: breaks no persona rule; the child-likeness part of the score fails it.
LLM_KID = "Ooh! Four tens!"
SESSIONS = [  # seed 0 holds out the first session for validation
    [("hi maya", "hi"), ("what is 52 minus 27?", "35"), ("use the number line", "ok")],
    [("can you show 52 with blocks?", "5 tens"), ("how many tens in 40?", "4"),
     ("what is 30 minus 12?", "22")],
    [("hello again", "hi"), ("what is 61 minus 25?", "44 i think"), ("good morning", "morning")],
]  # fmt: skip
# What the scripted LM answers, by teacher message: a child's words, except one lecture.
ANSWERS = {
    "hi maya": "hi!!",
    "what is 52 minus 27?": "um 35?",
    "use the number line": "ok i jump",
    "can you show 52 with blocks?": ADULT,
    "how many tens in 40?": LLM_KID,
    "what is 30 minus 12?": "22",
    "hello again": "hey",
    "what is 61 minus 25?": "is it 44",
    "good morning": "morning",
}
FAKE_KEY = "sk-test-UTTA-NOT-A-REAL-KEY-123456"
LM_SPEC = {
    "kind": "openai",
    "model": "maya-test",
    "base_url": "http://127.0.0.1:9/v1",
    "api_key": FAKE_KEY,
}


def train_dspy(*args, **options):
    """Every logged reply as a target and no persona examples, so the scripted LM's answers line
    up with the rows; target selection itself is tested in tests/test_datasets.py."""
    return _train_dspy(*args, **{"targets": "all", "examples": False, **options})


def scripted_lm() -> DummyLM:
    return DummyLM({teacher: {"student_reply": reply} for teacher, reply in ANSWERS.items()})


class FieldEngine:
    """Answers every output field a DSPy prompt asks for (JSON when the prompt wants JSON); a
    prompt without DSPy fields (the chat format) gets a child's reply."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def complete(self, request: Any) -> Any:
        from dspy.lm15 import Message, Response, Usage

        system = request.system if isinstance(request.system, str) else ""
        self.prompts.append(system + "".join(m.text or "" for m in request.messages))
        section = system.split("Your output fields are:", 1)[-1].split("All interactions")[0]
        names = re.findall(r"`(\w+)`", section) if "Your output fields are:" in system else []
        values = {n: "um 4 i think" if n == "student_reply" else f"a {n}" for n in names}
        if not names:
            text = "um 4 i think"
        elif "JSON object" in system:
            text = json.dumps(values)
        else:
            text = "".join(f"[[ ## {n} ## ]]\n{v}\n\n" for n, v in values.items())
            text += "[[ ## completed ## ]]"
        return Response(
            id=None,
            model=request.model,
            message=Message.assistant(text),
            finish_reason="stop",
            usage=Usage(input_tokens=1, output_tokens=1),
        )


def log_session(
    store: Store, persona: Persona, exchanges: list[tuple[str, str]], trainee: str = "sam"
) -> int:
    """One session logged as the agent logs it: teacher turn, then the reply and its state."""
    recorder = SessionRecorder.start(store, persona.id, trainee, "offline")
    state = StudentState.initial(persona)
    for teacher, student in exchanges:
        state = state.after_teacher(persona, teacher)
        recorder.teacher_sent(teacher)
        turn = CompletedTurn(teacher, student, "offline", 5.0, None, None, state)
        recorder.student_replied(turn)
    recorder.end()
    return recorder.session_id


@pytest.fixture
def logged(store: Store, maya: Persona) -> Store:
    for exchanges in SESSIONS:
        log_session(store, maya, exchanges)
    return store


def demo_replies(program_path: Path) -> list[str]:
    return [
        demo["student_reply"] for demo in json.loads(program_path.read_text())["reply"]["demos"]
    ]


def rescored(store: Store, persona: Persona, program_path: Path) -> tuple[float, float]:
    """The mean authenticity of the zero-shot program's and the saved program's replies to the
    validation rows, as the scripted LM answers them, scored one by one with ``dspy_metric``."""
    from agent.brains.dspy_brain import build_program, clean_reply
    from trainers.datasets import Selection, build_dataset
    from trainers.dspy_optimizers import to_examples, training_adapter
    from trainers.metric import dspy_metric

    dataset = build_dataset(store, Selection(persona.id, targets="all", examples=False))
    held_out = to_examples(dataset.validation, dataset)
    assert len(held_out) == 3
    metric = dspy_metric(persona)
    trained = build_program()
    trained.load(str(program_path))
    means = []
    with dspy.context(lm=scripted_lm(), adapter=training_adapter("fields")):
        for program in (build_program(), trained):
            replies = [clean_reply(str(program(**ex.inputs()).student_reply)) for ex in held_out]
            pairs = zip(held_out, replies, strict=True)
            scores = [metric(ex, {"student_reply": reply}) for ex, reply in pairs]
            means.append(round(sum(scores) / len(scores), 4))
    return means[0], means[1]


# --- bootstrap, end to end ----------------------------------------------------------------------


async def test_bootstrap_saves_registers_and_the_reloaded_brain_answers(
    logged: Store, maya: Persona
) -> None:
    lines: list[str] = []
    teacher = scripted_lm()
    result = train_dspy(
        logged, "maya", optimizer="bootstrap", lm_spec=LM_SPEC, lm=teacher,
        max_demos=2, max_labeled_demos=3, name="maya-dspy", log=lines.append,
    )  # fmt: skip

    # The program: two of the LM's replies that passed the metric (the lecture, asked first,
    # did not, nor did the LLM's child imitation), topped up with a logged reply.
    assert any("blocks" in call["messages"][-1]["content"] for call in teacher.history)
    assert result.program_path.name == "program.json"
    assert result.program_path.parent == result.out_dir
    replies = demo_replies(result.program_path)
    assert result.demos == len(replies) == 3 and ADULT not in replies
    assert LLM_KID not in replies
    assert replies[:2] == ["22", "hey"]
    assert replies[2] in {reply for session in SESSIONS[1:] for _, reply in session}
    manifest = json.loads((result.out_dir / MANIFEST_FILE).read_text())
    config = json.loads((result.out_dir / CONFIG_FILE).read_text())
    assert config["optimizer"] == "bootstrap" and config["max_demos"] == 2
    assert manifest["counts"]["train_rows"] == result.train_rows == 6

    # The registry: a dspy brain with its lineage; the key is stored nowhere.
    row = logged.brain("maya-dspy")
    assert row.kind == "dspy" and row.persona_id == "maya"
    assert row.spec == {
        "program": str(result.program_path),
        "lm": {k: v for k, v in LM_SPEC.items() if k != "api_key"},
        "prompt_format": "fields",
    }
    lineage = row.lineage
    assert set(lineage) == set(LINEAGE_KEYS)  # the shape every trainer's lineage has
    assert lineage["method"] == "dspy-bootstrap" and lineage["persona"] == "maya"
    assert lineage["dataset"]["content_hash"] == manifest["content_hash"]
    assert lineage["dataset"]["rows"] == {"train": 6, "validation": 3}
    assert lineage["base"] == row.spec["lm"]
    assert lineage["extra"]["program"] == str(result.program_path)
    metrics = lineage["metrics"]
    assert metrics["n"] == 3 and metrics["evaluated_on"] == "validation"
    # The lineage carries the very scores the run measured and printed, each in its place.
    assert result.before.n == result.after.n == 3
    assert metrics["validation_authenticity_before"] == result.before.mean
    assert metrics["validation_authenticity_after"] == result.after.mean
    assert f"before: {result.before}" in lines and f"after: {result.after}" in lines
    # ...and they are the scores of the zero-shot and the saved program's own replies to the
    # held-out rows, recomputed here with the public metric, not through the trainer's evaluate.
    before, after = rescored(logged, maya, result.program_path)
    assert (result.before.mean, result.after.mean) == (before, after)
    # The scripted LM answers alike with or without demos, so the prompts say which program
    # answered: the last three calls (after) are the first three (before) plus every demo's pair.
    prompts = [len(call["messages"]) for call in teacher.history]
    assert prompts[-3:] == [n + 2 * result.demos for n in prompts[:3]], prompts
    assert lineage["hyperparameters"]["threshold"] == 0.6 and lineage["created_at"]
    stored = (Path(logged.path).read_bytes(), *(p.read_text() for p in result.out_dir.iterdir()))
    assert not any(FAKE_KEY in str(text) for text in stored)
    assert any("before:" in line for line in lines) and any("after:" in line for line in lines)

    # Reloaded through the registry, it answers in a logged session with its demos in the prompt.
    spec = BrainSpec(row.name, row.kind, dict(row.spec), row.persona_id)
    brain = create_brain(spec, BrainContext(maya))
    assert brain.program_path == result.program_path
    lm = DummyLM([{"student_reply": "um is it 25"}])
    brain._lm = lm  # the registered lm names no running server: answer with the scripted LM
    recorder = SessionRecorder.start(logged, "maya", "sam", brain.id)
    agent = StudentAgent(maya, brain, recorder=recorder)

    assert await agent.reply("what is 50 minus 25?") == "um is it 25"
    sent = "\n".join(message["content"] for message in lm.history[-1]["messages"])
    assert all(reply in sent for reply in replies)
    assert [turn.text for turn in logged.turns(recorder.session_id)][-1] == "um is it 25"


def test_random_search_with_the_lm_of_a_registered_vllm_brain(logged: Store) -> None:
    server = {"base_url": "http://127.0.0.1:9", "adapter": "maya-a"}
    logged.save_brain("maya-a", "vllm", server, persona_id="maya")
    result = train_dspy(
        logged, "maya", optimizer="random-search", lm_spec="maya-a", lm=scripted_lm(),
        num_candidates=1, max_demos=2, name="maya-rs",
    )  # fmt: skip

    row = logged.brain("maya-rs")
    assert row.spec["lm"] == {"kind": "vllm", **server}
    assert row.spec["prompt_format"] == "chat"  # what a vllm brain's adapter learned
    assert row.lineage["method"] == "dspy-random-search"
    assert row.lineage["extra"]["lm_brain"] == "maya-a"
    assert row.lineage["hyperparameters"]["num_candidates"] == 1
    assert result.after.n == 3 and result.after.errors == 0
    assert ADULT not in demo_replies(result.program_path)


# --- bad rows and refusals ----------------------------------------------------------------------


def test_bad_rows_stop_training_unless_skipped(logged: Store) -> None:
    broken = logged.start_session("maya", "sam", "offline")
    logged.add_turn(broken, "teacher", "are you there?")
    logged.add_turn(broken, "teacher", "hello?")
    logged.add_turn(broken, "student", "yes")

    with pytest.raises(BadRows) as stopped:
        train_dspy(logged, "maya", optimizer="bootstrap", lm_spec=LM_SPEC, lm=scripted_lm())
    assert f"session {broken} turn 0" in str(stopped.value)
    assert "--skip-bad" in str(stopped.value)
    assert not logged.brains()

    result = train_dspy(
        logged, "maya", optimizer="bootstrap", lm_spec=LM_SPEC, lm=scripted_lm(),
        skip_bad=True, name="maya-skip",
    )  # fmt: skip
    skipped = json.loads((result.out_dir / MANIFEST_FILE).read_text())["skipped"]
    assert {"session_id": broken, "turn_idx": 0} in [
        {k: s[k] for k in ("session_id", "turn_idx")} for s in skipped
    ]
    assert logged.brain("maya-skip").lineage["dataset"]["skipped"] == skipped


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"optimizer": "gepa", "prompt_format": "chat"}, "never sends them"),
        ({"optimizer": "annealing"}, "optimizer is 'annealing'"),
        ({"optimizer": "bootstrap", "max_demos": -1}, "max_demos is -1"),
        ({"optimizer": "bootstrap", "lm_spec": "no-such-brain"}, "no-such-brain"),
        ({"optimizer": "bootstrap", "since": "last week"}, "not an ISO date"),
    ],
)
def test_bad_options_are_refused_before_any_lm_call(
    logged: Store, options: dict[str, Any], message: str
) -> None:
    lm = scripted_lm()
    options = {"lm_spec": LM_SPEC, **options}
    with pytest.raises(DSPyTrainingError, match=re.escape(message)):
        train_dspy(logged, "maya", lm=lm, **options)
    assert not lm.history


def test_unknown_persona_and_taken_name_are_refused(logged: Store) -> None:
    with pytest.raises(DSPyTrainingError, match="nobody"):
        train_dspy(logged, "nobody", optimizer="bootstrap", lm_spec=LM_SPEC, lm=scripted_lm())
    logged.save_brain("taken", "offline", {})
    with pytest.raises(DSPyTrainingError, match="utta brains remove taken"):
        train_dspy(
            logged, "maya", optimizer="bootstrap", lm_spec=LM_SPEC, lm=scripted_lm(), name="taken"
        )


# --- mipro and gepa -----------------------------------------------------------------------------


def config_for(optimizer: str, **options: Any) -> DSPyTrainingConfig:
    return DSPyTrainingConfig(persona="maya", optimizer=optimizer, lm={"kind": "openai"}, **options)


def test_mipro_and_gepa_get_their_arguments(maya: Persona) -> None:
    task, reflection = DummyLM([]), DummyLM([])
    mipro = make_optimizer(
        config_for("mipro", max_demos=3, max_labeled_demos=1, seed=5), maya, task, reflection
    )
    assert isinstance(mipro, dspy.MIPROv2) and mipro.auto == "light"
    assert mipro.task_model is task and mipro.prompt_model is reflection
    assert (mipro.max_bootstrapped_demos, mipro.max_labeled_demos, mipro.seed) == (3, 1, 5)
    assert mipro.metric_threshold == 0.6 and mipro.num_threads == 1

    gepa = make_optimizer(config_for("gepa", auto="medium"), maya, task, reflection)
    assert isinstance(gepa, dspy.GEPA)
    assert gepa.auto == "medium" and gepa.max_metric_calls is None
    assert gepa.reflection_lm is reflection
    exact = make_optimizer(config_for("gepa", auto=None, max_metric_calls=7), maya, task, task)
    assert exact.auto is None and exact.max_metric_calls == 7


def test_gepa_metric_explains_the_score(maya: Persona) -> None:
    metric = feedback_metric(maya)
    gold = dspy.Example(
        teacher_message="what is 52 minus 27?", history=dspy.History(messages=[]),
        student_state="", student_reply="35",
    )  # fmt: skip

    lecture = metric(gold, dspy.Prediction(student_reply=ADULT), None, "reply", None)
    child = metric(gold, dspy.Prediction(student_reply="35"), None, "reply", None)
    imitation = metric(gold, dspy.Prediction(student_reply=LLM_KID), None, "reply", None)

    assert lecture.score < 0.5 <= child.score
    assert imitation.score < 0.5
    assert "adult words" in lecture.feedback and "'35'" in lecture.feedback
    assert "child_likeness" in imitation.feedback and "reads like an LLM" in imitation.feedback


@pytest.mark.parametrize(("optimizer", "prompt_format"), [("mipro", "chat"), ("gepa", "fields")])
def test_mipro_and_gepa_run_on_a_scripted_lm(
    logged: Store, optimizer: str, prompt_format: str
) -> None:
    """MIPROv2's proposer asks for its own fields, also when the student speaks in chat turns;
    GEPA's reflection LM reads the metric's reasons and the logged reply."""
    if optimizer == "mipro":
        pytest.importorskip("optuna", reason="MIPROv2 needs optuna (dspy[optuna])")
    engine = FieldEngine()
    lm = dspy.LM("test/fields", engine=engine, cache=False)
    budget = {"max_metric_calls": 30} if optimizer == "gepa" else {}
    result = train_dspy(
        logged, "maya", optimizer=optimizer, lm_spec=LM_SPEC, lm=lm, max_demos=1,
        prompt_format=prompt_format, name=f"maya-{optimizer}", **budget,
    )  # fmt: skip

    assert result.after.n == 3 and result.after.errors == 0
    assert logged.brain(f"maya-{optimizer}").lineage["method"] == f"dspy-{optimizer}"
    assert result.program_path.is_file()
    if optimizer == "mipro":
        assert any("proposed_instruction" in prompt for prompt in engine.prompts)
    else:
        reflections = [p for p in engine.prompts if "new_instruction" in p]
        assert reflections and "The child's reply logged" in reflections[0]


# --- the command line ---------------------------------------------------------------------------


def test_cli_trains_and_says_where_and_what_to_swap_to(
    logged: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The LM the flags describe is replaced by the scripted one at the seam that builds it."""
    built: list[dict[str, Any]] = []

    def fake_build(spec: dict[str, Any], *args: Any) -> tuple[Any, None]:
        built.append(spec)
        return scripted_lm(), None

    monkeypatch.setattr("trainers.dspy_trainer._build_lm", fake_build)
    code = main([
        "--db", str(logged.path), "train", "dspy", "--persona", "maya",
        "--optimizer", "bootstrap", "--lm-kind", "vllm", "--lm-base-url", "http://127.0.0.1:9",
        "--lm-adapter", "maya-a", "--max-demos", "1", "--name", "maya-cli",
        "--targets", "all", "--no-examples",
    ])  # fmt: skip

    out = capsys.readouterr().out
    assert code == 0
    assert built == [{"kind": "vllm", "base_url": "http://127.0.0.1:9", "adapter": "maya-a"}]
    assert "before:" in out and "after:" in out and "program.json" in out
    assert "--brain maya-cli" in out
    assert logged.brain("maya-cli").kind == "dspy"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ([], "pass --lm-brain NAME"),
        (["--lm-brain", "x", "--lm-kind", "vllm"], "do not mix"),
        (["--lm-kind", "local"], "needs --lm-base"),
    ],
)
def test_cli_refuses_a_missing_or_mixed_lm(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["train", "dspy", "--persona", "maya", "--optimizer", "bootstrap", *flags])
    assert code == 2
    assert message in capsys.readouterr().err


# --- the real model -----------------------------------------------------------------------------


@pytest.mark.vllm
async def test_bootstrap_on_the_vllm_server_and_the_brain_answers(
    vllm_server: Any, store: Store, utta_home: Path
) -> None:
    """The tiny model's context is 512 tokens: the short persona, the chat format, one demo."""
    (utta_home / "personas").mkdir()
    shutil.copy(SMALL_PERSONA, utta_home / "personas" / "zoe.yaml")
    zoe = persona_library().get("zoe")  # reads the data dir
    log_session(store, zoe, [("3 + 2?", "4"), ("count on from 3", "3 4")])
    log_session(store, zoe, [("4 + 2?", "6"), ("recess?", "yay")])
    log_session(store, zoe, [("hard?", "ya"), ("what is 1 + 1?", "2")])
    lm = {"kind": "vllm", "base_url": vllm_server.base_url, "adapter": vllm_server.adapter_a}

    result = train_dspy(
        store, "zoe", optimizer="bootstrap", lm_spec=lm, prompt_format="chat", max_demos=1,
        max_labeled_demos=1, temperature=0.0, max_tokens=16, name="zoe-dspy", log=print,
    )  # fmt: skip

    assert result.program_path.is_file() and result.demos >= 1
    assert result.after.n == 2 and result.after.errors == 0
    row = store.brain("zoe-dspy")
    assert row.spec["lm"] == lm and row.spec["max_tokens"] == 16
    brain = create_brain(BrainSpec(row.name, row.kind, dict(row.spec), row.persona_id),
                         BrainContext(zoe))  # fmt: skip
    assert (await brain.health()).ok
    agent = StudentAgent(zoe, brain, recorder=SessionRecorder.start(store, "zoe", "sam", "x"))
    reply = await agent.reply("5 + 1?")
    assert isinstance(reply, str) and reply.strip()
