"""The local brain's equivalent of a cut-off stream: generation fails after some tokens.

The real tiny Llama (tests/plugins/models.py) runs in transformers on the CPU; a forward hook makes
its fourth forward pass raise, as a device error or an out-of-memory would in the middle of a
reply. The reply counts only when generation finished: the agent gets a BrainError with a fix and
logs nothing of the exchange, and the next message is answered and logged whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.brain import BrainError
from agent.brains.local import LocalBrain, LocalModel
from agent.student import StudentAgent
from personas.schema import Persona
from transcripts.recorder import SessionRecorder
from transcripts.store import Store

pytestmark = pytest.mark.slow


async def test_generation_failing_mid_reply_is_an_error_and_nothing_is_logged(
    tiny_base: Path, store: Store, maya: Persona
) -> None:
    model = LocalModel(tiny_base, {})
    model.load()
    brain = LocalBrain(model, name="tiny", max_new_tokens=12, temperature=0.0)
    recorder = SessionRecorder.start(store, "maya", "sam", brain.id)
    agent = StudentAgent(maya, brain, recorder=recorder)
    calls = 0

    def fail_on_the_fourth_pass(*_: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise RuntimeError("device lost")

    hook = model.model.register_forward_hook(fail_on_the_fourth_pass)
    try:
        with pytest.raises(BrainError) as caught:
            async for _ in agent.respond("what is 52 minus 27?"):
                pass
    finally:
        hook.remove()
    assert "failed while writing" in caught.value.message and "device lost" in caught.value.message
    assert caught.value.fix
    assert store.turns(recorder.session_id) == []
    assert agent.last_turn is None

    reply = await agent.reply("what is 52 minus 27?")
    turns = [(t.role, t.text) for t in store.turns(recorder.session_id)]
    assert turns == [("teacher", "what is 52 minus 27?"), ("student", reply)]
    model.close()
