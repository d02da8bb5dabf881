"""An OpenAI-compatible server that fails on purpose, against the real openai brain and agent.

The server is a FAKE of a paid cloud API (see :mod:`tests.faults.fake_openai`), a real HTTP server
on 127.0.0.1. The agent logs into a real SQLite store. Each test asserts that a failed reply is a
:class:`BrainError` with a fix, that nothing of it is logged (the teacher's message is withdrawn,
no student turn), and that the session goes on with the next message. How the chat screen shows
these errors is tested with the TUI.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.brain import BrainError
from agent.brains.openai_compat import OpenAICompatBrain
from agent.student import StudentAgent
from personas.schema import Persona
from tests.faults.fake_openai import MODEL, FaultyServer
from transcripts.recorder import SessionRecorder
from transcripts.store import Store

MARKUP = "[/]oops [@click=app.quit]CLICKME[/] [bold red]x"


@pytest.fixture
def server() -> Iterator[FaultyServer]:
    with FaultyServer() as running:
        yield running


def agent_for(server: FaultyServer, store: Store, maya: Persona, **options) -> StudentAgent:
    brain = OpenAICompatBrain(name="faulty", model=MODEL, base_url=server.base_url, **options)
    recorder = SessionRecorder.start(store, "maya", "sam", brain.id)
    return StudentAgent(maya, brain, recorder=recorder)


async def failed_reply(agent: StudentAgent, message: str) -> tuple[list[str], BrainError]:
    """What was streamed before the failure, and the error."""
    shown: list[str] = []
    with pytest.raises(BrainError) as caught:
        async for chunk in agent.respond(message):
            shown.append(chunk)
    return shown, caught.value


def logged(store: Store) -> list[tuple[str, str]]:
    (session,) = store.sessions()
    return [(turn.role, turn.text) for turn in store.turns(session.id)]


async def recovers(agent: StudentAgent, server: FaultyServer, store: Store) -> None:
    """After the fault the same agent answers the next message and logs exactly that exchange."""
    server.behaviour = "ok"
    reply = await agent.reply("ok, what is 52 - 27?")
    assert reply == server.full_reply.strip()
    assert logged(store) == [("teacher", "ok, what is 52 - 27?"), ("student", reply)]
    await agent.brain.aclose()


@pytest.mark.parametrize("behaviour", ["half", "abort"])
async def test_a_cut_off_stream_is_an_error_and_nothing_is_logged(
    server: FaultyServer, store: Store, maya: Persona, behaviour: str
) -> None:
    """D3: a stream that ends without finish_reason / [DONE], or whose chunked body is aborted,
    was saved as a finished "um i thin" (or raised a raw httpx RemoteProtocolError)."""
    server.behaviour = behaviour
    agent = agent_for(server, store, maya, max_retries=0)
    shown, error = await failed_reply(agent, "what is 52 - 27?")
    assert "".join(shown) == "um i thin"  # it was shown while streaming...
    assert "broke off" in error.message and error.fix  # ...then named as cut off, with a fix
    assert logged(store) == []  # ...and none of it, nor the teacher's message, is in the store
    assert agent.last_turn is None and len(agent.memory.window()) == 0
    await recovers(agent, server, store)


async def test_a_500_is_an_error_with_a_fix_and_the_retries_are_bounded(
    server: FaultyServer, store: Store, maya: Persona
) -> None:
    server.behaviour = "error500"
    agent = agent_for(server, store, maya, max_retries=1)
    shown, error = await failed_reply(agent, "what is 52 - 27?")
    assert shown == []
    assert "HTTP 500" in error.message and error.fix
    assert len(server.requests) == 2  # the first try and max_retries=1 more
    assert logged(store) == []
    await recovers(agent, server, store)


async def test_a_hung_server_errors_after_timeout_retries_included(
    server: FaultyServer, store: Store, maya: Persona
) -> None:
    """``timeout`` is the whole wait for the first chunk: before, every SDK retry waited the full
    timeout again (25.5 s for timeout=8). The server sees one request, not 1 + max_retries; the
    time it takes is measured by benchmarks/timeouts.py."""
    server.behaviour = "hang"
    agent = agent_for(server, store, maya, timeout=1, max_retries=2)
    shown, error = await failed_reply(agent, "what is 52 - 27?")
    assert shown == []
    assert "took longer than 1 s" in error.message and "timeout" in (error.fix or "")
    assert len(server.requests) == 1
    assert logged(store) == []
    await recovers(agent, server, store)


async def test_a_server_that_falls_silent_mid_reply_errors_after_token_timeout(
    server: FaultyServer, store: Store, maya: Persona
) -> None:
    server.behaviour = "stall"
    agent = agent_for(server, store, maya, timeout=30, token_timeout=0.5, max_retries=0)
    shown, error = await failed_reply(agent, "what is 52 - 27?")
    assert "".join(shown) == "um i thin"
    assert "stopped in the middle" in error.message and "token_timeout" in (error.fix or "")
    assert logged(store) == []
    await recovers(agent, server, store)


async def test_markup_in_an_error_body_is_carried_as_plain_text(
    server: FaultyServer, store: Store, maya: Persona
) -> None:
    """The server's words reach the error unchanged (the TUI shows them as text, not markup)."""
    server.behaviour = "error400"
    server.error_message = MARKUP
    agent = agent_for(server, store, maya, max_retries=0)
    _, error = await failed_reply(agent, "what is 52 - 27?")
    assert MARKUP in error.message
    assert logged(store) == []
    await recovers(agent, server, store)


async def test_markup_in_model_names_is_carried_as_plain_text(
    server: FaultyServer, maya: Persona
) -> None:
    server.models = ["[@click=app.quit]CLICKME[/]", "[/]"]
    brain = OpenAICompatBrain(name="faulty", model="absent", base_url=server.base_url)
    health = await brain.health()
    assert not health.ok
    assert "[@click=app.quit]CLICKME[/], [/]" in health.detail
    await brain.aclose()


async def test_ansi_escapes_in_a_reply_are_neither_shown_nor_logged(
    server: FaultyServer, store: Store, maya: Persona
) -> None:
    # colours, a window-title (OSC) sequence, and escapes split across chunks
    server.pieces = ["\x1b[31mum ", "i \x1b]0;ow", "ned\x07think", " 25\x1b[0", "m?\x1b["]
    agent = agent_for(server, store, maya)
    shown = [chunk async for chunk in agent.respond("what is 52 - 27?")]
    assert "".join(shown) == "um i think 25?"
    assert logged(store) == [("teacher", "what is 52 - 27?"), ("student", "um i think 25?")]
    await agent.brain.aclose()


def test_a_binary_adapter_config_is_named_not_a_unicode_error(tmp_path) -> None:
    """A swap to an adapter whose config is binary said only "UnicodeDecodeError"."""
    from agent.serving import check_adapter

    (tmp_path / "adapter_config.json").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00binary")
    with pytest.raises(BrainError) as caught:
        check_adapter(tmp_path)
    assert str(tmp_path / "adapter_config.json") in caught.value.message
    assert "not JSON text" in caught.value.message and caught.value.fix
