"""The offline default brain: answers in character, no language model.

When the teacher's message poses a problem, the student state carries the child's computed
answer (its misconception's rule applied to the teacher's own numbers, or the correct rule once
resolved); the brain says that answer in the persona's voice (:mod:`agent.child.voice`).
Otherwise it ranks the persona's example exchanges, plus turns the teacher approved in earlier
sessions, by BM25 similarity of their teacher line to the teacher's message. The state decides
which examples are eligible (``confused`` while a misconception is held, ``understood`` after);
an example that states a number the teacher did not say is never used (it answers another
problem), and a question the child has nothing for gets "idk", not a line about something else.
A reply never repeats one of the session's last five (bare ok/yes/no/idk aside).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from rank_bm25 import BM25Okapi

from agent.brain import Brain, BrainRequest
from agent.child.reader import is_question
from agent.child.talk import Talk
from agent.child.think import Answer
from agent.child.voice import Voice, is_repeat
from agent.registry import BrainContext, BrainKind, BrainSpec
from agent.state import StudentState
from personas.schema import NOT_TEACHING_KINDS, TEACHING_KINDS, Example, Persona

# Words only: a shared number says nothing about what is being asked ("6" in two problems).
_TOKEN = re.compile(r"[a-z]+")
# Function words carry no signal about what the teacher is asking.
_STOP = frozenset(
    "a an the and or but so to of in on at is are was be it this that do does did you your i me "
    "we can what how why let s ok okay".split()
)
# Bonuses on top of BM25, chosen so that the topic and the child's mood outweigh a shared word.
_ACTIVE_TOPIC_BONUS = 2.0
_MOOD_BONUS = 1.5
# Below this BM25 score an example shares too little with a question to answer it.
_MIN_QUESTION_SCORE = 1.0
# An off-task or feeling example this close to the message is the persona's own answer to it.
_OWN_LINE_SCORE = 3.0
_RECENT = 5
_NUMBER = re.compile(r"\d+")


def _tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOP]


@dataclass(frozen=True)
class _Candidate:
    teacher: str
    student: str
    kind: str
    misconception: str | None
    phase: str | None
    approved: bool = False


def _eligible(candidate: _Candidate, state: StudentState) -> bool:
    if candidate.misconception is None:
        return True
    held = state.holds(candidate.misconception)
    return held if candidate.phase == "confused" else not held


class OfflineBrain(Brain):
    def __init__(
        self, persona: Persona, approved: Sequence[tuple[str, str]] = (), *, name: str = "offline"
    ) -> None:
        super().__init__(
            id=name,
            name=f"{name} (example-based)",
            description=(
                f"Example-based brain: answers from {persona.name}'s example exchanges and "
                f"{len(approved)} approved turns; no language model, no network."
            ),
        )
        self._candidates = [self._from_example(e) for e in persona.examples] + [
            _Candidate(teacher, student, "on_task", None, None, approved=True)
            for teacher, student in approved
        ]
        self._index = BM25Okapi([_tokens(c.teacher) or ["_"] for c in self._candidates])
        self._voice = Voice.of(persona)
        self._talk = Talk(persona, self._voice)

    @staticmethod
    def _from_example(example: Example) -> _Candidate:
        return _Candidate(
            example.teacher, example.student, example.kind, example.misconception, example.phase
        )

    def choose(self, request: BrainRequest) -> str:
        """The computed answer in the persona's voice, else the best eligible example; never
        one of the last five replies."""
        state = request.state
        recent = self._recent_replies(request)
        if state.answer is not None:
            return self._voice.say(state.answer, recent)
        scores = self._index.get_scores(_tokens(request.message))
        taught = state.last_move is not None and state.last_move.kind in TEACHING_KINDS
        # telling and "are you sure?" are about the lesson too: no drifting off to pets
        on_task = taught or (
            state.last_move is not None and state.last_move.kind in NOT_TEACHING_KINDS
        )
        same = self._same_question(request.message, recent, taught)
        if same is not None:
            return same
        message_words = set(_tokens(request.message))
        talk = self._talk.reply(
            request.message,
            state.mood,
            recent,
            example=self._own_line(scores, message_words, recent, ("off_task", "feeling")),
            feeling=self._own_line(scores, message_words, recent, ("feeling",)),
            teaching=taught,
        )
        if talk is not None:
            # a turn the teacher approved for a question like this one says it better
            approved = self._own_line(scores, message_words, recent, ("approved",))
            return approved or talk
        wanted_kind = {"frustrated": "feeling", "bored": "off_task"}.get(state.mood)
        said_numbers = set(_NUMBER.findall(request.message))
        asked = is_question(request.message)
        ranked: list[tuple[float, int]] = []
        for position, candidate in enumerate(self._candidates):
            if not _eligible(candidate, state):
                continue
            if candidate.misconception not in (None, state.active):
                continue  # a misconception's line answers its own topic only
            if on_task and candidate.kind == "off_task" and candidate.kind != wanted_kind:
                continue  # the teacher gave the child something to do: it does not drift off
            if not set(_NUMBER.findall(candidate.student)) <= said_numbers:
                continue  # a number the teacher did not say answers some other problem
            score = float(scores[position])
            if asked and candidate.kind != wanted_kind and score < _MIN_QUESTION_SCORE:
                continue  # shares nothing with the question: not an answer to it
            if state.active and candidate.misconception == state.active:
                score += _ACTIVE_TOPIC_BONUS
            if wanted_kind and candidate.kind == wanted_kind:
                score += _MOOD_BONUS
            ranked.append((score, position))
        # Ties (e.g. no word in common) rotate with the turn count instead of always the first.
        ranked.sort(key=lambda item: (-item[0], (item[1] - state.turns) % len(self._candidates)))
        for score, position in ranked:
            if not asked and score < _MIN_QUESTION_SCORE:
                break  # nothing fits what the teacher said or did: just go along with it
            reply = self._candidates[position].student
            if not is_repeat(reply, recent):
                return reply
        if not asked:
            return self._voice.acknowledge(recent)
        return self._voice.say(
            Answer(request.message, None, None, "unknown", None, False, ""), recent
        )

    def _same_question(self, message: str, recent: Sequence[str], taught: bool) -> str | None:
        """The persona's own line (no misconception's) for this very question, reworded at most
        in function words ("Do you have any pets?" / "do you have pets"). A number in it is the
        child's own fact ("How many pets have you got?" / "um 3?"): the words, numbers included,
        are the same, and problems the child works out never get here (they have an answer)."""
        words = set(_tokens(message))
        for candidate in self._candidates:
            if candidate.misconception or not words:
                continue
            if taught and candidate.kind == "off_task":
                continue  # the teacher gave the child something to do: it does not drift off
            same = set(_tokens(candidate.teacher)) == words
            if same and not is_repeat(candidate.student, recent):
                return candidate.student
        return None

    def _own_line(
        self,
        scores: Sequence[float],
        words: set[str],
        recent: Sequence[str],
        kinds: tuple[str, ...],
    ) -> str | None:
        """The line of one of ``kinds`` whose teacher line best matches the message, if it
        shares more than half of the message's words (one shared "like" is not the same
        question)."""
        best, best_score = None, _OWN_LINE_SCORE
        for candidate, score in zip(self._candidates, scores, strict=True):
            kind = "approved" if candidate.approved else candidate.kind
            if kind not in kinds or _NUMBER.search(candidate.student):
                continue
            shared = len(words & set(_tokens(candidate.teacher)))
            if 2 * shared <= len(words) or float(score) < best_score:
                continue
            if not is_repeat(candidate.student, recent):
                best, best_score = candidate.student, float(score)
        return best

    @staticmethod
    def _recent_replies(request: BrainRequest) -> list[str]:
        return [str(m.content) for m in request.history if m.type == "ai"][-_RECENT:]

    async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        reply = self.choose(request)
        words = reply.split(" ")
        for index, word in enumerate(words):
            yield word if index == len(words) - 1 else word + " "
            await asyncio.sleep(0)  # let the UI paint between chunks, like a real stream


def create(spec: BrainSpec, context: BrainContext) -> OfflineBrain:
    return OfflineBrain(context.persona, context.approved_examples, name=spec.name)


KIND = BrainKind(summary="the persona's examples and approved turns; no model, no network")
