"""The child model's answer rules and question reader, pinned case by case.

Each rule table is (rule, the teacher's question -> the answer the child gives, why, and how the
child says it when asked why); each reader table is (message -> the problem it poses). These are
the gaps a mutation run of agent/child/rules/* and agent/child/reader.py, numbers.py left open:
the second paths (the other column, the other coin, the yes/no form, the blank on the other side)
that the broader tests in test_child_model.py do not reach.
"""

from __future__ import annotations

import pytest

from agent.child.reader import Question, read_question
from agent.child.registry import build_rule
from agent.child.rules.base import RuleAnswer
from agent.child.rules.science import weight_of

# --- the answer rules ------------------------------------------------------------------------


def _said(rule: str, text: str, **params) -> RuleAnswer | None:
    question = read_question(text)
    assert question is not None, text
    built = build_rule(rule, params)
    assert built.applies(question), (rule, question)
    return built.answer(question)


NUMBER_RULES = [
    # arithmetic: right answers, in the teacher's numbers, with the child's own words
    ("arithmetic", "What is 52 - 27?", "25", "52 - 27 = 25", "52 take away 27 is 25"),
    ("arithmetic", "What is 9 + 6?", "15", "9 + 6 = 15", "9 plus 6 is 15"),
    ("arithmetic", "What is 7 x 8?", "56", "7 * 8 = 56", "7 times 8 is 56"),
    ("arithmetic", "Which is more, 89 or 102?", "102", "102 is the bigger number", "102 is more"),
    ("arithmetic", "Which is less, 89 or 102?", "89", "102 is the bigger number", "102 is more"),
    ("arithmetic", "Is 89 more than 102?", "no", "102 is the bigger number", "102 is more"),
    ("arithmetic", "Is 102 more than 89?", "yes", "102 is the bigger number", "102 is more"),
    (
        "arithmetic",
        "Write one hundred seven.",
        "107",
        "one hundred seven is written 107",
        "its 107",
    ),
    # face value: each digit is worth itself, the first digit decides, parts written as heard
    (
        "face-value-digits",
        "What is the 6 worth in 63?",
        "6",
        "reads the digit 6 as worth just 6, whatever its place",
        "its a 6",
    ),
    (
        "face-value-digits",
        "Which is more, 89 or 102?",
        "89",
        "compares first digits only (8 > 1), ignoring how many digits",
        "8 is bigger than 1",
    ),
    (
        "face-value-digits",
        "Which is less, 89 or 102?",
        "102",
        "compares first digits only (8 > 1), ignoring how many digits",
        "8 is bigger than 1",
    ),
    (
        "face-value-digits",
        "Is 89 more than 102?",
        "yes",
        "compares first digits only (8 > 1), ignoring how many digits",
        "8 is bigger than 1",
    ),
    (
        "face-value-digits",
        "Is 102 more than 89?",
        "no",
        "compares first digits only (8 > 1), ignoring how many digits",
        "8 is bigger than 1",
    ),
    # equal first digits: the digits that decided are named, not "4 > 4" (a bug the run found)
    (
        "face-value-digits",
        "Which is more, 45 or 412?",
        "45",
        "compares first digits only (5 > 1), ignoring how many digits",
        "5 is bigger than 1",
    ),
    (
        "face-value-digits",
        "Which is less, 52 or 5?",
        "5",
        "the first digits are the same and 52 has more of them",
        "52 has more numbers",
    ),
    (
        "face-value-digits",
        "Write one hundred seven.",
        "1007",
        "writes each spoken part as it sounds: 100 then 7",
        "100 and then 7",
    ),
    # place value: the digit's place, then plain arithmetic for everything else
    (
        "place-value",
        "What is the 7 worth in 347?",
        "7",
        "the 7 is in the ones place",
        "its in the ones place",
    ),
    (
        "place-value",
        "What is the 6 worth in 63?",
        "60",
        "the 6 is in the tens place",
        "its in the tens place",
    ),
    (
        "place-value",
        "In 347, what is the 3 worth?",
        "300",
        "the 3 is in the hundreds place",
        "its in the hundreds place",
    ),
    (
        "place-value",
        "What is the 2 worth in 2451?",
        "2000",
        "the 2 is in the thousands place",
        "its in the thousands place",
    ),
    ("place-value", "Which is more, 89 or 102?", "102", "102 is the bigger number", "102 is more"),
    (
        "place-value",
        "Write one hundred seven.",
        "107",
        "one hundred seven is written 107",
        "its 107",
    ),
    # smaller from larger: the reason names the column it flipped (the last one)
    (
        "smaller-from-larger",
        "What is 52 - 27?",
        "35",
        "in each column took the smaller digit from the bigger (7 - 2 instead of regrouping)",
        "7 take away 2 is 5",
    ),
    (
        "smaller-from-larger",
        "What is 403 - 267?",
        "264",
        "in each column took the smaller digit from the bigger (7 - 3 instead of regrouping)",
        "7 take away 3 is 4",
    ),
    (
        "smaller-from-larger",
        "What is 100 - 1?",
        "101",
        "in each column took the smaller digit from the bigger (1 - 0 instead of regrouping)",
        "1 take away 0 is 1",
    ),
    (
        "smaller-from-larger",
        "What is 58 - 23?",
        "35",
        "no regrouping needed, so it comes out right",
        "58 take away 23 is 35",
    ),
    (
        "smaller-from-larger",
        "What is 50 - 50?",
        "0",
        "no regrouping needed, so it comes out right",
        "50 take away 50 is 0",
    ),
    # the equals sign as "the answer comes next"
    (
        "equals-answer-next",
        "5 + 3 = __ + 2",
        "8",
        "puts the answer of the left side (5 and 3 = 8) right after the = sign",
        "5 and 3 is 8",
    ),
    (
        "equals-answer-next",
        "__ + 2 = 7",
        "5",
        "fills the blank so the left side gives the answer",
        "5 makes it",
    ),
    (
        "equals-answer-next",
        "__ = 3 + 4",
        "7",
        "fills the blank so the left side gives the answer",
        "7 makes it",
    ),
    (
        "equals-answer-next",
        "True or false: 8 = 8",
        "false",
        "a sum needs a plus before the =",
        "theres no plus",
    ),
    (
        "equals-answer-next",
        "Is 8 = 5 + 3 true?",
        "false",
        "the answer must come after the =, this is backwards",
        "its backwards",
    ),
    (
        "equals-answer-next",
        "Is 5 + 3 = 8 true?",
        "true",
        "checks only that the answer comes after the =",
        "the answer is 8",
    ),
    (
        "equals-answer-next",
        "Is 5 + 3 = 9 true?",
        "false",
        "checks only that the answer comes after the =",
        "the answer is 8",
    ),
    (
        "equals-answer-next",
        "Is 5 + 3 = 8 + 0 true?",
        "false",
        "checks only that the answer comes after the =",
        "the answer is 8",
    ),
    # the equals sign as "the same amount"
    (
        "equals-same-amount",
        "5 + 3 = __ + 2",
        "6",
        "both sides must be 8",
        "so both sides are the same",
    ),
    ("equals-same-amount", "__ + 2 = 7", "5", "both sides must be 7", "so both sides are the same"),
    ("equals-same-amount", "3 = __ + 3", "0", "both sides must be 3", "so both sides are the same"),
    (
        "equals-same-amount",
        "Is 8 = 5 + 3 true?",
        "true",
        "the sides are 8 and 8",
        "its the same on both sides",
    ),
    (
        "equals-same-amount",
        "Is 5 + 3 = 9 true?",
        "false",
        "the sides are 8 and 9",
        "they are not the same",
    ),
]


