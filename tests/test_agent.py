"""The agent core on the offline brain: student state, memory window, replies, swaps."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from agent.brain import Brain, BrainError, BrainRequest, Health
from agent.brains.offline import OfflineBrain
from agent.memory import ConversationMemory
from agent.state import StudentState
from agent.student import StudentAgent, SwapRefused


class ScriptedBrain(Brain):
    """A brain of our own interface (not a fake of any external service) that replays chunks."""

    def __init__(self, name: str, chunks: list[str], healthy: bool = True) -> None:
        super().__init__(id=name, name=name, description="scripted for tests")
        self.chunks = chunks
        self.healthy = healthy
        self.requests: list[BrainRequest] = []

    async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        self.requests.append(request)
        for chunk in self.chunks:
            if chunk == "!fail":
                raise BrainError("scripted failure", fix="none")
            yield chunk

    async def health(self) -> Health:
        return Health(self.healthy, "ok" if self.healthy else "server down")


class ListRecorder:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def teacher_sent(self, text: str) -> None:
        self.events.append(("teacher", text))

    def teacher_withdrawn(self) -> None:
        self.events.append(("withdrawn",))

    def student_replied(self, turn) -> None:
        self.events.append(("student", turn.student, turn.brain_id))

    def brain_swapped(self, old_id, new_id, accepted, reason) -> None:
        self.events.append(("swap", old_id, new_id, accepted, reason))


def test_ineffective_moves_leave_the_misconception_and_effective_ones_resolve_it(maya):
    state = StudentState.initial(maya)
    needed = maya.misconception("smaller-from-larger").moves_needed
    for telling in ["52 - 27: you have to borrow.", "The rule is bigger number on top."]:
        state = state.after_teacher(maya, telling)
    assert state.active == "smaller-from-larger"
    assert state.holds("smaller-from-larger")
    assert state.misconceptions["smaller-from-larger"].ineffective_moves == 2
    assert state.mood == "frustrated"
    for _ in range(needed - 1):
        state = state.after_teacher(maya, "Let's subtract with the base-ten blocks.")
        assert state.holds("smaller-from-larger")
    state = state.after_teacher(
        maya, "Let's hop on the number line from 27 up to 52 and count how far we went."
    )
    assert not state.holds("smaller-from-larger")
    assert state.mood == "happy"
    assert state.holds("digits-face-value")  # other misconceptions untouched


def test_state_round_trips_through_a_dict(maya):
    state = StudentState.initial(maya).after_teacher(maya, "subtract with blocks please")
    assert StudentState.from_dict(state.to_dict()) == state


def test_memory_window_keeps_the_newest_exchanges_and_starts_on_a_teacher_turn():
    memory = ConversationMemory(token_budget=60)
    for i in range(30):
        memory.add_exchange(f"teacher line number {i} about tens", f"student {i}")
    window = memory.window()
    assert len(memory) == 60
    assert 0 < len(window) < 60
    assert window[0].type == "human"
    assert window[-1].content == "student 29"


async def test_offline_brain_answers_by_the_rule_until_taught_then_correctly(maya):
    """While held, the child's answer is its rule applied to the teacher's numbers (52 - 27 ->
    35); telling and "are you sure?" keep it; moves that teach by meaning resolve it, and the
    right answer then transfers to new numbers."""
    agent = StudentAgent(maya, OfflineBrain(maya))
    first = await agent.reply("What is 52 - 27?")
    assert re.match(r"\D*35\b", first), first
    assert agent.state.answer.value == "35" and agent.state.answer.correct_value == "25"
    again = await agent.reply("Are you sure? You have to borrow. Subtract again.")
    assert agent.state.holds("smaller-from-larger")
    assert "25" not in again
    for move in [
        "Let's subtract 52 - 27 with base-ten blocks.",
        "Now jump back on the number line.",
        "Check by adding it back: 25 plus 27.",
    ]:
        await agent.reply(move)
    assert not agent.state.holds("smaller-from-larger")
    after = await agent.reply("So what is 61 - 38?")
    assert re.match(r"\D*23\b", after), after


async def test_offline_brain_never_repeats_one_of_its_last_five_replies(maya):
    agent = StudentAgent(maya, OfflineBrain(maya))
    messages = ["What is 52 - 27?", "Do you like horses?", "Are you sure?", "why?"] * 10
    replies = [await agent.reply(message) for message in messages]
    for index, reply in enumerate(replies):
        earlier = replies[max(0, index - 5) : index]
        if reply not in {"ok", "yes", "no", "idk"}:
            assert reply not in earlier, (index, reply, earlier)


async def test_offline_brain_uses_turns_the_teacher_approved(maya):
    approved = [("do you like volcanoes and lava", "lava is so hot it melts rocks")]
    agent = StudentAgent(maya, OfflineBrain(maya, approved))
    assert await agent.reply("Do you like volcanoes?") == "lava is so hot it melts rocks"
    assert "1 approved" in agent.brain.description


async def test_offline_brain_says_it_is_example_based(maya):
    brain = OfflineBrain(maya)
    assert "example-based" in brain.name
    assert "no language model" in brain.description


async def test_a_failing_brain_withdraws_the_teacher_message_and_changes_nothing(maya):
    recorder = ListRecorder()
    agent = StudentAgent(maya, ScriptedBrain("broken", ["hi ", "!fail"]), recorder=recorder)
    with pytest.raises(BrainError):
        await agent.reply("What is 52 - 27?")
    assert recorder.events == [("teacher", "What is 52 - 27?"), ("withdrawn",)]
    assert len(agent.memory) == 0
    assert agent.state == StudentState.initial(maya)


async def test_stopping_the_stream_early_logs_no_half_reply(maya):
    recorder = ListRecorder()
    agent = StudentAgent(maya, ScriptedBrain("slow", ["one ", "two ", "three"]), recorder=recorder)
    stream = agent.respond("hello")
    assert await anext(stream) == "one "
    await stream.aclose()
    assert recorder.events == [("teacher", "hello"), ("withdrawn",)]
    assert len(agent.memory) == 0


async def test_swap_keeps_memory_and_state_and_is_recorded(maya):
    recorder = ListRecorder()
    agent = StudentAgent(maya, OfflineBrain(maya), recorder=recorder)
    await agent.reply("What is 52 - 27?")
    state_before = agent.state
    other = ScriptedBrain("scripted", ["i ", "dont ", "know"])
    await agent.swap(other)
    assert ("swap", "offline", "scripted", True, "ok") in recorder.events
    assert await agent.reply("why?") == "i dont know"
    request = other.requests[0]
    assert next(m.content for m in request.history) == "What is 52 - 27?"
    assert request.state.turns == state_before.turns + 1
    assert len(agent.memory) == 4


async def test_an_unhealthy_brain_is_refused_and_the_old_one_keeps_answering(maya):
    recorder = ListRecorder()
    agent = StudentAgent(maya, OfflineBrain(maya), recorder=recorder)
    await agent.reply("What is 52 - 27?")
    with pytest.raises(SwapRefused) as refused:
        await agent.swap(ScriptedBrain("down", ["x"], healthy=False))
    assert "server down" in str(refused.value)
    assert ("swap", "offline", "down", False, "server down") in recorder.events
    assert agent.brain.id == "offline"
    assert await agent.reply("What is 43 - 18?")
    assert recorder.events[-1][2] == "offline"


def test_a_brain_kind_whose_packages_are_missing_names_the_install_command() -> None:
    from agent.registry import require

    with pytest.raises(BrainError) as missing:
        require("imaginary", "json", "no_such_package_utta", extra="imaginary")
    assert "no_such_package_utta" in str(missing.value)
    assert "pip install -e '.[imaginary]'" in str(missing.value)
    require("offline", "json", extra="none")  # present: no error


async def test_reply_returns_the_text_as_logged(maya) -> None:
    """A model may stream a leading space; the whole reply is what the transcript holds."""
    recorder = ListRecorder()
    agent = StudentAgent(maya, ScriptedBrain("spaced", [" um ", "35? "]), recorder=recorder)
    assert await agent.reply("What is 52 - 27?") == "um 35?"
    assert recorder.events[-1][:2] == ("student", "um 35?")
