"""`utta sessions report` and `utta report --trainee` on a real store with several real sessions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.debrief_sessions import build_store
from tui.cli import main

# Anything that would make a browser fetch something: a URL, a script, a stylesheet link.
FETCHES = re.compile(r"https?://|<script|<link|<img|<iframe|@import|url\(", re.IGNORECASE)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("report") / "utta.db"
    return path, build_store(path)


@pytest.fixture
def db(store_path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    path, ids = store_path
    monkeypatch.setenv("UTTA_DB", str(path))
    return ids


def test_session_report_markdown(db, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions", "report", str(db["taught"])]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# Debrief: session {db['taught']}")
    assert "## Three things to try" in out and "## The child's timeline" in out
    assert "### smaller-from-larger: resolved at turn 7" in out
    assert "**turn 5** ✔ counted" in out and "**turn 2** ✘ did not count" in out
    assert "| your share of the words |" in out and "| questions |" in out
    assert "“Can you check by adding 27 back?”" in out


def test_session_report_json(db, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions", "report", str(db["told"]), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["session_id"] == db["told"] and data["exchanges"] == 4
    [line] = [t for t in data["timeline"] if t["id"] == "smaller-from-larger"]
    assert line["resolved_at"] is None and line["events"][0]["counted"] is False
    assert data["talk"]["teacher_turns"] == 4 and len(data["suggestions"]) == 3
    assert data["suggestions"][0]["text"].startswith("At turn 2 you told Maya")


def test_session_report_html_is_one_file_with_nothing_to_fetch(db, tmp_path: Path) -> None:
    out = tmp_path / "debrief.html"
    assert main(["sessions", "report", str(db["taught"]), "--format", "html", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<svg" in page and "<table>" in page
    assert "<h2>Three things to try</h2>" in page and "smaller-from-larger" in page
    assert not FETCHES.search(page), FETCHES.search(page)


def test_an_unknown_session_is_a_clear_error(db, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessions", "report", "999"]) == 1
    assert "there is no session 999" in capsys.readouterr().err


def test_trainee_report_prints_a_table_and_a_terminal_chart(
    db, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--trainee", "sam"]) == 0
    out = capsys.readouterr().out
    assert "# Progress: sam" in out and "3 session(s)" in out
    rows = [line for line in out.splitlines() if re.match(r"\| \d+ \|", line)]
    assert [int(r.split("|")[1]) for r in rows] == [db["told"], db["taught"], db["leo"]]
    assert "moves that counted" in out and "turns to the first resolution" in out
    assert "┌" in out and "•" in out  # plotext drew the charts
    for session_id in (db["told"], db["taught"], db["leo"]):
        assert f"#{session_id}" in out


def test_trainee_report_for_one_persona_in_json(db, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--trainee", "sam", "--persona", "maya", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["session_id"] for s in data["sessions"]] == [db["told"], db["taught"]]
    assert [s["counted_moves"] for s in data["sessions"]] == [0, 3]
    assert data["sessions"][1]["turns_to_resolution"] == 7


def test_trainee_report_html_has_inline_svg_charts(db, tmp_path: Path) -> None:
    out = tmp_path / "progress.html"
    assert main(["report", "--trainee", "sam", "--format", "html", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.count("<svg") == 4 and "<polyline" in page
    assert "moves that counted" in page and "Progress: sam" in page
    assert not FETCHES.search(page), FETCHES.search(page)


def test_a_trainee_without_sessions_is_a_clear_error(db, capsys) -> None:
    assert main(["report", "--trainee", "nobody"]) == 1
    assert "no sessions for trainee 'nobody'" in capsys.readouterr().err
