"""The classifier at chat time: a static sentence embedding, n-grams and a logistic-regression head.

Everything here is numpy, tokenizers and safetensors: no torch, no network. The model is read
once, on first use, behind a lock, and shared by all threads.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from agent.moves.encoder import StaticEncoder
from agent.moves.features import explicit_features, fired
from agent.moves.sparse import Tfidf

MODEL_DIR = Path(__file__).resolve().parent / "model"
ENCODER_DIR = MODEL_DIR / "encoder"
HEADS_DIR = MODEL_DIR / "heads"


def dense_inputs(encoder: StaticEncoder, texts: list[str]) -> np.ndarray:
    """The embedding followed by the explicit features, one row per text."""
    extra = np.array([explicit_features(text) for text in texts], dtype=np.float32)
    return np.hstack([encoder.encode(texts), extra.reshape(len(texts), -1)])


class Head:
    """A trained head: n-gram vocabularies, weights, and the labeled lines for the reason.

    Its input is [word TF-IDF | character TF-IDF | embedding | explicit features]; the
    embedding says what the message means, the n-grams catch wording the static embedding
    averages away (negation, "?" questions, typos).
    """

    def __init__(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as data:
            self.labels = [str(label) for label in data["labels"]]
            self.words = Tfidf([str(t) for t in data["word_terms"]], data["word_idf"], "word")
            self.chars = Tfidf([str(t) for t in data["char_terms"]], data["char_idf"], "char_wb")
            self.weight = data["weight"].astype(np.float32)
            self.bias = data["bias"].astype(np.float32)
            self.example_vectors = data["example_vectors"].astype(np.float32)
            self.example_texts = [str(text) for text in data["example_texts"]]
            self.example_labels = [str(label) for label in data["example_labels"]]

    def inputs(self, encoder: StaticEncoder, texts: list[str]) -> np.ndarray:
        return np.hstack(
            [self.words.transform(texts), self.chars.transform(texts), dense_inputs(encoder, texts)]
        )

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        logits = rows @ self.weight.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)


class Recognizer:
    """Labels teacher messages with one label set's head."""

    def __init__(self, encoder: StaticEncoder, head: Head) -> None:
        self.encoder = encoder
        self.head = head

    def classify(self, message: str) -> tuple[str, float, str]:
        return self.classify_many([message])[0]

    def classify_many(self, messages: list[str]) -> list[tuple[str, float, str]]:
        rows = self.head.inputs(self.encoder, messages)
        probs = self.head.probabilities(rows)
        dense_start = len(self.head.words.index) + len(self.head.chars.index)
        verdicts = []
        for message, row, p in zip(messages, rows, probs, strict=True):
            best = int(np.argmax(p))
            label = self.head.labels[best]
            vector = row[dense_start : dense_start + self.encoder.dim]
            verdicts.append((label, float(p[best]), self._why(message, vector, label)))
        return verdicts

    def _why(self, message: str, vector: np.ndarray, label: str) -> str:
        # The nearest labeled line with the same label explains the verdict best.
        same = [i for i, other in enumerate(self.head.example_labels) if other == label]
        if not same:
            return f"classified as {label}"
        sims = self.head.example_vectors[same] @ vector
        nearest = same[int(np.argmax(sims))]
        reason = f'like "{self.head.example_texts[nearest]}" ({label})'
        flags = fired(message)
        if flags:
            reason += "; " + ", ".join(flag.replace("_", " ") for flag in flags)
        return reason


_lock = threading.RLock()  # get_recognizer loads the encoder while holding it
_encoder: StaticEncoder | None = None
_recognizers: dict[str, Recognizer] = {}


def get_encoder() -> StaticEncoder:
    """The shared static sentence encoder, loaded on first use (also used outside the heads)."""
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                _encoder = StaticEncoder(ENCODER_DIR)
    return _encoder


def get_recognizer(label_set: str = "moves") -> Recognizer:
    """The recognizer for a label set, loaded on first use and cached."""
    recognizer = _recognizers.get(label_set)
    if recognizer is not None:
        return recognizer
    with _lock:
        if label_set not in _recognizers:
            head_path = HEADS_DIR / f"{label_set}.npz"
            if not head_path.exists():
                raise FileNotFoundError(
                    f"{head_path}: no trained head for label set {label_set!r}; "
                    f"run `python -m agent.moves.train --label-set {label_set}`"
                )
            _recognizers[label_set] = Recognizer(get_encoder(), Head(head_path))
        return _recognizers[label_set]
