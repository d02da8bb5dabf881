"""Cross-validated ROC AUC of the child-likeness model, the authenticity score and word count.

    .venv/bin/python benchmarks/childlike_auc.py      (needs the scorer-train extra)

Five folds split by group (a tutoring session, a MathDial problem, an imitation family, a
persona topic), so no conversation is on both sides. For every row: the child-likeness of a
model trained without its fold (Platt-calibrated on the out-of-fold scores, as the shipped model
is); the authenticity total on the same split (trainers/metric.py as the persona ``maya``, no
state: its rules times that out-of-fold child-likeness, the metric's own formula); the rules
alone (roughly the old rule-based metric); and minus the word count. AUC overall and on
length-matched pairs, for all negatives and per negative source. Prints the README table and
writes benchmarks/results/childlike_auc.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from personas.loader import PersonaLibrary
    from trainers.childlike.dataset import load_rows
    from trainers.childlike.evaluate import matched_auc, roc_auc
    from trainers.childlike.features import words_of
    from trainers.childlike.train import load_lexicon, out_of_fold, platt, sigmoid
    from trainers.metric import FLOOR, score_reply

    rows = load_rows()
    decisions = out_of_fold(rows, load_lexicon())
    a, b = platt(decisions, [r.label for r in rows])
    child = [sigmoid(a * d + b) for d in decisions]
    maya = PersonaLibrary().get("maya")
    rules = [score_reply(r.text, maya).rules for r in rows]
    authenticity = [r * (FLOOR + (1 - FLOOR) * c) for r, c in zip(rules, child, strict=True)]
    lengths = [len(words_of(r.text)) for r in rows]
    shorter = [-n for n in lengths]
    results = {}
    lines = [
        "| negatives (n) | child-likeness | authenticity | rules only | word count "
        "| length-matched: child-likeness | authenticity | rules only | word count (pairs) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    sources = ["all", *sorted({r.source for r in rows if r.label == 0})]
    for source in sources:
        keep = [i for i, r in enumerate(rows) if r.label == 1 or source in ("all", r.source)]
        labels = [rows[i].label for i in keep]
        figures = {}
        for name, scores in (
            ("child", child),
            ("authenticity", authenticity),
            ("rules", rules),
            ("words", shorter),
        ):
            picked = [scores[i] for i in keep]
            matched, pairs = matched_auc(picked, labels, [lengths[i] for i in keep])
            figures[name] = {"auc": round(roc_auc(picked, labels), 4), "matched": round(matched, 4)}
        negatives = len(labels) - sum(labels)
        results[source] = {**figures, "negatives": negatives, "pairs": pairs}
        names = ("child", "authenticity", "rules", "words")
        overall = " | ".join(f"{figures[n]['auc']:.3f}" for n in names)
        matched = " | ".join(f"{figures[n]['matched']:.3f}" for n in names)
        lines.append(f"| {source} ({negatives}) | {overall} | {matched} ({pairs}) |")
    print(f"positives: {sum(r.label for r in rows)} real children's turns")
    print("\n".join(lines))
    out = ROOT / "benchmarks" / "results" / "childlike_auc.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