@pytest.mark.parametrize(("rule", "text", "value", "why", "says"), NUMBER_RULES)
def test_number_rules_answer_explain_and_say_why(rule, text, value, why, says):
    assert _said(rule, text) == RuleAnswer(value, why, says)


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ("arithmetic", "What is 27 - 52?"),  # below zero: a second-grader does not answer it
        ("smaller-from-larger", "What is 27 - 52?"),
        ("smaller-from-larger", "What is 5 + 3?"),  # the rule is about subtracting only
        ("equals-same-amount", "2 + 3 = __ + 9"),  # would need a number below zero
    ],
)
def test_number_rules_have_nothing_to_say_outside_their_problem(rule, text):
    assert _said(rule, text) is None


def test_a_rule_asked_about_another_kind_of_question_says_nothing():
    """``answer`` on a kind the rule does not list returns None rather than guessing."""
    ruler = Question(
        "The pencil starts at 2 and ends at 9.", "ruler", (2, 9), {"start": 2, "end": 9}
    )
    equation = Question("8 = 8", "equation_true", (), {"left": [8], "right": [8]})
    for name in ("arithmetic", "face-value-digits", "coin-values", "coin-worth-by-size"):
        assert build_rule(name).answer(ruler) is None, name
    assert build_rule("place-value").answer(equation) is None


