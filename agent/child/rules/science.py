"""Rules about falling objects, what plants eat, and day and night."""

from __future__ import annotations

import re

from agent.child.reader import Question
from agent.child.rules.base import Rule, RuleAnswer

# Rough weights in grams, for a child who knows which of two things is heavier.
_WEIGHTS = {
    "bowling ball": 6000, "watermelon": 4000, "brick": 2500, "rock": 1500, "stone": 1500,
    "dictionary": 1500, "hammer": 700, "book": 600, "basketball": 600, "pumpkin": 3000,
    "shoe": 400, "soccer ball": 420, "football": 420, "bottle": 500, "can": 350, "apple": 200,
    "orange": 200, "baseball": 145, "toy car": 100, "tennis ball": 58, "golf ball": 46,
    "block": 50, "egg": 60, "pebble": 20, "marble": 5, "crayon": 5, "pencil": 7, "eraser": 10,
    "penny": 2.5, "coin": 5, "ping pong ball": 2.7, "grape": 5, "key": 10, "spoon": 30,
    "lego": 2, "cup": 200, "bean bag": 150, "dinosaur": 300, "ball": 300,
}  # fmt: skip
# Things the air holds up: here the lighter one really does land later.
_FLOATY = re.compile(
    r"feather|flat (?:sheet|paper|piece)|sheet of paper|tissue|leaf|balloon|"
    r"parachute|paper towel|napkin|bubble|plastic bag"
)


def weight_of(name: str) -> float | None:
    """A rough weight for ``name`` ("big rock" weighs more than "rock")."""
    for key in sorted(_WEIGHTS, key=len, reverse=True):
        if key in name:
            weight = _WEIGHTS[key]
            if re.search(r"\b(big|huge|giant|heavy|large)\b", name):
                weight *= 4
            if re.search(r"\b(small|little|tiny|light)\b", name):
                weight /= 4
            return weight
    return None


def _heavier(a: str, b: str) -> str | None:
    wa, wb = weight_of(a), weight_of(b)
    if wa is None or wb is None or wa == wb:
        return None
    return a if wa > wb else b


class HeavierFallsFirst(Rule):
    """Heavier things fall faster: the heavier of two dropped things lands first."""

    name = "heavier-falls-first"
    kinds = frozenset({"falling", "falling_general"})

    def answer(self, question: Question) -> RuleAnswer | None:
        if question.kind == "falling_general":
            return RuleAnswer(
                "heavy stuff falls faster",
                "heavier things fall faster",
                "i saw it. rocks fall fast",
            )
        a, b = question.get("objects")
        if _FLOATY.search(a) or _FLOATY.search(b):
            heavy = b if _FLOATY.search(a) else a
        else:
            heavy = _heavier(a, b)
        if heavy is None:
            return None
        return RuleAnswer(
            f"the {heavy}",
            f"the {heavy} is heavier, and heavy things fall faster",
            "heavy stuff falls harder",
        )


class FallTogether(Rule):
    """Dropped together, things land together unless the air holds one up."""

    name = "fall-together"
    kinds = frozenset({"falling", "falling_general"})

    def answer(self, question: Question) -> RuleAnswer | None:
        if question.kind == "falling_general":
            return RuleAnswer(
                "they fall the same",
                "without much air in the way, heavy and light things fall at the same speed",
                "we tried it. they tie",
            )
        a, b = question.get("objects")
        if _FLOATY.search(a) or _FLOATY.search(b):
            heavy = b if _FLOATY.search(a) else a
            return RuleAnswer(
                f"the {heavy}", "the air slows the light flat one", "the air holds it up"
            )
        return RuleAnswer(
            "same time", f"the {a} and the {b} fall at the same speed", "we tried it. they tie"
        )


_SOIL_FOOD = {
    "plant_food": ("the dirt", "eats food from the soil through its roots", "the roots suck it up"),
    "plant_no_soil": ("no it would starve", "no soil means no food", "it has no dirt to eat"),
    "plant_dark": (
        "yes its fine it has dirt",
        "the soil feeds it, light does not matter",
        "it can still eat the dirt",
    ),
    "plant_soil_weight": ("less dirt", "the plant ate the soil, so there is less", "it ate it"),
}
_MAKES_FOOD = {
    "plant_food": (
        "makes it in its leaves",
        "plants make food in their leaves from sunlight, water and air",
        "from sun and water and air",
    ),
    "plant_no_soil": (
        "yes it can grow",
        "the plant makes its food from light, water and air",
        "it makes its own food",
    ),
    "plant_dark": (
        "no it needs sun",
        "without light it cannot make food",
        "it cant make food in the dark",
    ),
    "plant_soil_weight": (
        "the same dirt",
        "the soil hardly changes; the plant is made from air and water",
        "the dirt stays",
    ),
}


class _PlantRule(Rule):
    kinds = frozenset(_SOIL_FOOD)
    table: dict[str, tuple[str, str, str]] = {}
    sun_moves = True
    """For day-and-night tables: whether the child thinks the sun is what moves."""

    def answer(self, question: Question) -> RuleAnswer | None:
        value, why, says = self.table[question.kind]
        if question.kind == "sun_moves" and question.get("yes_no"):
            # "does the sun go around the earth?" / "does the earth move?"
            moves = self.sun_moves == (question.get("subject") == "sun")
            value = f"{'yes' if moves else 'no'} {value}"
        return RuleAnswer(value, why, says)


class PlantsEatSoil(_PlantRule):
    """Plants get their food from the soil, through roots like straws."""

    name = "plants-eat-soil"
    table = _SOIL_FOOD


class PlantsMakeFood(_PlantRule):
    """Plants make their food in their leaves from light, water and air."""

    name = "plants-make-food"
    table = _MAKES_FOOD


_SUN_MOVES = {
    "sun_night": (
        "the sun goes behind the mountains",
        "the sun moves away and hides at night",
        "i see it go down",
    ),
    "sun_where": (
        "behind the hills",
        "the sun travels around and hides at night",
        "it goes down there",
    ),
    "sun_moves": (
        "the sun moves",
        "the earth stays still and the sun goes around it",
        "i dont feel it spinning",
    ),
}
_EARTH_SPINS = {
    "sun_night": (
        "the earth spins and we turn away",
        "the earth turns, so our side faces away from the sun",
        "we turn away from the sun",
    ),
    "sun_where": (
        "nowhere, the earth turns",
        "the sun stays; our side of the earth turns away",
        "its light on the other side",
    ),
    "sun_moves": (
        "the earth spins",
        "the earth spins once a day; the sun only looks like it moves",
        "its us moving",
    ),
}


class SunGoesAround(_PlantRule):
    """The sun moves around a still earth and hides behind the hills at night."""

    name = "sun-goes-around"
    kinds = frozenset(_SUN_MOVES)
    table = _SUN_MOVES


class EarthSpins(_PlantRule):
    """Day and night come from the earth spinning; the sun stays."""

    name = "earth-spins"
    kinds = frozenset(_EARTH_SPINS)
    table = _EARTH_SPINS
    sun_moves = False
