"""The question reader: what problem the teacher's message poses, in the teacher's own numbers.

``read_question`` turns a message into a :class:`Question` of one kind (an arithmetic problem, a
comparison, the value of a digit, a coin question, a ruler reading, a turned shape, a falling,
plant or day-and-night question) with the numbers or objects it is about, or ``None`` when the
message poses no problem. Rules answer questions; the reader never decides what is right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent.child.numbers import SpokenNumber, normalize

_NUM = r"(\d{1,4})"
_MINUS = r"(?:-|−|–|minus|take away|takeaway|subtract)"
_BLANK = r"(?:_+|\?|□|\[\s*\]|\bblank\b|\bbox\b|\bwhat number\b|\bwhat\b|\bn\b|\bx\b)"

_COMPARE_MORE = re.compile(r"\b(more|bigger|biggest|greater|greatest|larger|largest|higher|most)\b")
_COMPARE_LESS = re.compile(r"\b(less|smaller|smallest|fewer|fewest|lower|least)\b")
_ASKS = re.compile(
    r"\?|^\s*(what|whats|what's|how|which|why|where|who|is|are|does|do|can|could|will|would|"
    r"tell|show|find|work out|figure|try|solve|write|say|now|so|and)\b"
)

_COIN = re.compile(r"\b(penny|pennies|nickels?|dimes?|quarters?)\b")
_SHAPES = ("square", "triangle", "rectangle")
_TURNED = re.compile(
    r"\b(turn|turned|turns|turning|rotate|rotated|spin|spun|tilt|tilted|tip|tipped|twist|"
    r"twisted|upside[- ]down|sideways|on (?:its|a|one) (?:corner|point|tip)|point(?:ing)? "
    r"(?:down|up)|flip|flipped)\b"
)


@dataclass(frozen=True)
class Question:
    """One problem the teacher posed. ``kind`` says which fields matter."""

    text: str
    kind: str
    numbers: tuple[int, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


def _asks(text: str) -> bool:
    return bool(_ASKS.search(text))


def read_question(message: str) -> Question | None:
    """The problem ``message`` poses, or ``None``."""
    text, spoken = normalize(message)
    text = re.sub(r"\s+", " ", text).strip()
    for reader in _READERS:
        question = reader(message, text, spoken)
        if question is not None:
            return question
    return None


# --- numbers ----------------------------------------------------------------------------------


def _equation(message: str, text: str, spoken: list[SpokenNumber]) -> Question | None:
    if "=" not in text and not re.search(r"\bequals?\b|\bis the same as\b", text):
        return None
    body = re.sub(r"\bequals?\b|\bis the same as\b", "=", text)
    match = re.search(r"([\d_?□\[\]\s+\-a-z]*?)=([\d_?□\[\]\s+\-a-z]*)", body)
    if not match:
        return None
    left, right = (_side(part) for part in match.groups())
    if left is None or right is None:
        return None
    blanks = sum(term is None for term in left + right)
    if blanks > 1 or not left or not right:
        return None
    if blanks == 0:
        return Question(message, "equation_true", (), {"left": left, "right": right})
    return Question(message, "equation_blank", (), {"left": left, "right": right})


def _side(part: str) -> list[int | None] | None:
    """Terms of one side of an equation ("3 + __" -> [3, None]); only additions."""
    # the question's own mark ("... + 10?"), not a blank ("5 + ?")
    part = re.sub(r"(?<=[\w)])\s*\?\s*$", "", part.strip(" .,:;"))
    words = re.findall(rf"\d+|{_BLANK}|\+|plus", part)
    terms: list[int | None] = []
    expect_term = True
    for word in words:
        if word in ("+", "plus"):
            if expect_term:
                return None
            expect_term = True
            continue
        if not expect_term:
            # "true or false: 8 = 8" -- keep the terms next to the sign only
            terms = []
        terms.append(int(word) if word.isdigit() else None)
        expect_term = False
    if expect_term and terms:
        return None
    return terms  # two blanks ("__ + __") are refused by the caller


_WORD_MINUS = re.compile(
    r"\b(gave away|give away|gives away|gave|ate|eat|eats|eaten|lost|loses|lose|spent|spend|"
    r"spends|sold|sells|used|uses|use up|popped|pops|broke|breaks|broken|flew|fly|flies|ran|"
    r"runs|took|takes|left|leave|leaves|fell|falls|melted|melts|away|fewer|less|get off|gets "
    r"off|got off|hopped off|went home|go home|goes home|drove|swam|rolled|dropped|lose)\b"
)
_WORD_PLUS = re.compile(
    r"\b(more|got|gets|found|finds|bought|buys|gave (?:him|her|them|me|you)|joined|came|come|"
    r"in all|altogether|total|together|added|plus)\b"
)


def _arithmetic(message: str, text: str, spoken: list[SpokenNumber]) -> Question | None:
    times = re.search(rf"{_NUM}\s*(?:x|×|\*|times|multiplied by)\s*{_NUM}", text)
    if times:
        a, b = int(times.group(1)), int(times.group(2))
        return Question(message, "arithmetic", (a, b), {"op": "*", "a": a, "b": b})
    patterns = [
        (rf"{_NUM}\s*{_MINUS}\s*{_NUM}", "-", False),
        (rf"\btake (?:away )?{_NUM} (?:away )?from {_NUM}", "-", True),
        (rf"\bsubtract {_NUM} from {_NUM}", "-", True),
        (rf"{_NUM}\s*(?:\+|plus)\s*{_NUM}", "+", False),
        (rf"\b{_NUM} take {_NUM}\b", "-", False),
        (rf"\b{_NUM} and {_NUM} (?:together|altogether|in all|make|makes|is|are)\b", "+", False),
        (rf"\badd {_NUM} (?:and|to|plus) {_NUM}", "+", False),
        (rf"\b{_NUM} (?:add|added to) {_NUM}", "+", False),
    ]
    for pattern, op, swap in patterns:
        match = re.search(pattern, text)
        if match:
            a, b = int(match.group(1)), int(match.group(2))
            if swap:
                a, b = b, a
            return Question(message, "arithmetic", (a, b), {"op": op, "a": a, "b": b})
    match = re.search(rf"difference (?:between|of) {_NUM} and {_NUM}", text)
    if match:
        a, b = sorted((int(match.group(1)), int(match.group(2))), reverse=True)
        return Question(message, "arithmetic", (a, b), {"op": "-", "a": a, "b": b})
    return _word_problem(message, text)


def _word_problem(message: str, text: str) -> Question | None:
    numbers = [int(n) for n in re.findall(r"\b\d+\b", text)]
    if len(numbers) != 2 or not re.search(
        r"\bhow many|\bhow much|\bleft\b|\bnow\b|\bin all\b|\baltogether\b|\btotal\b", text
    ):
        return None
    a, b = numbers
    if re.search(r"how many more|how much more|how many fewer", text):
        a, b = max(a, b), min(a, b)
        return Question(message, "arithmetic", (a, b), {"op": "-", "a": a, "b": b, "story": True})
    after_first = text[re.search(rf"\b{a}\b", text).end() :]
    if _WORD_MINUS.search(after_first) or re.search(r"\bleft\b", text):
        return Question(message, "arithmetic", (a, b), {"op": "-", "a": a, "b": b, "story": True})
    if _WORD_PLUS.search(after_first):
        return Question(message, "arithmetic", (a, b), {"op": "+", "a": a, "b": b, "story": True})
    return None


def _digit_value(message: str, text: str, spoken: list[SpokenNumber]) -> Question | None:
    if not re.search(r"worth|mean|value|stand|how much|equal|represent", text):
        return None
    digit_match = re.search(r"\b(?:the|digit|a)\s+(\d)\b(?!\s*(?:\+|-|plus|minus))", text)
    if not digit_match:
        return None
    digit = digit_match.group(1)
    numbers = [n for n in re.findall(r"\b\d{2,4}\b", text) if digit in n]
    if len(numbers) != 1:
        return None
    number = numbers[0]
    place = len(number) - 1 - number.index(digit)
    return Question(
        message,
        "digit_value",
        (int(number),),
        {"digit": int(digit), "number": int(number), "place": place},
    )


def _write_number(message: str, text: str, spoken: list[SpokenNumber]) -> Question | None:
    if not spoken or not re.search(
        r"\bwrite|\bwritten|\bwrite down|\bnumeral|\bin digits|"
        r"\bas a number|\bwhat number is|\btype\b",
        text,
    ):
        return None
    number = max(spoken, key=lambda s: s.value)
    return Question(message, "write_number", (number.value,), {"spoken": number})


def _compare(message: str, text: str, spoken: list[SpokenNumber]) -> Question | None:
    more, less = _COMPARE_MORE.search(text), _COMPARE_LESS.search(text)
    if not (more or less) or _COIN.search(text):
        return None
    numbers = [int(n) for n in re.findall(r"\b\d+\b", text)]
    if len(numbers) != 2 or numbers[0] == numbers[1]:
        return None
    want = "less" if less and (not more or less.start() < more.start()) else "more"
    yes_no = bool(re.match(r"^(is|are|does)\b", text)) or bool(
        re.search(rf"\bis {numbers[0]} (?:more|bigger|greater|larger|less|smaller)", text)
    )
    return Question(
        message,
        "compare",
        tuple(numbers),
        {"x": numbers[0], "y": numbers[1], "want": want, "yes_no": yes_no},
    )


def _bare_number(message: str, text: str, spoken: list[SpokenNumber]) -> Question | None:
    """ "What number is fifty-two?" -- reading a number in words, no hundreds."""
    if spoken and re.search(r"\bwhat number\b", text):
        return Question(message, "write_number", (spoken[0].value,), {"spoken": spoken[0]})
    return None


# --- money, measuring, shapes -------------------------------------------------------------------


def _coin_name(word: str) -> str:
    word = word.lower()
    if word.startswith("penn"):
        return "penny"
    return word.rstrip("s")


def _coins(message: str, text: str, spoken: list[SpokenNumber]) -> Question | None:
    found = list(_COIN.finditer(text))
    if not found:
        return None
    names = []
    for match in found:
        name = _coin_name(match.group(1))
        if name not in names:
            names.append(name)
    counts: list[tuple[int, str]] = []
    for match in re.finditer(
        r"\b(\d+|a|an|one)\s+(penny|pennies|nickels?|dimes?|quarters?)\b", text
    ):
        count = 1 if match.group(1) in ("a", "an", "one") else int(match.group(1))
        counts.append((count, _coin_name(match.group(2))))
    total = re.search(r"how much|how many cents|in all|altogether|total|how much money", text)
    if total and (len(counts) >= 2 or any(c > 1 for c, _ in counts)):
        return Question(message, "coin_total", (), {"coins": counts})
    if len(names) >= 2:
        choose = (
            _COMPARE_MORE.search(text)
            or _COMPARE_LESS.search(text)
            or re.search(r"rather|pick|choose|want|which", text)
        )
        if choose and _asks(text):
            want = (
                "less" if _COMPARE_LESS.search(text) and not _COMPARE_MORE.search(text) else "more"
            )
            yes_no = bool(re.match(r"^(is|are|does|do)\b", text))
            return Question(
                message,
                "coin_compare",
                (),
                {"a": names[0], "b": names[1], "want": want, "yes_no": yes_no},
            )
    if len(names) == 1 and re.search(r"worth|how much|how many cents|value|cents", text):
        return Question(message, "coin_value", (), {"coin": names[0]})
    return None


_RULER_WORDS = re.compile(r"ruler|measur|how long|long is|length|inch|centimet|\bcm\b|tall")


def _ruler(message: str, text: str, spoken: list[SpokenNumber]) -> Question | None:
    if not _RULER_WORDS.search(text):
        return None
    patterns = [
        rf"(?:starts?|begins?|lined up|lines up|line[sd]? up|at the|from)\D{{0,25}}?{_NUM}"
        rf"\D{{1,60}}?(?:ends?|stops?|reaches|goes to|comes to|to the|up to|other end|at)"
        rf"\D{{0,25}}?{_NUM}",
        rf"from (?:the )?{_NUM} to (?:the )?{_NUM}",
        rf"between (?:the )?{_NUM} and (?:the )?{_NUM}",
    ]
    numbers = [int(n) for n in re.findall(r"\b\d+\b", text)]
    two = None
    if len(numbers) == 2 and re.search(
        r"how long|how many (?:inches|centimet|cm)|length|how tall", text
    ):
        two = tuple(sorted(numbers))
    for pattern in [*patterns, None]:
        match = re.search(pattern, text) if pattern else None
        if match or (pattern is None and two):
            start, end = (int(match.group(1)), int(match.group(2))) if match else two
            if end > start and end <= 100:
                unit = "inches"
                if re.search(r"centimet|\bcm\b", text):
                    unit = "cm"
                return Question(
                    message, "ruler", (start, end), {"start": start, "end": end, "unit": unit}
                )
    return None


def _shape(message: str, text: str, spoken: list[SpokenNumber]) -> Question | None:
    shape = next((s for s in _SHAPES if re.search(rf"\b{s}s?\b", text)), None)
    turned = _TURNED.search(text)
    if shape is None and re.search(r"\bdiamond\b", text):
        return Question(message, "shape_turned", (), {"shape": "square", "named": "diamond"})
    if shape is None or not turned:
        return None
    return Question(message, "shape_turned", (), {"shape": shape})


# --- science -------------------------------------------------------------------------------------

_FALL = re.compile(
    r"\b(drop|dropped|drops|fall|falls|fell|land|lands|hit|hits|first|faster|"
    r"race|splash)\b"
)


def _falling(message: str, text: str, spoken: list[SpokenNumber]) -> Question | None:
    general = _two_objects(text) is None or re.search(r"\bthings?\b|\bstuff\b|\bobjects?\b", text)
    if (
        general
        and re.search(r"\bheav(?:y|ier)\b.{0,40}\b(fall|drop|land)", text)
        and re.search(r"\b(faster|first|quicker|sooner|slower|same)\b", text)
    ):
        return Question(message, "falling_general")
    if not _FALL.search(text) or not re.search(
        r"first|faster|same time|which|who wins|win|sooner|quicker|before", text
    ):
        return None
    objects = _two_objects(text)
    if objects is None:
        return None
    return Question(message, "falling", (), {"objects": objects})


_ARTICLE = r"(?:a|an|the|one|my|your|this|that)"


def _two_objects(text: str) -> tuple[str, str] | None:
    cleaned = re.sub(r"[?!.,:;]", " ", text)
    stop = (
        r"(?=\s+(?:at|from|off|out|together|and|which|who|what|will|would|does|do|"
        r"to|in|on|are|is|were|was|get|gets|fall|falls|land|lands|drop|dropped)\b|\s*$)"
    )
    patterns = [
        rf"\b{_ARTICLE}\s+([a-z]+(?: [a-z]+){{0,2}}?)\s+(?:and|or|with|vs|versus)\s+{_ARTICLE}\s+"
        rf"([a-z]+(?: [a-z]+){{0,2}}?){stop}",
        rf"\b([a-z]+(?: [a-z]+)?)\s+or\s+{_ARTICLE}?\s*([a-z]+(?: [a-z]+)?){stop}",
    ]
    for pattern in patterns:
        match = re.search(pattern, cleaned)
        if match:
            a, b = (_object_name(g) for g in match.groups())
            if a and b and a != b:
                return a, b
    return None


_OBJECT_NOISE = re.compile(
    r"^(?:drop|dropped|both|let go of|hold|holding|a|an|the|one|"
    r"really|very)\s+"
)


def _object_name(raw: str) -> str:
    name = raw.strip()
    previous = None
    while previous != name:
        previous = name
        name = _OBJECT_NOISE.sub("", name)
    return name.strip()


def _plants(message: str, text: str, spoken: list[SpokenNumber]) -> Question | None:
    plant = re.search(
        r"\b(plants?|seeds?|trees?|flowers?|sunflowers?|beans?|bean plant|"
        r"tomato(?:es)? plants?|grass|pumpkins?|carrots?|oak|daisy|tulips?|"
        r"seedlings?|sprouts?)\b",
        text,
    )
    if not plant:
        return None
    name = plant.group(1)
    if re.search(
        r"\b(no|without) (soil|dirt)\b|paper towel|in (just |only )?water|"
        r"only water|jar of water|cotton",
        text,
    ) and re.search(r"grow|live|ok|okay|happen|die|alive|survive|starve|hungry", text):
        return Question(message, "plant_no_soil", (), {"plant": name})
    if re.search(r"dark|closet|no (sun|light)|without (sun|light)|cupboard|box", text):
        return Question(message, "plant_dark", (), {"plant": name})
    if re.search(
        r"weigh|heav|lighter|how much (soil|dirt)|less (soil|dirt)|soil go|dirt go|"
        r"(soil|dirt) (get|gone|disappear)",
        text,
    ):
        return Question(message, "plant_soil_weight", (), {"plant": name})
    if re.search(r"\b(food|eat|eats|hungry|feed|get (its|their) food|energy|make)\b", text):
        return Question(message, "plant_food", (), {"plant": name})
    if re.search(r"\bgrow|bigger|get big|what do(es)? (a |the )?\w+ need", text):
        return Question(message, "plant_food", (), {"plant": name})
    return None


def _sun(message: str, text: str, spoken: list[SpokenNumber]) -> Question | None:
    if not re.search(r"\b(sun|night|dark|day|sunset|sunrise|earth|sky)\b", text):
        return None
    if re.search(
        r"where (does|did|do|is) (the )?sun|sun go(es)? (at night|away|down)|"
        r"sun at night|sun hide",
        text,
    ):
        return Question(message, "sun_where")
    if re.search(r"\b(dark|night|day|sunset|sunrise|morning|evening)\b", text) and re.search(
        r"\bwhy|\bhow come|\bwhat makes|\bhow does|\bwhat happens|\bexplain", text
    ):
        return Question(message, "sun_night")
    if re.search(r"\b(sun|earth)\b", text) and re.search(
        r"\bmov|\bspin|\bturn|\bgo(es)? around|\bgoing around|\brotat|\bcircle|\bstill\b", text
    ):
        subject = "earth" if re.search(r"^(does|is|do)\s+(the\s+)?earth", text) else "sun"
        yes_no = bool(re.match(r"^(does|is|do|are|can)\b", text))
        return Question(message, "sun_moves", (), {"subject": subject, "yes_no": yes_no})
    return None


_READERS = (
    _equation,
    _digit_value,
    _coins,
    _ruler,
    _arithmetic,
    _write_number,
    _compare,
    _bare_number,
    _shape,
    _plants,
    _falling,
    _sun,
)


def is_question(message: str) -> bool:
    """Whether ``message`` asks the child something (a question or an instruction to answer)."""
    text, _ = normalize(message)
    return _asks(text)
