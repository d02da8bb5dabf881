"""Child-likeness at inference: a calibrated probability that a reply was typed by a real child.

Pure Python over the JSON model file (no numpy, scikit-learn or torch): featurize, a dot product
with the stored weights, Platt scaling. Loaded lazily once and cached; well under 1 ms a reply.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from trainers.childlike.features import featurize

MODEL_PATH = Path(__file__).parent / "model.json"
FEATURE_VERSION = 2
"""Bump when :func:`featurize` changes meaning; a model file of another version is refused."""


class ModelFileError(ValueError):
    """The model file is missing, unreadable or from another feature version."""


@dataclass(frozen=True)
class ChildLikenessModel:
    weights: dict[str, float]
    intercept: float
    platt: tuple[float, float]
    lexicon: frozenset[str]
    content_hash: str

    def decision(self, text: str) -> float:
        features = featurize(text, self.lexicon)
        return self.intercept + sum(self.weights.get(k, 0.0) * v for k, v in features.items())

    def probability(self, text: str) -> float:
        """P(real child) for ``text``, calibrated on cross-validated scores."""
        a, b = self.platt
        z = a * self.decision(text) + b
        return 1 / (1 + math.exp(-z)) if z > -700 else 0.0

    def top_features(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        """The features that moved this text's score most, signed (+ toward a real child)."""
        return self.explain(text, k)[1]

    def explain(self, text: str, k: int = 3) -> tuple[float, list[tuple[str, float]]]:
        """(probability, the ``k`` strongest signed feature contributions), featurizing once."""
        contributions = [
            (name, self.weights[name] * value)
            for name, value in featurize(text, self.lexicon).items()
            if name in self.weights
        ]
        a, b = self.platt
        z = a * (self.intercept + sum(c for _, c in contributions)) + b
        probability = 1 / (1 + math.exp(-z)) if z > -700 else 0.0
        return probability, sorted(contributions, key=lambda item: -abs(item[1]))[:k]


def load_model(path: Path = MODEL_PATH) -> ChildLikenessModel:
    retrain = "retrain it with `python -m trainers.childlike.train`"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ModelFileError(
            f"{path}: cannot read the child-likeness model ({error}); {retrain}"
        ) from None
    if not isinstance(data, dict) or data.get("format") != "utta-childlike":
        raise ModelFileError(
            f'{path}: not a child-likeness model (no "format": "utta-childlike"); {retrain}'
        )
    if data.get("feature_version") != FEATURE_VERSION:
        raise ModelFileError(
            f"{path}: feature_version {data.get('feature_version')!r}, this code needs "
            f"{FEATURE_VERSION}; {retrain}"
        )
    try:
        a, b = data["platt"]
        return ChildLikenessModel(
            weights={name: float(weight) for name, weight in data["weights"].items()},
            intercept=float(data["intercept"]),
            platt=(float(a), float(b)),
            lexicon=frozenset(data.get("lexicon", ())),
            content_hash=data.get("trained_on", {}).get("content_hash", ""),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ModelFileError(
            f"{path}: a damaged child-likeness model ({type(error).__name__}: {error}); {retrain}"
        ) from None


@lru_cache(maxsize=1)
def default_model() -> ChildLikenessModel:
    return load_model()


def child_likeness(text: str) -> float:
    """P(a real child typed ``text``), from the shipped model."""
    return default_model().probability(text)
