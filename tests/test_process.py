"""The real `utta` process: import hygiene, and a kill -9 in the middle of a session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from textual.widgets import Input

from tests.support.terminal import Terminal
from tests.test_chat_app import chat, make_app, send, wait_until
from transcripts.store import Store
from tui.widgets import Bubble

HEAVY = ["torch", "transformers", "peft", "vllm", "dspy"]
UTTA = str(Path(sys.executable).with_name("utta"))

CHAT_START = """
import asyncio, json, sys
from transcripts.store import Store
from tui.app import UttaApp

async def main():
    app = UttaApp(store=lambda: Store(sys.argv[1]), trainee="t", persona_id="maya")
    async with app.run_test() as pilot:
        for _ in range(500):
            if app.chat is not None and app.chat.practice is not None:
                break
            await pilot.pause(0.02)
        assert app.chat.practice is not None, "chat never became ready"
asyncio.run(main())
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""

HELP = """
import json, sys
from tui.cli import main
try:
    main(["--help"])
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def _modules_after(script: str, *args: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_help_imports_no_heavy_library() -> None:
    modules = _modules_after(HELP)
    assert "tui" in modules
    assert not modules & set(HEAVY), modules & set(HEAVY)


def test_chat_on_the_default_brain_imports_no_heavy_library(tmp_path: Path) -> None:
    modules = _modules_after(CHAT_START, str(tmp_path / "t.db"))
    assert {"textual", "agent", "sqlite_utils"} <= modules  # the chat really started
    assert not modules & set(HEAVY), modules & set(HEAVY)


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "UTTA_HOME": str(home), "TERM": "xterm-256color"}


def _student_turns(db: Path) -> list[str]:
    if not db.exists():
        return []
    store = Store(db)
    sessions = store.sessions()
    return [t.text for t in store.turns(sessions[0].id) if t.role == "student"] if sessions else []


async def test_kill_9_after_a_reply_loses_nothing_and_resume_continues(utta_home: Path) -> None:
    db = utta_home / "utta.db"
    terminal = Terminal([UTTA, "chat", "--persona", "maya", "--trainee", "kim"], _env(utta_home))
    try:
        terminal.wait_for("example-based", timeout=60)
        shown: list[str] = []
        for count, message in enumerate(["What is 52 - 27?", "Let's get out the blocks."], 1):
            terminal.send(message + "\r")
            deadline = time.monotonic() + 30
            while len(_student_turns(db)) < count and time.monotonic() < deadline:
                time.sleep(0.05)
            reply = _student_turns(db)[-1]
            terminal.wait_for(reply, timeout=30)  # the reply is on the screen
            shown.append(reply)
    finally:
        terminal.kill()  # SIGKILL: no cleanup handlers run

    store = Store(db)
    [session] = store.sessions()
    assert session.ended_at is None  # the process really died mid-session
    turns = store.turns(session.id)
    assert [t.text for t in turns] == [
        "What is 52 - 27?",
        shown[0],
        "Let's get out the blocks.",
        shown[1],
    ]
    saved_state = store.latest_state(session.id)
    assert saved_state["turns"] == 2 and saved_state["active"] == "smaller-from-larger"

    async with make_app(db, resume=session.id).run_test(size=(120, 40)) as pilot:
        screen = chat(pilot.app)
        await wait_until(pilot, lambda: screen.practice is not None)
        agent = screen.practice.agent
        assert [m.content for m in agent.memory.messages] == [t.text for t in turns]
        assert agent.state.to_dict() == saved_state
        assert [b.text for b in screen.query(Bubble)] == [t.text for t in turns]
        await send(pilot, "Now take 27 away.")
    turns_after = store.turns(session.id)
    assert len(turns_after) == 6 and turns_after[4].text == "Now take 27 away."
    assert store.latest_state(session.id)["turns"] == 3


async def test_resume_offers_back_a_message_that_never_got_its_reply(tmp_path: Path) -> None:
    """D7: the unanswered message stays logged until it is re-sent; quitting first loses nothing
    and a session whose only turn is that message still exists."""
    db = tmp_path / "t.db"
    store = Store(db)
    session_id = store.start_session("maya", "kim", "offline")
    store.add_turn(session_id, "teacher", "What is 52 - 27?")  # then the process died
    for _ in range(2):  # resume, quit without sending; twice
        async with make_app(db, resume=session_id).run_test() as pilot:
            screen = chat(pilot.app)
            await wait_until(pilot, lambda s=screen: s.practice is not None)
            assert screen.query_one("#teacher-input", Input).value == "What is 52 - 27?"
            assert not [b for b in screen.query(Bubble) if b.role == "teacher"]  # not as sent
            await pilot.press("ctrl+q")
        assert [t.text for t in store.turns(session_id)] == ["What is 52 - 27?"]
    async with make_app(db, resume=session_id).run_test() as pilot:
        screen = chat(pilot.app)
        await wait_until(pilot, lambda: screen.practice is not None)
        await pilot.press("enter")  # re-sent as it was
        await wait_until(pilot, lambda: len(store.turns(session_id)) == 2 and not screen.replying)
    assert [t.role for t in store.turns(session_id)] == ["teacher", "student"]
    assert store.turns(session_id)[0].text == "What is 52 - 27?"
