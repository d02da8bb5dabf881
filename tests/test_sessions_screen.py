"""The session browser and the picker's resume line and scenario cards: the real Textual app,
driven by Pilot, on a real temporary SQLite database."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Select

from personas.loader import PersonaLibrary
from personas.scenarios import scenario_cards
from tests.test_chat_app import make_app, wait_until
from transcripts.sessions import find_sessions
from transcripts.store import Store
from tui.chat_screen import ChatScreen
from tui.debrief_screen import DebriefScreen
from tui.picker import PersonaPicker
from tui.sessions_screen import ConfirmScreen, SessionBrowser, SessionTable, TranscriptScreen
from tui.widgets import Bubble


def _seed(db: Path) -> dict[str, int]:
    with Store(db) as store:
        ids = {}
        for key, persona, teacher, student in [
            ("subtract", "maya", "What is 52 - 27?", "35"),
            ("blocks", "leo", "Let's build it with base-ten blocks", "ok 5 rods"),
            ("equals", "maya", "What goes in the blank?", "7"),
        ]:
            session_id = store.start_session(persona, "sam", "offline")
            store.add_turn(session_id, "teacher", teacher)
            store.add_turn(session_id, "student", student, brain_id="offline")
            store.end_session(session_id)
            ids[key] = session_id
    return ids


async def _browser(pilot: Pilot) -> SessionBrowser:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, PersonaPicker))
    await pilot.press("ctrl+o")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, SessionBrowser))
    browser = pilot.app.screen
    await wait_until(pilot, lambda: browser.loaded >= 1)
    return browser


def _listed(browser: SessionBrowser) -> list[int]:
    return [item.session.id for item in browser.listed]


async def _reload_after(pilot: Pilot, browser: SessionBrowser, change) -> None:
    """Make a change (a call, or keys to press) and wait for the list to show its result."""
    before = browser.loaded
    if isinstance(change, str):
        await pilot.press(change)
    else:
        change()
    await wait_until(pilot, lambda: browser.loaded > before and not browser.workers)


async def _select_row(pilot: Pilot, browser: SessionBrowser, session_id: int) -> None:
    table = browser.query_one(SessionTable)
    table.focus()
    table.move_cursor(row=_listed(browser).index(session_id))
    await pilot.pause()


async def test_browser_searches_filters_and_opens_a_transcript_to_copy_from(
    tmp_path: Path,
) -> None:
    db = tmp_path / "chat.db"
    ids = _seed(db)
    app = make_app(db)
    async with app.run_test(size=(140, 40)) as pilot:
        browser = await _browser(pilot)
        assert sorted(_listed(browser)) == sorted(ids.values())

        search = browser.query_one("#session-search", Input)
        await _reload_after(pilot, browser, lambda: setattr(search, "value", "block"))
        assert _listed(browser) == [ids["blocks"]]  # full-text, stemmed: "block" finds "blocks"
        await _reload_after(pilot, browser, lambda: setattr(search, "value", ""))

        persona = browser.query_one("#persona-filter", Select)
        await _reload_after(pilot, browser, lambda: setattr(persona, "value", "maya"))
        assert sorted(_listed(browser)) == sorted([ids["subtract"], ids["equals"]])

        await _select_row(pilot, browser, ids["subtract"])
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TranscriptScreen))
        bubbles = list(app.screen.query(Bubble))
        assert [b.text for b in bubbles] == ["What is 52 - 27?", "35"]
        bubbles[0].focus()
        await pilot.press("c")
        assert app.clipboard == "What is 52 - 27?"
        await pilot.press("b")  # the session's debrief, as the chat shows it on quitting
        await wait_until(pilot, lambda: isinstance(app.screen, DebriefScreen))
        assert app.screen.debrief.session_id == ids["subtract"]
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, TranscriptScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is browser)


async def test_browser_renames_excludes_exports_and_deletes_with_confirmation(
    tmp_path: Path, utta_home: Path
) -> None:
    db = tmp_path / "chat.db"
    ids = _seed(db)
    app = make_app(db)
    async with app.run_test(size=(140, 40)) as pilot:
        browser = await _browser(pilot)
        target = ids["subtract"]

        await _select_row(pilot, browser, target)
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen.query("#title"))
        app.screen.query_one("#title", Input).value = "Maya subtraction, first try"
        await _reload_after(pilot, browser, "enter")

        await _select_row(pilot, browser, target)
        await _reload_after(pilot, browser, "x")

        await _select_row(pilot, browser, target)
        await pilot.press("m")
        await wait_until(pilot, lambda: browser.last_export is not None)
        markdown = browser.last_export.read_text(encoding="utf-8")
        assert browser.last_export.is_relative_to(utta_home)
        assert markdown.startswith("# Maya subtraction, first try")
        assert "**Teacher:** What is 52 - 27?" in markdown and "kept out of training" in markdown

        with Store(db) as store:
            row = store.session(target)
            assert row.title == "Maya subtraction, first try" and row.excluded

        training = browser.query_one("#training-filter", Select)
        await _reload_after(pilot, browser, lambda: setattr(training, "value", True))
        assert _listed(browser) == [target]
        await _reload_after(pilot, browser, lambda: setattr(training, "value", Select.NULL))

        await _select_row(pilot, browser, ids["equals"])
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")  # the default answer keeps it
        await wait_until(pilot, lambda: app.screen is browser)
        await _select_row(pilot, browser, ids["equals"])
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await _reload_after(pilot, browser, lambda: app.screen.dismiss(True))
        assert ids["equals"] not in _listed(browser)
        with Store(db) as store:
            assert sorted(s.id for s in find_sessions(store)) == [ids["subtract"], ids["blocks"]]


async def test_browser_resumes_a_session_in_the_chat(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    ids = _seed(db)
    app = make_app(db)
    async with app.run_test(size=(140, 40)) as pilot:
        browser = await _browser(pilot)
        await _select_row(pilot, browser, ids["blocks"])
        await pilot.press("r")
        await wait_until(
            pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.practice is not None
        )
        assert app.practice.session_id == ids["blocks"]
        assert [b.text for b in app.screen.query(Bubble)][:2] == [
            "Let's build it with base-ten blocks",
            "ok 5 rods",
        ]

        await pilot.press("ctrl+o")  # from the chat: the open session cannot be deleted
        await wait_until(pilot, lambda: isinstance(app.screen, SessionBrowser))
        browser = app.screen
        await wait_until(pilot, lambda: browser.loaded >= 1)
        await _select_row(pilot, browser, ids["blocks"])
        await pilot.press("d")
        await pilot.pause()
        assert app.screen is browser
        with Store(db) as store:
            assert store.session(ids["blocks"]).turn_count == 2


async def _picker_on(pilot: Pilot, persona_id: str) -> PersonaPicker:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, PersonaPicker))
    picker = pilot.app.screen
    personas = picker.query_one("#personas", OptionList)
    personas.highlighted = [p.id for p in picker.personas].index(persona_id)
    await pilot.pause()
    return picker


def _extras(picker: PersonaPicker) -> list[str]:
    extras = picker.query_one("#picker-extras", OptionList)
    return [extras.get_option_at_index(i).id for i in range(extras.option_count)]


async def test_picker_offers_to_resume_the_last_session_with_that_persona(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    ids = _seed(db)
    app = make_app(db)
    async with app.run_test(size=(140, 50)) as pilot:
        picker = await _picker_on(pilot, "maya")
        await wait_until(pilot, lambda: f"resume:{ids['equals']}" in _extras(picker))
        extras = picker.query_one("#picker-extras", OptionList)
        assert "Resume your last session with Maya" in str(extras.get_option_at_index(0).prompt)
        extras.focus()
        extras.highlighted = 0
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.practice is not None
        )
        assert app.practice.session_id == ids["equals"]


async def test_picker_scenario_cards_put_an_opening_line_in_the_input(tmp_path: Path) -> None:
    maya = PersonaLibrary().get("maya")
    cards = scenario_cards(maya)
    assert [c.misconception_id for c in cards] == [m.id for m in maya.misconceptions]
    app = make_app(tmp_path / "chat.db")
    async with app.run_test(size=(140, 50)) as pilot:
        picker = await _picker_on(pilot, "maya")
        keys = _extras(picker)
        assert keys == [f"card:{c.misconception_id}" for c in cards]  # no session yet: no resume
        extras = picker.query_one("#picker-extras", OptionList)
        extras.focus()
        extras.highlighted = 1
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert app.screen.query_one("#teacher-input", Input).value == cards[1].opening_line
        assert "Maya" in app.title
