"""The real Textual chat app, driven by Pilot, on a real temporary SQLite database."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from agent.brain import Brain, BrainError, BrainRequest
from agent.brains.offline import OfflineBrain
from agent.student import StudentAgent
from personas.loader import PersonaLibrary
from transcripts.store import Store
from tui.app import UttaApp
from tui.chat_screen import ChatScreen
from tui.screens import FeedbackScreen
from tui.widgets import Bubble


async def wait_until(pilot: Pilot, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll instead of sleeping a fixed time: UI work and workers finish when they finish."""
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition not reached in time")


def make_app(db: Path, **kwargs) -> UttaApp:
    return UttaApp(store=lambda: Store(db), trainee="sam", **kwargs)


def chat(app: UttaApp) -> ChatScreen:
    assert isinstance(app.screen, ChatScreen), app.screen
    return app.screen


async def send(pilot: Pilot, text: str) -> str:
    """Type a teacher message, press Enter, return the student's finished reply."""
    screen = chat(pilot.app)
    await wait_until(pilot, lambda: screen.practice is not None)
    before = len(screen.query(Bubble))
    screen.query_one("#teacher-input", Input).value = text
    await pilot.press("enter")
    await wait_until(
        pilot,
        lambda: (
            len(screen.query(Bubble)) == before + 2
            and not screen.replying
            and screen.query(Bubble).last().turn_id is not None
        ),
    )
    return screen.query(Bubble).last().text


async def test_pick_teach_rate_quit_logs_six_turns_and_the_rating(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        picker = app.screen.query_one(OptionList)
        ids = [picker.get_option_at_index(i).id for i in range(picker.option_count)]
        picker.highlighted = ids.index("maya")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert "Maya" in app.title
        replies = [
            await send(pilot, message)
            for message in ["What is 52 - 27?", "How did you get that?", "Do you like horses?"]
        ]
        first, why, horses = replies
        assert re.match(r"\D*35\b", first), first  # 52 - 27 by smaller-from-larger
        assert "7 take away 2" in why, why  # explains its own rule when asked
        # a yes to a yes/no question, about her own horses (composed from her interests)
        assert re.match(r"yes\b", horses) and re.search(r"horse|pony|pepper", horses), horses
        assert "example-based" in app.sub_title

        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: isinstance(app.screen, FeedbackScreen))
        await pilot.click("#rating-2")
        app.screen.query_one("#rewrite", Input).value = "i like ponys"
        await pilot.click("#save")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await pilot.press("ctrl+q")

    store = Store(db)
    [session] = store.sessions()
    assert session.persona_id == "maya" and session.trainee == "sam"
    assert session.ended_at is not None
    turns = store.turns(session.id)
    assert [t.role for t in turns] == ["teacher", "student"] * 3
    assert [t.idx for t in turns] == list(range(6))
    assert [t.text for t in turns if t.role == "student"] == replies
    for turn in turns:
        if turn.role == "student":
            assert turn.brain_id == "offline"
            assert turn.latency_ms is not None and turn.latency_ms >= 0
    [feedback] = store.feedback(session.id)
    assert feedback.turn_id == turns[-1].id
    assert feedback.rating == 2 and feedback.rewrite == "i like ponys"


async def test_feedback_on_an_earlier_focused_reply(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    async with make_app(db, persona_id="maya").run_test(size=(120, 40)) as pilot:
        await send(pilot, "What is 52 - 27?")
        await send(pilot, "Do you like horses?")
        first_student = next(b for b in chat(pilot.app).query(Bubble) if b.role == "student")
        first_student.focus()
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, FeedbackScreen))
        await pilot.click("#flagged")
        await pilot.click("#save")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ChatScreen))
        assert "flagged" in str(first_student.border_subtitle)
    store = Store(db)
    [feedback] = store.feedback(store.sessions()[0].id)
    assert feedback.turn_id == first_student.turn_id and feedback.flagged


async def test_opening_and_quitting_without_a_message_logs_no_session(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    async with make_app(db, persona_id="leo").run_test() as pilot:
        await wait_until(pilot, lambda: chat(pilot.app).practice is not None)
        await pilot.press("ctrl+q")
    assert Store(db).sessions() == []


async def test_help_screen_lists_binding_ids(tmp_path: Path) -> None:
    async with make_app(tmp_path / "chat.db", persona_id="maya").run_test() as pilot:
        await pilot.press("f1")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen")
        text = str(pilot.app.screen.query_one("Static").render())
        assert "chat.feedback" in text and "chat.cancel" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ChatScreen))


@pytest.mark.parametrize("persona_id", ["maya", "leo", "ava"])
async def test_every_shipped_persona_opens_and_answers(tmp_path: Path, persona_id: str) -> None:
    """Each persona's chat answers as that persona: the reply is the one its own offline brain
    gives to the same first message, and the session is logged under its id."""
    persona = PersonaLibrary().get(persona_id)
    message = persona.examples[0].teacher
    expected = await StudentAgent(persona, OfflineBrain(persona)).reply(message)
    async with make_app(tmp_path / "chat.db", persona_id=persona_id).run_test() as pilot:
        assert persona.name in pilot.app.title
        assert await send(pilot, message) == expected
    with Store(tmp_path / "chat.db") as store:
        (session,) = store.sessions()
        assert session.persona_id == persona_id
        assert [t.text for t in store.turns(session.id)] == [message, expected]


