"""Talk moves in a teacher's message, by what each sentence does.

Eleven classes after the accountable-talk moves of TalkMoves (Suresh et al.) and the questions and
praise that teacher-feedback studies count: pressing for reasoning, revoicing the child's idea,
offering a model or representation, asking the child to check, telling the answer or the rule,
praise of effort, praise of an answer, closed and open questions, "try again" without help, other.

The classifier is a second head over the move recognizer's sentence embedding
(:mod:`trainers.debrief.talk_head`), trained on ``data/talk_moves.jsonl`` (fixed train/test split)
by ``python -m trainers.debrief.train_talk_moves``. No network, no torch at run time.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from trainers.debrief.talk_head import DATA_DIR, LABELS, TALK_MOVES

NGRAM_FILE = DATA_DIR / "talk_moves_ngram.json"
QUESTION_LABELS = ("press_reasoning", "closed_question", "open_question")
OPEN_LABELS = ("press_reasoning", "open_question")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

__all__ = [
    "LABELS",
    "OPEN_LABELS",
    "QUESTION_LABELS",
    "TALK_MOVES",
    "TalkMove",
    "classify_talk",
    "message_moves",
    "sentences",
]


@dataclass(frozen=True)
class TalkMove:
    label: str
    confidence: float
    why: str


class _Classifier(Protocol):
    def classify_many(self, texts: list[str]) -> list[tuple[str, float, str]]: ...


class _NgramClassifier:
    def __init__(self, path: Path = NGRAM_FILE) -> None:
        from trainers.debrief.talk_ngram import LinearModel

        self.model = LinearModel.from_json(json.loads(path.read_text(encoding="utf-8")))

    def classify_many(self, texts: list[str]) -> list[tuple[str, float, str]]:
        return [self.model.predict(text) for text in texts]


_lock = threading.Lock()
_classifier: _Classifier | None = None


def classifier() -> _Classifier:
    """The embedding head, or the n-gram model when the head does not fit the shipped encoder."""
    global _classifier
    with _lock:
        if _classifier is None:
            from trainers.debrief.talk_head import load_head

            _classifier = load_head() or _NgramClassifier()
        return _classifier


def sentences(message: str) -> list[str]:
    """The message cut into sentences (a chat line may hold a question and a telling)."""
    return [part.strip() for part in _SENTENCE_END.split(message.strip()) if part.strip()]


def classify_talk(sentence: str) -> TalkMove:
    """The talk move one sentence makes. Thread-safe; the model loads once, on first use."""
    return TalkMove(*classifier().classify_many([sentence])[0])


def message_moves(message: str) -> list[tuple[str, TalkMove]]:
    """(sentence, move) for each sentence of a teacher message, in order."""
    parts = sentences(message)
    return [
        (part, TalkMove(*verdict))
        for part, verdict in zip(parts, classifier().classify_many(parts), strict=True)
    ]
