"""Rules about coins, rulers and shapes."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from agent.child.reader import Question
from agent.child.rules.base import Rule, RuleAnswer

COIN_CENTS = {"penny": 1, "nickel": 5, "dime": 10, "quarter": 25}
# Diameters in millimetres (US Mint): what a child who judges by size goes by.
COIN_SIZE_MM = {"dime": 17.91, "penny": 19.05, "nickel": 21.21, "quarter": 24.26}


def _plural(count: int, coin: str) -> str:
    if count == 1:
        return f"1 {coin}"
    return f"{count} {'pennies' if coin == 'penny' else coin + 's'}"


class _Coins(Rule):
    """Coin questions, answered by what each coin is worth and how the child ranks coins;
    a subclass says how (``reason``) and in the child's words (``says_compare``/``says_value``)."""

    kinds = frozenset({"coin_compare", "coin_value", "coin_total"})
    reason: ClassVar[str]

    @abstractmethod
    def worth(self, coin: str) -> int: ...

    @abstractmethod
    def ranking(self, coin: str) -> float: ...

    @abstractmethod
    def says_compare(self, chosen: str, other: str) -> str: ...

    @abstractmethod
    def says_value(self, coin: str, cents: int) -> str: ...

    def answer(self, question: Question) -> RuleAnswer | None:
        if question.kind == "coin_compare":
            a, b = question.get("a"), question.get("b")
            if a not in COIN_CENTS or b not in COIN_CENTS:
                return None
            ranked = sorted((a, b), key=self.ranking, reverse=question.get("want") == "more")
            chosen, other = ranked
            if question.get("yes_no"):  # "is a dime worth more than a nickel?"
                return RuleAnswer(
                    "yes" if chosen == a else "no",
                    f"{self.reason}: the {chosen} over the {other}",
                    self.says_compare(chosen, other),
                )
            return RuleAnswer(
                chosen,
                f"{self.reason}: the {chosen} over the {other}",
                self.says_compare(chosen, other),
            )
        if question.kind == "coin_value":
            coin = question.get("coin")
            cents = self.worth(coin)
            return RuleAnswer(
                f"{cents} cent{'s' if cents != 1 else ''}",
                f"{self.reason}: a {coin} is {cents}",
                self.says_value(coin, cents),
            )
        if question.kind == "coin_total":
            coins = question.get("coins")
            total = sum(count * self.worth(coin) for count, coin in coins)
            listed = " and ".join(_plural(count, coin) for count, coin in coins)
            return RuleAnswer(
                f"{total} cents", f"{self.reason}: {listed} make {total}", f"{listed} is {total}"
            )
        return None


class CoinWorthBySize(_Coins):
    """A bigger coin is worth more: a penny beats a dime, a nickel beats a dime. ``worth`` is
    what the child thinks each coin is worth in cents (a dime "is 1 cent, it is little")."""

    name = "coin-worth-by-size"
    params = {"worth": {"penny": 1, "dime": 1, "nickel": 5, "quarter": 25}}
    reason = "goes by size, bigger is worth more"

    def worth(self, coin: str) -> int:
        return int(self.options["worth"].get(coin, COIN_CENTS[coin]))

    def ranking(self, coin: str) -> float:
        return COIN_SIZE_MM[coin]

    def says_compare(self, chosen: str, other: str) -> str:
        if COIN_SIZE_MM[chosen] > COIN_SIZE_MM[other]:
            return f"the {chosen} is bigger"
        return f"the {chosen} is little"

    def says_value(self, coin: str, cents: int) -> str:
        return "its little" if coin == "dime" else "i think"


class CoinValues(_Coins):
    """Coins are worth their value, whatever their size."""

    name = "coin-values"
    reason = "goes by value"

    def worth(self, coin: str) -> int:
        return COIN_CENTS[coin]

    def ranking(self, coin: str) -> float:
        return COIN_CENTS[coin]

    def says_compare(self, chosen: str, other: str) -> str:
        return f"a {chosen} is {COIN_CENTS[chosen]} pennies"

    def says_value(self, coin: str, cents: int) -> str:
        return f"{cents} pennies"


class RulerReadsEnd(Rule):
    """The length is the number where the object ends, even when it starts at 1 (or 2...)."""

    name = "ruler-reads-end"
    kinds = frozenset({"ruler"})

    def answer(self, question: Question) -> RuleAnswer | None:
        end = question.get("end")
        return (
            RuleAnswer(
                str(end),
                f"reads the number at the end ({end}) and ignores where "
                f"it starts ({question.get('start')})",
                f"it stops at {end}",
            )
            if end
            else None
        )


class RulerCountsSpaces(Rule):
    """The length is the spaces covered: end minus start."""

    name = "ruler-counts-spaces"
    kinds = frozenset({"ruler"})

    def answer(self, question: Question) -> RuleAnswer | None:
        start, end = question.get("start"), question.get("end")
        length = end - start
        return RuleAnswer(
            str(length),
            f"counts the {length} spaces from {start} to {end}",
            f"i counted {length} spaces",
        )


class TurnedShapeRenamed(Rule):
    """Turning a shape makes it another shape: a turned square is a diamond."""

    name = "turned-shape-renamed"
    kinds = frozenset({"shape_turned"})
    params = {
        "names": {"square": "diamond", "triangle": "not a triangle", "rectangle": "not a rectangle"}
    }

    def answer(self, question: Question) -> RuleAnswer | None:
        shape = question.get("shape")
        named = self.options["names"].get(shape)
        if named is None:
            return None
        return RuleAnswer(
            named,
            f"judges the shape by how it sits: a turned {shape} is '{named}'",
            "it looks pointy" if shape == "square" else "its upside down",
        )


class ShapeBySides(Rule):
    """A shape is what its sides and corners make it, however it is turned."""

    name = "shape-by-sides"
    kinds = frozenset({"shape_turned"})

    def answer(self, question: Question) -> RuleAnswer | None:
        shape = question.get("shape")
        sides = {"square": "4 same sides", "triangle": "3 sides", "rectangle": "4 sides"}[shape]
        return RuleAnswer(
            shape, f"a {shape} turned is still a {shape}: {sides}", f"it still has {sides}"
        )
