"""The debrief of one session, computed from what the store holds (turns, the state stored with
every reply, swaps, feedback), so it works for every past session and covers all of a resumed one.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from personas.schema import Persona
from trainers.debrief.model import Debrief, Exchange
from trainers.debrief.suggest import suggestions
from trainers.debrief.talk import talk_figures
from trainers.debrief.talk_moves import message_moves
from trainers.debrief.timeline import Recognizer, build_timeline, misconception_ids

if TYPE_CHECKING:
    from personas.loader import PersonaLibrary
    from transcripts.records import FeedbackRow, SessionRow, SwapRow, TurnRow
    from transcripts.store import Store


def exchanges_of(turns: list[TurnRow]) -> list[Exchange]:
    """Teacher messages numbered 1, 2, ... each with the reply and state that followed it."""
    exchanges: list[Exchange] = []
    pending: TurnRow | None = None
    for turn in turns:
        if turn.role == "teacher":
            if pending is not None:
                exchanges.append(Exchange(len(exchanges) + 1, pending.text, None, None))
            pending = turn
        elif pending is not None:
            exchanges.append(
                Exchange(len(exchanges) + 1, pending.text, turn.text, turn.student_state)
            )
            pending = None
    if pending is not None:
        exchanges.append(Exchange(len(exchanges) + 1, pending.text, None, None))
    return exchanges


@cache
def recognizer() -> Recognizer:
    """The child model's move recognizer when this install has it, else the talk-move classifier
    (its most teaching-like sentence)."""
    try:
        from agent.moves import classify_move
    except ImportError:
        classify_move = None
    if classify_move is not None:

        def recognize(message: str) -> tuple[str, str]:
            verdict = classify_move(message)
            return verdict.kind, verdict.why

        return recognize

    def by_talk_moves(message: str) -> tuple[str, str]:
        moves = [move for _, move in message_moves(message) if move.label != "other"]
        if not moves:
            return "other", "no teaching move read in it"
        best = max(moves, key=lambda move: move.confidence)
        return best.label, best.why

    return by_talk_moves


def compute_debrief(
    session: SessionRow,
    turns: list[TurnRow],
    swaps: list[SwapRow],
    feedback: list[FeedbackRow],
    persona: Persona | None,
) -> Debrief:
    exchanges = exchanges_of(turns)
    talk, per_turn = talk_figures(exchanges)
    timeline = []
    for misconception_id in misconception_ids(persona, exchanges):
        try:
            misconception = persona.misconception(misconception_id) if persona else None
        except KeyError:
            misconception = None
        timeline.append(
            build_timeline(misconception_id, misconception, exchanges, per_turn, recognizer())
        )
    child = persona.name if persona else "the child"
    current: dict[int, FeedbackRow] = {}
    for row in feedback:  # oldest first: the latest per turn wins
        current[row.turn_id] = row
    return Debrief(
        session_id=session.id,
        persona_id=session.persona_id,
        child_name=child,
        trainee=session.trainee,
        started_at=session.started_at,
        ended_at=session.ended_at,
        exchanges=len(exchanges),
        timeline=timeline,
        talk=talk,
        suggestions=suggestions(persona, child, exchanges, timeline, talk, per_turn),
        brains=[session.brain_at_start] + [s.to_brain for s in swaps if s.accepted],
        ratings={
            "rated": sum(1 for f in current.values() if f.rating is not None),
            "flagged": sum(1 for f in current.values() if f.flagged),
            "rewritten": sum(1 for f in current.values() if f.rewrite),
        },
    )


def _persona(library: PersonaLibrary | None, persona_id: str) -> Persona | None:
    """The session's persona; ``None`` when it is no longer installed (the debrief still works,
    without beliefs and suggested moves)."""
    from personas.loader import PersonaLibrary

    try:
        return (library or PersonaLibrary()).get(persona_id)
    except Exception:  # an unknown or now-invalid persona must not hide the session's debrief
        return None


def debrief_session(
    store: Store,
    session_id: int,
    library: PersonaLibrary | None = None,
    persona: Persona | None = None,
) -> Debrief:
    """The debrief of ``session_id``; raises ``UnknownSession`` for an id the store lacks.

    Pass the session's ``persona`` when it is at hand (the chat has it) to skip loading personas.
    """
    session = store.session(session_id)
    if persona is None or persona.id != session.persona_id:
        persona = _persona(library, session.persona_id)
    return compute_debrief(
        session,
        store.turns(session_id),
        store.swaps(session_id),
        store.feedback(session_id),
        persona,
    )