class SlowBrain(Brain):
    """A brain of our own interface that streams its first chunk and then never finishes (a
    server that hangs), or fails after that chunk. Only the chat can end a reply that hangs, so
    what the tests see follows from the order of events, not from how long anything took."""

    def __init__(self, *, fail: bool = False) -> None:
        super().__init__(id="slow", name="slow", description="streams one chunk, then hangs")
        self.fail = fail

    async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        yield "um "
        if self.fail:
            raise BrainError("the model server hung up", fix="swap to the offline brain")
        await asyncio.Event().wait()  # never set: the rest of the reply never comes
        yield "35"


async def _open_with(pilot: Pilot, brain: Brain) -> ChatScreen:
    screen = chat(pilot.app)
    await wait_until(pilot, lambda: screen.practice is not None)
    screen.practice.agent.brain = brain  # as if it had been chosen at start
    return screen


async def test_escape_stops_a_reply_restores_the_message_and_logs_nothing(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    async with make_app(db, persona_id="maya").run_test(size=(120, 40)) as pilot:
        screen = await _open_with(pilot, SlowBrain())
        teacher_input = screen.query_one("#teacher-input", Input)
        teacher_input.value = "What is 52 - 27?"
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(b.text.startswith("um") for b in screen.query(Bubble)))
        assert teacher_input.value == ""
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.replying and not screen.query(Bubble))
        assert teacher_input.value == "What is 52 - 27?"
        assert len(screen.practice.agent.memory) == 0
        assert Store(db).turns(screen.practice.session_id) == []
        await pilot.press("ctrl+q")
    assert Store(db).sessions() == []  # a session with no exchange is not kept


async def test_a_failing_brain_shows_the_error_and_keeps_the_chat_usable(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    async with make_app(db, persona_id="maya").run_test(size=(120, 40)) as pilot:
        screen = await _open_with(pilot, SlowBrain(fail=True))
        shown: list[str] = []
        notify = screen.notify
        screen.notify = lambda message, **kw: (shown.append(message), notify(message, **kw))[1]
        screen.query_one("#teacher-input", Input).value = "What is 52 - 27?"
        await pilot.press("enter")
        await wait_until(pilot, lambda: not screen.replying and not screen.query(Bubble))
        assert any("hung up" in m and "swap to the offline brain" in m for m in shown)
        assert screen.query_one("#teacher-input", Input).value == "What is 52 - 27?"
        session_id = screen.practice.session_id
        screen.practice.agent.brain = OfflineBrain(screen.practice.agent.persona)
        assert await send(pilot, "What is 52 - 27?")  # the same chat goes on
    assert [t.role for t in Store(db).turns(session_id)] == ["teacher", "student"]


async def test_resume_with_a_brain_that_cannot_be_built_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    store = Store(db)
    session_id = store.start_session("maya", "kim", "offline")
    store.add_turn(session_id, "teacher", "What is 52 - 27?")  # then the process died
    async with make_app(db, resume=session_id, brain="maya-typo").run_test() as pilot:
        screen = chat(pilot.app)
        await wait_until(pilot, lambda: screen.load_error is not None)
        assert "maya-typo" in str(screen.load_error)
        shown: list[str] = []
        notify = screen.notify
        screen.notify = lambda message, **kw: (shown.append(message), notify(message, **kw))[1]
        screen.query_one("#teacher-input", Input).value = "hello?"
        await pilot.press("enter")
        assert any("maya-typo" in message for message in shown)  # the reason, not "wait"
    assert [t.text for t in store.turns(session_id)] == ["What is 52 - 27?"]


async def test_a_swap_that_breaks_unexpectedly_is_refused_and_recorded(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    Store(db).save_brain("odd", "openai", {"model": "m", "max_tokens": "lots"}, "maya")
    async with make_app(db, persona_id="maya").run_test(size=(120, 40)) as pilot:
        await send(pilot, "What is 52 - 27?")
        screen = chat(pilot.app)
        screen._swap_to("odd")
        await wait_until(
            pilot,
            lambda: any("refused" in b.text for b in screen.query(Bubble) if b.role == "system"),
        )
        assert screen.practice.agent.brain.id == "offline"
        assert await send(pilot, "How did you get that?")
        session_id = screen.practice.session_id
    [swap] = Store(db).swaps(session_id)
    assert (swap.to_brain, swap.accepted) == ("odd", False) and "lots" in swap.reason


async def test_a_user_keymap_rebinds_a_key_by_its_id(tmp_path: Path, utta_home: Path) -> None:
    # ctrl+r opens the debrief; a user may move feedback to any free key
    (utta_home / "keymap.json").write_text('{"chat.feedback": "ctrl+y"}')
    async with make_app(tmp_path / "chat.db", persona_id="maya").run_test() as pilot:
        await send(pilot, "What is 52 - 27?")
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, FeedbackScreen))