MEASURING_RULES = [
    (
        "coin-worth-by-size",
        "Which is worth more, a penny or a dime?",
        "penny",
        "goes by size, bigger is worth more: the penny over the dime",
        "the penny is bigger",
    ),
    (
        "coin-worth-by-size",
        "Which is worth less, a penny or a dime?",
        "dime",
        "goes by size, bigger is worth more: the dime over the penny",
        "the dime is little",
    ),
    (
        "coin-worth-by-size",
        "Is a dime worth more than a nickel?",
        "no",
        "goes by size, bigger is worth more: the nickel over the dime",
        "the nickel is bigger",
    ),
    (
        "coin-worth-by-size",
        "Is a nickel worth more than a dime?",
        "yes",
        "goes by size, bigger is worth more: the nickel over the dime",
        "the nickel is bigger",
    ),
    (
        "coin-worth-by-size",
        "How much is a dime worth?",
        "1 cent",
        "goes by size, bigger is worth more: a dime is 1",
        "its little",
    ),
    (
        "coin-worth-by-size",
        "How much is a quarter worth?",
        "25 cents",
        "goes by size, bigger is worth more: a quarter is 25",
        "i think",
    ),
    (
        "coin-worth-by-size",
        "How much money is 3 dimes and 2 pennies?",
        "5 cents",
        "goes by size, bigger is worth more: 3 dimes and 2 pennies make 5",
        "3 dimes and 2 pennies is 5",
    ),
    (
        "coin-worth-by-size",
        "How much money is 1 quarter and a nickel?",
        "30 cents",
        "goes by size, bigger is worth more: 1 quarter and 1 nickel make 30",
        "1 quarter and 1 nickel is 30",
    ),
    (
        "coin-values",
        "Which is worth more, a penny or a dime?",
        "dime",
        "goes by value: the dime over the penny",
        "a dime is 10 pennies",
    ),
    (
        "coin-values",
        "Which is worth less, a quarter or a dime?",
        "dime",
        "goes by value: the dime over the quarter",
        "a dime is 10 pennies",
    ),
    (
        "coin-values",
        "Is a dime worth more than a nickel?",
        "yes",
        "goes by value: the dime over the nickel",
        "a dime is 10 pennies",
    ),
    (
        "coin-values",
        "How much is a penny worth?",
        "1 cent",
        "goes by value: a penny is 1",
        "1 pennies",
    ),
    (
        "coin-values",
        "How much is a dime worth?",
        "10 cents",
        "goes by value: a dime is 10",
        "10 pennies",
    ),
    (
        "coin-values",
        "How much money is 3 dimes and 2 pennies?",
        "32 cents",
        "goes by value: 3 dimes and 2 pennies make 32",
        "3 dimes and 2 pennies is 32",
    ),
    (
        "ruler-reads-end",
        "The crayon starts at 1 and ends at 6 on the ruler. How long is it?",
        "6",
        "reads the number at the end (6) and ignores where it starts (1)",
        "it stops at 6",
    ),
    (
        "ruler-counts-spaces",
        "The crayon starts at 1 and ends at 6 on the ruler. How long is it?",
        "5",
        "counts the 5 spaces from 1 to 6",
        "i counted 5 spaces",
    ),
    (
        "turned-shape-renamed",
        "If I turn a square on its corner, what shape is it?",
        "diamond",
        "judges the shape by how it sits: a turned square is 'diamond'",
        "it looks pointy",
    ),
    (
        "turned-shape-renamed",
        "I turn a triangle upside down. What shape is it?",
        "not a triangle",
        "judges the shape by how it sits: a turned triangle is 'not a triangle'",
        "its upside down",
    ),
    (
        "turned-shape-renamed",
        "I rotate a rectangle. What is it now?",
        "not a rectangle",
        "judges the shape by how it sits: a turned rectangle is 'not a rectangle'",
        "its upside down",
    ),
    (
        "shape-by-sides",
        "If I turn a square on its corner, what shape is it?",
        "square",
        "a square turned is still a square: 4 same sides",
        "it still has 4 same sides",
    ),
    (
        "shape-by-sides",
        "I turn a triangle upside down. What shape is it?",
        "triangle",
        "a triangle turned is still a triangle: 3 sides",
        "it still has 3 sides",
    ),
    (
        "shape-by-sides",
        "I rotate a rectangle. What is it now?",
        "rectangle",
        "a rectangle turned is still a rectangle: 4 sides",
        "it still has 4 sides",
    ),
]


