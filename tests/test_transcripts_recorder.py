"""SessionRecorder driven by the real StudentAgent, logging to a real SQLite file.

The brain is a scripted stand-in (``ScriptedBrain``): these tests are about what gets logged, not
about how a reply is produced.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from agent.brain import Brain, BrainError, BrainRequest, Health, Usage
from agent.state import StudentState
from agent.student import Recorder, StudentAgent, SwapRefused
from personas.schema import Persona
from transcripts import SessionRecorder, Store
from transcripts.store import UnknownSession


@dataclass
class ScriptedBrain(Brain):
    replies: list[str] = field(default_factory=list)
    error: str | None = None
    healthy: bool = True

    async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        if self.error:
            raise BrainError(self.error, fix="try again")
        reply = self.replies.pop(0)
        for word in reply.split(" "):
            yield word + " "
        self.usage = Usage(prompt_tokens=40, completion_tokens=len(reply.split()))

    async def health(self) -> Health:
        return Health(ok=self.healthy, detail="ready" if self.healthy else "no model loaded")


def scripted(brain_id: str, *replies: str, **kwargs: object) -> ScriptedBrain:
    return ScriptedBrain(
        brain_id, brain_id.title(), "a scripted test brain", list(replies), **kwargs
    )


def make_persona() -> Persona:
    move = {"description": "tell the rule", "cues": ["the rule"]}
    blocks = {"description": "use base-ten blocks", "cues": ["blocks"]}
    chatter = [{"teacher": f"hi {n}", "student": "hi", "kind": "off_task"} for n in range(23)]
    return Persona.model_validate(
        {
            "id": "maya",
            "name": "Maya",
            "grade": 2,
            "age": 7,
            "summary": "Subtracts the smaller digit from the bigger one.",
            "personality": ["chatty"],
            "knowledge": [
                {
                    "topic": "subtraction",
                    "misconceptions": [
                        {
                            "id": "smaller-from-bigger",
                            "belief": "You always take the smaller digit from the bigger.",
                            "shows_as": ["52 - 17 = 45"],
                            "triggers": ["subtract", "minus"],
                            "ineffective_moves": [move],
                            "effective_moves": [blocks],
                            "moves_needed": 2,
                        }
                    ],
                }
            ],
            "examples": [
                *chatter,
                {"teacher": "52 minus 17?", "student": "45", "misconception":
                 "smaller-from-bigger", "phase": "confused"},
                {"teacher": "and now?", "student": "35", "misconception":
                 "smaller-from-bigger", "phase": "understood"},
            ],
        }
    )  # fmt: skip


def test_session_recorder_satisfies_the_recorder_protocol(store: Store) -> None:
    """Every method of the agent's Recorder protocol exists on SessionRecorder with the same
    parameters, so the agent can call it without knowing the store."""
    recorder = SessionRecorder.start(store, "maya", "sam", "offline")
    protocol = {
        name: inspect.signature(member)
        for name, member in vars(Recorder).items()
        if callable(member) and not name.startswith("_")
    }
    assert set(protocol) == {
        "teacher_sent",
        "teacher_withdrawn",
        "student_replied",
        "brain_swapped",
    }
    for name, expected in protocol.items():
        actual = inspect.signature(getattr(SessionRecorder, name))
        assert list(actual.parameters) == list(expected.parameters), name
        assert callable(getattr(recorder, name))


async def test_a_completed_reply_logs_both_turns_and_the_state(store: Store) -> None:
    persona = make_persona()
    recorder = SessionRecorder.start(store, persona.id, "sam", "offline")
    agent = StudentAgent(persona, scripted("offline", "it is 45"), recorder=recorder)

    assert (await agent.reply("What is 52 minus 17?")).strip() == "it is 45"

    teacher, student = store.turns(recorder.session_id)
    assert (teacher.role, teacher.text) == ("teacher", "What is 52 minus 17?")
    assert teacher.brain_id is None
    assert (student.role, student.text, student.brain_id) == ("student", "it is 45", "offline")
    assert student.latency_ms is not None and student.latency_ms >= 0
    assert (student.prompt_tokens, student.completion_tokens) == (40, 3)
    assert student.student_state == agent.state.to_dict()
    assert StudentState.from_dict(store.latest_state(recorder.session_id)) == agent.state
    assert agent.state.active == "smaller-from-bigger"
    assert store.session(recorder.session_id).brain_at_start == "offline"


async def test_a_failed_reply_withdraws_the_teacher_turn(store: Store) -> None:
    persona = make_persona()
    recorder = SessionRecorder.start(store, persona.id, "sam", "offline")
    brain = scripted("offline", "hi")
    agent = StudentAgent(persona, brain, recorder=recorder)
    await agent.reply("hello")
    brain.error = "the model server is down"

    with pytest.raises(BrainError):
        await agent.reply("What is 52 minus 17?")
    assert [t.text for t in store.turns(recorder.session_id)] == ["hello", "hi"]


async def test_a_cancelled_reply_withdraws_the_teacher_turn(store: Store) -> None:
    persona = make_persona()
    recorder = SessionRecorder.start(store, persona.id, "sam", "offline")
    agent = StudentAgent(persona, scripted("offline", "one two three four"), recorder=recorder)

    stream = agent.respond("Tell me a long story")
    assert await anext(stream) == "one "
    assert [t.role for t in store.turns(recorder.session_id)] == ["teacher"]  # already committed
    await stream.aclose()  # what Escape does
    assert store.turns(recorder.session_id) == []


async def test_brain_swaps_are_logged_accepted_or_refused(store: Store) -> None:
    persona = make_persona()
    recorder = SessionRecorder.start(store, persona.id, "sam", "offline")
    agent = StudentAgent(persona, scripted("offline", "hi"), recorder=recorder)
    await agent.reply("hello")

    await agent.swap(scripted("gpt", "hey"))
    with pytest.raises(SwapRefused):
        await agent.swap(scripted("lora", healthy=False))
    await agent.reply("hi again")

    swaps = store.swaps(recorder.session_id)
    assert [(s.at_turn, s.from_brain, s.to_brain, s.accepted, s.reason) for s in swaps] == [
        (2, "offline", "gpt", True, "ready"),
        (2, "gpt", "lora", False, "no model loaded"),
    ]
    assert [t.brain_id for t in store.turns(recorder.session_id)] == [None, "offline", None, "gpt"]


async def test_resume_continues_the_session_and_keeps_a_dangling_message_until_resent(
    store: Store,
) -> None:
    persona = make_persona()
    recorder = SessionRecorder.start(store, persona.id, "sam", "offline")
    agent = StudentAgent(persona, scripted("offline", "45"), recorder=recorder)
    await agent.reply("What is 52 minus 17?")
    recorder.teacher_sent("Use the blocks")  # then the terminal was killed
    recorder.end()

    with Store(store.path) as reopened:
        resumed = SessionRecorder.resume(reopened, recorder.session_id)
        assert resumed.unanswered == "Use the blocks"
        assert reopened.turns(recorder.session_id)[-1].text == "Use the blocks"  # still logged
        assert [t.role for t in resumed.answered_turns()] == ["teacher", "student"]
        assert resumed.exchanges() == [("What is 52 minus 17?", "45")]
        state = StudentState.from_dict(resumed.latest_state())
        assert state == agent.state

        again = StudentAgent(persona, scripted("offline", "35?"), state=state, recorder=resumed)
        await again.reply("Use the blocks")
        assert [t.idx for t in reopened.turns(recorder.session_id)] == [0, 1, 2, 3]
        assert resumed.exchanges()[-1] == ("Use the blocks", "35?")

        with pytest.raises(UnknownSession, match="utta sessions list"):
            SessionRecorder.resume(reopened, 404)


def test_resume_of_a_finished_exchange_withdraws_nothing(store: Store) -> None:
    recorder = SessionRecorder.start(store, "maya", "sam", "offline")
    recorder.teacher_sent("hi")
    store.add_turn(recorder.session_id, "student", "hi")
    resumed = SessionRecorder.resume(store, recorder.session_id)
    assert resumed.unanswered is None
    assert len(resumed.turns()) == 2
