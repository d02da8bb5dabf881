"""What a teacher message does, recognized by meaning: ``classify_move(message) -> MoveVerdict``.

A static sentence embedding (all-MiniLM-L6-v2 distilled with model2vec) and a logistic-regression
head trained on the labeled teacher lines in ``data/``. Nothing is loaded at import time; the
model loads on the first call (numpy only, no torch) and is shared by all threads.
"""

from __future__ import annotations

from agent.moves.kinds import EFFECTIVE_KINDS, MOVE_KINDS, MoveKind, MoveVerdict

__all__ = ["EFFECTIVE_KINDS", "MOVE_KINDS", "MoveKind", "MoveVerdict", "classify_move"]


def classify_move(message: str) -> MoveVerdict:
    """The kind of teaching move a teacher message makes, with a probability and a reason."""
    if not isinstance(message, str):
        raise TypeError(f"classify_move expects the message as a str, got {type(message).__name__}")
    if not message.strip():
        return MoveVerdict(kind="other", confidence=1.0, why="empty message")
    from agent.moves.recognizer import get_recognizer

    kind, confidence, why = get_recognizer("moves").classify(message)
    return MoveVerdict(kind=kind, confidence=confidence, why=why)  # type: ignore[arg-type]
