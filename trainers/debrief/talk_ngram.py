"""The fallback talk-move model: logistic regression over n-grams and phrase families, in plain
Python over a JSON file. Used only when the move recognizer's embedding is not the one the talk
head was trained on (a retrained encoder not yet followed by `python -m
trainers.debrief.train_talk_moves`), so the debrief never breaks.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

from trainers.debrief.phrases import features

if TYPE_CHECKING:
    from agent.moves.labels import Example


class LinearModel:
    """Per-label weights over sparse features; softmax gives the probabilities."""

    def __init__(self, labels: tuple[str, ...], weights: dict[str, list[float]]) -> None:
        self.labels = labels
        self.weights = weights

    def scores(self, feats: dict[str, float]) -> list[float]:
        totals = [0.0] * len(self.labels)
        for name, value in feats.items():
            row = self.weights.get(name)
            if row is not None:
                for k, weight in enumerate(row):
                    totals[k] += weight * value
        return totals

    def probabilities(self, feats: dict[str, float]) -> list[float]:
        scores = self.scores(feats)
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return [e / total for e in exps]

    def predict(self, text: str) -> tuple[str, float, str]:
        feats = features(text)
        probs = self.probabilities(feats)
        best = max(range(len(probs)), key=probs.__getitem__)
        contributions = sorted(
            (
                (self.weights[name][best] * value, name)
                for name, value in feats.items()
                if name in self.weights and name.startswith(("w:", "b:"))
            ),
            reverse=True,
        )
        cues = [name.split(":", 1)[1].strip() for weight, name in contributions[:3] if weight > 0]
        why = f"reads as {self.labels[best].replace('_', ' ')}" + (
            f" (from {', '.join(repr(c) for c in cues)})" if cues else ""
        )
        return self.labels[best], probs[best], why

    def to_json(self) -> dict:
        rounded = {
            name: [round(w, 4) for w in row]
            for name, row in self.weights.items()
            if any(abs(w) >= 1e-4 for w in row)
        }
        return {"labels": list(self.labels), "weights": rounded}

    @classmethod
    def from_json(cls, data: dict) -> LinearModel:
        return cls(tuple(data["labels"]), data["weights"])


def train(
    rows: list[Example],
    labels: tuple[str, ...],
    *,
    epochs: int = 40,
    rate: float = 0.3,
    l2: float = 1e-4,
    seed: int = 0,
) -> LinearModel:
    """Multinomial logistic regression by stochastic gradient descent (plain Python: ~250 lines
    train in a second or two, and the result does not depend on a numeric library's version)."""
    index = {label: k for k, label in enumerate(labels)}
    data = [(features(row.text), index[row.label]) for row in rows]
    weights: dict[str, list[float]] = {}
    order = list(range(len(data)))
    shuffler = random.Random(seed)
    for epoch in range(epochs):
        shuffler.shuffle(order)
        step = rate / (1 + epoch * 0.1)
        model = LinearModel(labels, weights)
        for i in order:
            feats, target = data[i]
            probs = model.probabilities(feats)
            for name, value in feats.items():
                row = weights.setdefault(name, [0.0] * len(labels))
                for k in range(len(labels)):
                    gradient = (probs[k] - (1.0 if k == target else 0.0)) * value + l2 * row[k]
                    row[k] -= step * gradient
    return LinearModel(labels, weights)


def accuracy(model: LinearModel, rows: list[Example]) -> float:
    if not rows:
        return 0.0
    return sum(model.predict(row.text)[0] == row.label for row in rows) / len(rows)
