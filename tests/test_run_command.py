"""`utta run`: a scripted conversation end to end, as a real process on a real store."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSON = [
    "What is 83 - 46?",
    "How did you get that?",
    "Do you like to draw horses?",
    "I have a big box of blocks at home.",
    "What is 72 - 38?",
]


def run_utta(args: list[str], home: Path, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "UTTA_HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop("UTTA_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def _turn_rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT role, text FROM turns ORDER BY id").fetchall()


def test_run_logs_the_session_and_prints_one_json_object_per_turn(
    utta_home: Path, tmp_path: Path
) -> None:
    script = tmp_path / "lesson.txt"
    script.write_text("\n".join(LESSON) + "\n\n", encoding="utf-8")
    done = run_utta(["run", "--persona", "maya", str(script)], utta_home)
    assert done.returncode == 0, done.stderr
    turns = [json.loads(line) for line in done.stdout.splitlines()]
    assert [t["teacher"] for t in turns] == LESSON
    first, why, _, _, last = turns
    assert first["state"]["answer"]["value"] == "43"  # 83 - 46 by smaller-from-larger
    assert re.match(r"\D*43\b", first["student"]), first["student"]
    assert why["state"]["answer"]["mode"] == "explain"
    # chit-chat with a cue word in it taught nothing: still the rule's answer on new numbers
    assert last["state"]["misconceptions"]["smaller-from-larger"]["held"] is True
    assert last["state"]["answer"]["value"] == "46"
    assert {"mood", "active", "last_move"} <= set(last["state"])
    db = next(utta_home.rglob("utta.db"))
    rows = _turn_rows(db)
    assert [text for role, text in rows if role == "teacher"] == LESSON
    assert [text for role, text in rows if role == "student"] == [t["student"] for t in turns]


def test_run_with_no_log_writes_nothing_and_reads_standard_input(utta_home: Path) -> None:
    done = run_utta(
        ["run", "--persona", "ava", "--no-log", "-"],
        utta_home,
        "Which is worth more, a penny or a dime?\n",
    )
    assert done.returncode == 0, done.stderr
    (turn,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert "penny" in turn["student"] and "dime" not in turn["student"]
    assert turn["state"]["misconceptions"]["bigger-coin-worth-more"]["held"] is True
    assert not list(utta_home.rglob("*.db"))


def test_run_with_no_log_leaves_an_existing_store_unchanged(utta_home: Path) -> None:
    assert run_utta(["run", "--persona", "maya"], utta_home, "hi\n").returncode == 0
    db = next(utta_home.rglob("utta.db"))
    before = _turn_rows(db)
    done = run_utta(["run", "--persona", "maya", "--no-log"], utta_home, "What is 9 + 6?\n")
    assert done.returncode == 0 and '"15"' in done.stdout
    assert _turn_rows(db) == before


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["run", "--persona", "nobody"], "nobody"),
        (["run", "--persona", "maya", "--brain", "nope"], "utta brains list"),
        (["run", "--persona", "maya", "missing.txt"], "one a line"),
    ],
)
def test_run_errors_go_to_stderr_with_the_fix(utta_home: Path, args, says) -> None:
    done = run_utta(args, utta_home, "hi\n")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("utta: ") and says in done.stderr
