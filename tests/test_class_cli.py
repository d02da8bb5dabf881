"""The class workflow from the shell: bundles out and in, brains out and in, vLLM flags passed
through. Real SQLite files, the real argument parser and handlers."""

from __future__ import annotations

from pathlib import Path

import pytest

from transcripts.store import Store
from tui.cli import build_parser, main


def _trainee_db(tmp_path: Path, trainee: str) -> Path:
    db = tmp_path / f"{trainee}.db"
    with Store(db) as store:
        session_id = store.start_session("maya", trainee, "offline")
        store.add_turn(
            session_id, "teacher", "What is 52 - 27? my key is sk-abcdefghijklmnopqrstuv"
        )
        store.add_turn(session_id, "student", "35", brain_id="offline")
    return db


def test_sessions_bundle_export_and_import_from_the_shell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundles = []
    for trainee in ("ana", "ben"):
        out = tmp_path / f"{trainee}.json"
        db = str(_trainee_db(tmp_path, trainee))
        assert main(["--db", db, "sessions", "export", "--bundle", "-o", str(out)]) == 0
        assert "sk-abcdefghijklmnopqrstuv" not in out.read_text(encoding="utf-8")
        bundles.append(str(out))
    merged = str(tmp_path / "class.db")
    assert main(["--db", merged, "sessions", "import", *bundles]) == 0
    assert "imported 2 session(s); 0 already here" in capsys.readouterr().out
    assert main(["--db", merged, "sessions", "import", *bundles]) == 0
    assert "imported 0 session(s); 2 already here unchanged" in capsys.readouterr().out

    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert main(["--db", merged, "sessions", "import", str(broken)]) == 1
    error = capsys.readouterr().err
    assert "broken.json: line 1" in error and "nothing was imported" in error


def test_brains_export_and_import_from_the_shell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = tmp_path / "program.json"
    program.write_text('{"demos": []}', encoding="utf-8")
    teacher = tmp_path / "teacher.db"
    with Store(teacher) as store:
        spec = {"lm": {"kind": "openai", "model": "gpt-4o-mini"}, "program": str(program)}
        store.save_brain("maya-dspy", "dspy", spec, persona_id="maya")
    archive = tmp_path / "maya-dspy.tar.gz"
    assert main(["--db", str(teacher), "brains", "export", "maya-dspy", "-o", str(archive)]) == 0
    trainee = tmp_path / "trainee.db"
    server = "base_url=https://utta.example.edu"
    assert main(["--db", str(trainee), "brains", "import", str(archive), "-o", server]) == 0
    assert "registered brain maya-dspy" in capsys.readouterr().out
    with Store(trainee) as store:
        spec = store.brain("maya-dspy").spec
        moved = Path(spec["program"])
    assert spec["base_url"] == "https://utta.example.edu"
    assert moved != program and moved.read_text(encoding="utf-8") == '{"demos": []}'
    assert main(["--db", str(trainee), "brains", "import", str(archive)]) == 1
    assert "--name NEW" in capsys.readouterr().err


def test_serve_vllm_passes_extra_flags_through() -> None:
    args = build_parser().parse_args(
        ["serve", "vllm", "--base", "m", "--vllm-arg=--tensor-parallel-size=2",
         "--vllm-arg=--max-cpu-loras=16"]
    )  # fmt: skip
    assert args.vllm_arg == ["--tensor-parallel-size=2", "--max-cpu-loras=16"]
