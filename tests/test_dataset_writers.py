"""The three dataset writers on real SQLite transcript stores: OpenAI chat files, Hugging Face
files loaded back with ``datasets``, and DSPy rows loaded back with ``dspy``."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.prompt import persona_prompt
from agent.state import StudentState
from personas.schema import Persona
from tests.dataset_sessions import conversation, every_reply, read_jsonl
from trainers.datasets import build_dataset, write_dspy, write_hf, write_openai
from trainers.manifest import load_hf
from transcripts import Store


def test_openai_files_hold_only_messages(store: Store, maya: Persona, tmp_path: Path) -> None:
    conversation(store, maya, "Hi")
    conversation(store, maya, "Hello")
    out = write_openai(build_dataset(store, every_reply("maya")), tmp_path)
    rows = read_jsonl(out / "train.jsonl") + read_jsonl(out / "validation.jsonl")
    assert len(rows) == 6
    assert all(set(row) == {"messages"} for row in rows)
    assert all(set(m) == {"role", "content"} for row in rows for m in row["messages"])


def test_hf_files_load_with_the_datasets_library(
    store: Store, maya: Persona, tmp_path: Path
) -> None:
    datasets = pytest.importorskip("datasets")
    for n in range(4):
        conversation(store, maya, f"Hi {n}")
    dataset = build_dataset(store, every_reply("maya"), validation_fraction=0.25)
    out = write_hf(dataset, tmp_path / "hf")

    files = {split: str(out / f"{split}.jsonl") for split in ("train", "validation")}
    plain = datasets.load_dataset("json", data_files=files)
    assert plain["train"].num_rows == 9 and plain["validation"].num_rows == 3
    assert plain["train"][0]["messages"][0]["role"] == "system"
    from_card = datasets.load_dataset(str(out))  # README.md declares files and features
    assert from_card["validation"].num_rows == 3
    assert list(from_card["train"].features) == ["messages"]
    loaded = load_hf(out)
    assert loaded["train"][0]["messages"] == dataset.train[0]["messages"]

    pairs = write_hf(dataset, tmp_path / "pc", layout="prompt_completion")
    split = load_hf(pairs)["train"][0]
    assert split["completion"] == dataset.train[0]["messages"][-1:]
    assert split["prompt"] == dataset.train[0]["messages"][:-1]


def test_dspy_rows_have_history_and_state(store: Store, maya: Persona, tmp_path: Path) -> None:
    session = conversation(store, maya, "Hi Maya")
    out = write_dspy(build_dataset(store, every_reply("maya"), validation_fraction=0), tmp_path)
    rows = read_jsonl(out / "train.jsonl")

    assert [len(row["history"]) for row in rows] == [0, 1, 2]
    last = rows[-1]
    assert set(last) == {"persona", "student_state", "history", "teacher_message", "student_reply"}
    assert last["persona"] == persona_prompt(maya)
    assert last["student_state"] == session.state.describe(maya)
    assert last["history"] == [
        {"teacher_message": "Hi Maya", "student_reply": "hi"},
        {"teacher_message": "What is 52 - 27?", "student_reply": "35"},
    ]
    assert (last["teacher_message"], last["student_reply"]) == ("Let's get out the blocks.", "ok")
    dspy = pytest.importorskip("dspy")
    example = dspy.Example(**{**last, "history": dspy.History(messages=last["history"])})
    assert len(example.history.messages) == 2


def test_dspy_state_is_replayed_when_a_turn_has_none(store: Store, maya: Persona) -> None:
    session = store.start_session("maya", "sam", "offline")
    teacher = "Count the rods by tens: what is the digit worth?"
    # two teaching moves by meaning (asking the problem itself is not one)
    for text in (
        "Let's build 52 with base-ten blocks and look at what each digit is worth.",
        teacher,
    ):
        store.add_turn(session, "teacher", text)
        store.add_turn(session, "student", "ok")  # logged without a state
    rows = build_dataset(store, every_reply("maya")).rows

    replayed = StudentState.initial(maya).after_teacher(maya, rows[0]["messages"][1]["content"])
    replayed = replayed.after_teacher(maya, teacher)
    assert rows[-1]["student_state"] == replayed.describe(maya)
    assert "You now understand what was wrong with" in rows[-1]["student_state"]
