"""ROC AUC overall and on length-matched pairs, pure Python (no scikit-learn needed).

Length-matched AUC compares only a real child's turn with an LLM turn of the *same word count*,
where word count itself says nothing (its AUC there is 0.5 by construction): it measures how a
line is typed, not how long it is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """P(a random positive scores above a random negative), ties counting half."""
    ranked = sorted(zip(scores, labels, strict=True))
    rank_sum, i, positives = 0.0, 0, sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        raise ValueError("ROC AUC needs positives and negatives")
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mean_rank = (i + j + 1) / 2  # 1-based ranks i+1..j share their mean
        rank_sum += mean_rank * sum(label for _, label in ranked[i:j])
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def matched_auc(
    scores: Sequence[float], labels: Sequence[int], lengths: Sequence[int]
) -> tuple[float, int]:
    """(AUC over positive/negative pairs of equal length, number of such pairs)."""
    by_length: dict[int, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for score, label, length in zip(scores, labels, lengths, strict=True):
        by_length[length][label].append(score)
    wins = pairs = 0.0
    for negatives, positives in by_length.values():
        if not negatives or not positives:
            continue
        n = len(negatives) * len(positives)
        wins += roc_auc(positives + negatives, [1] * len(positives) + [0] * len(negatives)) * n
        pairs += n
    if not pairs:
        raise ValueError("no positive and negative share a length")
    return wins / pairs, int(pairs)
