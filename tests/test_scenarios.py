"""Scenario cards are built from any persona's misconception data."""

from __future__ import annotations

from personas.scenarios import scenario_cards
from personas.schema import Persona


def test_each_misconception_gets_a_task_and_an_opening_line_from_its_examples(
    maya: Persona,
) -> None:
    cards = scenario_cards(maya)
    assert [c.misconception_id for c in cards] == [m.id for m in maya.misconceptions]
    for card, misconception in zip(cards, maya.misconceptions, strict=True):
        confused = [
            e.teacher
            for e in maya.examples
            if e.misconception == misconception.id and e.phase != "understood"
        ]
        assert card.opening_line == confused[0]
        assert misconception.shows_as[0] in card.task and "Maya" in card.task
        assert card.belief and "." not in card.belief[-1:]


def test_a_misconception_without_examples_still_gets_an_opening_line(maya: Persona) -> None:
    target = maya.misconceptions[0]
    bare = maya.model_copy(
        update={"examples": [e for e in maya.examples if e.misconception != target.id]}
    )
    card = scenario_cards(bare)[0]
    topic = next(t.topic for t in maya.knowledge if target in t.misconceptions)
    assert topic in card.opening_line and card.opening_line.endswith("?")
