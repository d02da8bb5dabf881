"""Swapping brains inside the real chat app (Pilot): between two saved offline-kind brains (runs
everywhere), and against the real vLLM server fixture (marked ``vllm``).

Zoe, a short test persona, is used with vLLM because the tiny model's context is 512 tokens.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import OptionList

from tests.plugins.models import free_port
from tests.test_chat_app import chat, make_app, send, wait_until
from tests.tinymodel import make_lora_adapter
from transcripts.store import Store
from tui.brain_picker import BrainPicker
from tui.cli import main
from tui.widgets import Bubble

SMALL_PERSONA = Path(__file__).parent / "data" / "personas" / "valid.yaml"


@pytest.fixture
def zoe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    folder = tmp_path / "personas"
    folder.mkdir()
    shutil.copy(SMALL_PERSONA, folder / "zoe.yaml")
    monkeypatch.setenv("UTTA_PERSONAS_DIR", str(folder))
    return "zoe"


async def pick_brain(pilot, name: str) -> None:
    await pilot.press("ctrl+b")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, BrainPicker))
    options = pilot.app.screen.query_one(OptionList)
    ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
    options.highlighted = ids.index(name)
    await pilot.press("enter")


def notes(app) -> list[str]:
    return [b.text for b in chat(app).query(Bubble) if b.role == "system"]


async def test_ctrl_b_swaps_to_a_saved_brain_and_a_resume_comes_back_on_it(tmp_path: Path) -> None:
    """A second brain of the offline kind, saved in the registry, stands for a trained one: the
    picker lists it, the swap goes through, it answers the next message, and ``--resume`` brings
    the session back on it."""
    db = tmp_path / "chat.db"
    Store(db).save_brain("maya-second", "offline", {}, "maya")
    app = make_app(db, persona_id="maya")
    async with app.run_test(size=(120, 40)) as pilot:
        first = await send(pilot, "What is 52 - 27?")
        assert "brain: offline" in app.sub_title
        await pick_brain(pilot, "maya-second")
        await wait_until(pilot, lambda: "maya-second" in app.sub_title)
        assert any("now answering: maya-second" in note for note in notes(app))
        assert chat(app).agent.brain.id == "maya-second"
        second = await send(pilot, "How did you get that?")
        assert [m.content for m in chat(app).agent.memory.messages] == [
            "What is 52 - 27?",
            first,
            "How did you get that?",
            second,
        ]
        session_id = chat(app).practice.session_id

    store = Store(db)
    students = [t.brain_id for t in store.turns(session_id) if t.role == "student"]
    assert students == ["offline", "maya-second"]
    [swap] = store.swaps(session_id)
    assert (swap.from_brain, swap.to_brain, swap.accepted, swap.at_turn) == (
        "offline",
        "maya-second",
        True,
        2,
    )

    resumed = make_app(db, resume=session_id)
    async with resumed.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: chat(resumed).practice is not None)
        assert "maya-second" in resumed.sub_title
        await send(pilot, "Can you show me with blocks?")
    students = [t.brain_id for t in store.turns(session_id) if t.role == "student"]
    assert students == ["offline", "maya-second", "maya-second"]


@pytest.mark.vllm
async def test_swap_from_adapter_a_to_b_mid_session_keeps_the_conversation(
    vllm_server, adapter_b: Path, zoe: str, tmp_path: Path, capsys
) -> None:
    db = tmp_path / "chat.db"
    store = Store(db)
    common = {"base_url": vllm_server.base_url, "base": vllm_server.model, "max_tokens": 12}
    store.save_brain("zoe-a", "vllm", {**common, "adapter": vllm_server.adapter_a}, zoe)
    store.save_brain(
        "zoe-b", "vllm", {**common, "adapter": "zoe-b", "adapter_path": str(adapter_b)}, zoe
    )
    app = make_app(db, persona_id=zoe, brain="zoe-a")
    async with app.run_test(size=(120, 40)) as pilot:
        first = await send(pilot, "what is 3 plus 2?")
        assert "zoe-a" in app.sub_title
        await pick_brain(pilot, "zoe-b")
        await wait_until(pilot, lambda: "zoe-b" in app.sub_title, timeout=120)
        assert any("now answering: zoe-b" in note for note in notes(app))
        second = await send(pilot, "count on from 3 please")
        agent = chat(app).practice.agent
        assert [m.content for m in agent.memory.messages] == [
            "what is 3 plus 2?",
            first,
            "count on from 3 please",
            second,
        ]
        session_id = chat(app).practice.session_id

    turns = store.turns(session_id)
    assert [t.brain_id for t in turns if t.role == "student"] == ["zoe-a", "zoe-b"]
    [swap] = store.swaps(session_id)
    assert (swap.from_brain, swap.to_brain, swap.accepted, swap.at_turn) == (
        "zoe-a",
        "zoe-b",
        True,
        2,
    )
    assert main(["--db", str(db), "sessions", "show", str(session_id)]) == 0
    assert "swapped: zoe-a → zoe-b" in capsys.readouterr().out


@pytest.mark.vllm
async def test_failed_swaps_name_the_fix_and_the_previous_brain_keeps_answering(
    vllm_server, tiny_base: Path, zoe: str, tmp_path: Path
) -> None:
    db = tmp_path / "chat.db"
    store = Store(db)
    malformed = make_lora_adapter(tiny_base, tmp_path / "rank16", seed=3, rank=16)
    store.save_brain("down", "vllm", {"base_url": f"http://127.0.0.1:{free_port()}"}, zoe)
    store.save_brain(
        "malformed",
        "vllm",
        {"base_url": vllm_server.base_url, "adapter": "r16", "adapter_path": str(malformed)},
        zoe,
    )
    store.save_brain("cloud", "openai", {"model": "gpt-4o-mini"}, zoe)  # no key anywhere
    expected_fix = {
        "down": "utta serve vllm",
        "malformed": "rank",
        "cloud": "utta keys set openai",
    }
    app = make_app(db, persona_id=zoe)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "what is 3 plus 2?")
        for name, fix in expected_fix.items():
            await pick_brain(pilot, name)
            await wait_until(
                pilot, lambda n=name: any(f"swap to {n} refused" in x for x in notes(app)), 60
            )
            [note] = [x for x in notes(app) if f"swap to {name} refused" in x]
            assert fix in note, note
            assert "offline" in app.sub_title
            assert await send(pilot, "can you count on from 3?")
        session_id = chat(app).practice.session_id

    swaps = store.swaps(session_id)
    assert [(s.to_brain, s.accepted) for s in swaps] == [(n, False) for n in expected_fix]
    students = [t for t in store.turns(session_id) if t.role == "student"]
    assert len(students) == 4 and {t.brain_id for t in students} == {"offline"}
