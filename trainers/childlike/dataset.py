"""The child-likeness training data: sources, labels, groups, and the manifest that pins them.

Positives: real children's typed turns (the Bridge dataset, MIT; grade-2 sessions never enter,
they are held out to evaluate the project). Negatives: MathDial's LLM students (CC BY-SA 4.0,
derived turns only), LLM imitations of children (:mod:`trainers.childlike.imitations`), and the
project's own brains' replies (the shipped personas' example student lines, frozen at import).
Every row has a ``group`` (a tutoring session, a MathDial problem, an imitation family, a
persona topic) so cross-validation never splits one conversation between train and test.

``python -m trainers.childlike.dataset --bridge ../shared/data/real_child_turns.jsonl
--mathdial PATH/test.jsonl`` re-imports the sources and rewrites ``data/manifest.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data"
MANIFEST = DATA / "manifest.json"

SOURCES = {
    "bridge": {
        "file": "real_child_turns.jsonl",
        "label": 1,
        "license": "MIT (LICENSE-bridge.txt)",
        "origin": "Bridge dataset, Wang et al., NAACL 2024 (github.com/rosewang2008/bridge), "
        "via ../shared/data/real_child_turns.jsonl; grade-2 sessions excluded",
    },
    "mathdial": {
        "file": "mathdial_students.jsonl",
        "label": 0,
        "license": "CC BY-SA 4.0 (NOTICE-mathdial.txt)",
        "origin": "MathDial, Macina et al., EMNLP 2023 Findings (github.com/eth-nlped/mathdial), "
        "student turns of data/test.jsonl",
    },
    "imitations": {
        "file": "llm_imitations.jsonl",
        "label": 0,
        "license": "this project (MIT)",
        "origin": "trainers/childlike/imitations.py",
    },
    "project_brains": {
        "file": "project_brain_replies.jsonl",
        "label": 0,
        "license": "this project (MIT)",
        "origin": "student lines of personas/shipped/*.yaml (the offline brain's replies)",
    },
}
_MATHDIAL_SAMPLE = 900
"""Every short MathDial turn (10 words or fewer) plus a random sample of the longer ones."""


@dataclass(frozen=True)
class Row:
    text: str
    label: int
    group: str
    source: str


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise ValueError(
                f"{path}:{number}: not JSON ({error}); fix or remove the line"
            ) from None
    return rows


def _group(source: str, row: dict) -> str:
    key = {"bridge": "session", "mathdial": "qid", "imitations": "family"}.get(source, "group")
    return f"{source}:{row[key]}"


def shape(text: str) -> str:
    """Lower case, single spaces, every number folded to 0: "Yes" and "yes", "35" and "40"."""
    return re.sub(r"\d+", "0", " ".join(text.lower().split()))


def load_rows(data: Path = DATA) -> list[Row]:
    """Every labelled row of every source, in a fixed order. A negative with the shape of a
    line a real child typed ("ok", a bare number) is left out: it is no evidence of an LLM, and
    keeping it would teach the model that real children's lines are fake (label conflict)."""
    rows = []
    for source, meta in SOURCES.items():
        for row in _read_jsonl(data / meta["file"]):
            text = row["student"] if source == "bridge" else row["text"]
            if text and text.strip():
                rows.append(Row(text, meta["label"], _group(source, row), source))
    real = {shape(r.text) for r in rows if r.label == 1}
    return [r for r in rows if r.label == 1 or shape(r.text) not in real]


def label_conflicts(data: Path = DATA) -> dict[str, int]:
    """How many negatives of each source :func:`load_rows` leaves out as label conflicts."""
    kept = Counter(r.source for r in load_rows(data))
    everything = Counter()
    for source, meta in SOURCES.items():
        everything[source] = sum(
            1
            for row in _read_jsonl(data / meta["file"])
            if (row.get("student") if source == "bridge" else row.get("text", "")).strip()
        )
    return {s: everything[s] - kept[s] for s in SOURCES if everything[s] != kept[s]}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(data: Path = DATA) -> dict:
    """Sources, counts and hashes: what a model file records as the data it was trained on."""
    rows = load_rows(data)
    sources = {}
    for source, meta in SOURCES.items():
        mine = [r for r in rows if r.source == source]
        sources[source] = {
            **meta,
            "rows": len(mine),
            "groups": len({r.group for r in mine}),
            "sha256": sha256(data / meta["file"]),
        }
    digest = hashlib.sha256(
        json.dumps({k: v["sha256"] for k, v in sources.items()}, sort_keys=True).encode()
    ).hexdigest()
    return {
        "sources": sources,
        "label_conflicts_left_out": label_conflicts(data),
        "positives": sum(r.label for r in rows),
        "negatives": sum(1 - r.label for r in rows),
        "content_hash": digest,
    }


def is_grade_two(row: dict) -> bool:
    """Grade-2 lessons (grade 2 or a topic coded ``2.``) are held out of everything we train."""
    return str(row.get("grade")) == "2" or str(row.get("topic", "")).startswith("2.")


def import_bridge(path: Path) -> int:
    kept = [r for r in _read_jsonl(path) if not is_grade_two(r)]
    _write(DATA / SOURCES["bridge"]["file"], kept)
    return len(kept)


def import_mathdial(path: Path, seed: int = 8) -> int:
    """Student turns of MathDial conversations (``Student: ...`` parts of ``conversation``)."""
    turns = []
    for index, row in enumerate(_read_jsonl(path)):
        for part in row["conversation"].split("|EOM|"):
            if part.startswith("Student:"):
                text = part[len("Student:") :].strip()
                if text:
                    turns.append({"text": text, "conversation": index, "qid": row["qid"]})
    short = [t for t in turns if len(t["text"].split()) <= 10]
    long = [t for t in turns if len(t["text"].split()) > 10]
    sample = random.Random(seed).sample(long, max(0, min(len(long), _MATHDIAL_SAMPLE - len(short))))
    kept = sorted(short + sample, key=lambda t: (t["conversation"], turns.index(t)))
    _write(DATA / SOURCES["mathdial"]["file"], kept)
    return len(kept)


def import_project_brains() -> int:
    """The shipped personas' example student lines, frozen so later persona edits do not
    silently change the training data."""
    from personas.loader import PersonaLibrary

    rows = []
    for persona in PersonaLibrary().list():
        for example in persona.examples:
            topic = example.misconception or "everyday"
            rows.append({"text": example.student, "group": f"{persona.id}:{topic}"})
    _write(DATA / SOURCES["project_brains"]["file"], rows)
    return len(rows)


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bridge", type=Path, help="real_child_turns.jsonl to import")
    parser.add_argument("--mathdial", type=Path, help="MathDial's data/test.jsonl to import")
    parser.add_argument("--project-brains", action="store_true", help="re-freeze persona lines")
    args = parser.parse_args(argv)
    if args.bridge:
        print(f"bridge: {import_bridge(args.bridge)} turns (grade 2 left out)")
    if args.mathdial:
        print(f"mathdial: {import_mathdial(args.mathdial)} student turns")
    if args.project_brains:
        print(f"project brains: {import_project_brains()} replies")
    MANIFEST.write_text(json.dumps(manifest(), indent=2) + "\n")
    print(f"wrote {MANIFEST}")


if __name__ == "__main__":
    main()
