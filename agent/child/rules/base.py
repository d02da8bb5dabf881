"""What an answer rule is: a named, parameterized way of answering one kind of question."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from agent.child.reader import Question


@dataclass(frozen=True)
class RuleAnswer:
    """What a rule says to a question."""

    value: str
    """The answer itself, as the child would type it ("43", "diamond", "the bowling ball")."""
    why: str
    """The reason, for a language-model brain and a trainer ("subtracted the smaller digit...")."""
    says: str = ""
    """How the child explains it when asked why, in a child's words ("7 take away 2 is 5")."""


class Rule(ABC):
    """An answer rule. Subclasses set ``name`` and ``kinds`` and take their params as keyword
    arguments (an unknown or badly typed param is a ``TypeError``/``ValueError`` naming it)."""

    name: ClassVar[str]
    kinds: ClassVar[frozenset[str]]
    """The question kinds (``Question.kind``) the rule answers."""
    params: ClassVar[dict[str, Any]] = {}
    """Param names and their defaults, for documentation and validation."""
    covers_known_facts: ClassVar[bool] = False
    """True for a rule about what a second-grader otherwise knows (sums within 20, reading
    two-digit numbers): it then answers before those facts do, while its misconception is held."""

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            known = ", ".join(self.params) or "none"
            raise TypeError(
                f"rule '{self.name}' has no param {', '.join(unknown)} (params: {known})"
            )
        self.options = {**self.params, **params}

    def applies(self, question: Question) -> bool:
        return question.kind in self.kinds

    @abstractmethod
    def answer(self, question: Question) -> RuleAnswer | None:
        """The answer to ``question``, or ``None`` when this rule has nothing to say about it."""
