"""The talk-move head: a second classifier head over the move recognizer's sentence embedding.

It reuses ``agent.moves`` as it is: the same static all-MiniLM-L6-v2 encoder (loaded once and
shared with the move recognizer) and its dense input rows (embedding + explicit features), plus
the phrase families of :mod:`trainers.debrief.phrases`; standardized, then a logistic regression
with C chosen by grouped cross-validation. (The recognizer's own TF-IDF head fits its 1,150 lines;
on our 241 the phrase families carry more.) The head remembers what its inputs were made of;
after the encoder or the features change it is not used until retrained (the n-gram model
answers meanwhile).
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
    from agent.moves.recognizer import dense_inputs

    families = np.array([phrase_families(text) for text in texts], dtype=np.float32)
    return np.hstack([dense_inputs(encoder, texts), families.reshape(len(texts), -1)])


def shared_encoder() -> StaticEncoder:
    """The encoder the move recognizer loaded (loading it if it has not yet)."""
    from agent.moves.recognizer import get_recognizer

    return get_recognizer("moves").encoder


C_GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
SEED = 0


class TalkHead:
    """Labels sentences with the talk-move head."""

    def __init__(self, encoder: StaticEncoder, path: Path = HEAD_FILE) -> None:
        self.encoder = encoder
        with np.load(path, allow_pickle=False) as data:
            self.labels = [str(label) for label in data["labels"]]
            self.mean = data["mean"].astype(np.float32)
            self.scale = data["scale"].astype(np.float32)
            self.weight = data["weight"].astype(np.float32)
            self.bias = data["bias"].astype(np.float32)
            self.example_vectors = data["example_vectors"].astype(np.float32)
            self.example_texts = [str(text) for text in data["example_texts"]]
            self.example_labels = [str(label) for label in data["example_labels"]]

    def classify_many(self, texts: list[str]) -> list[tuple[str, float, str]]:
        if not texts:
            return []
        rows = talk_inputs(self.encoder, texts)
        logits = ((rows - self.mean) / self.scale) @ self.weight.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        out = []
        for row, p in zip(rows, probs, strict=True):
            best = int(np.argmax(p))
            label = self.labels[best]
            out.append((label, float(p[best]), self._nearest(row[: self.encoder.dim], label)))
        return out

    def _nearest(self, vector: np.ndarray, label: str) -> str:
        """The reason: the labeled line of the same class nearest in meaning."""
        same = [i for i, other in enumerate(self.example_labels) if other == label]
        if not same:
            return f"read as {label}"
        nearest = same[int(np.argmax(self.example_vectors[same] @ vector))]
        return f'like "{self.example_texts[nearest]}" ({label.replace("_", " ")})'


def load_head() -> TalkHead | None:
    """The shipped head if it was trained on the inputs the recognizer makes now, else ``None``."""
    try:
        manifest = json.loads(MANIFEST_FILE.read_text(encoding="utf-8"))
        if manifest.get("inputs") != input_signature() or not HEAD_FILE.exists():
            return None
        return TalkHead(shared_encoder())
    except (OSError, ValueError, KeyError):
        return None


def _model(c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        StandardScaler(), LogisticRegression(C=c, max_iter=5000, random_state=SEED)
    )


def train_head(examples: list[Example]) -> dict:
    """Fit the head on the train split (C by grouped 5-fold CV); write it; return figures."""
    from sklearn.model_selection import GroupKFold, cross_val_score

    encoder = shared_encoder()
    train_rows = [e for e in examples if e.split == "train"]
    x_train = talk_inputs(encoder, [e.text for e in train_rows])
    y_train = [e.label for e in train_rows]
    groups = [e.group for e in train_rows]
    folds = GroupKFold(n_splits=5)
    scores = {
        c: cross_val_score(_model(c), x_train, y_train, groups=groups, cv=folds).mean()
        for c in C_GRID
    }
    best_c = max(scores, key=lambda c: scores[c])
    pipeline = _model(best_c).fit(x_train, y_train)
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
    return {"c": best_c, "cv_accuracy": round(float(scores[best_c]), 4)}
