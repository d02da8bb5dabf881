"""The talk-move head: a second classifier head over the move recognizer's sentence embedding.

It reuses ``agent.moves`` as it is: the same static all-MiniLM-L6-v2 encoder (loaded once and
shared with the move recognizer), the same input rows (embedding + its explicit features), the
same head file format and the same grouped-CV logistic-regression fit, plus the phrase families
of :mod:`trainers.debrief.phrases`. The head remembers the hash of the encoder it was trained on;
after the encoder is rebuilt it is not used until retrained (the n-gram model answers meanwhile).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from agent.moves.labels import LabelSet
from trainers.debrief.phrases import phrase_families

if TYPE_CHECKING:
    from agent.moves.encoder import StaticEncoder
    from agent.moves.labels import Example

DATA_DIR = Path(__file__).resolve().parent / "data"
HEAD_FILE = DATA_DIR / "talk_moves_head.npz"
MANIFEST_FILE = DATA_DIR / "talk_moves_manifest.json"

LABELS = (
    "press_reasoning",
    "revoice",
    "model",
    "ask_check",
    "telling",
    "praise_effort",
    "praise_answer",
    "closed_question",
    "open_question",
    "reconsider",
    "other",
)
TALK_MOVES = LabelSet("talk_moves", DATA_DIR / "talk_moves.jsonl", LABELS, label_field="label")


def input_signature() -> dict:
    """What the head's input rows are made of now; a head trained on other rows is not used."""
    from agent.moves import features
    from trainers.debrief.phrases import FAMILY_NAMES

    return {
        "encoder_sha256": encoder_hash(),
        "explicit_features": list(features.FEATURE_NAMES),
        "explicit_features_sha256": hashlib.sha256(
            Path(features.__file__).read_bytes()
        ).hexdigest(),
        "phrase_families": [*FAMILY_NAMES, "question_mark"],
    }


def encoder_hash() -> str:
    from agent.moves.recognizer import ENCODER_DIR

    return hashlib.sha256((ENCODER_DIR / "model.safetensors").read_bytes()).hexdigest()


def talk_inputs(encoder: StaticEncoder, texts: list[str]) -> np.ndarray:
    """The move recognizer's input rows with the phrase families appended."""
    from agent.moves.recognizer import inputs

    families = np.array([phrase_families(text) for text in texts], dtype=np.float32)
    return np.hstack([inputs(encoder, texts), families.reshape(len(texts), -1)])


def shared_encoder() -> StaticEncoder:
    """The encoder the move recognizer loaded (loading it if it has not yet)."""
    from agent.moves.recognizer import get_recognizer

    return get_recognizer("moves").encoder


class TalkHead:
    """Labels sentences with the talk-move head."""

    def __init__(self, encoder: StaticEncoder, path: Path = HEAD_FILE) -> None:
        from agent.moves.recognizer import Head, Recognizer

        self.recognizer = Recognizer(encoder, Head(path))

    def classify_many(self, texts: list[str]) -> list[tuple[str, float, str]]:
        if not texts:
            return []
        encoder, head = self.recognizer.encoder, self.recognizer.head
        rows = talk_inputs(encoder, texts)
        probs = head.probabilities(rows)
        out = []
        for row, p in zip(rows, probs, strict=True):
            best = int(np.argmax(p))
            label = head.labels[best]
            out.append((label, float(p[best]), self._nearest(row[: encoder.dim], label)))
        return out

    def _nearest(self, vector: np.ndarray, label: str) -> str:
        """The reason: the labeled line of the same class nearest in meaning."""
        head = self.recognizer.head
        same = [i for i, other in enumerate(head.example_labels) if other == label]
        if not same:
            return f"read as {label}"
        nearest = same[int(np.argmax(head.example_vectors[same] @ vector))]
        return f'like "{head.example_texts[nearest]}" ({label.replace("_", " ")})'


def load_head() -> TalkHead | None:
    """The shipped head if it was trained on the inputs the recognizer makes now, else ``None``."""
    try:
        manifest = json.loads(MANIFEST_FILE.read_text(encoding="utf-8"))
        if manifest.get("inputs") != input_signature() or not HEAD_FILE.exists():
            return None
        return TalkHead(shared_encoder())
    except (OSError, ValueError, KeyError):
        return None


def train_head(examples: list[Example]) -> dict:
    """Fit the head on the train split with the move recognizer's fit; write it; return figures."""
    from agent.moves.train import fit_head

    encoder = shared_encoder()
    train_rows = [e for e in examples if e.split == "train"]
    x_train = talk_inputs(encoder, [e.text for e in train_rows])
    y_train = [e.label for e in train_rows]
    pipeline, best_c, cv_accuracy = fit_head(
        x_train, y_train, [e.group for e in train_rows], LABELS
    )
    scaler, logreg = pipeline.steps[0][1], pipeline.steps[1][1]
    np.savez_compressed(
        HEAD_FILE,
        labels=np.array(logreg.classes_, dtype=str),
        mean=scaler.mean_.astype(np.float32),
        scale=scaler.scale_.astype(np.float32),
        weight=logreg.coef_.astype(np.float32),
        bias=logreg.intercept_.astype(np.float32),
        example_vectors=x_train[:, : encoder.dim].astype(np.float16),
        example_texts=np.array([e.text for e in train_rows], dtype=str),
        example_labels=np.array(y_train, dtype=str),
    )
    return {"c": best_c, "cv_accuracy": round(float(cv_accuracy), 4)}
