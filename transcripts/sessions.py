"""Managing logged sessions: find, rename, delete, keep out of training, and insert a session
that came from another machine (a bundle, see :mod:`trainers.bundle`).

Functions over a :class:`~transcripts.store.Store`, taking its lock like its own methods, so the
store itself stays about writing a live session.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from transcripts._sqlite_utils import Database
from transcripts.connection import utc_now, write_transaction
from transcripts.records import SessionRow
from transcripts.store import _SESSIONS_SQL, Store, UnknownSession, _equal_filters

__all__ = [
    "delete_session",
    "find_sessions",
    "insert_session",
    "last_sessions",
    "rename_session",
    "session_brains",
    "session_by_uuid",
    "set_excluded",
]


@contextmanager
def _locked(store: Store) -> Iterator[Database]:
    with store._lock:  # the store's own lock: one connection, one user at a time
        yield store.db


def _require(db: Database, store: Store, session_id: int) -> None:
    if db.execute("select 1 from sessions where id = ?", [session_id]).fetchone() is None:
        raise UnknownSession(session_id, store.path)


def _fts_words(text: str) -> str:
    return " ".join(f'"{word}"' for word in re.findall(r"\w+", text))


def find_sessions(
    store: Store,
    text: str = "",
    *,
    persona_id: str | None = None,
    trainee: str | None = None,
    excluded: bool | None = None,
    limit: int | None = None,
) -> list[SessionRow]:
    """Sessions, newest first. ``text`` matches a session whose title, persona or trainee
    contains it, or any of whose turns matches it in full-text search (stemmed, words as typed).
    ``excluded`` True/False keeps only sessions kept out of / used for training."""
    wheres, args = _equal_filters(
        persona_id=persona_id,
        trainee=trainee,
        exclude_from_training=None if excluded is None else int(excluded),
    )
    with _locked(store) as db:
        if text.strip():
            like = f"%{text.strip()}%"
            matches = ["coalesce(title, '') like ?", "persona_id like ?", "trainee like ?"]
            args += [like, like, like]
            words = _fts_words(text)
            if words:  # every word, as typed (FTS operators and stray quotes are not syntax)
                matches.append(
                    "sessions.id in (select session_id from turns where rowid in"
                    " (select rowid from turns_fts where turns_fts match ?))"
                )
                args.append(words)
            wheres.append("(" + " or ".join(matches) + ")")
        sql = _SESSIONS_SQL + ("where " + " and ".join(wheres) if wheres else "")
        sql += "\norder by started_at desc, id desc"
        if limit is not None:
            sql += "\nlimit ?"
            args.append(limit)
        return [SessionRow.from_row(row) for row in db.query(sql, args)]


def session_brains(store: Store, session_id: int) -> list[str]:
    """Every brain that answered in the session (or started it), in order of first use."""
    with _locked(store) as db:
        _require(db, store, session_id)
        (start,) = db.execute(
            "select brain_at_start from sessions where id = ?", [session_id]
        ).fetchone()
        rows = db.execute(
            "select brain_id from turns where session_id = ? and brain_id is not null order by idx",
            [session_id],
        ).fetchall()
    return list(dict.fromkeys([start, *(row[0] for row in rows)]))


def last_sessions(store: Store, trainee: str) -> dict[str, SessionRow]:
    """The trainee's latest session with at least one turn, per persona."""
    latest: dict[str, SessionRow] = {}
    for row in find_sessions(store, trainee=trainee):
        if row.turn_count and row.persona_id not in latest:
            latest[row.persona_id] = row
    return latest


def session_by_uuid(store: Store, session_uuid: str) -> SessionRow | None:
    with _locked(store) as db:
        rows = list(db.query(_SESSIONS_SQL + "where sessions.uuid = ?", [session_uuid]))
    return SessionRow.from_row(rows[0]) if rows else None


def rename_session(store: Store, session_id: int, title: str | None) -> None:
    """Give the session a title; a blank one removes it."""
    title = title.strip() if title and title.strip() else None
    with _locked(store) as db, write_transaction(db):
        _require(db, store, session_id)
        db.execute("update sessions set title = ? where id = ?", [title, session_id])


def set_excluded(store: Store, session_id: int, excluded: bool) -> None:
    """Keep the session out of (or let it back into) every training dataset."""
    with _locked(store) as db, write_transaction(db):
        _require(db, store, session_id)
        db.execute(
            "update sessions set exclude_from_training = ? where id = ?",
            [int(excluded), session_id],
        )


def delete_session(store: Store, session_id: int) -> None:
    """Delete the session with its turns, their feedback and its swaps, in one transaction."""
    with _locked(store) as db, write_transaction(db):
        _require(db, store, session_id)
        db.execute(
            "delete from feedback where turn_id in (select id from turns where session_id = ?)",
            [session_id],
        )
        db.execute("delete from turns where session_id = ?", [session_id])
        db.execute("delete from brain_swaps where session_id = ?", [session_id])
        db.execute("delete from sessions where id = ?", [session_id])


_SESSION_FIELDS = ("persona_id", "trainee", "started_at", "ended_at", "brain_at_start", "title")
_TURN_FIELDS = (
    "idx", "role", "text", "brain_id", "latency_ms", "prompt_tokens", "completion_tokens",
    "created_at", "student_state",
)  # fmt: skip
_FEEDBACK_FIELDS = ("flagged", "rating", "rewrite", "note", "created_at")
_SWAP_FIELDS = ("at_turn", "from_brain", "to_brain", "accepted", "reason", "created_at")


def _json_text(value: Any) -> str | None:
    import json

    return None if value is None else json.dumps(value, ensure_ascii=False)


def insert_session(store: Store, document: dict[str, Any], origin_machine: str | None) -> int:
    """Insert one session document (the shape :func:`transcripts.export.session_document`
    writes, with its ``uuid``) with its turns, feedback and swaps, in one transaction; return
    the new local id. The caller checks first that the uuid is not in the store."""
    with _locked(store) as db, write_transaction(db):
        session = {name: document.get(name) for name in _SESSION_FIELDS}
        session.update(
            uuid=document["uuid"],
            student_state=_json_text(document.get("student_state")),
            exclude_from_training=int(bool(document.get("excluded"))),
            origin_machine=origin_machine,
            imported_at=utc_now(),
        )
        session_id = int(db["sessions"].insert(session).last_pk)
        for turn in document.get("turns", []):
            row = {name: turn.get(name) for name in _TURN_FIELDS}
            row["student_state"] = _json_text(turn.get("student_state"))
            turn_id = int(db["turns"].insert({**row, "session_id": session_id}).last_pk)
            for feedback in turn.get("feedback", []):
                values = {name: feedback.get(name) for name in _FEEDBACK_FIELDS}
                values["flagged"] = int(bool(values["flagged"]))
                db["feedback"].insert({**values, "turn_id": turn_id})
        for swap in document.get("swaps", []):
            values = {name: swap.get(name) for name in _SWAP_FIELDS}
            values["accepted"] = int(bool(values["accepted"]))
            db["brain_swaps"].insert({**values, "session_id": session_id})
    return session_id
