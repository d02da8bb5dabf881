"""The offline default brain: answers in character from example exchanges, no language model.

It ranks the persona's example exchanges, plus turns the teacher approved in earlier sessions,
by BM25 similarity of their teacher line to the teacher's message. The student state decides
which examples are eligible: while a misconception is held it answers from the ``confused``
examples, once enough effective moves were seen from the ``understood`` ones.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from rank_bm25 import BM25Okapi

from agent.brain import Brain, BrainRequest
from agent.registry import BrainContext, BrainKind, BrainSpec
from agent.state import StudentState
from personas.schema import Example, Persona

_TOKEN = re.compile(r"[a-z]+|\d+")
# Function words carry no signal about what the teacher is asking.
_STOP = frozenset(
    "a an the and or but so to of in on at is are was be it this that do does did you your i me "
    "we can what how why let s ok okay".split()
)
# Bonuses on top of BM25, chosen so that the topic and the child's mood outweigh a shared word.
_ACTIVE_TOPIC_BONUS = 2.0
_MOOD_BONUS = 1.5


def _tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOP]


@dataclass(frozen=True)
class _Candidate:
    teacher: str
    student: str
    kind: str
    misconception: str | None
    phase: str | None


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
            _Candidate(teacher, student, "on_task", None, None) for teacher, student in approved
        ]
        self._index = BM25Okapi([_tokens(c.teacher) or ["_"] for c in self._candidates])

    @staticmethod
    def _from_example(example: Example) -> _Candidate:
        return _Candidate(
            example.teacher, example.student, example.kind, example.misconception, example.phase
        )

    def choose(self, request: BrainRequest) -> str:
        """The best eligible reply that is not the one given last."""
        state = request.state
        scores = self._index.get_scores(_tokens(request.message))
        wanted_kind = {"frustrated": "feeling", "bored": "off_task"}.get(state.mood)
        recent = set(self._recent_replies(request))
        ranked: list[tuple[float, int]] = []
        for position, candidate in enumerate(self._candidates):
            if not _eligible(candidate, state):
                continue
            score = float(scores[position])
            if state.active and candidate.misconception == state.active:
                score += _ACTIVE_TOPIC_BONUS
            if wanted_kind and candidate.kind == wanted_kind:
                score += _MOOD_BONUS
            if candidate.student in recent:
                score -= 100.0  # only as a last resort, and never the same as the last reply
            ranked.append((score, position))
        # Ties (e.g. no word in common) rotate with the turn count instead of always the first.
        ranked.sort(key=lambda item: (-item[0], (item[1] - state.turns) % len(self._candidates)))
        last = self._recent_replies(request)[-1:] or [None]
        for _, position in ranked:
            if self._candidates[position].student != last[0]:
                return self._candidates[position].student
        return "um. idk"

    @staticmethod
    def _recent_replies(request: BrainRequest) -> list[str]:
        return [str(m.content) for m in request.history if m.type == "ai"][-3:]

    async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        reply = self.choose(request)
        words = reply.split(" ")
        for index, word in enumerate(words):
            yield word if index == len(words) - 1 else word + " "
            await asyncio.sleep(0)  # let the UI paint between chunks, like a real stream


def create(spec: BrainSpec, context: BrainContext) -> OfflineBrain:
    return OfflineBrain(context.persona, context.approved_examples, name=spec.name)


KIND = BrainKind(summary="the persona's examples and approved turns; no model, no network")
