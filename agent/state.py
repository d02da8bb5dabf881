"""The student state: which misconceptions are still held, and how the child feels.

State is rule-based and brain-independent so it survives brain swaps and session resume: it is
stored with every completed student turn and rebuilt from there.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

from personas.schema import Misconception, Persona, TeacherMove

Mood = Literal["happy", "ok", "frustrated", "bored"]

_PRAISE = re.compile(r"\b(great|good job|well done|nice|awesome|you got it|excellent|proud)\b")
# A teacher message this long reads as a lecture to a seven-year-old.
_LECTURE_WORDS = 45


def _mentions(text: str, cues: list[str]) -> bool:
    """True when a cue starts a word in ``text`` ("block" matches "blocks", not "unblock")."""
    lowered = text.lower().replace("\u2019", "'")  # phones and Macs type curly apostrophes
    return any(
        re.search(r"(?<![a-z0-9])" + re.escape(cue.lower().strip()), lowered)
        for cue in cues
        if cue.strip()
    )


def _matches(text: str, moves: list[TeacherMove]) -> bool:
    return any(_mentions(text, move.cues) for move in moves)


@dataclass(frozen=True)
class MisconceptionState:
    held: bool = True
    effective_moves: int = 0
    ineffective_moves: int = 0


@dataclass(frozen=True)
class StudentState:
    misconceptions: dict[str, MisconceptionState] = field(default_factory=dict)
    mood: Mood = "ok"
    active: str | None = None
    """The misconception the conversation is on, if any."""
    turns: int = 0

    @classmethod
    def initial(cls, persona: Persona) -> StudentState:
        return cls(misconceptions={m.id: MisconceptionState() for m in persona.misconceptions})

    def holds(self, misconception_id: str) -> bool:
        entry = self.misconceptions.get(misconception_id)
        return entry.held if entry else True

    def after_teacher(self, persona: Persona, message: str) -> StudentState:
        """The state once the child has heard ``message``: a pure function, nothing is stored."""
        active = self._topic_of(persona, message) or self.active
        entries = dict(self.misconceptions)
        mood: Mood = "ok" if self.mood == "happy" else self.mood
        if active is not None:
            misconception = persona.misconception(active)
            entry = entries.get(active, MisconceptionState())
            entries[active] = self._apply_moves(misconception, entry, message)
            if entry.held and not entries[active].held:
                mood = "happy"
            elif entries[active].ineffective_moves > entry.ineffective_moves:
                mood = "frustrated" if entries[active].ineffective_moves >= 2 else mood
        if _PRAISE.search(message.lower()):
            mood = "happy"
        elif len(message.split()) > _LECTURE_WORDS:
            mood = "bored"
        return replace(self, misconceptions=entries, mood=mood, active=active, turns=self.turns + 1)

    def _topic_of(self, persona: Persona, message: str) -> str | None:
        """The misconception whose triggers the message mentions most; ties keep the topic."""
        hits = {
            m.id: sum(_mentions(message, [trigger]) for trigger in m.triggers)
            for m in persona.misconceptions
        }
        best = max(hits.values(), default=0)
        if best == 0:
            return None
        if self.active is not None and hits.get(self.active) == best:
            return self.active
        return next(key for key, count in hits.items() if count == best)

    @staticmethod
    def _apply_moves(
        misconception: Misconception, entry: MisconceptionState, message: str
    ) -> MisconceptionState:
        if not entry.held:
            return entry
        if _matches(message, misconception.effective_moves):
            count = entry.effective_moves + 1
            return replace(entry, effective_moves=count, held=count < misconception.moves_needed)
        if _matches(message, misconception.ineffective_moves):
            return replace(entry, ineffective_moves=entry.ineffective_moves + 1)
        return entry

    def describe(self, persona: Persona) -> str:
        """The state as a sentence or two for a language-model brain's system prompt."""
        parts = [f"Right now you feel {self.mood}."]
        for m in persona.misconceptions:
            if self.holds(m.id):
                parts.append(f"You still believe: {m.belief}")
            else:
                parts.append(f"You now understand what was wrong with: {m.belief}")
        return " ".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> StudentState:
        return cls(
            misconceptions={
                key: MisconceptionState(**value)
                for key, value in data.get("misconceptions", {}).items()
            },
            mood=data.get("mood", "ok"),
            active=data.get("active"),
            turns=data.get("turns", 0),
        )
