"""Answer rules by name, found through the ``utta.rules`` entry point group (like brains).

Built-in rules register in pyproject.toml through the same group a third party uses. A rule is a
:class:`~agent.child.rules.base.Rule` subclass; a persona names it with params::

    rule: {name: smaller-from-larger, params: {}}
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from agent.errors import UttaError

ENTRY_POINT_GROUP = "utta.rules"

# The same table pyproject.toml registers; used only when the installed metadata predates the
# ``utta.rules`` group (a checkout run without reinstalling), so shipped personas still work.
_BUILT_IN = {
    "arithmetic": "agent.child.rules.numbers:Arithmetic",
    "face-value-digits": "agent.child.rules.numbers:FaceValueDigits",
    "place-value": "agent.child.rules.numbers:PlaceValue",
    "smaller-from-larger": "agent.child.rules.numbers:SmallerFromLarger",
    "equals-answer-next": "agent.child.rules.numbers:EqualsAnswerNext",
    "equals-same-amount": "agent.child.rules.numbers:EqualsSameAmount",
    "coin-worth-by-size": "agent.child.rules.measuring:CoinWorthBySize",
    "coin-values": "agent.child.rules.measuring:CoinValues",
    "ruler-reads-end": "agent.child.rules.measuring:RulerReadsEnd",
    "ruler-counts-spaces": "agent.child.rules.measuring:RulerCountsSpaces",
    "turned-shape-renamed": "agent.child.rules.measuring:TurnedShapeRenamed",
    "shape-by-sides": "agent.child.rules.measuring:ShapeBySides",
    "heavier-falls-first": "agent.child.rules.science:HeavierFallsFirst",
    "fall-together": "agent.child.rules.science:FallTogether",
    "plants-eat-soil": "agent.child.rules.science:PlantsEatSoil",
    "plants-make-food": "agent.child.rules.science:PlantsMakeFood",
    "sun-goes-around": "agent.child.rules.science:SunGoesAround",
    "earth-spins": "agent.child.rules.science:EarthSpins",
}


class RuleError(UttaError):
    """A persona names a rule that does not exist or gives it bad params."""


@cache
def _targets() -> dict[str, str]:
    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return {**_BUILT_IN, **found}


def rule_names() -> list[str]:
    return sorted(_targets())


@cache
def rule_class(name: str) -> type:
    targets = _targets()
    if name not in targets:
        raise RuleError(
            f"no answer rule called '{name}'",
            fix=f"choose one of: {', '.join(sorted(targets))}",
        )
    module_name, _, attribute = targets[name].partition(":")
    from importlib import import_module

    return getattr(import_module(module_name), attribute)


def build_rule(name: str, params: Mapping[str, Any] | None = None) -> Any:
    """The rule ``name`` with ``params``; :class:`RuleError` naming the fix when either is bad."""
    cls = rule_class(name)
    try:
        return cls(**dict(params or {}))
    except (TypeError, ValueError) as error:
        known = ", ".join(getattr(cls, "params", {})) or "none"
        raise RuleError(
            f"the rule '{name}' cannot take these params: {error}",
            fix=f"use only its params ({known}), or leave params out",
        ) from None


def check_persona(persona: Any) -> list[tuple[tuple, str]]:
    """Problems with a persona's answer rules, as (field path, message with fix) pairs for
    :func:`personas.loader.load_persona_file`: unknown names, bad params, and a correct rule
    that cannot answer the questions the misconception's rule answers."""
    problems: list[tuple[tuple, str]] = []
    for t, topic in enumerate(persona.knowledge):
        for m, misconception in enumerate(topic.misconceptions):
            where = ("knowledge", t, "misconceptions", m)
            built = {}
            for field in ("rule", "correct_rule"):
                spec = getattr(misconception, field)
                if spec is None:
                    continue
                try:
                    built[field] = build_rule(spec.name, spec.params)
                except RuleError as error:
                    loc = (*where, field, "name" if "no answer rule" in error.message else "params")
                    problems.append((loc, f"{error.message}. Fix: {error.fix}."))
            if len(built) == 2:
                missing = built["rule"].kinds - built["correct_rule"].kinds
                if missing:
                    problems.append(
                        (
                            (*where, "correct_rule", "name"),
                            f"'{built['correct_rule'].name}' cannot answer the "
                            f"{', '.join(sorted(missing))} questions that "
                            f"'{built['rule'].name}' answers, so the child could not show it "
                            "learned. Fix: pick a correct rule for the same questions.",
                        )
                    )
    return problems
