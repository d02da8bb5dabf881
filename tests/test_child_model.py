"""The child model: the question reader, each answer rule on new numbers, the rule registry and
its persona checks, and what the state says the child would answer."""

from __future__ import annotations

import random
import tomllib
from pathlib import Path

import pytest

from agent.child.numbers import normalize
from agent.child.probes import PROBLEMS, in_words, reply_says
from agent.child.reader import read_question
from agent.child.registry import _BUILT_IN, RuleError, build_rule, check_persona, rule_names
from agent.child.rules.base import Rule, RuleAnswer
from agent.child.think import think
from agent.state import StudentState
from personas.loader import PersonaLibrary

ROOT = Path(__file__).resolve().parent.parent
SEEDS = range(40)


@pytest.fixture(scope="module")
def library() -> PersonaLibrary:
    return PersonaLibrary()


# --- the question reader -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "a", "op", "b"),
    [
        ("What is 83 - 46?", 83, "-", 46),
        ("whats 57-23", 57, "-", 23),
        ("What is seventy-four take away thirty-eight?", 74, "-", 38),
        ("Can you do 61 minus 25 for me?", 61, "-", 25),
        ("Take 27 away from 52.", 52, "-", 27),
        ("Subtract nineteen from forty", 40, "-", 19),
        ("What's 9 + 6?", 9, "+", 6),
        ("How much is ten plus ten?", 10, "+", 10),
        ("Jo had 74 stickers and gave away 38. How many are left?", 74, "-", 38),
        (
            "There were 45 birds on a wire and 17 flew away. How many birds are there now?",
            45,
            "-",
            17,
        ),
        ("Ana has 23 shells. She finds 14 more. How many does she have in all?", 23, "+", 14),
        ("Sam has 52 cards and Lee has 27. How many more cards does Sam have?", 52, "-", 27),
    ],
)
def test_the_reader_reads_arithmetic_in_digits_words_and_stories(text, a, op, b):
    question = read_question(text)
    assert question is not None and question.kind == "arithmetic", text
    assert (question.get("a"), question.get("op"), question.get("b")) == (a, op, b)


@pytest.mark.parametrize(
    ("text", "kind", "key", "value"),
    [
        ("Which is more, 89 or 102?", "compare", "numbers", (89, 102)),
        ("Which number is smaller: 45 or 54?", "compare", "want", "less"),
        ("What is the 6 worth in 63?", "digit_value", "place", 1),
        ("In 347, what is the 3 worth?", "digit_value", "place", 2),
        ("Can you write one hundred seven?", "write_number", "value", 107),
        ("5 + 3 = __ + 2", "equation_blank", "right", [None, 2]),
        ("True or false: 8 = 8", "equation_true", "left", [8]),
        ("Which is worth more, a penny or a dime?", "coin_compare", "a", "penny"),
        ("How much is a nickel worth?", "coin_value", "coin", "nickel"),
        (
            "How much money is 3 dimes and 2 pennies?",
            "coin_total",
            "coins",
            [(3, "dime"), (2, "penny")],
        ),
        ("The crayon starts at 1 and ends at 6 on the ruler. How long is it?", "ruler", "end", 6),
        ("If I turn a square on its corner, what shape is it?", "shape_turned", "shape", "square"),
        (
            "Drop a brick and a feather together: which lands first?",
            "falling",
            "objects",
            ("brick", "feather"),
        ),
        ("Where does a sunflower get its food?", "plant_food", "plant", "sunflower"),
        ("Why does it get dark at night?", "sun_night", None, None),
    ],
)
def test_the_reader_tells_what_kind_of_problem_it_is(text, kind, key, value):
    question = read_question(text)
    assert question is not None and question.kind == kind, (text, question)
    if key == "numbers":
        assert question.numbers == value
    elif key == "value":
        assert question.get("spoken").value == value
    elif key is not None:
        assert question.get(key) == value


@pytest.mark.parametrize(
    "text", ["Hi Maya! How are you today?", "Do you like horses?", "Let's get out the blocks."]
)
def test_a_message_without_a_problem_is_not_a_question_to_compute(text):
    assert read_question(text) is None


def test_number_words_become_digits_and_remember_how_they_were_said():
    rng = random.Random(1)
    for _ in range(200):
        n = rng.randint(0, 999)
        text, spoken = normalize(f"please write {in_words(n)} for me")
        assert str(n) in text.split(), (n, text)
        assert spoken[-1].value == n
    assert normalize("which one is bigger")[0] == "which one is bigger"  # a pronoun stays


# --- each rule on new numbers ----------------------------------------------------------------


def _answer(rule_name: str, text: str) -> str | None:
    question = read_question(text)
    said = build_rule(rule_name).answer(question) if question else None
    return said.value if said else None


