"""Second paths of the agent and the offline brain that no other test takes.

The withdraw paths run against the real SessionRecorder and a real SQLite file: what matters is
that no dangling teacher turn is left in the log. The brains are ``ScriptedBrain``s of our own
interface (not fakes of an external service).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from agent.brain import Brain, BrainError, BrainRequest, Health, Usage
from agent.brains.offline import OfflineBrain
from agent.child.voice import is_repeat
from agent.memory import ConversationMemory
from agent.state import StudentState
from agent.student import CompletedTurn, StudentAgent
from personas.schema import Persona
from transcripts import SessionRecorder, Store
from tui.practice import build_brain


class ScriptedBrain(Brain):
    def __init__(self, chunks: list[str]) -> None:
        super().__init__(id="scripted", name="Scripted", description="replays chunks for tests")
        self.chunks = chunks

    async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        for chunk in self.chunks:
            yield chunk

    async def health(self) -> Health:
        return Health(True, "ok")


class FailingWriteRecorder(SessionRecorder):
    """The real recorder whose student-turn write fails, as on a full disk."""

    def student_replied(self, turn: CompletedTurn) -> None:
        raise sqlite3.OperationalError("database or disk is full")


@pytest.mark.parametrize("chunks", [[], ["", ""], ["  ", "\n"]])
async def test_an_empty_reply_withdraws_the_teacher_turn(
    maya: Persona, store: Store, chunks: list[str]
) -> None:
    recorder = SessionRecorder.start(store, maya.id, "sam", "scripted")
    agent = StudentAgent(maya, ScriptedBrain(chunks), recorder=recorder)
    with pytest.raises(BrainError, match="empty reply"):
        await agent.reply("What is 52 - 27?")
    assert store.turns(recorder.session_id) == []
    assert agent.state == StudentState.initial(maya) and len(agent.memory) == 0
    assert agent.last_turn is None


async def test_a_failed_store_write_withdraws_the_teacher_turn_and_keeps_the_error(
    maya: Persona, store: Store
) -> None:
    recorder = FailingWriteRecorder.start(store, maya.id, "sam", "scripted")
    agent = StudentAgent(maya, ScriptedBrain(["35"]), recorder=recorder)
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        await agent.reply("What is 52 - 27?")
    assert store.turns(recorder.session_id) == []
    assert agent.state == StudentState.initial(maya) and len(agent.memory) == 0


async def test_a_failed_withdraw_after_a_failed_write_still_raises_the_write_error(
    maya: Persona, store: Store
) -> None:
    class BothFail(FailingWriteRecorder):
        def teacher_withdrawn(self) -> None:
            raise sqlite3.OperationalError("database is locked")

    agent = StudentAgent(
        maya, ScriptedBrain(["35"]), recorder=BothFail.start(store, maya.id, "sam", "scripted")
    )
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        await agent.reply("What is 52 - 27?")


async def test_a_completed_turn_is_recorded_once_with_what_the_brain_said(
    maya: Persona, store: Store
) -> None:
    recorder = SessionRecorder.start(store, maya.id, "sam", "scripted")
    agent = StudentAgent(maya, ScriptedBrain(["  um ", "35 "]), recorder=recorder)
    assert await agent.reply("  What is 52 - 27?  ") == "um 35"  # as logged
    teacher, student = store.turns(recorder.session_id)
    assert (teacher.text, student.text, student.brain_id) == (
        "What is 52 - 27?",
        "um 35",
        "scripted",
    )
    assert agent.last_turn is not None and agent.last_turn.student == "um 35"
    assert agent.memory.window()[-1].content == "um 35"


# --- the offline brain ---------------------------------------------------------------------------


def request_for(maya: Persona, message: str, history: list[tuple[str, str]], state=None):
    memory = ConversationMemory()
    for teacher, student in history:
        memory.add_exchange(teacher, student)
    state = state or StudentState.initial(maya)
    return BrainRequest(maya, state.after_teacher(maya, message), memory.window(), message)


def test_the_computed_answer_never_repeats_a_recent_reply(maya: Persona) -> None:
    """The voice's safeguard: asked the same problem again, the child says it another way."""
    brain = OfflineBrain(maya)
    history: list[tuple[str, str]] = []
    for _ in range(6):
        reply = brain.choose(request_for(maya, "What is 52 - 27?", history))
        recent = [student for _, student in history][-5:]
        assert "35" in reply
        assert not is_repeat(reply, recent), (reply, recent)
        history.append(("What is 52 - 27?", reply))


