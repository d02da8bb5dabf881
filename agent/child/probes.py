"""Generated probes of a misconception: problems with new numbers or objects, teaching lines
that make an effective move in other words, and telling or chit-chat lines that carry cue words.

``probe_set(persona, misconception_id, rng)`` is used by ``benchmarks/child_model.py`` and by
evaluation. Expected answers are worked out here independently of the rules, so a probe checks
the rule rather than repeating it. Teaching lines never contain one of the misconception's cue
words (they must count by meaning); telling and chit-chat lines always do (they must not count).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from agent.child.probe_lines import CHITCHAT, FACTS, TEACH, TELL, THING_CUES
from personas.schema import Misconception, Persona


@dataclass(frozen=True)
class Problem:
    question: str
    held_answer: str
    """What the child says while the misconception is held (must be in the reply)."""
    correct_answer: str
    """What it says once resolved."""
    fill: dict[str, str] = field(default_factory=dict, compare=False)
    """Names the teaching lines may use ({a}, {b}, {object}...)."""


@dataclass(frozen=True)
class Probes:
    questions: list[Problem]
    teach: list[str]
    tell: list[str]
    chitchat: list[str]


_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
_UNITS += "fifteen sixteen seventeen eighteen nineteen"
_UNIT_WORDS = _UNITS.split()
_TENS_WORDS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def in_words(n: int) -> str:
    """0..999 in words, as a teacher writes them ("seventy-four", "one hundred seven")."""
    if n < 20:
        return _UNIT_WORDS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS_WORDS[tens] + (f"-{_UNIT_WORDS[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    return f"{_UNIT_WORDS[hundreds]} hundred" + (f" {in_words(rest)}" if rest else "")


def reply_says(reply: str, answer: str) -> bool:
    """Whether ``reply`` gives ``answer``: for a number, the first number in the reply is it
    ("um 43? 6 take away 3" answers 43); for words, the reply contains them."""
    reply, answer = reply.lower(), answer.lower()
    if re.fullmatch(r"\d+( cents?)?", answer):
        first = re.search(r"\d+", reply)
        return first is not None and first.group() == answer.split()[0]
    return answer in reply


# --- problems per held rule --------------------------------------------------------------------

_NAMES = ["Sam", "Mia", "Jo", "Lena", "Omar", "Ben", "Kai", "Rosa", "Tess", "Ali"]
_THINGS = ["stickers", "marbles", "cards", "beads", "shells", "crayons", "apples", "rocks"]


def _column_difference(a: int, b: int) -> int:
    width = len(str(a))
    return int(
        "".join(str(abs(int(x) - int(y))) for x, y in zip(str(a), str(b).zfill(width), strict=True))
    )


def _subtraction(rng: random.Random) -> Problem:
    while True:
        a, b = rng.randint(31, 98), rng.randint(12, 89)
        if b < a and a % 10 < b % 10 and a // 10 > b // 10:
            break
    held, correct = str(_column_difference(a, b)), str(a - b)
    name, things = rng.choice(_NAMES), rng.choice(_THINGS)
    forms = [
        f"What is {a} - {b}?",
        f"What's {a} minus {b}?",
        f"Can you work out {a} take away {b}?",
        f"{name} had {a} {things} and gave away {b}. How many are left?",
        f"There were {a} {things} in a box. {name} took out {b}. How many are left in the box?",
        f"What is {in_words(a)} take away {in_words(b)}?",
        f"Take {b} away from {a}. What do you get?",
    ]
    return Problem(rng.choice(forms), held, correct, {"a": str(a), "b": str(b), "held": held})


def _place_value(rng: random.Random) -> Problem:
    kind = rng.choice(["digit", "compare", "write"])
    if kind == "digit":
        tens, ones = rng.randint(2, 9), rng.randint(0, 9)
        while ones == tens:
            ones = rng.randint(0, 9)
        n = tens * 10 + ones
        form = rng.choice(
            [
                f"What is the {tens} worth in {n}?",
                f"What does the {tens} in {n} mean?",
                f"In {n}, how much is the {tens} worth?",
            ]
        )
        return Problem(form, str(tens), str(tens * 10), {"n": str(n)})
    if kind == "compare":
        x = rng.randint(2, 9) * 10 + rng.randint(0, 9)
        y = 100 + rng.randint(0, 99)
        while int(str(y)[0]) >= int(str(x)[0]):
            x = rng.randint(2, 9) * 10 + rng.randint(0, 9)
        pair = (x, y) if rng.random() < 0.5 else (y, x)
        form = rng.choice(
            [
                f"Which is more, {pair[0]} or {pair[1]}?",
                f"Which number is bigger: {pair[0]} or {pair[1]}?",
                f"Which is greater, {pair[0]} or {pair[1]}?",
            ]
        )
        return Problem(form, str(x), str(y), {"n": str(y)})
    hundreds, rest = rng.randint(1, 9), rng.randint(1, 99)
    n = hundreds * 100 + rest
    form = rng.choice(
        [
            f"Can you write {in_words(n)} as a number?",
            f"How do you write {in_words(n)}?",
            f"Write {in_words(n)} in digits.",
        ]
    )
    return Problem(form, f"{hundreds * 100}{rest}", str(n), {"n": str(n)})


def _equals(rng: random.Random) -> Problem:
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    c = rng.randint(1, a + b - 1)
    form = rng.choice(
        [
            f"{a} + {b} = __ + {c}. What goes in the blank?",
            f"What number goes in the box: {a} + {b} = □ + {c}?",
            f"Fill in the blank: {a} + {b} = ___ + {c}",
        ]
    )
    return Problem(
        form,
        str(a + b),
        str(a + b - c),
        {"a": str(a), "b": str(b), "c": str(c), "held": str(a + b)},
    )


_MEASURED = ["pencil", "crayon", "eraser", "straw", "toy car", "leaf", "spoon", "ribbon"]


def _ruler(rng: random.Random) -> Problem:
    start = rng.randint(1, 3)
    end = start + rng.randint(2, 9)
    thing = rng.choice(_MEASURED)
    unit = rng.choice(["inches", "centimeters"])
    form = rng.choice(
        [
            f"The {thing} starts at {start} and ends at {end} on the ruler. How long is it?",
            f"I put the {thing} on the ruler from {start} to {end}. How many {unit} long is it?",
            f"Measure this {thing}: one end is at the {start} and the other end is at the {end}. "
            "How long is it?",
        ]
    )
    return Problem(
        form, str(end), str(end - start), {"object": thing, "start": str(start), "end": str(end)}
    )


def _coins(rng: random.Random) -> Problem:
    if rng.random() < 0.6:
        small_valuable, big = rng.choice([("dime", "penny"), ("dime", "nickel")])
        a, b = (small_valuable, big) if rng.random() < 0.5 else (big, small_valuable)
        form = rng.choice(
            [
                f"Which is worth more, a {a} or a {b}?",
                f"Would you rather have a {a} or a {b}? Which is more money?",
                f"Which coin is worth more: one {a} or one {b}?",
            ]
        )
        return Problem(form, big, small_valuable, {"coin": small_valuable, "other": big})
    dimes, pennies = rng.randint(2, 5), rng.randint(1, 4)
    penny_words = "a penny" if pennies == 1 else f"{pennies} pennies"
    form = rng.choice(
        [
            f"How much money is {dimes} dimes and {penny_words}?",
            f"I have {dimes} dimes and {penny_words}. How many cents is that in all?",
        ]
    )
    return Problem(
        form,
        f"{dimes + pennies} cents",
        f"{dimes * 10 + pennies} cents",
        {"coin": "dime", "other": "penny"},
    )


def _turned_square(rng: random.Random) -> Problem:
    form = rng.choice(
        [
            "If I turn a square so it stands on one corner, what shape is it?",
            "I tipped this square over onto its point. What shape is it now?",
            "Here is a square. I rotate it a little. What is it called now?",
            "What shape do you see when a square is turned sideways onto its corner?",
            "Look, I turned the square on its corner. Which shape is it?",
        ]
    )
    return Problem(form, "diamond", "square", {"object": "square"})


_FALLING = [
    ("bowling ball", "tennis ball"),
    ("brick", "pencil"),
    ("big rock", "small rock"),
    ("watermelon", "grape"),
    ("hammer", "spoon"),
    ("book", "crayon"),
    ("basketball", "ping pong ball"),
    ("shoe", "marble"),
    ("dictionary", "eraser"),
    ("soccer ball", "golf ball"),
    ("rock", "pebble"),
    ("apple", "key"),
]


def _falling(rng: random.Random) -> Problem:
    heavy, light = rng.choice(_FALLING)
    a, b = (heavy, light) if rng.random() < 0.5 else (light, heavy)
    form = rng.choice(
        [
            f"If you drop a {a} and a {b} at the same time, which lands first?",
            f"We let go of a {a} and a {b} from the top of the slide together. Which one hits the "
            "ground first?",
            f"Which falls faster, a {a} or a {b}?",
        ]
    )
    return Problem(form, heavy, "same time", {"a": a, "b": b})


_PLANTS = ["bean plant", "sunflower", "tomato plant", "tree", "daisy", "pumpkin plant", "tulip"]
_PLANT_FORMS = {
    "food": ("Where does a {p} get its food?", "the dirt", "leaves"),
    "food2": ("What does a {p} eat to grow big?", "the dirt", "leaves"),
    "no_soil": (
        "A {p} sits in a jar with only water and lots of sun, no soil. Will it grow?",
        "starve",
        "can grow",
    ),
    "dark": (
        "If we keep a {p} in a dark closet with lots of good soil and water, will it be ok?",
        "fine",
        "needs sun",
    ),
    "weight": (
        "A {p} grew big in its pot for a year. Did the soil get lighter?",
        "less dirt",
        "same dirt",
    ),
}


def _plants(rng: random.Random) -> Problem:
    plant = rng.choice(_PLANTS)
    form, held, correct = _PLANT_FORMS[rng.choice(list(_PLANT_FORMS))]
    return Problem(form.format(p=plant), held, correct, {"plant": plant})


_SUN_FORMS = [
    ("Why does it get dark at night?", "behind the mountains", "earth spins"),
    ("How come it gets dark when you go to bed?", "behind the mountains", "earth spins"),
    ("Why is it dark outside at night at your house?", "behind the mountains", "earth spins"),
    ("Where does the sun go at night?", "behind the hills", "earth turns"),
    ("Where is the sun when it is night where you live?", "behind the hills", "earth turns"),
    ("Does the sun move around the earth, or does the earth spin?", "sun moves", "earth spins"),
    ("What is moving in the sky, the sun or the earth?", "sun moves", "earth spins"),
]


def _sun(rng: random.Random) -> Problem:
    form, held, correct = rng.choice(_SUN_FORMS)
    return Problem(form, held, correct, {})


PROBLEMS: dict[str, Callable[[random.Random], Problem]] = {
    "smaller-from-larger": _subtraction,
    "face-value-digits": _place_value,
    "equals-answer-next": _equals,
    "ruler-reads-end": _ruler,
    "coin-worth-by-size": _coins,
    "turned-shape-renamed": _turned_square,
    "heavier-falls-first": _falling,
    "plants-eat-soil": _plants,
    "sun-goes-around": _sun,
}
"""Problem generators by the misconception's held rule name."""


