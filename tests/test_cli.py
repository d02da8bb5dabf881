"""The `utta` command line: personas, sessions and brains sub-commands on real files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from transcripts.store import Store
from tui.cli import main

DATA = Path(__file__).parent / "data" / "personas"


def test_help_lists_every_command(capsys) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    for command in (
        "chat",
        "run",
        "personas",
        "sessions",
        "brains",
        "serve",
        "keys",
        "train",
        "score",
        "eval",
    ):
        assert command in out


def test_personas_list_and_show(capsys) -> None:
    assert main(["personas", "list"]) == 0
    out = capsys.readouterr().out
    assert {"maya", "leo", "ava"} <= {line.split()[0] for line in out.splitlines()}
    assert main(["personas", "show", "maya"]) == 0
    assert "smaller-from-larger" in capsys.readouterr().out
    assert main(["personas", "show", "nobody"]) == 1
    assert "maya" in capsys.readouterr().err  # the message lists the ids there are


@pytest.mark.parametrize(
    ("fixture", "line", "field"),
    [("wrong_type.yaml", 5, "age"), ("missing_name.yaml", None, "name")],
)
def test_validate_names_file_line_and_field_and_chat_refuses_with_the_same_words(
    capsys, fixture: str, line: int | None, field: str
) -> None:
    path = DATA / fixture
    assert main(["personas", "validate", str(path)]) == 1
    validate_error = capsys.readouterr().err.strip()
    assert str(path) in validate_error and field in validate_error
    if line is not None:
        assert f"{path}:{line}:" in validate_error
    assert main(["chat", "--persona", str(path)]) == 1
    chat_error = capsys.readouterr().err.strip()
    assert chat_error == f"utta: {validate_error}"


def test_chat_refuses_an_invalid_user_persona_by_id_with_the_same_words(
    capsys, tmp_path: Path, monkeypatch
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    broken = folder / "zoe.yaml"
    shutil.copy(DATA / "wrong_type.yaml", broken)
    monkeypatch.setenv("UTTA_PERSONAS_DIR", str(folder))
    assert main(["personas", "validate", str(broken)]) == 1
    validate_error = capsys.readouterr().err.strip()
    assert main(["chat", "--persona", "zoe"]) == 1
    assert validate_error in capsys.readouterr().err


def test_validate_accepts_a_good_file(capsys) -> None:
    assert main(["personas", "validate", str(DATA / "valid.yaml")]) == 0
    assert "ok (zoe" in capsys.readouterr().out


def test_sessions_list_show_export_and_search(capsys, tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    store = Store(db)
    sid = store.start_session("maya", "kim", "offline")
    store.add_turn(sid, "teacher", "What is 52 - 27?")
    turn = store.add_turn(sid, "student", "35", brain_id="offline", latency_ms=1.0)
    store.add_feedback(turn, rating=5, rewrite="35?")
    store.record_swap(sid, "offline", "maya-a", False, "server down")
    args = ["--db", str(db), "sessions"]
    assert main([*args, "list"]) == 0
    assert "kim" in capsys.readouterr().out
    assert main([*args, "show", str(sid)]) == 0
    shown = capsys.readouterr().out
    assert "rated 5/5" in shown and "refused swap: offline → maya-a (server down)" in shown
    out = tmp_path / "s.jsonl"
    assert main([*args, "export", str(sid), "--format", "jsonl", "-o", str(out)]) == 0
    assert '"35"' in out.read_text()
    assert main([*args, "search", "52"]) == 0
    assert "What is 52 - 27?" in capsys.readouterr().out
    assert main([*args, "show", "999"]) == 1
    assert "utta sessions list" in capsys.readouterr().err


def test_brains_add_list_show_compare_remove(capsys) -> None:
    lineage = {"persona": "maya", "hyperparameters": {"rank": 8}, "metrics": {"val_loss": 1.5}}
    Store().save_brain("maya-a", "vllm", {"adapter": "a"}, "maya", lineage)
    assert main(["brains", "add", "maya-b", "--kind", "vllm", "--persona", "maya",
                 "-o", "adapter=b", "-o", "max_tokens=40"]) == 0  # fmt: skip
    assert Store().brain("maya-b").spec == {"adapter": "b", "max_tokens": 40}
    capsys.readouterr()
    assert main(["brains", "list"]) == 0
    listed = capsys.readouterr().out
    assert "maya-a" in listed and "maya-b" in listed and "can build here" in listed
    assert main(["brains", "show", "maya-a"]) == 0
    assert '"rank": 8' in capsys.readouterr().out
    assert main(["brains", "compare", "maya-a", "maya-b"]) == 0
    compared = capsys.readouterr().out
    assert "spec.adapter" in compared and "lineage.metrics.val_loss" in compared
    assert main(["brains", "add", "x", "--kind", "nope"]) == 2
    assert "choose one of" in capsys.readouterr().err
    assert (
        main(["brains", "add", "x", "--kind", "openai", "-o", "model=m", "-o", "colour=red"]) == 1
    )
    assert "colour" in capsys.readouterr().err  # a bad option is refused before it is saved
    assert "x" not in [b.name for b in Store().brains()]
    assert main(["brains", "remove", "maya-b"]) == 0
    assert [b.name for b in Store().brains()] == ["maya-a"]
    assert main(["brains", "remove", "maya-b"]) == 1
