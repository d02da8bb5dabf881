"""The transcript log: sessions, turns, brain swaps, feedback and the brain registry in SQLite.

Importing this package does nothing and loads nothing heavy; ``Store`` and ``SessionRecorder``
(and sqlite-utils with them) load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transcripts.recorder import SessionRecorder
    from transcripts.store import Store

__all__ = ["SessionRecorder", "Store"]


def __getattr__(name: str) -> Any:
    if name == "Store":
        from transcripts.store import Store

        return Store
    if name == "SessionRecorder":
        from transcripts.recorder import SessionRecorder

        return SessionRecorder
    raise AttributeError(f"module 'transcripts' has no attribute {name!r}")
