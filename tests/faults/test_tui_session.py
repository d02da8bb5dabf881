"""D6, outages and help: the chat keeps what the trainee typed and says whose fault a failure is.

The real chat app (Pilot) on real SQLite files; a slow database is a second real connection
holding the write lock, a full one is SQLite's own page limit (it fails with SQLITE_FULL, "database
or disk is full", exactly as a full disk does); the failing server is a real local HTTP server.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from tests.support.tui_fault_server import WriteLock, fault_server
from tests.test_chat_app import SlowBrain, chat, make_app, send, wait_until
from transcripts.store import Store
from tui.screens import FeedbackScreen, HelpScreen
from tui.widgets import Bubble

UTTA = str(Path(sys.executable).with_name("utta"))


def teacher_input(pilot: Pilot) -> Input:
    return chat(pilot.app).query_one("#teacher-input", Input)


def toast_texts(pilot: Pilot) -> list[str]:
    return [toast.render().plain for toast in pilot.app.screen.query("Toast")]


async def test_text_typed_during_a_slow_store_write_is_kept(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    Store(db).close()  # the file exists, so the lock below can be taken on it
    async with make_app(db, persona_id="maya").run_test(size=(120, 40)) as pilot:
        screen = chat(pilot.app)
        await wait_until(pilot, lambda: screen.practice is not None)
        with WriteLock(db):  # the session's first write now waits for the lock
            teacher_input(pilot).value = "What is 52 - 27?"
            await pilot.press("enter")
            await pilot.press(*"next one")  # typed while the write waits
            assert teacher_input(pilot).value == "next one"
            assert screen.practice.session_id is None  # the write really is still waiting
        await wait_until(pilot, lambda: not screen.replying and screen.agent.last_turn is not None)
        assert teacher_input(pilot).value == "next one"  # sending did not clear it later
        session_id = screen.practice.session_id
    assert [t.role for t in Store(db).turns(session_id)] == ["teacher", "student"]


async def test_after_rating_an_earlier_reply_the_next_message_is_typed_into_the_input(
    tmp_path: Path,
) -> None:
    db = tmp_path / "chat.db"
    async with make_app(db, persona_id="maya").run_test(size=(120, 40)) as pilot:
        await send(pilot, "What is 52 - 27?")
        await send(pilot, "Do you like horses?")
        screen = chat(pilot.app)
        next(b for b in screen.query(Bubble) if b.role == "student").focus()
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, FeedbackScreen))
        await pilot.click("#rating-4")
        await pilot.click("#save")
        await wait_until(pilot, lambda: pilot.app.screen is screen)
        assert screen.focused is teacher_input(pilot)
        await pilot.press(*"How did you get that?", "enter")
        await wait_until(pilot, lambda: len([b for b in screen.query(Bubble) if b.turn_id]) == 3)
        session_id = screen.practice.session_id
    store = Store(db)
    assert [t.text for t in store.turns(session_id) if t.role == "teacher"][-1] == (
        "How did you get that?"
    )
    assert [f.rating for f in store.feedback(session_id)] == [4]


async def test_a_failed_reply_puts_the_message_back_with_the_cursor_at_the_end(
    tmp_path: Path,
) -> None:
    db = tmp_path / "chat.db"
    with fault_server() as server:
        server.serve_models("tiny")
        server.pass_size_check()  # healthy at start; the reply itself fails
        server.fail_chat(400, "max_tokens is too large")
        server.save_brain(Store(db), "remote", "tiny", "maya")
        app = make_app(db, persona_id="maya", brain="remote")
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            screen = chat(pilot.app)
            await wait_until(pilot, lambda: screen.practice is not None)
            teacher_input(pilot).value = "What is 52 - 27?"
            await pilot.press("enter")
            await wait_until(pilot, lambda: teacher_input(pilot).value == "What is 52 - 27?")
            assert teacher_input(pilot).cursor_position == len("What is 52 - 27?")
            await pilot.press(*" Use blocks.")  # typing carries on at the end
            assert teacher_input(pilot).value == "What is 52 - 27? Use blocks."
            assert any("remote" in t and "too large" in t for t in toast_texts(pilot))


async def test_a_full_database_is_reported_as_a_storage_problem_not_the_brain(
    tmp_path: Path,
) -> None:
    db = tmp_path / "chat.db"
    async with make_app(db, persona_id="maya").run_test(
        size=(120, 40), notifications=True
    ) as pilot:
        await send(pilot, "What is 52 - 27?")
        screen = chat(pilot.app)
        store = screen.practice.store
        (pages,) = store.db.execute("pragma page_count").fetchone()
        store.db.execute(f"pragma max_page_count = {pages}")  # the disk is now full
        long_message = "Let's count on from 27. " * 800
        teacher_input(pilot).value = long_message
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("full" in t for t in toast_texts(pilot)))
        [shown] = [t for t in toast_texts(pilot) if "full" in t]
        assert "Storage problem" in shown and "disk" in shown
        assert "offline failed" not in shown and "failed" not in shown.split("\n")[0]
        assert teacher_input(pilot).value == long_message.strip()  # nothing typed is lost
        session_id = screen.practice.session_id
    assert len(Store(db).turns(session_id)) == 2  # nothing half logged


async def test_quitting_while_a_reply_is_pending_leaves_no_empty_session(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    async with make_app(db, persona_id="maya").run_test(size=(120, 40)) as pilot:
        screen = chat(pilot.app)
        await wait_until(pilot, lambda: screen.practice is not None)
        screen.practice.agent.brain = SlowBrain()
        teacher_input(pilot).value = "What is 52 - 27?"
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(b.text.startswith("um") for b in screen.query(Bubble)))
        await pilot.press("ctrl+q")
    store = Store(db)
    [session] = store.sessions()
    # Kept for resume, as a crash would keep it: the session is not empty, and it is ended.
    assert [t.text for t in store.turns(session.id)] == ["What is 52 - 27?"]
    assert session.ended_at is not None


async def test_help_scrolls_at_80_by_24(tmp_path: Path) -> None:
    async with make_app(tmp_path / "chat.db", persona_id="maya").run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: chat(pilot.app).practice is not None)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        help_screen = pilot.app.screen
        scroll = help_screen.query_one("#help-scroll")
        await pilot.pause()
        assert scroll.max_scroll_y > 0  # more text than fits, so it scrolls
        dialog = help_screen.query_one("#help-dialog")
        assert pilot.app.screen.region.contains_region(dialog.region)  # not cut off
        scroll.scroll_end(animate=False)
        await wait_until(pilot, lambda: scroll.scroll_y == scroll.max_scroll_y)
        text = help_screen.query_one("#help-text")
        lines = [strip.text.rstrip() for strip in text.render_lines(text.region.reset_offset)]
        assert any("chat.quit" in line for line in lines)  # the last row can be reached
        # No orphan words: a paragraph line is wrapped to the width, never hard-broken early.
        # No orphan words: a line of one or two words inside a paragraph means the text was
        # hard-broken wider than the dialog (a paragraph's short last line is followed by a gap).
        for before, line, after in zip(lines, lines[1:], lines[2:], strict=False):
            assert not (before.strip() and after.strip() and 0 < len(line.split()) <= 2), line
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is chat(pilot.app))
        assert pilot.app.screen.focused is teacher_input(pilot)


def run_in_terminal(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run ``argv`` with a pseudo-terminal as stdin/stdout/stderr; its exit status and output.
    A chat that opened would not exit by itself, so the wait's timeout fails the test."""
    master, slave = pty.openpty()
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    try:
        status = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    chunks = []
    while select.select([master], [], [], 0.5)[0]:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other end is closed and drained
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return status, b"".join(chunks).decode("utf-8", "replace")


