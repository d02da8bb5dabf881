"""What a debrief holds: plain frozen dataclasses, JSON-ready through :meth:`Debrief.to_dict`.

"Turn N" everywhere means the trainee's N-th message of the session (1-based) and the child's
reply to it, so a resumed session keeps counting where it left off.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Exchange:
    """One teacher message and the child's reply (``None`` if it was never answered)."""

    turn: int
    teacher: str
    student: str | None
    state: dict[str, Any] | None
    """The stored student state this reply left."""


@dataclass(frozen=True)
class MoveEvent:
    turn: int
    teacher: str
    kind: str
    """The child model's move kind (``last_move.kind``, or the recognizer's / talk classifier's)."""
    counted: bool
    why: str
    child_said: str
    source: str
    """Where the verdict came from: "state" (the child model's own record), "counters" (its
    effective/ineffective counts moved), or "recognizer" (re-read now: it moved no counter)."""


@dataclass(frozen=True)
class MisconceptionTimeline:
    id: str
    belief: str
    moves_needed: int | None
    first_showed: int | None
    first_showed_quote: str | None
    events: list[MoveEvent]
    resolved_at: int | None
    held_at_end: bool
    answers_while_held: list[tuple[int, str]] = field(default_factory=list)
    """(turn, what the child answered) while the misconception was held, when the state says."""

    @property
    def counted_events(self) -> list[MoveEvent]:
        """The moves that counted against the misconception, in order."""
        return [event for event in self.events if event.counted]


@dataclass(frozen=True)
class TalkFigures:
    teacher_words: int
    child_words: int
    teacher_turns: int
    child_turns: int
    teacher_word_share: float
    teacher_turn_share: float
    questions: int
    open_questions: int
    closed_questions: int
    moves: dict[str, int]
    """Talk-move label -> number of sentences making it."""
    move_turns: dict[str, list[int]]
    """Talk-move label -> the turns it happened in."""
    uptake_turns: list[int]
    """Turns whose message builds on the child's previous reply."""
    uptake_rate: float
    """Share of the teacher messages that followed a child reply and built on it."""
    self_answered_turns: list[int]
    """Turns where the teacher asked a question and answered it in the same message."""
    question_examples: dict[str, tuple[int, str]]
    """"open"/"closed" -> (turn, the question) of the first of each."""

    @property
    def praise_effort(self) -> int:
        return self.moves.get("praise_effort", 0)

    @property
    def praise_answer(self) -> int:
        return self.moves.get("praise_answer", 0)


@dataclass(frozen=True)
class Suggestion:
    turn: int | None
    kind: str
    text: str


@dataclass(frozen=True)
class Debrief:
    session_id: int
    persona_id: str
    child_name: str
    trainee: str
    started_at: str
    ended_at: str | None
    exchanges: int
    timeline: list[MisconceptionTimeline]
    talk: TalkFigures
    suggestions: list[Suggestion]
    brains: list[str]
    """Brains that answered, in order (swaps included)."""
    ratings: dict[str, int]
    """Feedback the trainee gave on the child's replies: rated, flagged, rewritten."""

    @property
    def counted_moves(self) -> int:
        return sum(1 for t in self.timeline for e in t.events if e.counted)

    @property
    def first_resolution(self) -> int | None:
        turns = [t.resolved_at for t in self.timeline if t.resolved_at is not None]
        return min(turns) if turns else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["talk"]["praise_effort"] = self.talk.praise_effort
        data["talk"]["praise_answer"] = self.talk.praise_answer
        data["counted_moves"] = self.counted_moves
        data["first_resolution"] = self.first_resolution
        return data
