"""Real `utta` processes in pseudo-terminals, killed or crowded on purpose.

- ``kill -9`` of a chat while a reply is streaming from a server (the FAKE OpenAI-compatible
  server of :mod:`tests.faults.fake_openai`, because OpenAI is a paid cloud API): the teacher's
  message survives, nothing of the half reply is logged, and the resumed chat offers the message
  back so that Enter alone sends it.
- Two chats and an exporter, three processes on one database: every exchange of both chats is
  logged whole and in order, and every export taken while they write is valid and holds only
  finished replies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.faults.fake_openai import MODEL, FaultyServer
from tests.support.terminal import Terminal
from transcripts.store import Store

ROOT = Path(__file__).resolve().parents[2]
UTTA = [sys.executable, "-m", "tui.cli"]


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "UTTA_HOME": str(home), "TERM": "xterm-256color"}


def _turns(db: Path, session_id: int | None = None) -> list[tuple[str, str]]:
    if not db.exists():
        return []
    with Store(db, readonly=True) as store:
        sessions = [s.id for s in store.sessions()] if session_id is None else [session_id]
        return [(t.role, t.text) for sid in sessions for t in store.turns(sid)]


def _until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll for a state another process brings about (not evidence by itself: the asserts are)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def test_kill_9_mid_stream_keeps_the_message_logs_no_half_reply_and_resume_sends_it(
    utta_home: Path,
) -> None:
    db = utta_home / "utta.db"
    question = "What is 52 - 27?"
    with FaultyServer() as server:
        subprocess.run(
            [*UTTA, "brains", "add", "faulty", "--kind", "openai", "--persona", "maya",
             "-o", f"model={MODEL}", "-o", f"base_url={server.base_url}"],
            env=_env(utta_home), check=True, capture_output=True,
        )  # fmt: skip
        server.behaviour = "stall"  # "um i thin", then silence: the reply is mid-stream
        chat = Terminal([*UTTA, "chat", "--persona", "maya", "--brain", "faulty"], _env(utta_home))
        try:
            chat.wait_for("faulty", timeout=60)
            chat.send(question + "\r")
            chat.wait_for("um i thin", timeout=60)  # the half reply is on the screen
            _until(lambda: _turns(db) == [("teacher", question)], "teacher message committed")
        finally:
            chat.kill()  # SIGKILL in the middle of the stream: no cleanup runs

        assert _turns(db) == [("teacher", question)]  # the message survived, no half reply
        with Store(db, readonly=True) as store:
            [session] = store.sessions()

        server.behaviour = "ok"
        resumed = Terminal([*UTTA, "chat", "--resume", str(session.id)], _env(utta_home))
        try:
            resumed.wait_for("faulty", timeout=60)
            resumed.wait_for(question, timeout=30)
            resumed.send("\r")  # Enter alone: the message was offered back in the input
            _until(lambda: len(_turns(db)) == 2, "the resent message answered")
        finally:
            resumed.kill()
    assert _turns(db) == [("teacher", question), ("student", server.full_reply.strip())]


def test_two_chats_and_an_exporter_share_one_database(utta_home: Path) -> None:
    db = utta_home / "utta.db"
    lessons = {
        "kim": ["What is 52 - 27?", "Let's use the blocks.", "How many tens are in 52?"],
        "lee": ["Can you count back from 52?", "What is 40 - 10?", "Show me with tens."],
    }
    chats = {
        name: Terminal(
            [*UTTA, "chat", "--persona", "maya", "--trainee", name], _env(utta_home), columns=100
        )
        for name in lessons
    }
    exports: list[str] = []
    try:
        for chat in chats.values():
            chat.wait_for("example-based", timeout=90)
        for step in range(3):
            for name, chat in chats.items():
                chat.send(lessons[name][step] + "\r")
            exporter = subprocess.run(
                [*UTTA, "sessions", "export", "--persona", "maya"],
                env=_env(utta_home), capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert exporter.returncode == 0, exporter.stderr
            exports.append(exporter.stdout)
            _until(
                lambda step=step: (
                    sum(role == "student" for role, _ in _turns(db)) == 2 * (step + 1)
                ),
                f"both chats answered message {step + 1}",
            )
    finally:
        for chat in chats.values():
            chat.kill()

    with Store(db, readonly=True) as store:
        sessions = {s.trainee: s.id for s in store.sessions()}
        final = {name: _turns(db, sessions[name]) for name in lessons}
    for name, messages in lessons.items():
        assert [text for role, text in final[name] if role == "teacher"] == messages
        assert [role for role, _ in final[name]] == ["teacher", "student"] * 3
    students = {text for turns in final.values() for role, text in turns if role == "student"}
    for export in exports:
        for line in export.splitlines():
            record = json.loads(line)  # every line whole
            for turn in record["turns"]:
                if turn["role"] == "student":
                    assert turn["text"] in students  # only finished replies, as finally logged
