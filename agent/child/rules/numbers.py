"""Rules about numbers: place value, subtraction, the equals sign, and plain arithmetic."""

from __future__ import annotations

from agent.child.numbers import face_value_writing
from agent.child.reader import Question
from agent.child.rules.base import Rule, RuleAnswer

_PLACE_NAMES = ("ones", "tens", "hundreds", "thousands")


def _compare_answer(question: Question, bigger: int, reason: str, says: str) -> RuleAnswer:
    x, y = question.get("x"), question.get("y")
    smaller = y if bigger == x else x
    chosen = bigger if question.get("want") == "more" else smaller
    if question.get("yes_no"):
        value = "yes" if chosen == x else "no"
        return RuleAnswer(value, reason, says)
    return RuleAnswer(str(chosen), reason, says)


class Arithmetic(Rule):
    """Adds and subtracts correctly, and reads numbers as they are written."""

    name = "arithmetic"
    kinds = frozenset({"arithmetic", "compare", "write_number"})

    def answer(self, question: Question) -> RuleAnswer | None:
        if question.kind == "arithmetic":
            a, b, op = question.get("a"), question.get("b"), question.get("op")
            if op == "-" and b > a:
                return None
            value = {"+": a + b, "-": a - b, "*": a * b}[op]
            word = {"+": "plus", "-": "take away", "*": "times"}[op]
            return RuleAnswer(str(value), f"{a} {op} {b} = {value}", f"{a} {word} {b} is {value}")
        if question.kind == "compare":
            x, y = question.get("x"), question.get("y")
            bigger = max(x, y)
            return _compare_answer(
                question, bigger, f"{bigger} is the bigger number", f"{bigger} is more"
            )
        if question.kind == "write_number":
            spoken = question.get("spoken")
            return RuleAnswer(
                str(spoken.value),
                f"{spoken.words} is written {spoken.value}",
                f"its {spoken.value}",
            )
        return None


class FaceValueDigits(Rule):
    """Each digit is worth just itself: the 6 in 63 is 6, 89 beats 102 (8 is bigger than 1),
    one hundred seven is written as it sounds, 100 then 7: 1007."""

    name = "face-value-digits"
    kinds = frozenset({"digit_value", "compare", "write_number"})

    def answer(self, question: Question) -> RuleAnswer | None:
        if question.kind == "digit_value":
            digit = question.get("digit")
            return RuleAnswer(
                str(digit),
                f"reads the digit {digit} as worth just {digit}, whatever its place",
                f"its a {digit}",
            )
        if question.kind == "compare":
            x, y = question.get("x"), question.get("y")
            # the bigger first digit wins, whatever the length; equal first digits go on, and
            # the reason names the digits that decided (45 beats 412 because 5 > 1)
            bigger = max((x, y), key=lambda n: [int(d) for d in str(n)])
            digits = zip(str(bigger), str(y if bigger == x else x), strict=False)
            decided = next(((p, q) for p, q in digits if p != q), None)
            if decided is None:  # 5 and 52: the same digits as far as the shorter goes
                return _compare_answer(
                    question,
                    bigger,
                    f"the first digits are the same and {bigger} has more of them",
                    f"{bigger} has more numbers",
                )
            first, other = decided
            return _compare_answer(
                question,
                bigger,
                f"compares first digits only ({first} > {other}), ignoring how many digits",
                f"{first} is bigger than {other}",
            )
        if question.kind == "write_number":
            spoken = question.get("spoken")
            written = face_value_writing(spoken)
            return RuleAnswer(
                written,
                f"writes each spoken part as it sounds: {spoken.hundreds} then {spoken.rest}",
                f"{spoken.hundreds} and then {spoken.rest}",
            )
        return None