def test_an_unknown_brain_fails_on_the_command_line_before_the_chat_opens(utta_home: Path) -> None:
    """A real `utta chat` in a pseudo-terminal: one line with the problem and the fix, exit 1,
    and the full-screen app never starts (it would switch to the alternate screen)."""
    env = {**os.environ, "UTTA_HOME": str(utta_home), "TERM": "xterm-256color"}
    for name in ["nosuch", "[/]oops"]:
        status, output = run_in_terminal([UTTA, "chat", "--persona", "maya", "--brain", name], env)
        assert status == 1, output
        assert f"there is no saved brain named {name!r}" in output
        assert "utta brains list" in output
        assert "Traceback" not in output
        assert "\x1b[?1049h" not in output  # no alternate screen: the TUI never opened


async def test_ctrl_g_discards_a_resumed_unanswered_message(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    store = Store(db)
    session_id = store.start_session("maya", "kim", "offline")
    store.add_turn(session_id, "teacher", "What is 52 - 27?")
    store.add_turn(session_id, "student", "35")
    store.add_turn(session_id, "teacher", "Use the blocks.")  # then the process died
    async with make_app(db, resume=session_id).run_test(size=(120, 40)) as pilot:
        screen = chat(pilot.app)
        await wait_until(pilot, lambda: screen.practice is not None)
        assert teacher_input(pilot).value == "Use the blocks."
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: len(store.turns(session_id)) == 2)
        await wait_until(pilot, lambda: teacher_input(pilot).value == "")
        assert await send(pilot, "Count on from 27.")
    assert [t.role for t in store.turns(session_id)] == ["teacher", "student"] * 2