@pytest.mark.parametrize(("rule", "text", "value", "why", "says"), MEASURING_RULES)
def test_coin_ruler_and_shape_rules_answer_explain_and_say_why(rule, text, value, why, says):
    assert _said(rule, text) == RuleAnswer(value, why, says)


def test_coin_worth_by_size_takes_the_childs_own_values_and_falls_back_to_the_real_ones():
    """A persona may set what its child thinks a coin is worth; coins it leaves out are real."""
    total = "How much money is 2 dimes and 3 nickels?"
    assert _said("coin-worth-by-size", total, worth={"dime": 2}).value == "19 cents"
    assert _said("coin-worth-by-size", total, worth={"nickel": 1}).value == "23 cents"


def test_a_coin_question_about_an_unknown_coin_gets_no_answer():
    question = Question("a dollar or a dime?", "coin_compare", (), {"a": "dollar", "b": "dime"})
    for name in ("coin-values", "coin-worth-by-size"):
        assert build_rule(name).answer(question) is None
    question = Question("a dime or a loonie?", "coin_compare", (), {"a": "dime", "b": "loonie"})
    assert build_rule("coin-values").answer(question) is None


def test_a_ruler_that_ends_at_zero_gives_no_reading():
    question = Question("ends at 0", "ruler", (0, 0), {"start": 0, "end": 0})
    assert build_rule("ruler-reads-end").answer(question) is None


def test_turned_shape_renamed_says_nothing_about_a_shape_the_persona_did_not_name():
    text = "I turn a triangle upside down. What shape is it?"
    assert _said("turned-shape-renamed", text, names={"square": "diamond"}) is None
    assert _said("turned-shape-renamed", text, names={"triangle": "arrow"}).value == "arrow"


