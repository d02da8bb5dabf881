"""What the child would answer to the teacher's message, and why.

The misconception the question touches answers by its ``rule`` while held and by its
``correct_rule`` once resolved; what the child knows (add and subtract within 20, read and
compare two-digit numbers) is answered right; beyond that the child guesses or does not know.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import cache
from typing import TYPE_CHECKING, Any

from agent.child.reader import Question, read_question
from agent.child.registry import build_rule
from personas.schema import Misconception, Persona

if TYPE_CHECKING:
    from agent.child.rules.base import RuleAnswer

# What a grade-2 child knows without a rule: facts within 20, numbers below 100.
FACTS_WITHIN = 20
READS_BELOW = 100

_WHY = re.compile(
    r"^\s*(why|how come|how did you|how do you know|what makes you|explain|"
    r"tell me how|tell me why|show me how|can you explain|what did you do)\b|"
    r"\bwhy\b.*\?\s*$"
)
# Asking the last problem again ("are you sure?", "so what is it now?"), not a new topic.
_AGAIN = re.compile(
    r"\b(are you sure|sure\?|again|the answer|your answer|so what|what is it|what's it|"
    r"now what|what about now|how about now|blank|check|redo|one more time|still think|"
    r"still say|think now)\b|^\s*(so|then|ok so|okay so|now)\b"
)


@dataclass(frozen=True)
class Answer:
    """The child's answer to the latest question (StudentState's ``answer``)."""

    question: str
    value: str | None
    """What the child says; ``None`` when it does not know."""
    correct_value: str | None
    rule: str
    misconception: str | None
    held: bool
    why: str
    says: str = ""
    """The child's own explanation, when asked why."""
    kind: str = ""
    """The question's kind (``Question.kind``)."""
    mode: str = "answer"
    """``answer`` a question, ``explain`` the last answer, ``guess`` beyond what it knows,
    ``realize`` the last problem seen the right way the moment a misconception resolves."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Answer | None:
        if not data:
            return None
        fields = cls.__dataclass_fields__
        return cls(**{key: value for key, value in data.items() if key in fields})


@cache
def _rule(name: str, params_json: str) -> Any:
    return build_rule(name, json.loads(params_json))


def rule_for(misconception: Misconception, held: bool) -> Any | None:
    spec = misconception.rule if held else misconception.correct_rule
    if spec is None:
        return None
    return _rule(spec.name, json.dumps(spec.params, sort_keys=True))


def think(
    persona: Persona,
    holds: Callable[[str], bool],
    message: str,
    *,
    active: str | None = None,
    previous: str | None = None,
) -> Answer | None:
    """The child's answer to ``message``; ``None`` when the message asks no problem.

    ``previous`` is the last problem posed: "why?" explains the answer to it and "are you
    sure?" answers it again, with what the child believes now."""
    question = read_question(message)
    if question is None:
        if previous is None:
            return None
        lowered = message.lower()
        again = answer_question(persona, holds, read_question(previous), active)
        if again is None:
            return None
        if _WHY.search(lowered):
            return replace(again, mode="explain")
        asks_again = "?" in message or re.search(r"\bagain\b", lowered)
        if _AGAIN.search(lowered) and asks_again and not re.search(r"\d", message):
            return again
        return None
    return answer_question(persona, holds, question, active)


def answer_question(
    persona: Persona, holds: Callable[[str], bool], question: Question | None, active: str | None
) -> Answer | None:
    if question is None:
        return None
    misconceptions = sorted(persona.misconceptions, key=lambda m: m.id != active)
    early = _by_misconception(holds, question, misconceptions, facts_only=True)
    if early is not None:
        return early
    known = _known_fact(question)
    if known is not None:
        return known
    answer = _by_misconception(holds, question, misconceptions, facts_only=False)
    if answer is not None:
        return answer
    return _beyond(question)


def _by_misconception(
    holds: Callable[[str], bool],
    question: Question,
    misconceptions: list[Misconception],
    *,
    facts_only: bool,
) -> Answer | None:
    """The answer by the first misconception whose rule (held or correct) answers it."""
    for m in misconceptions:
        held = holds(m.id)
        rule = rule_for(m, held)
        if rule is None or not rule.applies(question):
            continue
        if facts_only and not (held and rule.covers_known_facts):
            continue
        said = rule.answer(question)
        if said is None:
            continue
        correct_rule = rule_for(m, False)
        correct = correct_rule.answer(question) if correct_rule.applies(question) else None
        return Answer(
            question=question.text,
            value=said.value,
            correct_value=correct.value if correct else None,
            rule=rule.name,
            misconception=m.id,
            held=held,
            why=said.why,
            says=said.says,
            kind=question.kind,
        )
    return None


def _arithmetic() -> Any:
    return _rule("arithmetic", "{}")


def _known_fact(question: Question) -> Answer | None:
    kind = question.kind
    if kind == "arithmetic":
        a, b, op = question.get("a"), question.get("b"), question.get("op")
        if op not in ("+", "-"):
            return None
        result = a + b if op == "+" else a - b
        if not (a <= FACTS_WITHIN and b <= FACTS_WITHIN and 0 <= result <= FACTS_WITHIN):
            return None
    elif kind == "compare":
        if max(question.numbers) >= READS_BELOW:
            return None
    elif kind == "write_number":
        if question.get("spoken").value >= READS_BELOW:
            return None
    else:
        return None
    said = _arithmetic().answer(question)
    if said is None:
        return None
    return Answer(
        question.text,
        said.value,
        said.value,
        "arithmetic",
        None,
        False,
        f"a known fact: {said.why}",
        said.says,
        kind,
    )


def _no_regrouping(a: int, b: int, op: str) -> bool:
    width = max(len(str(a)), len(str(b)))
    pairs = zip(str(a).zfill(width), str(b).zfill(width), strict=True)
    if op == "+":
        return all(int(x) + int(y) < 10 for x, y in pairs)
    return all(int(x) >= int(y) for x, y in pairs)


def _worked_out(question: Question, correct: RuleAnswer, why: str) -> Answer:
    """The right answer, worked out as plain arithmetic (no misconception), said as usual."""
    return Answer(
        question.text,
        correct.value,
        correct.value,
        "arithmetic",
        None,
        False,
        why,
        correct.says,
        question.kind,
    )


def _beyond(question: Question) -> Answer | None:
    """No rule of this child covers it: easy column sums come out right, the rest is a guess."""
    correct = _arithmetic().answer(question) if question.kind in _arithmetic().kinds else None
    if question.kind == "arithmetic" and correct is not None:
        a, b, op = question.get("a"), question.get("b"), question.get("op")
        if op in ("+", "-") and a < 100 and b < 100 and _no_regrouping(a, b, op):
            return _worked_out(question, correct, f"no regrouping needed: {correct.why}")
        seed = zlib.crc32(question.text.encode())
        if seed % 3 == 0:
            value = None
        else:
            target = int(correct.value)
            value = str(max(0, target + (10 if seed % 2 else -10) + seed % 3))
        return Answer(
            question.text,
            value,
            correct.value,
            "guess",
            None,
            False,
            "beyond what the child knows: a guess",
            "i just guessed",
            question.kind,
            "guess",
        )
    if correct is not None:  # comparisons and numbers beyond 100 without a rule: reads them right
        return _worked_out(question, correct, correct.why)
    return Answer(
        question.text,
        None,
        None,
        "unknown",
        None,
        False,
        "not something this child knows about",
        "",
        question.kind,
        "guess",
    )