def test_smaller_from_larger_subtracts_the_smaller_digit_in_every_column_on_any_numbers():
    rng = random.Random(7)
    for _ in range(300):
        a, b = rng.randint(10, 999), rng.randint(1, 999)
        if b > a:
            a, b = b, a
        width = len(str(a))
        expected = int(
            "".join(
                str(abs(int(x) - int(y))) for x, y in zip(str(a), str(b).zfill(width), strict=True)
            )
        )
        assert _answer("smaller-from-larger", f"What is {a} - {b}?") == str(expected)
        assert _answer("arithmetic", f"What is {a} - {b}?") == str(a - b)


def test_face_value_digits_on_new_numbers():
    rng = random.Random(8)
    for _ in range(200):
        tens, ones = rng.randint(1, 9), rng.randint(0, 9)
        if tens == ones:
            continue
        n = tens * 10 + ones
        assert _answer("face-value-digits", f"What is the {tens} worth in {n}?") == str(tens)
        assert _answer("place-value", f"What is the {tens} worth in {n}?") == str(tens * 10)
        hundreds, rest = rng.randint(1, 9), rng.randint(1, 99)
        said = f"Write {in_words(hundreds * 100 + rest)}."
        assert _answer("face-value-digits", said) == f"{hundreds * 100}{rest}"
        assert _answer("place-value", said) == str(hundreds * 100 + rest)
    assert _answer("face-value-digits", "Which is more, 89 or 102?") == "89"
    assert _answer("place-value", "Which is more, 89 or 102?") == "102"


def test_equals_answer_next_puts_the_left_sum_in_the_blank():
    rng = random.Random(9)
    for _ in range(200):
        a, b = rng.randint(1, 12), rng.randint(1, 12)
        c = rng.randint(1, a + b)
        text = f"{a} + {b} = __ + {c}"
        assert _answer("equals-answer-next", text) == str(a + b)
        assert _answer("equals-same-amount", text) == str(a + b - c)
    assert _answer("equals-answer-next", "Is 8 = 8 true?") == "false"
    assert _answer("equals-same-amount", "Is 8 = 8 true?") == "true"


def test_coin_worth_by_size_and_by_value():
    assert _answer("coin-worth-by-size", "Which is worth more, a penny or a dime?") == "penny"
    assert _answer("coin-values", "Which is worth more, a penny or a dime?") == "dime"
    assert _answer("coin-worth-by-size", "Would you rather have a dime or a nickel?") == "nickel"
    rng = random.Random(10)
    for _ in range(50):
        dimes, pennies = rng.randint(2, 9), rng.randint(2, 9)
        text = f"How much money is {dimes} dimes and {pennies} pennies?"
        assert _answer("coin-values", text) == f"{dimes * 10 + pennies} cents"
        assert _answer("coin-worth-by-size", text) == f"{dimes + pennies} cents"


def test_ruler_reads_the_end_or_counts_the_spaces():
    rng = random.Random(11)
    for _ in range(100):
        start = rng.randint(0, 5)
        end = start + rng.randint(1, 20)
        text = f"The ribbon starts at {start} and ends at {end} on the ruler. How long is it?"
        assert _answer("ruler-reads-end", text) == str(end)
        assert _answer("ruler-counts-spaces", text) == str(end - start)


def test_science_rules_follow_the_belief_with_the_teachers_own_objects():
    text = "If you drop a watermelon and a grape together, which lands first?"
    assert _answer("heavier-falls-first", text) == "the watermelon"
    assert _answer("fall-together", text) == "same time"
    text = "Which falls faster, a pebble or a big rock?"
    assert _answer("heavier-falls-first", text) == "the big rock"
    assert _answer("turned-shape-renamed", "I rotate this square. What is it now?") == "diamond"
    assert _answer("shape-by-sides", "I rotate this square. What is it now?") == "square"
    assert "dirt" in _answer("plants-eat-soil", "What does a tomato plant eat?")
    assert "leaves" in _answer("plants-make-food", "What does a tomato plant eat?")
    assert "sun" in _answer("sun-goes-around", "Why is it dark at night?")
    assert "earth" in _answer("earth-spins", "Why is it dark at night?")


def test_every_probe_generator_matches_its_rules_on_generated_problems(library):
    """The probes work out held and correct answers on their own; the rules must agree."""
    for persona in library.list():
        for m in persona.misconceptions:
            rng = random.Random(m.id)
            for _ in range(30):
                problem = PROBLEMS[m.rule.name](rng)
                held = think(persona, lambda _id: True, problem.question)
                learned = think(persona, lambda _id: False, problem.question)
                assert held is not None and held.misconception == m.id, problem
                assert reply_says(held.value, problem.held_answer), (problem, held)
                assert reply_says(learned.value, problem.correct_answer), (problem, learned)


def test_known_facts_are_right_and_beyond_knowledge_is_a_guess_or_idk(library):
    maya = library.get("maya")
    rng = random.Random(12)
    for _ in range(100):
        a, b = rng.randint(0, 10), rng.randint(0, 10)
        answer = think(maya, lambda _id: True, f"What is {a} + {b}?")
        assert answer.value == str(a + b) and answer.misconception is None
        answer = think(maya, lambda _id: True, f"What is {a + b} - {b}?")
        assert answer.value == str(a)
    ava = library.get("ava")
    answer = think(ava, lambda _id: True, "What is 83 - 46?")
    assert answer.mode == "guess" and answer.value != "37"


