"""`utta sessions export`: training folders (openai, hf, dspy) by id or by persona, jsonl as
before, and errors that say what to do. The database is the default one in this test's
UTTA_HOME."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personas.schema import Persona
from tests.dataset_sessions import (
    FAKE_KEY,
    Session,
    conversation,
    logged_before_redaction,
    read_jsonl,
)
from transcripts import Store
from tui.cli import main


def test_cli_exports_a_persona_as_openai(
    maya: Persona, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store() as store:  # the default database, in this test's UTTA_HOME
        for n in range(3):
            session = conversation(store, maya, f"Hi {n}")
            opening = store.turns(session.id)[0]
            logged_before_redaction(store, opening.id, f"Hi {n} {FAKE_KEY}")
        flagged = Session(store, maya)
        store.add_feedback(flagged.say("Hi", "As an AI"), flagged=True)

    out = tmp_path / "maya"
    code = main(["sessions", "export", "--persona", "maya", "--format", "openai", "-o", str(out)])

    printed = capsys.readouterr().out
    assert code == 0
    assert {p.name for p in out.iterdir()} == {"train.jsonl", "validation.jsonl", "manifest.json"}
    assert "train row(s)" in printed and "dropped 1: flagged without rewrite" in printed
    assert "redacted 3 api_key" in printed
    assert FAKE_KEY not in (out / "train.jsonl").read_text()


def test_cli_exports_ids_as_hf_and_dspy_and_keeps_jsonl(
    maya: Persona, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store() as store:
        first, second = conversation(store, maya, "Hi"), conversation(store, maya, "Hello")
    ids = [str(first.id), str(second.id)]

    assert main(["sessions", "export", *ids, "--format", "hf", "-o", str(tmp_path / "hf")]) == 0
    assert (tmp_path / "hf" / "README.md").is_file()
    assert main(["sessions", "export", *ids, "--format", "dspy", "-o", str(tmp_path / "d")]) == 0
    assert "history" in read_jsonl(tmp_path / "d" / "train.jsonl")[0]
    capsys.readouterr()

    assert main(["sessions", "export", ids[0]]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [first.id]
    assert main(["sessions", "export", "--persona", "maya", "-o", str(tmp_path / "s.jsonl")]) == 0
    assert len(read_jsonl(tmp_path / "s.jsonl")) == 2


def test_cli_export_errors_speak_to_the_user(
    maya: Persona, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store() as store:
        conversation(store, maya, "Hi")
        orphan = store.start_session("maya", "sam", "offline")
        store.add_turn(orphan, "student", "hello?")

    assert main(["sessions", "export", "--persona", "maya", "--format", "openai"]) == 1
    assert "add -o DIR" in capsys.readouterr().err
    assert main(["sessions", "export", "--format", "hf", "-o", str(tmp_path)]) == 1
    assert "--persona" in capsys.readouterr().err
    assert main(["sessions", "export", "--persona", "nobody", "--format", "hf", "-o", "x"]) == 1
    assert "no persona with id 'nobody'" in capsys.readouterr().err

    args = ["sessions", "export", "--persona", "maya", "--format", "openai", "-o", str(tmp_path)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "student turn has no teacher turn" in err and "--skip-bad" in err
    assert main([*args, "--skip-bad"]) == 0
    assert f"skipped session {orphan} turn 0" in capsys.readouterr().out
