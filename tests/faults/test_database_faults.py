"""A damaged, read-only, missing or full database, through the real `utta` process and the agent.

Every command answers with one line naming the file, the problem and the fix, and exit status 1,
never a traceback; reading commands change and create nothing; what was saved before the fault is
still there afterwards, and nothing half is logged. The file systems are real (see
:mod:`tests.faults.filesystems`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agent.brains.offline import OfflineBrain
from agent.student import StudentAgent
from personas.schema import Persona
from tests.faults.filesystems import fill, make_readonly, no_growth, tmpfs
from transcripts.recorder import SessionRecorder
from transcripts.store import Store, StoreError

ROOT = Path(__file__).resolve().parents[2]
QUESTION, FOLLOW_UP = "What is 52 - 27?", "Let's get out the blocks."
READERS = [["sessions", "list"], ["sessions", "show", "1"], ["sessions", "export", "1"],
           ["brains", "list"]]  # fmt: skip
WRITERS = [["brains", "add", "extra", "--kind", "offline"], ["chat", "--resume", "1"]]


def utta(db: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "UTTA_HOME": str(home), "TERM": "dumb"}
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", "--db", str(db), *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("utta: "), result.stderr
    assert " — " in lines[0]  # the problem, then the fix
    for word in words:
        assert word in lines[0], (word, lines[0])


def logged_session(db: Path, maya: Persona) -> tuple[str, Store]:
    """A session with one exchange, as a chat would have logged it."""
    store = Store(db)
    brain = OfflineBrain(maya)
    agent = StudentAgent(
        maya, brain, recorder=SessionRecorder.start(store, "maya", "sam", brain.id)
    )
    reply = asyncio.run(agent.reply(QUESTION))
    return reply, store


# --- damaged ----------------------------------------------------------------------------------


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not an SQLite file\n" * 200)


def _truncated(path: Path) -> None:
    with Store(path) as store:
        store.start_session("maya", "sam", "offline")
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xff" * 4000 + data[4100:])  # header kept, schema page hit


@pytest.mark.parametrize("damage", [_garbage, _truncated], ids=["garbage", "overwritten"])
@pytest.mark.parametrize("command", READERS + WRITERS, ids=" ".join)
def test_a_damaged_database_is_one_line_and_left_untouched(
    tmp_path: Path, damage, command: list[str]
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "utta.db"
    damage(db)
    before = db.read_bytes()
    result = utta(db, *command, home=tmp_path / "home")
    assert_one_line_error(result, str(db), "damaged")
    assert db.read_bytes() == before
    # SQLite's own companions of a WAL database may appear (a read-only reader leaves them), empty
    extra = {p.name: p.stat().st_size for p in folder.iterdir() if p.name != "utta.db"}
    assert set(extra) <= {"utta.db-wal", "utta.db-shm"} and extra.get("utta.db-wal", 0) == 0


# --- missing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_reading_commands_create_nothing(tmp_path: Path, command: list[str]) -> None:
    """D5: `utta --db /nonexistent/dir/x.db sessions list` created the folder and a database."""
    db = tmp_path / "nonexistent" / "dir" / "x.db"
    result = utta(db, *command, home=tmp_path / "home")
    assert "Traceback" not in result.stderr
    if command[:2] == ["sessions", "list"]:
        assert result.returncode == 0 and "no sessions yet" in result.stdout
    if command[:2] == ["sessions", "show"]:
        assert_one_line_error(result, "no session 1", str(db))
    assert not (tmp_path / "nonexistent").exists()
    assert not (tmp_path / "home" / "utta.db").exists()


def test_a_db_path_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    db = blocker / "utta.db"
    assert_one_line_error(utta(db, *WRITERS[0], home=tmp_path / "home"), str(db), "--db")


# --- read-only --------------------------------------------------------------------------------


def test_a_read_only_database_is_read_and_refused_for_writing(tmp_path: Path, maya: Persona):
    folder = tmp_path / "ro"
    with tmpfs(folder, "4m") as mounted:
        if os.geteuid() == 0 and not mounted:
            pytest.skip("root without mount permission cannot make a file read-only")
        db = folder / "utta.db"
        reply, store = logged_session(db, maya)
        store.close()
        make_readonly(folder, mounted)
        try:
            before = {p.name: p.read_bytes() for p in folder.iterdir()}
            home = tmp_path / "home"
            listing = utta(db, "sessions", "list", home=home)
            assert listing.returncode == 0 and "maya" in listing.stdout
            shown = utta(db, "sessions", "show", "1", home=home)
            assert shown.returncode == 0
            assert QUESTION in shown.stdout and reply in shown.stdout
            exported = utta(db, "sessions", "export", "1", home=home)
            assert exported.returncode == 0 and reply in exported.stdout
            assert utta(db, "brains", "list", home=home).returncode == 0
            for command in WRITERS:
                assert_one_line_error(utta(db, *command, home=home), str(db), "read-only")
            assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
        finally:
            if not mounted:
                folder.chmod(0o755)
                for path in folder.iterdir():
                    path.chmod(0o644)


# --- full -------------------------------------------------------------------------------------


async def test_a_full_disk_fails_the_turn_loses_nothing_and_the_chat_goes_on(
    tmp_path: Path, maya: Persona
) -> None:
    folder = tmp_path / "disk"
    with tmpfs(folder, "2m") as mounted:
        db = folder / "utta.db"
        store = Store(db)
        brain = OfflineBrain(maya)
        recorder = SessionRecorder.start(store, "maya", "sam", brain.id)
        agent = StudentAgent(maya, brain, recorder=recorder)
        first = await agent.reply(QUESTION)
        with contextlib.ExitStack() as full:
            if mounted:
                filler = fill(folder)
                full.callback(filler.unlink)
            else:
                full.enter_context(no_growth(folder))
            with pytest.raises(StoreError) as caught:
                await agent.reply(FOLLOW_UP)
            assert "full" in caught.value.message and str(db) in caught.value.message
            assert isinstance(caught.value, sqlite3.OperationalError)  # old handlers catch it too
            if mounted:
                assert_one_line_error(
                    utta(db, *WRITERS[0], home=tmp_path / "home"), str(db), "full"
                )
            turns = [(t.role, t.text) for t in store.turns(recorder.session_id)]
            assert turns == [("teacher", QUESTION), ("student", first)]  # nothing half is logged
            assert len(agent.memory.window()) == 2

        second = await agent.reply(FOLLOW_UP)
        turns = [(t.role, t.text) for t in store.turns(recorder.session_id)]
        assert turns == [
            ("teacher", QUESTION), ("student", first), ("teacher", FOLLOW_UP), ("student", second)
        ]  # fmt: skip
        store.close()


# --- output -----------------------------------------------------------------------------------


def test_a_closed_pipe_ends_sessions_show_quietly(tmp_path: Path) -> None:
    """D5: `utta sessions show 1 | head` ended in a BrokenPipeError traceback."""
    db = tmp_path / "utta.db"
    with Store(db) as store:
        session = store.start_session("maya", "sam", "offline")
        for n in range(3000):
            store.add_turn(session, "teacher", f"line {n} " + "x" * 60)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "UTTA_HOME": str(tmp_path / "home")}
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--db", str(db), "sessions", "show", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"session 1:")
    process.stdout.close()  # what `head -1` does after its line
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert stderr == ""


def test_sessions_show_prints_no_terminal_escapes(tmp_path: Path) -> None:
    """A reply stored with escapes by an older utta is printed without them."""
    db = tmp_path / "utta.db"
    with Store(db) as store:
        session = store.start_session("maya", "sam", "offline")
        store.add_turn(session, "teacher", QUESTION)
        store.add_turn(session, "student", "\x1b[2J\x1b]0;owned\x07um 35?\x1b[0m", brain_id="x")
    result = utta(db, "sessions", "show", "1", home=tmp_path / "home")
    assert result.returncode == 0
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "student [x]: um 35?" in result.stdout
