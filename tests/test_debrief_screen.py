"""The debrief in the real Textual app (Pilot), on a real SQLite store and the offline brain."""

from __future__ import annotations

from pathlib import Path

from tests.test_chat_app import chat, make_app, send, wait_until
from transcripts.store import Store
from tui.chat_screen import ChatScreen
from tui.debrief_screen import DebriefScreen, Section
from tui.state_panel import StatePanel

LESSON = [
    "What is 52 - 27?",
    "You have to borrow from the tens. The answer is 25.",
    "Are you sure?",
    "Let's use base-ten blocks: show 52 with ten-sticks and single cubes.",
    "How did you get that?",
]


def section(screen: DebriefScreen, name: str) -> str:
    return screen.query_one(f"#debrief-{name}", Section).source


async def test_quitting_a_session_ends_in_its_debrief(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    app = make_app(db, persona_id="maya")
    async with app.run_test(size=(120, 50)) as pilot:
        replies = [await send(pilot, line) for line in LESSON]
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, DebriefScreen))
        screen = app.screen
        assert screen.quitting
        timeline = section(screen, "timeline")
        assert "### smaller-from-larger" in timeline
        assert "first showed" in timeline and "**turn 1**" in timeline
        # telling the procedure is a move the persona says does not dislodge the belief
        assert "**turn 2** ✘ did not count" in timeline
        assert "**turn 4** ✔ counted" in timeline
        talk = section(screen, "talk")
        assert "your share of the words" in talk and "questions" in talk
        assert "telling the answer or the rule" in talk
        suggestions = section(screen, "suggestions")
        assert "At turn 2 you told Maya" in suggestions
        assert "You have to borrow from the tens." in suggestions
        assert f"Maya said “{replies[1]}”" in suggestions
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.is_running)
    [session] = Store(db).sessions()
    assert session.ended_at is not None


async def test_ctrl_r_opens_the_debrief_mid_session_and_escape_returns(tmp_path: Path) -> None:
    app = make_app(tmp_path / "chat.db", persona_id="maya")
    async with app.run_test(size=(120, 50)) as pilot:
        await send(pilot, LESSON[0])
        await send(pilot, LESSON[1])
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, DebriefScreen))
        assert not app.screen.quitting
        assert "2 turns" in section(app.screen, "heading")
        assert "**turn 2** ✘ did not count" in section(app.screen, "timeline")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await send(pilot, LESSON[3])  # the chat goes on
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, DebriefScreen))
        assert "3 turns" in section(app.screen, "heading")


async def test_ctrl_r_before_the_first_message_says_there_is_nothing_yet(tmp_path: Path) -> None:
    app = make_app(tmp_path / "chat.db", persona_id="maya")
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: chat(app).practice is not None)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, ChatScreen)
        assert any("Nothing to debrief" in str(n.message) for n in app._notifications)


async def test_the_state_panel_is_off_by_default_and_toggles(tmp_path: Path) -> None:
    app = make_app(tmp_path / "chat.db", persona_id="maya")
    async with app.run_test(size=(120, 50)) as pilot:
        await send(pilot, LESSON[0])
        panel = chat(app).query_one(StatePanel)
        assert not panel.display
        await pilot.press("ctrl+t")
        assert panel.display
        assert "Maya's state" in panel.text and "● held" in panel.text
        assert "smaller-from-larger" in panel.text and "counted 0/3" in panel.text
        await send(pilot, LESSON[3])  # an effective move: the live panel follows the state
        assert "counted 1/3" in panel.text
        await pilot.press("ctrl+t")
        assert not panel.display


async def test_a_resumed_session_s_debrief_covers_all_of_it(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    async with make_app(db, persona_id="maya").run_test(size=(120, 50)) as pilot:
        for line in LESSON[:3]:
            await send(pilot, line)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, DebriefScreen))
    [session] = Store(db).sessions()
    app = make_app(db, resume=session.id)
    async with app.run_test(size=(120, 50)) as pilot:
        await send(pilot, LESSON[3])
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, DebriefScreen))
        assert "4 turns" in section(app.screen, "heading")
        timeline = section(app.screen, "timeline")
        assert "**turn 2** ✘ did not count" in timeline and "**turn 4** ✔ counted" in timeline


def test_the_panel_shows_the_child_model_s_answer_and_last_move() -> None:
    """State fields of the child model that records them (CONTRACTS.md §3)."""
    from personas.loader import PersonaLibrary
    from tui.state_panel import describe_state

    state = {
        "misconceptions": {"smaller-from-larger": {"held": False, "effective_moves": 3}},
        "mood": "happy",
        "active": "smaller-from-larger",
        "answer": {"value": "25", "correct_value": "25", "why": "counted up from 27"},
        "last_move": {"kind": "counting_strategy", "counted": True, "why": "counts up"},
    }
    text = describe_state(PersonaLibrary().get("maya"), state)
    assert "○ resolved[/green] smaller-from-larger" in text and "counted 3/3" in text
    assert "would answer: 25" in text and "counted up from 27" in text
    assert "last move: counting_strategy, counted" in text
    state["answer"] = {"value": None}
    assert "would answer: does not know" in describe_state(PersonaLibrary().get("maya"), state)
