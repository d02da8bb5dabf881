"""Sessions as JSON Lines: one object per session, with its turns (and their feedback) and swaps.

Only what the database holds is written: no paths, host names or environment variables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any, TextIO

from agent.secrets import redact_secrets
from transcripts.store import Store


def session_document(store: Store, session_id: int) -> dict[str, Any]:
    """One session as a JSON-ready dict: its fields, ``turns`` (each with its ``feedback`` rows,
    oldest first, the last being current) and ``swaps``."""
    session = asdict(store.session(session_id))
    feedback: dict[int, list[dict[str, Any]]] = {}
    for row in store.feedback(session_id):
        feedback.setdefault(row.turn_id, []).append(asdict(row))
    turns = [
        {**asdict(turn), "feedback": feedback.get(turn.id, [])} for turn in store.turns(session_id)
    ]
    swaps = [asdict(swap) for swap in store.swaps(session_id)]
    return {**session, "turns": turns, "swaps": swaps}


def export_jsonl(store: Store, session_ids: Iterable[int], out: TextIO) -> int:
    """Write one JSON line per session to ``out``; return how many were written.

    Every id is looked up before anything is written, so an unknown id
    (:class:`~transcripts.store.UnknownSession`) leaves ``out`` untouched.
    """
    documents = [session_document(store, session_id) for session_id in session_ids]
    for document in documents:
        # Redacted again: a database written before the store redacted must not leak via exports.
        out.write(redact_secrets(json.dumps(document, ensure_ascii=False)) + "\n")
    return len(documents)


def session_markdown(store: Store, session_id: int) -> str:
    """One session as Markdown: a heading, who and when, then every turn with its feedback and
    the brain swaps where they happened."""
    session = store.session(session_id)
    feedback = {row.turn_id: row for row in store.feedback(session_id)}  # the latest counts
    swaps: dict[int, list[Any]] = {}
    for swap in store.swaps(session_id):
        swaps.setdefault(swap.at_turn, []).append(swap)
    title = session.title or f"{session.persona_id} session {session.id}"
    lines = [
        f"# {title}",
        "",
        f"- persona: {session.persona_id}",
        f"- trainee: {session.trainee or '-'}",
        f"- started: {session.started_at}",
        f"- brain at start: {session.brain_at_start}",
    ]
    if session.resolved:
        lines.append(f"- resolved: {', '.join(session.resolved)}")
    if session.excluded:
        lines.append("- kept out of training")
    lines.append("")

    def swap_lines(at_turn: int) -> list[str]:
        return [
            f"> {'swapped' if s.accepted else 'refused swap'}: {s.from_brain} → {s.to_brain}"
            + (f" ({s.reason})" if s.reason else "")
            + "\n"
            for s in swaps.pop(at_turn, [])
        ]

    for turn in store.turns(session_id):
        lines += swap_lines(turn.idx)
        speaker = "Teacher" if turn.role == "teacher" else f"Student ({turn.brain_id or '?'})"
        lines += [f"**{speaker}:** {turn.text}", ""]
        if turn.id in feedback:
            row = feedback[turn.id]
            marks = [
                f"rated {row.rating}/5" if row.rating else "",
                "flagged" if row.flagged else "",
            ]
            lines.append(f"*feedback: {' · '.join(m for m in marks if m) or 'noted'}*")
            if row.rewrite:
                lines.append(f"*a real child would say:* {row.rewrite}")
            if row.note:
                lines.append(f"*note:* {row.note}")
            lines.append("")
    for at_turn in sorted(swaps):
        lines += swap_lines(at_turn)
    return redact_secrets("\n".join(lines).rstrip() + "\n")