def test_an_example_reply_never_repeats_a_recent_reply(maya: Persona) -> None:
    """The own-line safeguard: asked about the child's life, the closest approved line is skipped
    when it was said just now."""
    approved = [("do you like volcanoes and lava", "lava is so hot it melts rocks")]
    brain = OfflineBrain(maya, approved)
    first = brain.choose(request_for(maya, "Do you like volcanoes?", []))
    assert first == "lava is so hot it melts rocks"
    again = brain.choose(
        request_for(maya, "Do you like volcanoes?", [("Do you like volcanoes?", first)])
    )
    assert again != first
    assert again.strip()


@pytest.mark.parametrize(
    "message",
    [
        "How do volcanoes make lava?",  # the same words as the example: the same-question path
        "Why do volcanoes make hot lava?",  # reworded: the ranked examples
    ],
)
def test_a_lesson_example_never_repeats_a_recent_reply(maya: Persona, message: str) -> None:
    """The same-question and ranking safeguards, each alone: a lesson question (no small talk)
    answered from the examples gets the next best line when the best was said just now."""
    approved = [
        ("how do volcanoes make lava", "lava is so hot it melts rocks"),
        ("how do volcanoes make lava", "the inside of the earth is hot"),
    ]
    brain = OfflineBrain(maya, approved)
    first = brain.choose(request_for(maya, message, []))
    assert first == "lava is so hot it melts rocks"
    again = brain.choose(request_for(maya, message, [(message, first)]))
    assert again == "the inside of the earth is hot"


def test_a_statement_with_nothing_fitting_is_acknowledged(maya: Persona) -> None:
    brain = OfflineBrain(maya)
    said = brain.choose(request_for(maya, "Xylophones quiver quietly.", []))
    assert said in {"ok", "um ok", "ok i did it", "ok. now what", "ok i get it", "hmm"}, said


def test_a_question_with_nothing_fitting_gets_dont_know(maya: Persona) -> None:
    brain = OfflineBrain(maya)
    said = brain.choose(request_for(maya, "Why do xylophones quiver?", []))
    assert any(word in said for word in ("idk", "dont know", "wat", "no idea")), said


def test_a_bored_child_drifts_off_task(maya: Persona) -> None:
    """Mood-driven replies: a lecture bores the child and an off-task example wins."""
    state = StudentState.initial(maya)
    lecture = " ".join(["Now listen carefully to every word of this long explanation."] * 6)
    assert len(lecture.split()) > 45
    for _ in range(4):
        state = state.after_teacher(maya, lecture)
        if state.mood == "bored":
            break
    assert state.mood == "bored"
    off_task = {e.student for e in maya.examples if e.kind == "off_task"}
    reply = OfflineBrain(maya).choose(BrainRequest(maya, state, [], "Okay."))
    assert reply in off_task, reply


def test_a_frustrated_child_says_how_it_feels(maya: Persona) -> None:
    """The mood bonus: with no topic in play, a frustrated child answers "okay" with a feeling;
    the same child in an ok mood just goes along."""
    frustrated = replace(StudentState.initial(maya), mood="frustrated")
    feeling = {e.student for e in maya.examples if e.kind == "feeling"} - {"ok"}
    brain = OfflineBrain(maya)
    assert brain.choose(BrainRequest(maya, frustrated, [], "Okay.")) in feeling
    calm = replace(frustrated, mood="ok")
    assert brain.choose(BrainRequest(maya, calm, [], "Okay.")) not in feeling


