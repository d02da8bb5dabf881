"""Cross-validated ROC AUC of the child-likeness model, the authenticity score and word count.

    .venv/bin/python benchmarks/childlike_auc.py      (needs the scorer-train extra)

Five folds split by group (a tutoring session, a MathDial problem, an imitation family, a
persona topic), so no conversation is on both sides. For every row: the child-likeness score of
a model trained without its fold, the authenticity total (trainers/metric.py, as the persona
``maya``, no state), and minus the word count (fewer words = more child-like). AUC overall and on
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
    from trainers.childlike.train import load_lexicon, out_of_fold
    from trainers.metric import score_reply

    rows = load_rows()
    child = out_of_fold(rows, load_lexicon())
    maya = PersonaLibrary().get("maya")
    authenticity = [score_reply(r.text, maya).total for r in rows]
    lengths = [len(words_of(r.text)) for r in rows]
    shorter = [-n for n in lengths]
    results = {}
    lines = [
        "| negatives (n) | child-likeness AUC | authenticity AUC | word-count AUC "
        "| length-matched: child-likeness | authenticity | word count (pairs) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    sources = ["all", *sorted({r.source for r in rows if r.label == 0})]
    for source in sources:
        keep = [i for i, r in enumerate(rows) if r.label == 1 or source in ("all", r.source)]
        labels = [rows[i].label for i in keep]
        figures = {}
        for name, scores in (("child", child), ("authenticity", authenticity), ("words", shorter)):
            picked = [scores[i] for i in keep]
            matched, pairs = matched_auc(picked, labels, [lengths[i] for i in keep])
            figures[name] = {"auc": round(roc_auc(picked, labels), 4), "matched": round(matched, 4)}
        negatives = len(labels) - sum(labels)
        results[source] = {**figures, "negatives": negatives, "pairs": pairs}
        lines.append(
            f"| {source} ({negatives}) | {figures['child']['auc']:.3f} "
            f"| {figures['authenticity']['auc']:.3f} | {figures['words']['auc']:.3f} "
            f"| {figures['child']['matched']:.3f} | {figures['authenticity']['matched']:.3f} "
            f"| {figures['words']['matched']:.3f} ({pairs}) |"
        )
    print(f"positives: {sum(r.label for r in rows)} real children's turns")
    print("\n".join(lines))
    out = ROOT / "benchmarks" / "results" / "childlike_auc.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
