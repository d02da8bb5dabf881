"""Opening the transcript database so that several processes can share it.

Two chat windows and a trainer may hold the same file at once. WAL lets readers and one writer work
side by side; the busy timeout makes a second writer wait its turn instead of failing with
"database is locked"; every write goes through :func:`write_transaction`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from transcripts._sqlite_utils import Database

BUSY_TIMEOUT_MS = 5000


def utc_now() -> str:
    """The current time as ISO 8601 in UTC, e.g. ``2026-01-02T03:04:05.678+00:00``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def open_database(path: Path) -> Database:
    """Open (creating it and its folder if needed) ``path`` with WAL (synchronous NORMAL), busy
    timeout and FKs on.

    The connection may be used from any thread (a UI may open it in a worker and write from its
    event loop); whoever shares it must serialise its use, as :class:`~transcripts.store.Store`
    does with a lock.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = Database(sqlite3.connect(path, check_same_thread=False))
    # First, so that switching to WAL below already waits for a busy database.
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _enable_wal(db)
    # In WAL mode NORMAL syncs at checkpoints, not at every commit: a commit costs ~0.3 ms
    # instead of an fsync (8 ms median, 16 ms p90 on a loaded disk here), twice per turn. The
    # file cannot be corrupted either way; an app crash loses nothing committed, only a power
    # loss or OS crash may undo the last commits (see benchmarks/turn_overhead.py, README).
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    return db


def _enable_wal(db: Database) -> None:
    """Switch a new database file to WAL (the mode is stored in the file, so this happens once).

    Two processes opening a brand-new file at once can race here: the switch needs an exclusive
    lock and SQLite reports "database is locked" without calling the busy handler, so retry for as
    long as the busy timeout would have waited.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.enable_wal()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """Run a block of writes as one transaction that holds the write lock from its start.

    sqlite-utils' ``db.atomic()`` opens a deferred transaction. One that reads before it writes
    (``add_turn`` reads the next index) fails at once with "database is locked" when another
    connection commits in between: its read snapshot is stale and the busy timeout cannot help.
    ``BEGIN IMMEDIATE`` takes the write lock up front, so a second writer waits (busy timeout) and
    then reads fresh data. sqlite-utils' own writes inside the block nest as savepoints.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    try:
        db.commit()
    except BaseException:
        db.rollback()
        raise
