"""A trainee's progress across sessions: one row of debrief figures per session, oldest first."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from trainers.debrief.compute import compute_debrief
from trainers.debrief.model import Debrief

if TYPE_CHECKING:
    from personas.loader import PersonaLibrary
    from personas.schema import Persona
    from transcripts.store import Store


@dataclass(frozen=True)
class SessionProgress:
    session_id: int
    started_at: str
    persona_id: str
    turns: int
    counted_moves: int
    """Teaching moves the child model counted (effective moves), all misconceptions together."""
    moves_not_counted: int
    turns_to_resolution: int | None
    """The turn the first misconception resolved at; ``None`` if none did."""
    resolved: int
    teacher_word_share: float
    questions: int
    open_questions: int
    uptake_rate: float
    telling: int

    @classmethod
    def of(cls, debrief: Debrief) -> SessionProgress:
        events = [e for line in debrief.timeline for e in line.events]
        return cls(
            session_id=debrief.session_id,
            started_at=debrief.started_at,
            persona_id=debrief.persona_id,
            turns=debrief.exchanges,
            counted_moves=sum(e.counted for e in events),
            moves_not_counted=sum(not e.counted for e in events),
            turns_to_resolution=debrief.first_resolution,
            resolved=sum(line.resolved_at is not None for line in debrief.timeline),
            teacher_word_share=round(debrief.talk.teacher_word_share, 4),
            questions=debrief.talk.questions,
            open_questions=debrief.talk.open_questions,
            uptake_rate=round(debrief.talk.uptake_rate, 4),
            telling=debrief.talk.moves.get("telling", 0),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def trainee_progress(
    store: Store,
    trainee: str,
    persona_id: str | None = None,
    library: PersonaLibrary | None = None,
) -> list[SessionProgress]:
    """Every session of ``trainee`` (of ``persona_id`` only, if given) with at least one turn."""
    from personas.loader import PersonaLibrary

    library = library or PersonaLibrary()
    personas: dict[str, Persona | None] = {}
    rows: list[SessionProgress] = []
    for session in reversed(store.sessions(persona_id=persona_id, trainee=trainee)):
        if not session.turn_count:
            continue
        if session.persona_id not in personas:
            try:
                personas[session.persona_id] = library.get(session.persona_id)
            except Exception:  # a persona no longer installed: figures without its beliefs
                personas[session.persona_id] = None
        debrief = compute_debrief(
            session,
            store.turns(session.id),
            store.swaps(session.id),
            store.feedback(session.id),
            personas[session.persona_id],
        )
        rows.append(SessionProgress.of(debrief))
    return rows
