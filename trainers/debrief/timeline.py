"""The child's timeline per misconception, read from the states stored with each reply.

Each student turn stores the state it left. The child model's own record of the move
(``last_move``: which misconception, kind, counted, why) is used when the state has it; older
states carry only the effective/ineffective counters, and then a counter that moved says whether
the move counted and the move recognizer (or the talk-move classifier) names its kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from personas.schema import Misconception, Persona
from trainers.debrief.model import Exchange, MisconceptionTimeline, MoveEvent
from trainers.debrief.talk_moves import TalkMove

# The child model records every message on a misconception; these kinds are not attempts to
# teach it, so when they do not help they are left off the timeline.
NOT_TEACHING_KINDS = frozenset({"question", "praise", "other"})
# Talk moves that try to teach: a turn with one of these on a held misconception that moved no
# counter is shown as a move that did not count.
TEACHING_LABELS = ("model", "ask_check", "telling", "reconsider")

Recognizer = Callable[[str], tuple[str, str]]
"""message -> (move kind, why)."""


def _entry(state: dict[str, Any] | None, misconception_id: str) -> dict[str, Any]:
    if not state:
        return {"held": True, "effective_moves": 0, "ineffective_moves": 0}
    return state.get("misconceptions", {}).get(
        misconception_id, {"held": True, "effective_moves": 0, "ineffective_moves": 0}
    )


def _mentions(text: str, cues: list[str]) -> bool:
    lowered = text.lower().replace("\u2019", "'")
    return any(
        re.search(r"(?<![a-z0-9])" + re.escape(cue.lower().strip()), lowered)
        for cue in cues
        if cue.strip()
    )


def _which(moves: list, message: str) -> str | None:
    for move in moves:
        if _mentions(message, move.cues):
            return move.description
    return None


def misconception_ids(persona: Persona | None, exchanges: list[Exchange]) -> list[str]:
    ids = [m.id for m in persona.misconceptions] if persona else []
    for exchange in exchanges:
        for key in (exchange.state or {}).get("misconceptions", {}):
            if key not in ids:
                ids.append(key)
    return ids


def build_timeline(
    misconception_id: str,
    misconception: Misconception | None,
    exchanges: list[Exchange],
    talk: dict[int, list[tuple[str, TalkMove]]],
    recognize: Recognizer,
) -> MisconceptionTimeline:
    events: list[MoveEvent] = []
    answers: list[tuple[int, str]] = []
    first_showed: int | None = None
    first_quote: str | None = None
    resolved_at: int | None = None
    previous: dict[str, Any] | None = None
    held_at_end = True
    for exchange in exchanges:
        state = exchange.state
        if state is None:  # an unanswered last message: the child never heard it
            continue
        before, after = _entry(previous, misconception_id), _entry(state, misconception_id)
        previous = state
        held_at_end = bool(after.get("held", True))
        last_move = state.get("last_move") or None
        answer = state.get("answer") or None
        on_topic = (
            state.get("active") == misconception_id
            or (last_move or {}).get("misconception") == misconception_id
            or (answer or {}).get("misconception") == misconception_id
        )
        if on_topic and first_showed is None:
            first_showed, first_quote = exchange.turn, exchange.student
        held_answer = answer and answer.get("misconception") == misconception_id
        if held_answer and answer.get("held") and answer.get("value") is not None:
            answers.append((exchange.turn, str(answer["value"])))
        if not before.get("held", True):
            continue  # resolved earlier: later moves teach nothing new about it
        event = _event(exchange, misconception_id, misconception, before, after, last_move)
        if event is None and on_topic and "last_move" not in state:
            labels = [move.label for _, move in talk.get(exchange.turn, [])]
            if any(label in TEACHING_LABELS for label in labels):
                kind, why = recognize(exchange.teacher)
                event = MoveEvent(
                    exchange.turn,
                    exchange.teacher,
                    kind,
                    False,
                    f"{why}; the child model did not count it",
                    exchange.student or "",
                    "recognizer",
                )
        if event is not None:
            events.append(event)
            if first_showed is None:
                first_showed, first_quote = exchange.turn, exchange.student
        if before.get("held", True) and not after.get("held", True):
            resolved_at = exchange.turn
    return MisconceptionTimeline(
        id=misconception_id,
        belief=misconception.belief.strip() if misconception else misconception_id,
        moves_needed=misconception.moves_needed if misconception else None,
        first_showed=first_showed,
        first_showed_quote=first_quote,
        events=events,
        resolved_at=resolved_at,
        held_at_end=held_at_end,
        answers_while_held=answers,
    )


def _event(
    exchange: Exchange,
    misconception_id: str,
    misconception: Misconception | None,
    before: dict[str, Any],
    after: dict[str, Any],
    last_move: dict[str, Any] | None,
) -> MoveEvent | None:
    child = exchange.student or ""
    effective = after.get("effective_moves", 0) - before.get("effective_moves", 0)
    ineffective = after.get("ineffective_moves", 0) - before.get("ineffective_moves", 0)
    if last_move and last_move.get("misconception") == misconception_id:
        # "counted" in the child model's record means the move was weighed (as effective or as
        # ineffective); for the trainee a move counts when it helped: its effect, or the
        # effective counter, says so.
        helped = last_move.get("effect") == "effective" or effective > 0
        if not helped and last_move.get("kind") in NOT_TEACHING_KINDS:
            return None
        return MoveEvent(
            exchange.turn,
            exchange.teacher,
            str(last_move.get("kind", "other")),
            helped,
            str(last_move.get("why", "")),
            child,
            "state",
        )
    if effective > 0:
        needed = misconception.moves_needed if misconception else None
        which = _which(misconception.effective_moves, exchange.teacher) if misconception else None
        why = f"counted: {which.rstrip('.')}" if which else "counted as an effective move"
        if needed:
            why += f" ({after.get('effective_moves', 0)} of {needed} needed)"
        return MoveEvent(exchange.turn, exchange.teacher, "effective", True, why, child, "counters")
    if ineffective > 0:
        which = _which(misconception.ineffective_moves, exchange.teacher) if misconception else None
        why = (
            f"does not dislodge it: {which.rstrip('.')}"
            if which
            else "a move that does not dislodge it"
        )
        return MoveEvent(
            exchange.turn, exchange.teacher, "ineffective", False, why, child, "counters"
        )
    return None
