"""A stand-in for ``agent.moves.classify_move`` until the recognizer is merged (development only).

It looks at what the sentence does (an imperative with a model, a check, a statement of the
answer), never at a persona's cue words. Replaced by the trained recognizer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class MoveVerdict:
    kind: str
    confidence: float
    why: str


_PATTERNS = [
    (
        "chitchat",
        r"\b(do you like|at home|at recess|your (favorite|favourite)|weekend|pet|"
        r"horses?|dinosaur|soccer|lunch|birthday)\b",
    ),
    (
        "telling",
        r"\b(it's|its|it is|the answer is|the right answer|you have to|you need to|"
        r"means|always|actually|just trust|swap your answer|is worth \d|are worth|"
        r"they land at|the earth spins|plants make|still a square)\b",
    ),
    (
        "reconsider",
        r"\b(are you sure|try again|think again|that's wrong|thats wrong|not quite|"
        r"check again|look again|remember)\b",
    ),
    ("inverse_check", r"\b(add .* back|check .* add|plus \d+ .* get back|adding .* check)\b"),
    (
        "experiment",
        r"\b(let's (drop|try|test|grow|put|shine|weigh|keep)|watch|listen|"
        r"what happens|see what|experiment)\b",
    ),
    ("counting_strategy", r"\b(count (up|on|back)|jump|hop|skip count|make a ten|spaces)\b"),
    (
        "counter_example",
        r"\b(true or false|is it true|check if|which would you|if you had|"
        r"could you buy|pretend store)\b",
    ),
    (
        "concrete_model",
        r"\b(blocks?|sticks?|cubes?|counters?|draw|picture|number line|chart|"
        r"balance|scale|coins? out|pennies|trade|flashlight|globe|lamp|paper|"
        r"fingers|tens? and .* ones|bundles?)\b",
    ),
    ("praise", r"\b(great|good job|well done|nice|awesome)\b"),
]


def classify_move(message: str) -> MoveVerdict:
    lowered = message.lower()
    for kind, pattern in _PATTERNS:
        if re.search(pattern, lowered):
            return MoveVerdict(kind, 0.6, f"fallback pattern for {kind}")
    if "?" in message:
        return MoveVerdict("question", 0.5, "a question")
    return MoveVerdict("other", 0.5, "nothing recognised")
