"""Train the child-likeness model and write ``model.json`` (needs the ``scorer-train`` extra).

A logistic regression over :func:`trainers.childlike.features.featurize` (scikit-learn), features
kept when at least ``min_df`` training texts have them, then Platt scaling fitted on out-of-fold
scores (split by session/conversation/family) so the probability is calibrated on text the model
did not see. The model file is plain JSON: weights by feature name, intercept, the Platt pair,
the lexicon, the data manifest's hash and the feature version. Inference needs none of this
module (see :mod:`trainers.childlike.scorer`).

``python -m trainers.childlike.train`` retrains; ``--cv`` prints cross-validated figures only.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainers.childlike.dataset import DATA, Row, load_rows, manifest
from trainers.childlike.features import featurize
from trainers.childlike.scorer import FEATURE_VERSION, MODEL_PATH

C = 0.5
MIN_DF = 3
LENGTH_MIX = 0.5
FOLDS = 5
SEED = 8


@dataclass
class Fitted:
    weights: dict[str, float]
    intercept: float

    def decision(self, features: dict[str, float]) -> float:
        return self.intercept + sum(self.weights.get(k, 0.0) * v for k, v in features.items())


def load_lexicon(data: Path = DATA) -> frozenset[str]:
    path = data / "lexicon.txt"
    return frozenset(path.read_text().split()) if path.exists() else frozenset()


def length_weights(
    texts: Sequence[str], labels: Sequence[int], mix: float = LENGTH_MIX
) -> list[float]:
    """Sample weights that give real and LLM text the same total weight at each length bucket
    (``mix`` 1) or across all lengths (``mix`` 0, plain class balance). Balancing by length
    makes the model learn how a child types, not only that children type little."""
    from trainers.childlike.features import length_bucket, words_of

    buckets = [length_bucket(len(words_of(t))) for t in texts]
    per_bucket = Counter(zip(buckets, labels, strict=True))
    per_class = Counter(labels)
    weights = []
    for bucket, label in zip(buckets, labels, strict=True):
        in_bucket = per_bucket[bucket, 0] + per_bucket[bucket, 1]
        by_length = (
            in_bucket / (2 * per_bucket[bucket, label]) if per_bucket[bucket, 1 - label] else 1.0
        )
        by_class = len(labels) / (2 * per_class[label])
        weights.append((1 - mix) * by_class + mix * by_length * by_class)
    return weights


def fit(
    features: Sequence[dict[str, float]],
    labels: Sequence[int],
    c: float = C,
    weights: Sequence[float] | None = None,
) -> Fitted:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    df = Counter(k for f in features for k in f)
    kept = [{k: v for k, v in f.items() if df[k] >= MIN_DF} for f in features]
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(kept)
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit(matrix, list(labels), sample_weight=weights)
    names = vectorizer.get_feature_names_out()
    weights = {str(n): float(w) for n, w in zip(names, model.coef_[0], strict=True) if w}
    return Fitted(weights, float(model.intercept_[0]))


def out_of_fold(
    rows: Sequence[Row], lexicon: frozenset[str], c: float = C, mix: float | None = None
) -> list[float]:
    """Each row's decision value from a model trained on the folds that do not hold its group."""
    from sklearn.model_selection import StratifiedGroupKFold

    features = [featurize(r.text, lexicon) for r in rows]
    labels = [r.label for r in rows]
    weights = length_weights([r.text for r in rows], labels, LENGTH_MIX if mix is None else mix)
    scores = [0.0] * len(rows)
    splitter = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for train, test in splitter.split(features, labels, [r.group for r in rows]):
        model = fit(
            [features[i] for i in train], [labels[i] for i in train], c, [weights[i] for i in train]
        )
        for i in test:
            scores[i] = model.decision(features[i])
    return scores


def platt(decisions: Sequence[float], labels: Sequence[int]) -> tuple[float, float]:
    """(a, b) so that sigmoid(a * decision + b) is a calibrated probability."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6, max_iter=1000)
    model.fit([[d] for d in decisions], list(labels))
    return float(model.coef_[0][0]), float(model.intercept_[0])


def train(data: Path = DATA, c: float = C) -> dict[str, Any]:
    rows = load_rows(data)
    lexicon = load_lexicon(data)
    decisions = out_of_fold(rows, lexicon, c)
    a, b = platt(decisions, [r.label for r in rows])
    model = fit([featurize(r.text, lexicon) for r in rows], [r.label for r in rows], c)
    return {
        "format": "utta-childlike",
        "feature_version": FEATURE_VERSION,
        "trained_on": manifest(data),
        "hyperparameters": {"C": c, "min_df": MIN_DF, "class_weight": "balanced"},
        "intercept": round(model.intercept, 6),
        "platt": [round(a, 6), round(b, 6)],
        "weights": {k: round(w, 5) for k, w in sorted(model.weights.items()) if abs(w) >= 1e-4},
        "lexicon": sorted(lexicon),
    }


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= -700 else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="train the child-likeness model")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("-C", type=float, default=C, help="inverse regularisation strength")
    args = parser.parse_args(argv)
    model = train(c=args.C)
    args.out.write_text(json.dumps(model, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({len(model['weights'])} weights, {size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