@pytest.mark.parametrize("message", ["How are you?", "Are you okay?", "What's wrong?"])
def test_asked_how_it_feels_the_child_answers_with_its_mood(maya: Persona, message: str) -> None:
    """Small talk follows the mood too: asked how it is, a frustrated child says it is hard, a
    bored one that it is bored, and a child in an ok mood says neither."""
    brain = OfflineBrain(maya)
    hard = {"its hard", "no its hard", "kinda", "not really", "sad"}
    bored = {"bored", "im bored", "kinda bored", "can we stop"}

    def answer(mood: str) -> str:
        state = replace(StudentState.initial(maya), mood=mood)
        return brain.choose(BrainRequest(maya, state, [], message))

    assert answer("frustrated") in hard
    assert answer("bored") in bored
    assert answer("ok") not in hard | bored


def test_small_talk_never_repeats_a_recent_reply(maya: Persona) -> None:
    """The small-talk safeguard: asked the same personal question again, the child answers
    another way (and a bare "ok" once it has nothing new)."""
    brain = OfflineBrain(maya)
    for message in ["What's your name?", "How old are you?", "Hi!"]:
        history: list[tuple[str, str]] = []
        for _ in range(3):
            reply = brain.choose(request_for(maya, message, history))
            recent = [student for _, student in history]
            assert not is_repeat(reply, recent), (message, reply, recent)
            history.append((message, reply))


def test_telling_twice_frustrates_the_child(maya: Persona) -> None:
    state = StudentState.initial(maya)
    state = state.after_teacher(maya, "52 - 27: you have to borrow.")
    assert state.mood != "frustrated"
    state = state.after_teacher(maya, "The rule is bigger number on top.")
    assert state.mood == "frustrated"


def test_praise_makes_the_child_happy(maya: Persona) -> None:
    state = StudentState.initial(maya).after_teacher(maya, "Great job, you are so smart!")
    assert state.mood == "happy"


# --- wiring --------------------------------------------------------------------------------------


def test_approved_turns_reach_the_offline_brain_built_for_a_session(
    maya: Persona, store: Store
) -> None:
    session = store.start_session(maya.id, "sam", "offline")
    store.add_turn(session, "teacher", "do you like volcanoes and lava")
    student = store.add_turn(session, "student", "volcanos r cool")
    store.add_feedback(student, rating=2, rewrite="lava is so hot it melts rocks")
    brain = build_brain("offline", store, maya)
    assert "1 approved" in brain.description
    reply = brain.choose(request_for(maya, "Do you like volcanoes?", []))
    assert reply == "lava is so hot it melts rocks"


def test_a_brain_built_for_another_persona_is_refused(maya: Persona, store: Store) -> None:
    store.save_brain("leo-tuned", "offline", {}, persona_id="leo")
    with pytest.raises(BrainError, match="built for persona 'leo', not 'maya'") as refused:
        build_brain("leo-tuned", store, maya)
    assert "maya" in (refused.value.fix or "")
    store.save_brain("maya-tuned", "offline", {}, persona_id="maya")
    assert build_brain("maya-tuned", store, maya).id == "maya-tuned"


# --- what the agent hands the recorder (survivors of the first mutation run) ----------------------


class TurnRecorder(SessionRecorder):
    def student_replied(self, turn: CompletedTurn) -> None:
        self.turn = turn
        super().student_replied(turn)


class CountingBrain(ScriptedBrain):
    async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        self.seen = request
        async for chunk in super().stream(request):
            yield chunk
        self.usage = Usage(prompt_tokens=40, completion_tokens=2)


