"""Train the talk-move classifier on the labeled set's train split and write its files.

    python -m trainers.debrief.train_talk_moves      (needs the moves-train extra: scikit-learn)

Writes the head over the move recognizer's embedding (``data/talk_moves_head.npz``), the n-gram
fallback (``data/talk_moves_ngram.json``) and ``data/talk_moves_manifest.json`` with the held-out
accuracy of both on the fixed test split (the figures in the README).
"""

from __future__ import annotations

import json
import sys
from collections import Counter

from agent.moves.labels import load_examples
from trainers.debrief import talk_moves
from trainers.debrief.talk_head import (
    HEAD_FILE,
    LABELS,
    MANIFEST_FILE,
    TALK_MOVES,
    TalkHead,
    input_signature,
    shared_encoder,
    train_head,
)
from trainers.debrief.talk_moves import NGRAM_FILE
from trainers.debrief.talk_ngram import accuracy, train

# The move recognizer's kinds that mean the same as a talk move: its labeled lines, written by
# another author for another purpose, check how the talk head does on phrasing not its own.
SAME_MEANING = {
    "telling": "telling",
    "concrete_model": "model",
    "inverse_check": "ask_check",
    "reconsider": "reconsider",
    "chitchat": "other",
}


def cross_author_accuracy(head: TalkHead) -> tuple[float, int]:
    from agent.moves.labels import LABEL_SETS

    lines = [e for e in load_examples(LABEL_SETS["moves"]) if e.label in SAME_MEANING]
    predicted = head.classify_many([e.text for e in lines])
    right = sum(p[0] == SAME_MEANING[e.label] for p, e in zip(predicted, lines, strict=True))
    return right / len(lines), len(lines)


def main() -> int:
    examples = load_examples(TALK_MOVES)
    train_rows = [e for e in examples if e.split == "train"]
    test_rows = [e for e in examples if e.split == "test"]
    ngram = train(train_rows, LABELS)
    NGRAM_FILE.write_text(json.dumps(ngram.to_json(), separators=(",", ":")), encoding="utf-8")
    fit = train_head(examples)
    head = TalkHead(shared_encoder())
    predicted = [label for label, _, _ in head.classify_many([e.text for e in test_rows])]
    head_accuracy = sum(p == e.label for p, e in zip(predicted, test_rows, strict=True))
    head_accuracy /= len(test_rows)
    cross, cross_n = cross_author_accuracy(head)
    manifest = {
        "data": TALK_MOVES.data_file.name,
        "counts": {
            split: dict(Counter(e.label for e in examples if e.split == split))
            for split in ("train", "test")
        },
        "inputs": input_signature(),
        "head": {"file": HEAD_FILE.name, **fit, "test_accuracy": round(head_accuracy, 4)},
        "ngram": {"file": NGRAM_FILE.name, "test_accuracy": round(accuracy(ngram, test_rows), 4)},
        "cross_author": {
            "data": "agent/moves/data/moves.jsonl",
            "kinds": SAME_MEANING,
            "lines": cross_n,
            "accuracy": round(cross, 4),
        },
    }
    MANIFEST_FILE.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    talk_moves._classifier = None  # the next call loads what was just written
    print(f"trained on {len(train_rows)} lines, tested on {len(test_rows)}")
    print(f"held-out accuracy, head over the move embedding: {head_accuracy:.3f} (C={fit['c']})")
    print(f"held-out accuracy, n-gram fallback: {manifest['ngram']['test_accuracy']:.3f}")
    print(f"on the move recognizer's lines of the same meaning: {cross:.3f} ({cross_n} lines)")
    for (gold, got), count in Counter(
        (e.label, p) for p, e in zip(predicted, test_rows, strict=True) if p != e.label
    ).most_common():
        print(f"  {gold} read as {got}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
