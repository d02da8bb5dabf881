"""D1/D2: text from outside (server errors, model names, brain names) is shown as text.

The real chat app (Pilot) on a real SQLite file; the server is a real local HTTP server
(tests/support/tui_fault_server.py) that a vllm brain talks to through its real SDK client.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from tests.plugins.models import free_port
from tests.support.tui_fault_server import fault_server
from tests.test_chat_app import chat, make_app, send, wait_until
from transcripts.store import Store
from tui.brain_picker import BrainPicker
from tui.widgets import BrainLine, Bubble

CLICK_QUIT = "[@click=app.quit]CLICKME[/]"


def toasts(pilot: Pilot) -> list:
    return list(pilot.app.screen.query("Toast"))


def toast_texts(pilot: Pilot) -> list[str]:
    """What each notification shows, as rendered (markup would have lost its brackets)."""
    return [toast.render().plain for toast in toasts(pilot)]


async def pick_brain(pilot: Pilot, name: str) -> None:
    await pilot.press("ctrl+b")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, BrainPicker))
    options = pilot.app.screen.query_one(OptionList)
    ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
    options.highlighted = ids.index(name)
    await pilot.press("enter")


async def test_markup_in_a_server_error_body_is_shown_as_text(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    with fault_server() as server:
        server.serve_models("tiny")
        server.pass_size_check()  # healthy at start; the reply itself fails
        server.fail_chat(400, "bad request [/] near [b]token[/b]")
        server.save_brain(Store(db), "remote", "tiny", "maya")
        async with make_app(db, persona_id="maya", brain="remote").run_test(
            size=(120, 40), notifications=True
        ) as pilot:
            screen = chat(pilot.app)
            await wait_until(pilot, lambda: screen.practice is not None)
            screen.query_one("#teacher-input", Input).value = "What is 52 - 27?"
            await pilot.press("enter")
            await wait_until(pilot, lambda: any("[/]" in t for t in toast_texts(pilot)))
            [shown] = [t for t in toast_texts(pilot) if "[/]" in t]
            assert "bad request [/] near [b]token[/b]" in shown
            assert (
                screen.query_one("#teacher-input", Input).value == "What is 52 - 27?"
            )  # the chat goes on
            session_id = screen.practice.session_id
    assert Store(db).turns(session_id) == []  # nothing half logged


async def test_a_model_name_with_a_click_action_is_plain_text_and_clicking_it_does_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "chat.db"
    with fault_server() as server:
        server.serve_models(CLICK_QUIT)
        store = Store(db)
        # An adapter the server does not serve, with nowhere to load it from: refused, and the
        # refusal quotes the server's model list.
        store.save_brain("adapter-x", "vllm", {"base_url": server.base_url, "adapter": "x"}, "maya")
        async with make_app(db, persona_id="maya").run_test(
            size=(120, 40), notifications=True
        ) as pilot:
            await send(pilot, "What is 52 - 27?")
            await pick_brain(pilot, "adapter-x")
            await wait_until(pilot, lambda: any(CLICK_QUIT in t for t in toast_texts(pilot)))
            notes = [b.text for b in chat(pilot.app).query(Bubble) if b.role == "system"]
            assert any(CLICK_QUIT in note for note in notes)
            [toast] = [t for t in toasts(pilot) if CLICK_QUIT in t.render().plain]
            await pilot.click(toast, offset=(toast.region.width // 2, toast.region.height - 2))
            assert pilot.app.is_running
            assert await send(pilot, "How did you get that?")  # still chatting, on offline
            assert chat(pilot.app).agent.brain.id == "offline"


async def test_markup_in_an_adapter_config_value_during_a_swap_is_shown_as_text(
    tmp_path: Path,
) -> None:
    db = tmp_path / "chat.db"
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text('{"peft_type": "[/]LOHA[@click=app.quit]"}')
    with fault_server() as server:
        server.serve_models("tiny")
        Store(db).save_brain(
            "odd-adapter",
            "vllm",
            {
                "base_url": server.base_url,
                "base": "tiny",
                "adapter": "x",
                "adapter_path": str(adapter),
            },
            "maya",
        )
        app = make_app(db, persona_id="maya")
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await send(pilot, "What is 52 - 27?")
            await pick_brain(pilot, "odd-adapter")
            await wait_until(pilot, lambda: any("[/]LOHA" in t for t in toast_texts(pilot)))
            assert any("'[/]loha[@click=app.quit]'" in t.lower() for t in toast_texts(pilot))
            assert await send(pilot, "How did you get that?")


async def test_markup_in_a_brain_name_in_the_picker_notices_and_at_start(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    name = "[/]oops"
    Store(db).save_brain(name, "vllm", {"base_url": f"http://127.0.0.1:{free_port()}"}, "maya")
    async with make_app(db, persona_id="maya").run_test(
        size=(120, 40), notifications=True
    ) as pilot:
        await send(pilot, "What is 52 - 27?")
        await pick_brain(pilot, name)
        await wait_until(
            pilot, lambda: any(f"swap to {name} refused" in t for t in toast_texts(pilot))
        )
        assert await send(pilot, "How did you get that?")

    # Started on it: the start-up health check refuses it and says so, name and all.
    async with make_app(db, persona_id="maya", brain=name).run_test(
        size=(120, 40), notifications=True
    ) as pilot:
        screen = chat(pilot.app)
        await wait_until(pilot, lambda: screen.load_error is not None)
        assert name in str(screen.query_one(BrainLine).render())
        await wait_until(pilot, lambda: any(name in t for t in toast_texts(pilot)))
        screen.query_one("#teacher-input", Input).value = "hello?"
        await pilot.press("enter")
        assert screen.query_one("#teacher-input", Input).value == "hello?"  # nothing lost


async def test_markup_in_persona_fields_is_shown_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "personas"
    folder.mkdir()
    text = (Path(__file__).parents[1] / "data" / "personas" / "valid.yaml").read_text()
    text = text.replace("name: Zoe", 'name: "Zo[/]e"').replace(
        'summary: "Zoe is', f'summary: "{CLICK_QUIT} Zoe is'
    )
    (folder / "zoe.yaml").write_text(text)
    monkeypatch.setenv("UTTA_PERSONAS_DIR", str(folder))
    async with make_app(tmp_path / "chat.db").run_test(size=(120, 40)) as pilot:
        picker = pilot.app.screen.query_one(OptionList)
        ids = [picker.get_option_at_index(i).id for i in range(picker.option_count)]
        prompt = picker.get_option_at_index(ids.index("zoe")).prompt
        # As the list displays it: a string prompt is read as markup, Text/Content as is.
        shown = Content.from_markup(prompt) if isinstance(prompt, str) else prompt
        assert "Zo[/]e" in shown.plain and CLICK_QUIT in shown.plain
        picker.highlighted = ids.index("zoe")
        await pilot.press("enter")
        await wait_until(pilot, lambda: chat(pilot.app).practice is not None)
        assert "Zo[/]e" in pilot.app.title
        assert await send(pilot, "what is 3 plus 2?")
