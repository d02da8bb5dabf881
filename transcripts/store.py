"""The transcript store: every session, turn, brain swap and piece of feedback, in one SQLite file.

Every write commits before the method returns, so a crash loses at most the turn in flight. Several
``Store`` objects (two chat windows and a trainer) may share one file; see
:mod:`transcripts.connection`.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from agent.paths import database_path
from agent.secrets import redact_secrets
from transcripts._sqlite_utils import Database, NotFoundError
from transcripts.connection import (
    open_database,
    open_database_readonly,
    utc_now,
    write_transaction,
)
from transcripts.errors import StoreError, UnknownBrain, UnknownSession, database_error
from transcripts.migrations import MIGRATIONS, applied_migrations, migrate
from transcripts.records import BrainRow, FeedbackRow, Role, SessionRow, SwapRow, TurnRow

__all__ = ["Store", "StoreError", "UnknownBrain", "UnknownSession"]

ROLES: tuple[Role, ...] = ("teacher", "student")
_TURN_COLUMNS = [
    "id", "session_id", "idx", "role", "text", "brain_id", "latency_ms",
    "prompt_tokens", "completion_tokens", "created_at", "student_state",
]  # fmt: skip
_SESSIONS_SQL = """
select sessions.*,
       (select count(*) from turns where turns.session_id = sessions.id) as turn_count
