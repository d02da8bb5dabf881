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
