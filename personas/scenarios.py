"""Scenario cards: one practice task per misconception, built from the persona's own data.

A card names what the child believes (the first sentence of ``belief``), what the trainee may see
(``shows_as``), a short task, and an opening line the trainee can send as is or change: the
teacher line of the persona's first example that shows the misconception before it is resolved,
else a question built from the topic. Nothing here is stored: cards follow the persona files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from personas.schema import Persona


@dataclass(frozen=True)
class ScenarioCard:
    persona_id: str
    misconception_id: str
    topic: str
    belief: str
    """The first sentence of what the child believes."""
    task: str
    opening_line: str


def _first_sentence(text: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s+", " ".join(text.split()), maxsplit=1)[0]
    return sentence.rstrip(".")


def scenario_cards(persona: Persona) -> list[ScenarioCard]:
    """One card per misconception, in the order the persona lists them."""
    cards = []
    for topic in persona.knowledge:
        for misconception in topic.misconceptions:
            opening = next(
                (
                    example.teacher
                    for example in persona.examples
                    if example.misconception == misconception.id and example.phase != "understood"
                ),
                f"Let's look at {topic.topic} together. Can you show me how you'd start?",
            )
            seen = misconception.shows_as[0]
            task = (
                f"{persona.name} {seen}. Find out how {persona.name} is thinking, then help "
                f"{persona.name} see it another way; telling the rule is not enough "
                f"(about {misconception.moves_needed} good moves)."
            )
            cards.append(
                ScenarioCard(
                    persona_id=persona.id,
                    misconception_id=misconception.id,
                    topic=topic.topic,
                    belief=_first_sentence(misconception.belief),
                    task=task,
                    opening_line=opening,
                )
            )
    return cards
