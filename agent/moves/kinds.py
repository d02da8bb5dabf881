"""The move kinds a teacher message is sorted into, and the verdict the recognizer returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

MoveKind = Literal[
    "concrete_model",  # a concrete model the child works with (blocks, coins, drawing, number line)
    "counter_example",  # a case the child checks that contradicts the belief
    "inverse_check",  # checking the answer by the inverse operation
    "experiment",  # do or observe something (drop two objects, grow a plant, spin a globe)
    "counting_strategy",  # count up/back, skip count, make a ten, count the spaces
    "telling",  # states the answer or the rule
    "reconsider",  # "are you sure?", "try again", "that's wrong" with nothing new to check with
    "question",  # poses a problem or asks for an answer or an explanation
    "praise",  # praise of effort or answer
    "chitchat",  # off-task or social talk, even with maths words in it
    "other",
]

MOVE_KINDS: tuple[str, ...] = get_args(MoveKind)

# The kinds that teach: a misconception can only be resolved by one of these.
EFFECTIVE_KINDS: frozenset[str] = frozenset(
    {"concrete_model", "counter_example", "inverse_check", "experiment", "counting_strategy"}
)


@dataclass(frozen=True)
class MoveVerdict:
    """What a teacher message does, how sure the recognizer is, and a short reason."""

    kind: MoveKind
    confidence: float  # the classifier's probability of `kind`
    why: str  # nearest labeled example and the explicit features that fired
