"""The rows :class:`transcripts.store.Store` hands out: small frozen dataclasses, JSON decoded.

``dataclasses.asdict`` on any of them gives plain JSON-ready data (that is what the export writes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["teacher", "student"]


def _json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


@dataclass(frozen=True)
class SessionRow:
    id: int
    persona_id: str
    trainee: str
    started_at: str
    ended_at: str | None
    brain_at_start: str
    student_state: dict[str, Any] | None
    """The state after the latest student turn; ``None`` before the first reply."""
    turn_count: int
    uuid: str | None = None
    """Stable across machines: what a bundle import matches sessions by."""
    title: str | None = None
    excluded: bool = False
    """Kept out of training: no dataset export uses it."""
    origin_machine: str | None = None
    """For a session imported from a bundle: the machine it was exported on."""
    imported_at: str | None = None

    @property
    def resolved(self) -> list[str]:
        """Ids of the misconceptions the latest state marks as no longer held."""
        entries = (self.student_state or {}).get("misconceptions") or {}
        return [
            name
            for name, entry in entries.items()
            if isinstance(entry, dict) and not entry.get("held", True)
        ]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SessionRow:
        return cls(
            id=row["id"],
            persona_id=row["persona_id"],
            trainee=row["trainee"],
            started_at=row["started_at"],
            ended_at=row["ended_at"],
            brain_at_start=row["brain_at_start"],
            student_state=_json(row["student_state"]),
            turn_count=row["turn_count"],
            uuid=row.get("uuid"),
            title=row.get("title"),
            excluded=bool(row.get("exclude_from_training") or 0),
            origin_machine=row.get("origin_machine"),
            imported_at=row.get("imported_at"),
        )


@dataclass(frozen=True)
class TurnRow:
    id: int
    session_id: int
    idx: int
    """0-based position within the session."""
    role: Role
    text: str
    brain_id: str | None
    latency_ms: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    created_at: str
    student_state: dict[str, Any] | None
    """For a student turn: the state this reply left."""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TurnRow:
        return cls(
            id=row["id"],
            session_id=row["session_id"],
            idx=row["idx"],
            role=row["role"],
            text=row["text"],
            brain_id=row["brain_id"],
            latency_ms=row["latency_ms"],
            prompt_tokens=row["prompt_tokens"],
            completion_tokens=row["completion_tokens"],
            created_at=row["created_at"],
            student_state=_json(row["student_state"]),
        )


@dataclass(frozen=True)
class SwapRow:
    id: int
    session_id: int
    at_turn: int
    """How many turns the session had when the swap was tried."""
    from_brain: str
    to_brain: str
    accepted: bool
    reason: str
    created_at: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SwapRow:
        return cls(**{**row, "accepted": bool(row["accepted"])})


@dataclass(frozen=True)
class FeedbackRow:
    id: int
    turn_id: int
    flagged: bool
    rating: int | None
    rewrite: str | None
    note: str | None
    created_at: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> FeedbackRow:
        return cls(**{**row, "flagged": bool(row["flagged"])})


@dataclass(frozen=True)
class BrainRow:
    name: str
    kind: str
    persona_id: str | None
    spec: dict[str, Any]
    created_at: str
    lineage: Any
    """Where the brain came from (base brain, training run, data hash...); ``None`` if unknown."""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> BrainRow:
        return cls(
            name=row["name"],
            kind=row["kind"],
            persona_id=row["persona_id"],
            spec=json.loads(row["spec"]),
            created_at=row["created_at"],
            lineage=_json(row["lineage"]),
        )
