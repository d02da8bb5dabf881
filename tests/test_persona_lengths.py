"""The shipped personas talk about as much as real children typing in a tutoring chat (real
figures from the Bridge turns in trainers/childlike/data: median 1 word, ~88 % of turns 3 words
or fewer, 90th percentile 4); a chattier persona may sit a little above, not at 12 words."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from personas.loader import PersonaLibrary
from personas.schema import Persona

REAL = Path(__file__).resolve().parent.parent / "trainers" / "childlike" / "data"
PERSONAS = PersonaLibrary().list()


def lengths(lines: list[str]) -> tuple[float, float, int]:
    """(median words, share of lines with 3 words or fewer, 90th percentile)."""
    words = sorted(len(line.split()) for line in lines)
    return (
        statistics.median(words),
        sum(w <= 3 for w in words) / len(words),
        words[int(0.9 * len(words))],
    )


def real_children() -> tuple[float, float, int]:
    rows = (REAL / "real_child_turns.jsonl").read_text(encoding="utf-8").splitlines()
    return lengths([json.loads(row)["student"] for row in rows])


def test_the_shipped_personas_together_are_near_real_children() -> None:
    median, short, p90 = real_children()
    assert (median, p90) == (1, 4) and short > 0.85  # the reference itself
    ours = lengths([e.student for p in PERSONAS for e in p.examples])
    assert ours[0] <= median + 1
    assert ours[1] >= short - 0.1
    assert ours[2] <= p90 + 1


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.id)
def test_each_persona_is_near_real_children_with_room_for_personality(persona: Persona) -> None:
    median, short, p90 = real_children()
    ours = lengths([e.student for e in persona.examples])
    assert ours[0] <= median + 2, ours  # a chatty child may sit above the median
    assert ours[1] >= short - 0.2, ours
    assert ours[2] <= p90 + 2, ours
    words = persona.speech.words_per_turn
    assert words.min == 1 and words.typical <= 3 and words.max <= 2 * p90
    assert max(len(e.student.split()) for e in persona.examples) <= words.max