# --- the registry and persona checks -------------------------------------------------------


def test_built_in_rules_are_registered_in_pyproject_exactly():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["utta.rules"] == _BUILT_IN
    assert set(_BUILT_IN) <= set(rule_names())


def test_an_unknown_rule_or_param_is_an_error_with_the_fix():
    with pytest.raises(RuleError) as unknown:
        build_rule("smaller-from-largr")
    assert "smaller-from-larger" in unknown.value.fix
    with pytest.raises(RuleError) as bad:
        build_rule("place-value", {"base": 8})
    assert "base" in str(bad.value) and bad.value.fix


def test_shipped_personas_name_rules_that_exist_and_fit(library):
    for persona in library.list():
        assert check_persona(persona) == []
        for m in persona.misconceptions:
            assert m.rule is not None and m.correct_rule is not None, (persona.id, m.id)
            for move in m.effective_moves + m.ineffective_moves:
                assert move.kind is not None, (persona.id, m.id, move.description)


# --- what the state says ---------------------------------------------------------------------


def test_the_state_carries_the_answer_and_the_move_and_describes_them(library):
    maya = library.get("maya")
    state = StudentState.initial(maya).after_teacher(maya, "What is 83 - 46?")
    data = state.to_dict()
    assert data["answer"]["value"] == "43" and data["answer"]["correct_value"] == "37"
    assert data["answer"]["misconception"] == "smaller-from-larger" and data["answer"]["held"]
    assert data["last_move"]["kind"] and "counted" in data["last_move"]
    text = state.describe(maya)
    assert "43" in text and "37" in text
    assert StudentState.from_dict(data) == state
    why = state.after_teacher(maya, "How did you get that?")
    assert why.answer.mode == "explain" and why.answer.value == "43"


class CountsOnIncludingFirst(Rule):
    """A rule about small sums a child otherwise knows: 3 + 2 -> "3, 4" -> 4."""

    name = "counts-on-including-first"
    kinds = frozenset({"arithmetic"})
    covers_known_facts = True

    def answer(self, question):
        a, b = question.get("a"), question.get("b")
        if question.get("op") != "+":
            return None
        return RuleAnswer(str(a + b - 1), f"counted on from {a} including it", f"{a} then more")


def test_a_persona_can_say_otherwise_about_known_facts(library, monkeypatch):
    """A rule marked covers_known_facts answers sums within 20 while held, and a rule added
    through the registry table is found like a built-in one."""
    from agent.child import registry
    from agent.child import think as thinking
    from personas.schema import RuleSpec

    monkeypatch.setitem(
        registry._BUILT_IN,
        "counts-on-including-first",
        "tests.test_child_model:CountsOnIncludingFirst",
    )
    for cached in (registry._targets, registry.rule_class, thinking._rule):
        cached.cache_clear()
    maya = library.get("maya")
    m = maya.misconception("smaller-from-larger")
    counting = m.model_copy(update={"rule": RuleSpec(name="counts-on-including-first")})
    topic = maya.knowledge[1].model_copy(update={"misconceptions": [counting]})
    knowledge = [maya.knowledge[0], topic, maya.knowledge[2]]
    persona = maya.model_copy(update={"knowledge": knowledge})
    try:
        held = think(persona, lambda _id: True, "What is 3 + 2?")
        assert held.value == "4" and held.misconception == "smaller-from-larger"
        learned = think(persona, lambda _id: False, "What is 3 + 2?")
        assert learned.value == "5"
        assert think(maya, lambda _id: True, "What is 3 + 2?").value == "5"  # maya knows it
    finally:
        for cached in (registry._targets, registry.rule_class, thinking._rule):
            cached.cache_clear()


@pytest.mark.parametrize(
    "line",
    [
        "I have a big box of blocks at home.",
        "no blocks needed, it's 25",
        "My cousin keeps a big box of base-ten rods at her house.",
        "The answer is 25, you have to regroup.",
        "Do you like to draw horses?",
    ],
)
def test_traps_with_cue_words_do_not_count_as_teaching(library, line):
    maya = library.get("maya")
    state = StudentState.initial(maya).after_teacher(maya, "What is 52 - 27?")
    after = state.after_teacher(maya, line)
    assert after.misconceptions["smaller-from-larger"].effective_moves == 0, after.last_move
    assert after.holds("smaller-from-larger")


def test_asking_problems_teaches_nothing(library):
    """Posing problems, even many different ones, is not teaching."""
    maya = library.get("maya")
    state = StudentState.initial(maya)
    rng = random.Random(3)
    for _ in range(8):
        a, b = rng.randint(50, 99), rng.randint(11, 49)
        state = state.after_teacher(maya, f"What is {a} - {b}?")
    assert state.misconceptions["smaller-from-larger"].effective_moves == 0
