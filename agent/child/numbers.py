"""Number words to digits: "seventy-four" -> 74, "one hundred seven" -> 107.

The reader works on digits only, so a teacher who writes numbers out gets the same answer as
one who types them. Each converted span remembers how it was spoken (hundreds, then the rest),
which is what a child who writes "one hundred seven" as 1007 works from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)?|\d+|[^\sa-z\d]+|\s+")
# A lone "one" is usually a pronoun ("which one is bigger"); it is a number only next to an
# operation word or another number.
_OPERATOR_WORDS = frozenset(
    "plus minus add added take takes subtract equals times and more less + - = than from".split()
)


@dataclass(frozen=True)
class SpokenNumber:
    """A number the teacher wrote in words: its value and how it was said."""

    value: int
    hundreds: int
    """The hundreds said ("three hundred" -> 300), 0 if none."""
    rest: int
    """What came after the hundreds ("forty two" -> 42)."""
    words: str


def _word_value(word: str) -> tuple[str, int] | None:
    if word in _UNITS:
        return "unit", _UNITS[word]
    if word in _TENS:
        return "tens", _TENS[word]
    if word == "hundred":
        return "hundred", 100
    if "-" in word:
        tens, _, unit = word.partition("-")
        if tens in _TENS and unit in _UNITS and _UNITS[unit] < 10:
            return "unit", _TENS[tens] + _UNITS[unit]
    return None


def normalize(text: str) -> tuple[str, list[SpokenNumber]]:
    """``text`` lower-cased with number words replaced by digits, and the spoken numbers."""
    tokens = _WORD.findall(text.lower().replace("\u2019", "'"))
    out: list[str] = []
    spoken: list[SpokenNumber] = []
    i = 0
    while i < len(tokens):
        number = _read_number(tokens, i)
        if number is None:
            out.append(tokens[i])
            i += 1
            continue
        end, value, hundreds, rest, words = number
        if words == "one" and not _near_operator(tokens, i, end):
            out.append(tokens[i])
            i += 1
            continue
        out.append(str(value))
        spoken.append(SpokenNumber(value, hundreds, rest, words))
        i = end
    return "".join(out), spoken


def _near_operator(tokens: list[str], start: int, end: int) -> bool:
    before = [t for t in tokens[:start] if t.strip()][-1:]
    after = [t for t in tokens[end:] if t.strip()][:1]
    return any(t in _OPERATOR_WORDS or t.isdigit() for t in before + after)


def _skip_space(tokens: list[str], j: int) -> int:
    while j < len(tokens) and not tokens[j].strip():
        j += 1
    return j


def _unit_after_tens(tokens: list[str], i: int, used: list[str]) -> tuple[int, int]:
    """A unit one to nine after a tens word that ends at ``i`` ("forty two"): (end, value),
    or (``i``, 0) when none follows. The unit's word is added to ``used``."""
    k = _skip_space(tokens, i)
    parsed = _word_value(tokens[k]) if k < len(tokens) else None
    if parsed and 0 < parsed[1] < 10:  # tens and hundreds are 20 and up
        used.append(tokens[k])
        return k + 1, parsed[1]
    return i, 0


def _read_number(tokens: list[str], start: int) -> tuple[int, int, int, int, str] | None:
    """(end index, value, hundreds, rest, words) of a number in words starting at ``start``."""
    hundreds = rest = 0
    used: list[str] = []
    word = tokens[start]
    after = _skip_space(tokens, start + 1)
    if word == "a" and after < len(tokens) and tokens[after] == "hundred":
        hundreds, i = 100, after + 1
        used += ["a", "hundred"]
    else:
        parsed = _word_value(word)
        if parsed is None or parsed[0] == "hundred":
            return None
        kind, value = parsed
        if kind == "unit" and value < 10 and after < len(tokens) and tokens[after] == "hundred":
            hundreds, i = value * 100, after + 1
            used += [word, "hundred"]
        else:
            rest, i = value, start + 1
            used.append(word)
            if kind == "tens":
                i, unit = _unit_after_tens(tokens, i, used)
                rest += unit
    if hundreds:  # what comes after the hundreds, with or without "and"
        j = _skip_space(tokens, i)
        if j < len(tokens) and tokens[j] == "and":
            j = _skip_space(tokens, j + 1)
        parsed = _word_value(tokens[j]) if j < len(tokens) else None
        if parsed and parsed[0] in ("unit", "tens"):
            rest = parsed[1]
            used.append(tokens[j])
            i = j + 1
            if parsed[0] == "tens":
                i, unit = _unit_after_tens(tokens, i, used)
                rest += unit
    return i, hundreds + rest, hundreds, rest, " ".join(used)


def face_value_writing(number: SpokenNumber) -> str:
    """How a child who writes each spoken part as it sounds writes it: 100 and 7 -> "1007"."""
    if number.hundreds and number.rest:
        return f"{number.hundreds}{number.rest}"
    return str(number.value)
