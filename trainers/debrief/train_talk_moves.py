"""Train the talk-move classifier on the labeled set's train split and write the model file.

    python -m trainers.debrief.train_talk_moves

Prints the held-out accuracy on the fixed test split (the figure in the README).
"""

from __future__ import annotations

import json
import sys
from collections import Counter

from trainers.debrief.talk_moves import MODEL_FILE, accuracy, load_labeled_lines, train


def main() -> int:
    rows = load_labeled_lines()
    train_rows = [r for r in rows if r.split == "train"]
    test_rows = [r for r in rows if r.split == "test"]
    model = train(train_rows)
    MODEL_FILE.write_text(json.dumps(model.to_json(), separators=(",", ":")), encoding="utf-8")
    misses = Counter(
        (r.label, model.predict(r.text).label)
        for r in test_rows
        if model.predict(r.text).label != r.label
    )
    print(f"trained on {len(train_rows)} lines; wrote {MODEL_FILE}")
    print(f"held-out accuracy: {accuracy(model, test_rows):.3f} on {len(test_rows)} lines")
    for (gold, got), count in misses.most_common():
        print(f"  {gold} read as {got}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