async def test_the_completed_turn_carries_message_timing_and_usage(
    maya: Persona, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fake clock (the agent reads time.perf_counter twice) gives an exact latency."""
    ticks = iter([10.0, 10.25])
    monkeypatch.setattr("agent.student.time.perf_counter", lambda: next(ticks))
    recorder = TurnRecorder.start(store, maya.id, "sam", "scripted")
    brain = CountingBrain(["um ", "35"])
    agent = StudentAgent(maya, brain, recorder=recorder)
    await agent.reply("What is 52 - 27?")
    turn = recorder.turn
    assert (turn.teacher, turn.student, turn.brain_id) == ("What is 52 - 27?", "um 35", "scripted")
    assert turn.latency_ms == 250.0
    assert (turn.prompt_tokens, turn.completion_tokens) == (40, 2)
    assert turn.state == agent.state
    assert brain.seen.persona is maya and brain.seen.message == "What is 52 - 27?"


async def test_an_empty_message_is_refused_before_anything_is_logged(
    maya: Persona, store: Store
) -> None:
    recorder = SessionRecorder.start(store, maya.id, "sam", "scripted")
    agent = StudentAgent(maya, ScriptedBrain(["hi"]), recorder=recorder)
    with pytest.raises(ValueError, match=r"^the teacher's message is empty$"):
        await agent.reply("   ")
    assert store.turns(recorder.session_id) == []


async def test_errors_say_what_to_do(maya: Persona) -> None:
    agent = StudentAgent(maya, ScriptedBrain([]))
    with pytest.raises(BrainError) as empty:
        await agent.reply("hi")
    assert empty.value.fix == "try again or swap brains"

    class Down(ScriptedBrain):
        async def health(self) -> Health:
            return Health(False, "no server")

    with pytest.raises(BrainError) as refused:
        await agent.swap(Down([]))
    # who keeps answering is said once, by the session that shows the refusal
    assert str(refused.value) == "Scripted is not ready: no server"


def test_a_brain_that_could_not_be_built_is_logged_as_a_refused_swap(
    maya: Persona, store: Store
) -> None:
    recorder = SessionRecorder.start(store, maya.id, "sam", "scripted")
    StudentAgent(maya, ScriptedBrain([]), recorder=recorder).refuse_swap("gpt", "no key set")
    (swap,) = store.swaps(recorder.session_id)
    assert (swap.from_brain, swap.to_brain, swap.accepted, swap.reason) == (
        "scripted",
        "gpt",
        False,
        "no key set",
    )


def test_confused_lines_fit_only_while_held_and_understood_lines_only_after(maya: Persona) -> None:
    from agent.brains.offline import _Candidate, _eligible

    held = StudentState.initial(maya)
    assert held.holds("smaller-from-larger")
    resolved = replace(
        held,
        misconceptions={
            **held.misconceptions,
            "smaller-from-larger": replace(held.misconceptions["smaller-from-larger"], held=False),
        },
    )
    assert not resolved.holds("smaller-from-larger")
    confused = _Candidate("t", "s", "on_task", "smaller-from-larger", "confused")
    understood = _Candidate("t", "s", "on_task", "smaller-from-larger", "understood")
    general = _Candidate("t", "s", "on_task", None, None)
    assert [_eligible(c, held) for c in (confused, understood, general)] == [True, False, True]
    assert [_eligible(c, resolved) for c in (confused, understood, general)] == [False, True, True]


async def test_the_stream_is_the_reply_word_by_word(maya: Persona) -> None:
    brain = OfflineBrain(maya, [("do you like volcanoes and lava", "lava is  so hot")])
    request = request_for(maya, "Do you like volcanoes?", [])
    chunks = [chunk async for chunk in brain.stream(request)]
    assert chunks == ["lava ", "is ", " ", "so ", "hot"]
    assert "".join(chunks) == "lava is  so hot"


def test_after_a_teaching_move_the_child_does_not_drift_off_task(
    maya: Persona, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The off-task line whose teacher words match best ("Let's look at the next one together."
    -> "drink?") is skipped when the message is itself a teaching move."""
    message = "Let's look at the next one together."
    state = StudentState.initial(maya).after_teacher(maya, message)
    assert state.last_move is not None and state.mood == "ok"
    brain = OfflineBrain(maya)
    assert brain.choose(BrainRequest(maya, state, [], message)) != "drink?"
    monkeypatch.setattr("agent.brains.offline.TEACHING_KINDS", ())  # as if nothing were taught
    assert brain.choose(BrainRequest(maya, state, [], message)) == "drink?"
