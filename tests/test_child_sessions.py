"""Beliefs survive a brain swap and a resume exactly, and every brain gets the same state."""

from __future__ import annotations

from collections.abc import AsyncIterator

from agent.brain import Brain, BrainRequest
from agent.brains.dspy_brain import program_inputs
from agent.brains.offline import OfflineBrain
from agent.state import StudentState
from transcripts.store import Store
from tui.practice import resume_practice, start_practice

LESSON = [
    "What is 52 - 27?",
    "Let's make 52 with base-ten blocks and trade a ten for ten ones.",
    "Which is more, 89 or 102?",
]


class RecordingBrain(Brain):
    """A brain of our own interface (no external service) that keeps the requests it got."""

    def __init__(self) -> None:
        super().__init__(id="recording", name="recording", description="keeps requests")
        self.requests: list[BrainRequest] = []

    async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        self.requests.append(request)
        yield "um"


async def test_beliefs_survive_a_brain_swap_and_reach_the_new_brain(maya, store: Store) -> None:
    practice = start_practice(maya, None, store, "sam")
    practice.ensure_session()
    agent = practice.agent
    for message in LESSON:
        await agent.reply(message)
    before = agent.state
    assert before.misconceptions["smaller-from-larger"].effective_moves == 1
    recording = RecordingBrain()
    await agent.swap(recording)
    assert agent.state == before
    await agent.reply("What is 61 - 25?")
    request = recording.requests[-1]
    assert request.state.misconceptions == before.misconceptions
    assert request.state.answer.value == "44" and request.state.answer.held  # 61 - 25, held
    system = request.as_chat_messages()[0]["content"]
    assert "44" in system and "36" in system  # what it would say, and what it does not see yet
    assert "44" in program_inputs(request)["student_state"]  # the DSPy program's input


async def test_resume_restores_exactly_what_the_child_believed(maya, store: Store) -> None:
    practice = start_practice(maya, None, store, "sam")
    practice.ensure_session()
    for message in [*LESSON, "Now count back on a number line from 52.", "What is 43 - 18?"]:
        await practice.agent.reply(message)
    left = practice.agent.state
    session_id = practice.session_id
    practice.end()

    with Store(store.path) as reopened:
        resumed = resume_practice(session_id, None, reopened, lambda _id: maya)
        assert resumed.agent.state == left
        assert resumed.agent.state.describe(maya) == left.describe(maya)
        reply = await resumed.agent.reply("Check by adding: what is 25 + 18?")
        assert reply
        # one more effective move on top of the ones the first sitting counted
        counts = resumed.agent.state.misconceptions["smaller-from-larger"]
        assert counts.effective_moves >= left.misconceptions["smaller-from-larger"].effective_moves


async def test_the_offline_brain_says_what_the_state_computed(maya) -> None:
    state = StudentState.initial(maya).after_teacher(maya, "What is 90 - 47?")
    request = BrainRequest(maya, state, [], "What is 90 - 47?")
    reply = OfflineBrain(maya).choose(request)
    assert state.answer.value == "57" and "57" in reply and "43" not in reply