class PlaceValue(Rule):
    """A digit is worth its place: the 6 in 63 is 60; more digits means a bigger number."""

    name = "place-value"
    kinds = frozenset({"digit_value", "compare", "write_number"})

    def answer(self, question: Question) -> RuleAnswer | None:
        if question.kind == "digit_value":
            digit, place = question.get("digit"), question.get("place")
            value = digit * 10**place
            return RuleAnswer(
                str(value),
                f"the {digit} is in the {_PLACE_NAMES[place]} place",
                f"its in the {_PLACE_NAMES[place]} place",
            )
        return Arithmetic().answer(question)


def _columns(a: int, b: int) -> list[tuple[int, int]]:
    width = max(len(str(a)), len(str(b)))
    return list(zip(str(a).zfill(width), str(b).zfill(width), strict=True))


class SmallerFromLarger(Rule):
    """In every column take the smaller digit from the bigger one: 83 - 46 = 43."""

    name = "smaller-from-larger"
    kinds = frozenset({"arithmetic"})

    def answer(self, question: Question) -> RuleAnswer | None:
        a, b = question.get("a"), question.get("b")
        if question.get("op") != "-" or b > a:
            return None
        digits = [abs(int(x) - int(y)) for x, y in _columns(a, b)]
        value = int("".join(map(str, digits)))
        flipped = [(int(x), int(y)) for x, y in _columns(a, b) if int(x) < int(y)]
        if flipped:
            top, bottom = flipped[-1]
            says = f"{bottom} take away {top} is {bottom - top}"
            why = (
                f"in each column took the smaller digit from the bigger ({bottom} - {top} "
                f"instead of regrouping)"
            )
        else:
            says, why = (
                f"{a} take away {b} is {value}",
                "no regrouping needed, so it comes out right",
            )
        return RuleAnswer(str(value), why, says)


class EqualsAnswerNext(Rule):
    """ "=" means "the answer comes next": 5 + 3 = __ + 2 -> 8; 8 = 8 is not a real sum."""

    name = "equals-answer-next"
    kinds = frozenset({"equation_blank", "equation_true"})

    def answer(self, question: Question) -> RuleAnswer | None:
        left, right = question.get("left"), question.get("right")
        if question.kind == "equation_blank":
            known_left = [t for t in left if t is not None]
            if None in left:  # "__ = 3 + 4" or "__ + 2 = 7": answer-first reads backwards
                total = sum(t for t in right if t is not None)
                value = total - sum(known_left)
                return RuleAnswer(
                    str(value),
                    "fills the blank so the left side gives the answer",
                    f"{value} makes it",
                )
            value = sum(known_left)
            adds = " and ".join(map(str, known_left))
            return RuleAnswer(
                str(value),
                f"puts the answer of the left side ({adds} = {value}) right after the = sign",
                f"{adds} is {value}",
            )
        if len(left) == 1 and len(right) == 1:
            return RuleAnswer("false", "a sum needs a plus before the =", "theres no plus")
        if len(left) == 1:
            return RuleAnswer(
                "false", "the answer must come after the =, this is backwards", "its backwards"
            )
        total = sum(left)
        value = "true" if right[0] == total and len(right) == 1 else "false"
        return RuleAnswer(
            value, "checks only that the answer comes after the =", f"the answer is {total}"
        )


class EqualsSameAmount(Rule):
    """ "=" means both sides are the same amount: 5 + 3 = __ + 2 -> 6."""

    name = "equals-same-amount"
    kinds = frozenset({"equation_blank", "equation_true"})

    def answer(self, question: Question) -> RuleAnswer | None:
        left, right = question.get("left"), question.get("right")
        if question.kind == "equation_blank":
            known = [t for t in left if t is not None], [t for t in right if t is not None]
            blank_side, other_side = (known[0], known[1]) if None in left else (known[1], known[0])
            value = sum(other_side) - sum(blank_side)
            if value < 0:
                return None
            return RuleAnswer(
                str(value),
                f"both sides must be {sum(other_side)}",
                "so both sides are the same",
            )
        same = sum(left) == sum(right)
        return RuleAnswer(
            "true" if same else "false",
            f"the sides are {sum(left)} and {sum(right)}",
            "its the same on both sides" if same else "they are not the same",
        )
