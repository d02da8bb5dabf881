"""Labeled teacher lines: the label sets the recognizer knows, and loading their JSONL files.

A label set is a JSONL file of teacher lines with a fixed train/test split and the labels a
classifier head is trained to give. The move kinds are the first set; more (talk moves for the
debrief) are added by adding a LabelSet here, a file under data/, and running the trainer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from agent.moves.kinds import MOVE_KINDS

DATA_DIR = Path(__file__).resolve().parent / "data"
SPLITS = ("train", "test")


@dataclass(frozen=True)
class LabelSet:
    name: str  # also the head's file name under model/heads/
    data_file: Path
    labels: tuple[str, ...]
    label_field: str = "kind"


LABEL_SETS: dict[str, LabelSet] = {
    "moves": LabelSet("moves", DATA_DIR / "moves.jsonl", MOVE_KINDS),
}


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    topic: str
    split: str
    group: str  # paraphrases of one template share a group and a split
    trap: bool  # a line written to fool a cue-word matcher


class LabeledDataError(ValueError):
    """A labeled line is malformed; the message names the file, the line, the field and the fix."""


def load_examples(label_set: LabelSet) -> list[Example]:
    """Read and check every line of a label set's file."""
    path = label_set.data_file
    examples: list[Example] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise LabeledDataError(
                    f"{where}: not valid JSON ({exc.msg}); write one JSON object per line"
                ) from exc
            if not isinstance(row, dict):
                raise LabeledDataError(f"{where}: expected a JSON object with text and a label")
            text = row.get("text")
            if not isinstance(text, str) or not text.strip():
                raise LabeledDataError(f"{where}: field 'text' must be a non-empty string")
            label = row.get(label_set.label_field)
            if label not in label_set.labels:
                raise LabeledDataError(
                    f"{where}: field '{label_set.label_field}' is {label!r}; use one of "
                    + ", ".join(label_set.labels)
                )
            split = row.get("split")
            if split not in SPLITS:
                raise LabeledDataError(
                    f"{where}: field 'split' is {split!r}; use 'train' or 'test'"
                )
            key = " ".join(text.lower().split())
            if key in seen:
                raise LabeledDataError(
                    f"{where}: field 'text' repeats line {seen[key]}; remove one of the two"
                )
            seen[key] = number
            examples.append(
                Example(
                    text=text,
                    label=label,
                    topic=str(row.get("topic", "general")),
                    split=split,
                    group=str(row.get("group", f"line{number}")),
                    trap=bool(row.get("trap", False)),
                )
            )
    return examples