from sessions
"""
# The current feedback on a turn is its latest row.
_CURRENT_FEEDBACK_SQL = """
select feedback.* from feedback
where feedback.id = (select max(f.id) from feedback f where f.turn_id = feedback.turn_id)
"""


def _dumps(value: Any, what: str) -> str:
    try:
        # Specs, lineage and states are written as JSON text: redact the text as a whole.
        return redact_secrets(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} must be JSON-serialisable: {error}") from None


P = ParamSpec("P")
R = TypeVar("R")


def _serialised(method: Callable[Concatenate[Store, P], R]) -> Callable[Concatenate[Store, P], R]:
    """Run ``method`` holding the store's lock: one connection, one user at a time. A database
    failure (damaged file, read-only, disk full) comes out as a :class:`StoreError`."""

    @functools.wraps(method)
    def locked(self: Store, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            try:
                return method(self, *args, **kwargs)
            except StoreError:
                raise
            except sqlite3.Error as error:
                raise database_error(error, self.path, writing=not self.readonly) from error

    return locked


def _redacted(text: str | None) -> str | None:
    return None if text is None else redact_secrets(text)


def _equal_filters(**columns: Any) -> tuple[list[str], list[Any]]:
    """``column = ?`` conditions and their arguments for each column given a value (``None``
    means any value), for a ``where`` clause."""
    given = {column: value for column, value in columns.items() if value is not None}
    return [f"{column} = ?" for column in given], list(given.values())


def _blank_to_none(text: str | None) -> str | None:
    return text if text is not None and text.strip() else None


class Store:
    """The transcript database. One ``Store`` may be shared between threads (its methods take
    turns); separate ``Store`` objects, in one process or several, may share one file."""

    def __init__(self, path: Path | str | None = None, *, readonly: bool = False) -> None:
        """Open the transcript database at ``path`` (default: ``$UTTA_DB`` or the data dir),
        creating it and its folder when missing and bringing its schema up to date.

        ``readonly`` (the commands that only read) opens the file read-only and creates nothing:
        a missing file reads as an empty database. Raises :class:`StoreError`.
        """
        self._lock = threading.RLock()
        self.path = Path(path).expanduser() if path is not None else database_path()
        self.readonly = readonly
        try:
            self.db = self._open_readonly() if readonly else open_database(self.path)
            if not readonly:
                migrate(self.db)
        except sqlite3.Error as error:
            raise database_error(error, self.path, writing=not self.readonly) from error

    def _open_readonly(self) -> Database:
        db = open_database_readonly(self.path)
        try:
            applied = applied_migrations(db) if db is not None else []
        except sqlite3.Error:
            if db is not None:
                db.close()
            raise
        if not applied:  # no file, or an empty one: nothing to read, nothing to create
            if db is not None:
                db.close()
            db = Database(sqlite3.connect(":memory:", check_same_thread=False))
            migrate(db)
            # An empty stand-in: a write through a read-only store must fail, not vanish.
            db.execute("PRAGMA query_only = ON")
        elif len(applied) < len(MIGRATIONS):
            db.close()
            raise StoreError(
                f"the database {self.path} was written by an older utta",
                fix="open it once with `utta chat` (or `utta brains add`) to bring it up to date",
            )
        return db

    @_serialised
    def check_writable(self) -> None:
        """Raise :class:`StoreError` now if the database cannot be written (read-only file or
        folder), rather than at the first turn."""
        with write_transaction(self.db):  # BEGIN IMMEDIATE takes the write lock, writes nothing
            pass

    @_serialised
    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # --- sessions -----------------------------------------------------------------------------

    @_serialised
    def start_session(self, persona_id: str, trainee: str, brain_id: str) -> int:
        with write_transaction(self.db):
            table = self.db["sessions"].insert(
                {
                    "persona_id": persona_id,
                    "trainee": trainee,
                    "started_at": utc_now(),
                    "ended_at": None,
                    "brain_at_start": brain_id,
                    "student_state": None,
                    "uuid": str(uuid.uuid4()),
                }
            )
        return int(table.last_pk)

    @_serialised
    def end_session(self, session_id: int) -> None:
        """Stamp the session as ended now (again, if it was resumed after ending)."""
        with write_transaction(self.db):
            self._require_session(session_id)
            self.db["sessions"].update(session_id, {"ended_at": utc_now()})

    @_serialised
    def discard_if_empty(self, session_id: int) -> bool:
        """Delete a session that never got a turn (and its swaps); ``True`` if it was deleted.

        A chat opened, swapped or cancelled without one exchange leaves nothing behind.
        """
        with write_transaction(self.db):
            self._require_session(session_id)
            (turns,) = self.db.execute(
                "select count(*) from turns where session_id = ?", [session_id]
            ).fetchone()
            if turns:
                return False
            self.db.execute("delete from brain_swaps where session_id = ?", [session_id])
            self.db.execute("delete from sessions where id = ?", [session_id])
        return True

    @_serialised
    def session(self, session_id: int) -> SessionRow:
        rows = list(self.db.query(_SESSIONS_SQL + "where sessions.id = ?", [session_id]))
        if not rows:
            raise UnknownSession(session_id, self.path)
        return SessionRow.from_row(rows[0])

    @_serialised
    def sessions(
        self,
        persona_id: str | None = None,
        trainee: str | None = None,
        since: datetime | str | None = None,
        limit: int | None = None,
    ) -> list[SessionRow]:
        """Sessions, newest first, optionally only one persona's or trainee's, or those started
        at or after ``since`` (a datetime, naive meaning UTC, or an ISO string)."""
        wheres, args = _equal_filters(persona_id=persona_id, trainee=trainee)
        if since is not None:
            if isinstance(since, datetime):
                aware = since if since.tzinfo else since.replace(tzinfo=UTC)
                since = aware.astimezone(UTC).isoformat(timespec="milliseconds")
            wheres.append("started_at >= ?")
            args.append(since)
        sql = _SESSIONS_SQL + ("where " + " and ".join(wheres) if wheres else "")
        sql += "\norder by started_at desc, id desc"
        if limit is not None:
            sql += "\nlimit ?"
            args.append(limit)
        return [SessionRow.from_row(row) for row in self.db.query(sql, args)]

    def _require_session(self, session_id: int) -> None:
        try:
            self.db["sessions"].get(session_id)
        except NotFoundError:
            raise UnknownSession(session_id, self.path) from None

    # --- turns --------------------------------------------------------------------------------

    @_serialised
    def add_turn(
        self,
        session_id: int,
        role: Role,
        text: str,
        *,
        brain_id: str | None = None,
        latency_ms: float | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        student_state: dict[str, Any] | None = None,
    ) -> int:
        """Append a turn and commit it. A student turn's ``student_state`` also becomes the
        session's latest state, in the same transaction."""
        if role not in ROLES:
            raise ValueError(f"a turn's role is 'teacher' or 'student', not {role!r}")
        if role == "teacher" and student_state is not None:
            raise ValueError("only a student turn carries a student state")
        state_json = None if student_state is None else _dumps(student_state, "student_state")
        with write_transaction(self.db):
            self._require_session(session_id)
            (idx,) = self.db.execute(
                "select coalesce(max(idx) + 1, 0) from turns where session_id = ?", [session_id]
            ).fetchone()
            table = self.db["turns"].insert(
                {
                    "session_id": session_id,
                    "idx": idx,
                    "role": role,
                    "text": redact_secrets(text),
                    "brain_id": brain_id,
                    "latency_ms": latency_ms,
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "created_at": utc_now(),
                    "student_state": state_json,
                }
            )
            if state_json is not None:
                self.db["sessions"].update(session_id, {"student_state": state_json})
        return int(table.last_pk)

    @_serialised
    def delete_last_turn_if_teacher(self, session_id: int) -> str | None:
        """Withdraw an unanswered teacher message: delete the session's last turn if the teacher
        wrote it and return its text; otherwise change nothing and return ``None``."""
        with write_transaction(self.db):
            last = next(
                self.db["turns"].rows_where(
                    "session_id = ?", [session_id], order_by="idx desc", limit=1
                ),
                None,
            )
            if last is None or last["role"] != "teacher":
                return None
            self.db["turns"].delete(last["id"])
        return str(last["text"])

    @_serialised
    def resend_unanswered(self, session_id: int, text: str) -> int:
        """Replace the session's last turn, an unanswered teacher message, with ``text`` (the
        same message re-sent, or an edited one) in one transaction, so a crash keeps one of them.
        """
        with write_transaction(self.db):
            self.delete_last_turn_if_teacher(session_id)
            return self.add_turn(session_id, "teacher", text)

    @_serialised
    def turns(self, session_id: int) -> list[TurnRow]:
        self._require_session(session_id)
        rows = self.db["turns"].rows_where("session_id = ?", [session_id], order_by="idx")
        return [TurnRow.from_row(row) for row in rows]

    @_serialised
    def latest_state(self, session_id: int) -> dict[str, Any] | None:
        """The student state the session's latest reply left (``StudentState.from_dict`` input)."""
        return self.session(session_id).student_state

    @_serialised
    def search(self, query: str, limit: int = 20) -> list[TurnRow]:
        """Turns whose text matches ``query``, best match first. Words are matched as typed
        (stemmed: "block" finds "blocks"); FTS operators are not interpreted."""
        if not query.strip():
            return []
        rows = self.db["turns"].search(query, columns=_TURN_COLUMNS, limit=limit, quote=True)
        return [TurnRow.from_row(row) for row in rows]

    # --- brain swaps --------------------------------------------------------------------------

    @_serialised
    def record_swap(
        self, session_id: int, from_brain: str, to_brain: str, accepted: bool, reason: str
    ) -> int:
        with write_transaction(self.db):
            self._require_session(session_id)
            (at_turn,) = self.db.execute(
                "select count(*) from turns where session_id = ?", [session_id]
            ).fetchone()
            table = self.db["brain_swaps"].insert(
                {
                    "session_id": session_id,
                    "at_turn": at_turn,
                    "from_brain": from_brain,
                    "to_brain": to_brain,
                    "accepted": int(accepted),
                    "reason": _redacted(reason),
                    "created_at": utc_now(),
                }
            )
        return int(table.last_pk)

    @_serialised
    def swaps(self, session_id: int) -> list[SwapRow]:
        rows = self.db["brain_swaps"].rows_where("session_id = ?", [session_id], order_by="id")
        return [SwapRow.from_row(row) for row in rows]

    # --- feedback -----------------------------------------------------------------------------

    @_serialised
    def add_feedback(
        self,
        turn_id: int,
        *,
        flagged: bool = False,
        rating: int | None = None,
        rewrite: str | None = None,
        note: str | None = None,
    ) -> int:
        """Record the trainee's feedback on a student turn. A turn may get feedback many times;
        the latest row is the current one. Blank ``rewrite``/``note`` count as none."""
        if rating is not None and (
            isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
        ):
            raise ValueError(f"a rating is a whole number from 1 to 5, not {rating!r}")
        with write_transaction(self.db):
            try:
                turn = self.db["turns"].get(turn_id)
            except NotFoundError:
                raise ValueError(
                    f"there is no turn {turn_id}; feedback goes on a student turn that was logged"
                ) from None
            if turn["role"] != "student":
                raise ValueError(
                    f"turn {turn_id} is the teacher's message; feedback goes on the student's "
                    "replies"
                )
            table = self.db["feedback"].insert(
                {
                    "turn_id": turn_id,
                    "flagged": int(flagged),
                    "rating": rating,
                    "rewrite": _redacted(_blank_to_none(rewrite)),
                    "note": _redacted(_blank_to_none(note)),
                    "created_at": utc_now(),
                }
            )
        return int(table.last_pk)

    @_serialised
    def feedback(self, session_id: int) -> list[FeedbackRow]:
        """Every feedback row on the session's turns, oldest first (the latest per turn counts)."""
        rows = self.db.query(
            "select feedback.* from feedback join turns on turns.id = feedback.turn_id"
            " where turns.session_id = ? order by feedback.id",
            [session_id],
        )
        return [FeedbackRow.from_row(row) for row in rows]

    @_serialised
    def approved_examples(self, persona_id: str, min_rating: int = 4) -> list[tuple[str, str]]:
        """(teacher message, student reply) pairs the trainees approved for ``persona_id``.

        A student turn counts when its current feedback rates it ``min_rating`` or better and does
        not flag it, or carries a rewrite, which then replaces the reply. The teacher message is
        the turn just before it. Sessions kept out of training count for nothing. Oldest first.
        """
        sql = f"""
        with current as ({_CURRENT_FEEDBACK_SQL})
        select teacher.text as teacher, coalesce(current.rewrite, student.text) as student
        from turns student
        join current on current.turn_id = student.id
        join sessions on sessions.id = student.session_id
        join turns teacher on teacher.session_id = student.session_id
                          and teacher.idx = student.idx - 1 and teacher.role = 'teacher'
        where sessions.persona_id = ? and student.role = 'student'
          and not sessions.exclude_from_training
          and (current.rewrite is not null
               or (current.rating >= ? and not current.flagged))
        order by student.session_id, student.idx
        """
        rows = self.db.query(sql, [persona_id, min_rating])
        return [(row["teacher"], row["student"]) for row in rows]

    # --- brain registry -----------------------------------------------------------------------

    @_serialised
    def save_brain(
        self,
        name: str,
        kind: str,
        spec: dict[str, Any],
        persona_id: str | None = None,
        lineage: Any = None,
    ) -> BrainRow:
        """Save the brain called ``name``, replacing any saved under that name; ``spec`` and
        ``lineage`` are stored as JSON."""
        if not name.strip():
            raise ValueError("a saved brain needs a name")
        if not isinstance(spec, dict):
            raise ValueError(f"a brain spec is a JSON object (dict), not {type(spec).__name__}")
        row = {
            "name": name,
            "kind": kind,
            "persona_id": persona_id,
            "spec": _dumps(spec, "the brain spec"),
            "created_at": utc_now(),
            "lineage": None if lineage is None else _dumps(lineage, "the brain lineage"),
        }
        with write_transaction(self.db):
            self.db["brains"].insert(row, replace=True)
        return BrainRow.from_row(row)

    @_serialised
    def brain(self, name: str) -> BrainRow:
        try:
            return BrainRow.from_row(self.db["brains"].get(name))
        except NotFoundError:
            raise UnknownBrain(name, [b.name for b in self.brains()]) from None

    @_serialised
    def brains(self) -> list[BrainRow]:
        return [BrainRow.from_row(row) for row in self.db["brains"].rows_where(order_by="name")]

    @_serialised
    def remove_brain(self, name: str) -> None:
        with write_transaction(self.db):
            try:
                self.db["brains"].get(name)
            except NotFoundError:
                raise UnknownBrain(name, [b.name for b in self.brains()]) from None
            self.db["brains"].delete(name)