def _cues(misconception: Misconception) -> list[str]:
    return [
        c
        for move in misconception.effective_moves + misconception.ineffective_moves
        for c in move.cues
    ]


def _has_cue(text: str, cues: list[str]) -> bool:
    lowered = text.lower()
    return any(re.search(r"(?<![a-z0-9])" + re.escape(c.lower()), lowered) for c in cues)


def probe_set(
    persona: Persona, misconception_id: str, rng: random.Random, count: int = 50
) -> Probes:
    """``count`` problems of the misconception with teaching, telling and chit-chat lines fitted
    to the first problem; teaching lines only of the kinds the persona counts as effective."""
    misconception = persona.misconception(misconception_id)
    if misconception.rule is None or misconception.rule.name not in PROBLEMS:
        raise KeyError(f"no probe generator for {misconception_id}")
    generate = PROBLEMS[misconception.rule.name]
    questions = [generate(rng) for _ in range(count)]
    return Probes(questions, *lines_for(persona, misconception, questions[0], rng))


def lines_for(
    persona: Persona, misconception: Misconception, problem: Problem, rng: random.Random
) -> tuple[list[str], list[str], list[str]]:
    """(teach, tell, chitchat) lines for ``problem``."""
    assert misconception.rule is not None
    cues = _cues(misconception)
    kinds = misconception.kinds(effective=True)
    fill = {
        **problem.fill,
        "held": problem.fill.get("held", problem.held_answer),
        "correct": problem.correct_answer,
    }
    teach = [
        line.format(**fill)
        for kind, lines in TEACH[misconception.rule.name].items()
        if kind in kinds
        for line in lines
    ]
    teach = [line for line in teach if not _has_cue(line, cues)]
    rng.shuffle(teach)
    good_cues = [c for move in misconception.effective_moves for c in move.cues]
    # a cue that names a thing reads naturally in "I have ... at home"
    things = [c for c in good_cues if c in THING_CUES] or good_cues
    fact = FACTS[misconception.rule.name].format(**fill)
    tell = [template.format(fact=fact, cue=rng.choice(things)) for template in TELL]
    chitchat = [template.format(cue=rng.choice(things)) for template in CHITCHAT]
    return teach, tell, chitchat
