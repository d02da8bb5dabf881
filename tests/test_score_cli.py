"""`utta score` end to end: the real command in a process, reading a file and stdin, one JSON
object a line in input order, exit 0, no heavy packages imported; bad input is named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Runs `utta` and reports on stderr which heavy packages the run imported.
RUNNER = (
    "import sys; from tui.cli import main; rc = main(sys.argv[1:]); "
    "print('IMPORTED', sorted(m for m in ('numpy', 'sklearn', 'scipy', 'torch', 'dspy') "
    "if m in sys.modules), file=sys.stderr); sys.exit(rc)"
)


def utta(args: list[str], home: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UTTA_HOME": str(home), "UTTA_DB": str(home / "utta.db")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-c", RUNNER, *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip


def test_score_reads_a_file_and_writes_one_object_per_line_in_order(
    tmp_path: Path, utta_home: Path
) -> None:
    turn = {
        "teacher": "What is 83 - 46?",
        "student": "37",
        "state": {"answer": {"value": "43", "correct_value": "37", "held": True,
                             "misconception": "smaller-from-larger", "question": "83 - 46",
                             "rule": "smaller-from-larger", "why": "test"}},
    }  # fmt: skip
    lines = [
        "yes",
        "Ooh! I think it's 25 because I took away the tens first!",
        "",
        json.dumps(turn),
    ]
    replies = tmp_path / "replies.txt"
    replies.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = utta(["score", "--persona", "maya", str(replies)], utta_home)

    assert result.returncode == 0, result.stderr
    assert "IMPORTED []" in result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["yes", lines[1], "", "37"]
    for row in rows:
        assert set(row) == {"text", "score", "child_likeness", "components", "reasons"}
        assert 0.0 <= row["score"] <= 1.0 and 0.0 <= row["child_likeness"] <= 1.0
    assert rows[0]["score"] > 0.9 and rows[1]["score"] < 0.3 and rows[2]["score"] == 0.0
    assert rows[1]["child_likeness"] < 0.05 and rows[1]["reasons"][0].startswith("child_likeness")
    assert rows[3]["components"]["answer"] <= 0.1  # the right answer while the rule is held
    assert any("is held" in reason for reason in rows[3]["reasons"])


def test_score_reads_stdin_and_counts_repeats_in_a_conversation(utta_home: Path) -> None:
    lines = "the sun goes around us\nthe sun goes around us\n"
    apart = utta(["score", "--persona", "leo", "-"], utta_home, stdin=lines)
    together = utta(["score", "--persona", "leo", "--conversation"], utta_home, stdin=lines)
    assert apart.returncode == together.returncode == 0
    first, second = (json.loads(line) for line in apart.stdout.splitlines())
    assert first["score"] == second["score"]
    _, repeated = (json.loads(line) for line in together.stdout.splitlines())
    assert repeated["components"]["repetition"] == 0.0 and repeated["score"] < first["score"]


def test_score_names_bad_input(tmp_path: Path, utta_home: Path) -> None:
    unknown = utta(["score", "--persona", "nobody", "-"], utta_home, stdin="ok\n")
    assert unknown.returncode == 2 and "nobody" in unknown.stderr and "maya" in unknown.stderr
    missing = utta(["score", "--persona", "maya", str(tmp_path / "nope.txt")], utta_home)
    assert missing.returncode == 1 and "nope.txt" in missing.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('ok\n{"teacher": "hi"}\n', encoding="utf-8")
    result = utta(["score", "--persona", "maya", str(bad)], utta_home)
    assert result.returncode == 1
    assert f"{bad}:2" in result.stderr and '"text"' in result.stderr
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == ["ok"]
