"""What can go wrong with the transcript database, each in words a trainee can act on.

:class:`UnknownSession` and :class:`UnknownBrain` are lookups that found nothing (``KeyError``s);
:class:`StoreError` is a database that could not be opened, read or written.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from agent.errors import UttaError


class UnknownSession(KeyError):
    """No session has the requested id."""

    def __init__(self, session_id: int, path: Path) -> None:
        super().__init__(session_id)
        self.session_id = session_id
        self.message = (
            f"there is no session {session_id} in {path} — run `utta sessions list` to see the "
            "session ids"
        )

    def __str__(self) -> str:  # KeyError would show the repr of its argument
        return self.message


class UnknownBrain(KeyError):
    """No saved brain has the requested name; the message lists the names there are."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(name)
        self.name = name
        saved = ", ".join(known) if known else "none yet"
        self.message = f"there is no saved brain named {name!r} (saved brains: {saved})"

    def __str__(self) -> str:
        return self.message


class StoreError(UttaError, sqlite3.OperationalError):
    """The database could not be opened, read or written: the message names the file and the
    problem, ``fix`` says what to do. Still an ``sqlite3.OperationalError`` for old handlers."""


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


_ANOTHER_FILE = "or choose another file with --db PATH (or UTTA_DB)"


def database_error(error: BaseException, path: Path, *, writing: bool = True) -> StoreError:
    """``error`` (from sqlite3, or an ``OSError`` while creating the folder) as a
    :class:`StoreError` about ``path``; ``writing``: the database was opened for writing."""
    if isinstance(error, StoreError):
        return error
    if isinstance(error, OSError):
        reason = error.strerror or str(error)
        if error.filename and str(error.filename) != str(path.parent):
            reason += f": {error.filename}"
        return StoreError(
            f"cannot create the folder for the database {path} ({reason})",
            fix=f"create the folder and make it writable, {_ANOTHER_FILE}",
        )
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error).lower()
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "not a database" in text:
        return StoreError(
            f"{path} is not a readable utta database (it is damaged, or another kind of file)",
            fix=f"restore it from a backup, or move it aside to start a new one, {_ANOTHER_FILE}",
        )
    # Opening a WAL database for writing on a read-only file system fails as "unable to open".
    cannot_write = writing and path.exists() and not _writable(path)
    if name.startswith("SQLITE_READONLY") or "readonly" in text or cannot_write:
        return StoreError(
            f"the database {path} is read-only",
            fix=f"make the file and its folder writable, {_ANOTHER_FILE}",
        )
    if name.startswith("SQLITE_FULL") or "disk is full" in text or "disk full" in text:
        return StoreError(
            f"the disk holding the database {path} is full; what was saved before is safe",
            fix="free some space, then try again",
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return StoreError(
            f"the database {path} stayed locked by another program",
            fix="try again in a moment; close other utta windows if it persists",
        )
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_IOERR")) or "open" in text:
        return StoreError(
            f"cannot open the database {path} ({error})",
            fix=f"check that the file and its folder exist and may be read, {_ANOTHER_FILE}",
        )
    return StoreError(f"the database {path} failed: {error}", fix=_ANOTHER_FILE.capitalize())
