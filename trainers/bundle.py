"""A class's sessions in one place: session bundles out of one store and into another.

``utta sessions export --bundle -o FILE`` writes a trainee's sessions (turns with the state each
reply left, feedback, brain swaps, the brains used) as one JSON file, every text scrubbed of keys
and personal data (:class:`trainers.scrub.Scrubber`). Sessions carry their stable ``uuid``, so
``utta sessions import FILE...`` merges many trainees' bundles into one store idempotently: a
session already there with the same content is left alone, one with other content is reported as
a conflict and the store keeps its copy. Imported sessions keep their trainee, and the store
records the machine the bundle came from and when it was imported.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from trainers.scrub import Scrubber
from transcripts.export import session_document
from transcripts.sessions import insert_session, session_brains, session_by_uuid, set_excluded
from transcripts.store import Store

FORMAT = "utta-session-bundle"
VERSION = 1


def bundle(
    store: Store, session_ids: Iterable[int], *, pii_patterns: Sequence[str] = ()
) -> dict[str, Any]:
    """The sessions as a bundle document, scrubbed (its ``scrubbed`` counts say what went)."""
    scrub = Scrubber(pii_patterns)
    sessions = []
    for session_id in session_ids:
        document = session_document(store, session_id)
        document["brains"] = session_brains(store, session_id)
        document["title"] = _scrub_optional(scrub, document.get("title"))
        for turn in document["turns"]:
            turn["text"] = scrub(turn["text"])
            for row in turn["feedback"]:
                row["rewrite"] = _scrub_optional(scrub, row["rewrite"])
                row["note"] = _scrub_optional(scrub, row["note"])
        for swap in document["swaps"]:
            swap["reason"] = _scrub_optional(scrub, swap["reason"])
        sessions.append(document)
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": platform.node() or "unknown",
        "trainees": sorted({s["trainee"] for s in sessions}),
        "sessions": sessions,
        "scrubbed": scrub.summary(),
    }


def _scrub_optional(scrub: Scrubber, text: str | None) -> str | None:
    return None if text is None else scrub(text)


def write_bundle(document: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)  # a crash never leaves half a bundle under the real name
    return path


class BadBundle(ValueError):
    """A file that is not a session bundle utta can read; the message names the file and why."""


def read_bundle(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BadBundle(f"{path}: cannot read it ({error.strerror or error})") from None
    except json.JSONDecodeError as error:
        raise BadBundle(
            f"{path}: line {error.lineno}: not JSON ({error.msg}); a bundle is what "
            "`utta sessions export --bundle -o FILE` writes"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BadBundle(
            f'{path}: not a session bundle (no "format": "{FORMAT}"); make one with '
            "`utta sessions export --bundle -o FILE`"
        )
    if document.get("version") != VERSION:
        raise BadBundle(
            f"{path}: bundle version {document.get('version')!r}, this utta reads {VERSION}; "
            "update utta on the machine that imports"
        )
    sessions = document.get("sessions")
    if not isinstance(sessions, list):
        raise BadBundle(f'{path}: "sessions" must be a list')
    for number, session in enumerate(sessions, 1):
        missing = [
            key
            for key in ("uuid", "persona_id", "trainee", "started_at", "brain_at_start", "turns")
            if not isinstance(session, dict) or session.get(key) is None
        ]
        if missing:
            raise BadBundle(
                f"{path}: session #{number} lacks {', '.join(missing)}; re-export it with "
                "`utta sessions export --bundle`"
            )
        problem = _session_problem(session)
        if problem:
            raise BadBundle(
                f"{path}: session #{number} ({session['uuid']}): {problem}; re-export it with "
                "`utta sessions export --bundle`"
            )
    return document


def _session_problem(session: dict[str, Any]) -> str | None:
    """What makes a session document unfit to insert, checked before anything is written."""
    if not isinstance(session["turns"], list) or not isinstance(session.get("swaps", []), list):
        return '"turns" and "swaps" must be lists'
    for position, turn in enumerate(session["turns"]):
        if not isinstance(turn, dict):
            return f"turn #{position + 1} is not an object"
        if turn.get("role") not in ("teacher", "student"):
            return f"turn #{position + 1} has role {turn.get('role')!r}, not teacher or student"
        if not isinstance(turn.get("text"), str) or not isinstance(turn.get("idx"), int):
            return f"turn #{position + 1} needs a text and an idx"
        if not isinstance(turn.get("created_at"), str):
            return f"turn #{position + 1} lacks created_at"
        for row in turn.get("feedback", []):
            rating = row.get("rating") if isinstance(row, dict) else "?"
            if rating is not None and (not isinstance(rating, int) or not 1 <= rating <= 5):
                return f"turn #{position + 1} has a rating {rating!r}, not 1 to 5"
            if turn["role"] != "student":
                return f"turn #{position + 1} is the teacher's and carries feedback"
    for position, swap in enumerate(session.get("swaps", [])):
        if not isinstance(swap, dict) or not all(
            isinstance(swap.get(key), str) for key in ("from_brain", "to_brain", "created_at")
        ):
            return f"swap #{position + 1} needs from_brain, to_brain and created_at"
    return None


def fingerprint(document: dict[str, Any]) -> str:
    """What makes two copies of a session the same: who, when, and every turn, piece of
    feedback and swap (not local ids, titles or import stamps)."""
    content = {
        "session": [document.get(k) for k in ("persona_id", "trainee", "started_at")],
        "turns": [
            [t.get("idx"), t.get("role"), t.get("text"), t.get("brain_id")]
            + [
                [bool(f.get("flagged")), f.get("rating"), f.get("rewrite"), f.get("note")]
                for f in t.get("feedback", [])
            ]
            for t in document.get("turns", [])
        ],
        "swaps": [
            [s.get("at_turn"), s.get("from_brain"), s.get("to_brain"), bool(s.get("accepted"))]
            for s in document.get("swaps", [])
        ],
    }
    text = json.dumps(content, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class ImportReport:
    imported: list[int] = field(default_factory=list)
    """Local ids of the sessions added."""
    unchanged: int = 0
    """Sessions already in the store with the same content."""
    conflicts: list[str] = field(default_factory=list)
    """Sessions whose uuid the store has with other content; the store kept its copy."""
    newly_excluded: list[int] = field(default_factory=list)
    """Sessions already here that the bundle marks "keep out of training"."""

    @property
    def changed(self) -> bool:
        return bool(self.imported or self.newly_excluded)


def import_bundles(store: Store, paths: Sequence[Path]) -> ImportReport:
    """Merge the bundles into ``store``. Every file is read and checked before anything is
    written, so a bad file (:class:`BadBundle`) leaves the store as it was."""
    documents = [(path, read_bundle(path)) for path in paths]
    report = ImportReport()
    for path, document in documents:
        machine = document.get("machine")
        for session in document["sessions"]:
            existing = session_by_uuid(store, session["uuid"])
            if existing is None:
                report.imported.append(insert_session(store, session, machine))
                continue
            if fingerprint(session_document(store, existing.id)) != fingerprint(session):
                report.conflicts.append(
                    f"{path}: session {session['uuid']} ({session['trainee']}, "
                    f"{session['persona_id']}, {session['started_at']}) differs from session "
                    f"{existing.id} already in the store ({existing.turn_count} turn(s) there, "
                    f"{len(session['turns'])} in the file); kept the store's copy"
                )
            elif session.get("excluded") and not existing.excluded:
                set_excluded(store, existing.id, True)
                report.newly_excluded.append(existing.id)
            else:
                report.unchanged += 1
    return report