SCIENCE_RULES = [
    (
        "heavier-falls-first",
        "Drop a brick and a feather together: which lands first?",
        "the brick",
        "the brick is heavier, and heavy things fall faster",
        "heavy stuff falls harder",
    ),
    (
        "heavier-falls-first",
        "Drop a feather and a brick together: which lands first?",
        "the brick",
        "the brick is heavier, and heavy things fall faster",
        "heavy stuff falls harder",
    ),
    (
        "heavier-falls-first",
        "Which falls faster, a pebble or a big rock?",
        "the big rock",
        "the big rock is heavier, and heavy things fall faster",
        "heavy stuff falls harder",
    ),
    (
        "heavier-falls-first",
        "Do heavier things fall faster?",
        "heavy stuff falls faster",
        "heavier things fall faster",
        "i saw it. rocks fall fast",
    ),
    (
        "fall-together",
        "Drop a brick and a feather together: which lands first?",
        "the brick",
        "the air slows the light flat one",
        "the air holds it up",
    ),
    (
        "fall-together",
        "Drop a feather and a brick together: which lands first?",
        "the brick",
        "the air slows the light flat one",
        "the air holds it up",
    ),
    (
        "fall-together",
        "Which falls faster, a pebble or a big rock?",
        "same time",
        "the pebble and the big rock fall at the same speed",
        "we tried it. they tie",
    ),
    (
        "fall-together",
        "Do heavier things fall faster?",
        "they fall the same",
        "without much air in the way, heavy and light things fall at the same speed",
        "we tried it. they tie",
    ),
    (
        "plants-eat-soil",
        "Where does a sunflower get its food?",
        "the dirt",
        "eats food from the soil through its roots",
        "the roots suck it up",
    ),
    (
        "plants-eat-soil",
        "Can a bean grow in just water with no soil?",
        "no it would starve",
        "no soil means no food",
        "it has no dirt to eat",
    ),
    (
        "plants-eat-soil",
        "Will a plant grow in a dark closet?",
        "yes its fine it has dirt",
        "the soil feeds it, light does not matter",
        "it can still eat the dirt",
    ),
    (
        "plants-eat-soil",
        "Does the soil weigh less after the tree grows?",
        "less dirt",
        "the plant ate the soil, so there is less",
        "it ate it",
    ),
    (
        "plants-make-food",
        "Where does a sunflower get its food?",
        "makes it in its leaves",
        "plants make food in their leaves from sunlight, water and air",
        "from sun and water and air",
    ),
    (
        "plants-make-food",
        "Can a bean grow in just water with no soil?",
        "yes it can grow",
        "the plant makes its food from light, water and air",
        "it makes its own food",
    ),
    (
        "plants-make-food",
        "Will a plant grow in a dark closet?",
        "no it needs sun",
        "without light it cannot make food",
        "it cant make food in the dark",
    ),
    (
        "plants-make-food",
        "Does the soil weigh less after the tree grows?",
        "the same dirt",
        "the soil hardly changes; the plant is made from air and water",
        "the dirt stays",
    ),
    (
        "sun-goes-around",
        "Why does it get dark at night?",
        "the sun goes behind the mountains",
        "the sun moves away and hides at night",
        "i see it go down",
    ),
    (
        "sun-goes-around",
        "Where does the sun go at night?",
        "behind the hills",
        "the sun travels around and hides at night",
        "it goes down there",
    ),
    (
        "sun-goes-around",
        "What moves, the sun or the earth?",
        "the sun moves",
        "the earth stays still and the sun goes around it",
        "i dont feel it spinning",
    ),
    (
        "sun-goes-around",
        "Does the sun go around the earth?",
        "yes the sun moves",
        "the earth stays still and the sun goes around it",
        "i dont feel it spinning",
    ),
    (
        "sun-goes-around",
        "Does the earth spin?",
        "no the sun moves",
        "the earth stays still and the sun goes around it",
        "i dont feel it spinning",
    ),
    (
        "earth-spins",
        "Why does it get dark at night?",
        "the earth spins and we turn away",
        "the earth turns, so our side faces away from the sun",
        "we turn away from the sun",
    ),
    (
        "earth-spins",
        "Where does the sun go at night?",
        "nowhere, the earth turns",
        "the sun stays; our side of the earth turns away",
        "its light on the other side",
    ),
    (
        "earth-spins",
        "What moves, the sun or the earth?",
        "the earth spins",
        "the earth spins once a day; the sun only looks like it moves",
        "its us moving",
    ),
    (
        "earth-spins",
        "Does the sun go around the earth?",
        "no the earth spins",
        "the earth spins once a day; the sun only looks like it moves",
        "its us moving",
    ),
    (
        "earth-spins",
        "Does the earth spin?",
        "yes the earth spins",
        "the earth spins once a day; the sun only looks like it moves",
        "its us moving",
    ),
]


@pytest.mark.parametrize(("rule", "text", "value", "why", "says"), SCIENCE_RULES)
def test_science_rules_answer_explain_and_say_why(rule, text, value, why, says):
    assert _said(rule, text) == RuleAnswer(value, why, says)


@pytest.mark.parametrize(
    ("a", "b", "heavier"),
    [
        ("soccer ball", "ball", "soccer ball"),  # the longest name known wins over "ball"
        ("small rock", "ball", "small rock"),  # a small rock is a quarter of a rock
        ("small rock", "shoe", "shoe"),
        ("big pebble", "toy car", "toy car"),  # a big pebble is four pebbles
        ("big pebble", "marble", "big pebble"),
        ("huge marble", "tiny crayon", "huge marble"),
    ],
)
def test_heavier_falls_first_goes_by_rough_weight_with_size_words(a, b, heavier):
    for first, second in ((a, b), (b, a)):
        question = Question("", "falling", (), {"objects": (first, second)})
        assert build_rule("heavier-falls-first").answer(question).value == f"the {heavier}"


def test_heavier_falls_first_has_no_answer_for_equal_or_unknown_weights():
    rule = build_rule("heavier-falls-first")
    for objects in (("rock", "stone"), ("rock", "wug"), ("wug", "rock")):
        assert rule.answer(Question("", "falling", (), {"objects": objects})) is None
    assert weight_of("wug") is None
    assert weight_of("giant egg") > weight_of("egg") > weight_of("little egg")
