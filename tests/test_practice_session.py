"""The practice session as a service, with no screen: a real store file, real brains of our own
interface (the offline brain, a scripted one), the same calls the chat screen makes."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from agent.brains.offline import OfflineBrain
from agent.logs import setup_logging
from agent.paths import log_path
from personas.schema import Persona
from tests.support.tui_fault_server import WriteLock
from tests.test_agent import ScriptedBrain
from transcripts.store import Store
from tui.practice import resume_practice, start_practice
from tui.session_types import Feedback, StorageError, SwapFailed


async def reply(practice, text: str) -> str:
    return "".join([chunk async for chunk in practice.send(text)])


async def test_send_logs_the_exchange_and_feedback_lands_on_its_reply(
    store: Store, maya: Persona
) -> None:
    practice = start_practice(maya, None, store, "sam")
    assert practice.session_id is None  # nothing logged before the first message
    answer = await reply(practice, "What is 52 - 27?")
    turns = store.turns(practice.session_id)
    assert [(t.role, t.text) for t in turns] == [
        ("teacher", "What is 52 - 27?"),
        ("student", answer),
    ]
    await practice.give_feedback(practice.last_student_turn_id, Feedback(True, 2, None, None))
    [feedback] = store.feedback(practice.session_id)
    assert feedback.turn_id == turns[1].id and feedback.rating == 2
    assert Feedback(True, 2, "x", None).summary() == "rated 2/5 · flagged · rewritten"


async def test_store_writes_run_off_the_event_loop(store: Store, maya: Persona) -> None:
    """While another connection holds the write lock (a second chat), the loop keeps running."""
    practice = start_practice(maya, None, store, "sam")
    with WriteLock(store.path):
        sending = asyncio.create_task(reply(practice, "What is 52 - 27?"))
        for _ in range(20):  # the loop is free: these turns run while the write waits
            await asyncio.sleep(0)
        assert not sending.done() and practice.session_id is None
    assert await sending
    assert len(store.turns(practice.session_id)) == 2


async def test_a_database_failure_is_a_storage_error_and_logs_nothing_half(
    store: Store, maya: Persona
) -> None:
    practice = start_practice(maya, None, store, "sam")
    await reply(practice, "What is 52 - 27?")
    (pages,) = store.db.execute("pragma page_count").fetchone()
    store.db.execute(f"pragma max_page_count = {pages}")  # SQLITE_FULL, as on a full disk
    with pytest.raises(StorageError, match="disk") as failed:
        await reply(practice, "Let's count on. " * 1000)
    assert "could not be saved" in str(failed.value)
    assert len(store.turns(practice.session_id)) == 2
    assert len(practice.agent.memory) == 2


async def test_a_refused_swap_says_once_who_keeps_answering(store: Store, maya: Persona) -> None:
    practice = start_practice(maya, None, store, "sam")
    await reply(practice, "What is 52 - 27?")
    store.save_brain("broken", "openai", {"model": "m", "max_tokens": "lots"}, "maya")
    with pytest.raises(SwapFailed) as refused:
        await practice.swap("broken")
    message = str(refused.value)
    assert message.startswith("swap to broken refused") and "lots" in message
    assert message.count("keeps answering") == 1 and message.endswith(
        "offline (example-based) keeps answering"
    )
    assert practice.agent.brain.id == "offline"
    [swap] = store.swaps(practice.session_id)
    assert (swap.to_brain, swap.accepted) == ("broken", False)


async def test_a_refused_health_check_at_start_names_the_brain_and_the_fix(
    store: Store, maya: Persona
) -> None:
    practice = start_practice(maya, None, store, "sam")
    practice.agent.brain = ScriptedBrain("down", ["x"], healthy=False)
    with pytest.raises(Exception, match="brain 'down' is not ready: server down") as refused:
        await practice.check_brain()
    assert "utta brains list" in str(refused.value)


async def test_resume_keeps_the_unanswered_message_until_resent_or_discarded(
    store: Store, maya: Persona
) -> None:
    session_id = store.start_session("maya", "kim", "offline")
    store.add_turn(session_id, "teacher", "What is 52 - 27?")  # then the process died

    practice = resume_practice(session_id, None, store, lambda _: maya)
    assert practice.unsent == "What is 52 - 27?" and practice.turns == []
    await practice.close()  # quit without sending: nothing is lost, the session stays
    assert [t.text for t in store.turns(session_id)] == ["What is 52 - 27?"]

    practice = resume_practice(session_id, None, store, lambda _: maya)
    await reply(practice, "What is 52 minus 27?")  # edited, then sent: it takes the old place
    turns = store.turns(session_id)
    assert [t.role for t in turns] == ["teacher", "student"]
    assert turns[0].text == "What is 52 minus 27?"

    store.add_turn(session_id, "teacher", "Use the blocks.")  # died again
    practice = resume_practice(session_id, None, store, lambda _: maya)
    assert await practice.discard_unsent()
    assert [t.role for t in store.turns(session_id)] == ["teacher", "student"]
    assert practice.unsent == ""


async def test_closing_mid_reply_keeps_the_message_for_resume(store: Store, maya: Persona) -> None:
    practice = start_practice(maya, None, store, "sam")
    started = asyncio.Event()

    class Hanging(OfflineBrain):
        async def stream(self, request):
            yield "um "
            started.set()
            await asyncio.Event().wait()  # a server that never finishes

    practice.agent.brain = Hanging(maya)
    sending = asyncio.create_task(reply(practice, "What is 52 - 27?"))
    await started.wait()
    practice.recorder.keep_unanswered = True  # what the chat does when it quits
    sending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sending
    await practice.close()
    [session] = store.sessions()
    assert [t.text for t in store.turns(session.id)] == ["What is 52 - 27?"]
    assert session.ended_at is not None
    assert resume_practice(session.id, None, store, lambda _: maya).unsent == "What is 52 - 27?"


async def test_a_failed_reply_is_logged_with_its_traceback_and_keys_redacted(
    store: Store, maya: Persona, utta_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-test-" + "a1b2c3d4" * 4
    monkeypatch.setenv("OPENAI_API_KEY", key)
    path = setup_logging()
    try:
        assert path == log_path() and path.is_relative_to(utta_home)
        practice = start_practice(maya, None, store, "sam")
        practice.agent.brain = ScriptedBrain("leaky", ["um ", "!fail"])
        logging.getLogger("tests").error("the key was %s", key)
        with pytest.raises(Exception, match="scripted failure"):
            await reply(practice, "What is 52 - 27?")
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "utta", False)]:
            root.removeHandler(handler)
            handler.close()
    text = path.read_text()
    assert "brain leaky failed to reply" in text and "Traceback" in text
    assert "scripted failure" in text
    assert key not in text and "[redacted]" in text


async def test_a_failed_resend_keeps_the_waiting_message_in_the_log(
    store: Store, maya: Persona
) -> None:
    session_id = store.start_session("maya", "kim", "offline")
    store.add_turn(session_id, "teacher", "What is 52 - 27?")  # then the process died
    practice = resume_practice(session_id, None, store, lambda _: maya)
    practice.agent.brain = ScriptedBrain("flaky", ["um ", "!fail"])
    with pytest.raises(Exception, match="scripted failure"):
        await reply(practice, "What is 52 - 27? Use blocks.")
    # It was waiting in the log before; a failed re-send keeps it there (as re-sent).
    assert [t.text for t in store.turns(session_id)] == ["What is 52 - 27? Use blocks."]
    assert practice.unsent == "What is 52 - 27? Use blocks."
    await practice.close()
    assert [t.text for t in store.turns(session_id)] == ["What is 52 - 27? Use blocks."]
    # A new message that fails leaves nothing, as Escape does.
    practice = resume_practice(session_id, None, store, lambda _: maya)
    await reply(practice, "What is 52 - 27?")
    practice.agent.brain = ScriptedBrain("flaky", ["!fail"])
    with pytest.raises(Exception, match="scripted failure"):
        await reply(practice, "Count on from 27.")
    assert [t.role for t in store.turns(session_id)] == ["teacher", "student"]


async def test_resume_comes_back_on_the_brain_of_the_last_accepted_swap(
    store: Store, maya: Persona
) -> None:
    """Two saved offline-kind brains stand for trained ones: a resumed session answers with the
    brain it was last swapped to, not the one it started on nor one whose swap was refused."""
    store.save_brain("maya-second", "offline", {}, "maya")
    store.save_brain("maya-third", "offline", {}, "maya")
    store.save_brain("broken", "openai", {"model": "m", "max_tokens": "lots"}, "maya")
    practice = start_practice(maya, None, store, "sam")
    await reply(practice, "What is 52 - 27?")
    for name in ("maya-second", "maya-third"):
        assert (await practice.swap(name)).id == name
        await reply(practice, "How did you get that?")
    with pytest.raises(SwapFailed):
        await practice.swap("broken")  # refused: the session stays on maya-third
    session_id = practice.session_id
    await practice.close()
    assert [(s.to_brain, s.accepted) for s in store.swaps(session_id)] == [
        ("maya-second", True),
        ("maya-third", True),
        ("broken", False),
    ]

    resumed = resume_practice(session_id, None, store, lambda _: maya)
    assert resumed.agent.brain.id == "maya-third"
    await reply(resumed, "Can you show me with blocks?")
    students = [t.brain_id for t in store.turns(session_id) if t.role == "student"]
    assert students == ["offline", "maya-second", "maya-third", "maya-third"]
    await resumed.close()
    # a brain named on the command line still wins over the one the session ended on
    named = resume_practice(session_id, "offline", store, lambda _: maya)
    assert named.agent.brain.id == "offline"
    await named.close()
