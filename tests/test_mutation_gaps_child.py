"""The child model's answer rules and question reader, pinned case by case.

The case files in tests/data/child_model/ are tables: rule_answers.yaml is (rule, the teacher's
question -> the answer the child gives, why, and what the child says when asked why);
readings.yaml is (message -> the problem it poses, or none). With the edge cases below they close
the gaps a mutation run of agent/child/rules/*, reader.py and numbers.py left open: the second
paths (the other column, the other coin, the yes/no form, the blank on the other side) that the
broader tests in test_child_model.py do not reach.
"""

from __future__ import annotations

import json
from dataclasses import astuple
from pathlib import Path

import pytest
import yaml

from agent.child.numbers import face_value_writing, normalize
from agent.child.reader import Question, is_question, read_question
from agent.child.registry import RuleError, build_rule
from agent.child.rules.base import Rule, RuleAnswer
from agent.child.rules.science import weight_of

CASES = Path(__file__).parent / "data" / "child_model"

# --- the answer rules ------------------------------------------------------------------------


def _cases(name: str) -> list[dict]:
    return yaml.safe_load((CASES / name).read_text("utf-8"))


def _said(rule: str, text: str, **params) -> RuleAnswer | None:
    question = read_question(text)
    assert question is not None, text
    built = build_rule(rule, params)
    assert built.applies(question), (rule, question)
    return built.answer(question)


RULE_ANSWERS = _cases("rule_answers.yaml")


@pytest.mark.parametrize(
    "case", RULE_ANSWERS, ids=[f"{c['rule']}: {c['ask']}" for c in RULE_ANSWERS]
)
def test_each_rule_answers_explains_and_says_why_in_the_teachers_numbers(case):
    said = _said(case["rule"], case["ask"])
    assert said == RuleAnswer(case["value"], case["why"], case["says"])


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


def test_a_param_a_rule_does_not_take_is_named_with_the_params_it_does_take():
    """What a persona author reads when a rule's params are misspelled."""
    with pytest.raises(RuleError) as error:
        build_rule("coin-worth-by-size", {"wroth": {}, "bse": 1})
    assert "has no param bse, wroth (params: worth)" in str(error.value)
    with pytest.raises(RuleError) as error:
        build_rule("place-value", {"base": 8})
    assert "has no param base (params: none)" in str(error.value)


class _TwoParams(Rule):
    """A third-party rule with two params, for the error text."""

    name = "two-params"
    kinds = frozenset({"arithmetic"})
    params = {"base": 10, "carry": True}

    def answer(self, question):
        return None


def test_a_rules_own_params_are_listed_when_one_is_unknown():
    with pytest.raises(TypeError, match=r"has no param bsae \(params: base, carry\)"):
        _TwoParams(bsae=8)
    assert _TwoParams(carry=False).options == {"base": 10, "carry": False}


def test_a_rule_asked_about_another_kind_of_question_says_nothing():
    """``answer`` on a kind the rule does not list returns None rather than guessing."""
    ruler = Question(
        "The pencil starts at 2 and ends at 9.", "ruler", (2, 9), {"start": 2, "end": 9}
    )
    equation = Question("8 = 8", "equation_true", (), {"left": [8], "right": [8]})
    for name in ("arithmetic", "face-value-digits", "coin-values", "coin-worth-by-size"):
        assert build_rule(name).answer(ruler) is None, name
    assert build_rule("place-value").answer(equation) is None


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


@pytest.mark.parametrize(
    ("a", "b", "heavier"),
    [
        ("soccer ball", "ball", "soccer ball"),  # the longest name known wins over "ball"
        ("orange basketball", "shoe", "orange basketball"),  # the colour is not the fruit
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


# --- the question reader ---------------------------------------------------------------------


def _read(text: str) -> tuple | None:
    """What the reader makes of ``text``: (kind, numbers, the fields that matter)."""
    question = read_question(text)
    if question is None:
        return None
    assert question.text == text  # the teacher's own words travel with the problem
    # as the case files write them: lists for tuples, a spoken number as its four parts
    data = json.loads(json.dumps(dict(question.data), default=astuple))
    return question.kind, question.numbers, data


READINGS = _cases("readings.yaml")


@pytest.mark.parametrize("case", READINGS, ids=[c["ask"] for c in READINGS])
def test_the_reader_reads_each_message_as_the_problem_it_poses(case):
    expected = None
    if case["kind"] is not None:
        expected = case["kind"], tuple(case["numbers"]), case["data"]
    assert _read(case["ask"]) == expected


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("Tell me 5 + 3", True),
        ("now do 8 - 2", True),
        ("Work out 9 - 2", True),
        ("Could you", True),
        ("the answer is 5", False),
        ("I like cats.", False),
        ("You got it", False),
    ],
)
def test_is_question_tells_an_ask_from_a_remark(text, asks):
    assert is_question(text) is asks


# --- number words --------------------------------------------------------------------------


def test_every_number_word_becomes_its_digits():
    units = (
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen"
    ).split()
    assert normalize(" plus ".join(units))[0] == " plus ".join(map(str, range(20)))
    tens = "twenty thirty forty fourty fifty sixty seventy eighty ninety".split()
    assert (
        normalize(" plus ".join(tens))[0]
        == "20 plus 30 plus 40 plus 40 plus 50 plus 60 plus 70 plus 80 plus 90"
    )


@pytest.mark.parametrize(
    ("text", "normalized", "spoken"),
    [
        ("count: one 2 3", "count: 1 2 3", [(1, 0, 1, "one")]),  # "one" next to a number
        ("what is 7 - one", "what is 7 - 1", [(1, 0, 1, "one")]),
        ("one thing at a time", "one thing at a time", []),  # a lone "one" is a pronoun
        ("a dog", "a dog", []),
        ("is 7 the one you want", "is 7 the one you want", []),  # only the next word counts
        ("the one with 5 dots", "the one with 5 dots", []),
        ("a   hundred", "100", [(100, 100, 0, "a hundred")]),
        ("one hundred", "100", [(100, 100, 0, "one hundred")]),
        ("a hundred and five", "105", [(105, 100, 5, "a hundred five")]),
        ("one hundred and one", "101", [(101, 100, 1, "one hundred one")]),
        ("two hundred and twelve", "212", [(212, 200, 12, "two hundred twelve")]),
        ("four hundred and fifty-six", "456", [(456, 400, 56, "four hundred fifty-six")]),
        ("six hundred and twenty three", "623", [(623, 600, 23, "six hundred twenty three")]),
        ("nine hundred  ninety   nine", "999", [(999, 900, 99, "nine hundred ninety nine")]),
        ("seven hundred and", "700 and", [(700, 700, 0, "seven hundred")]),  # "and" is kept
        ("five hundred and a", "500 and a", [(500, 500, 0, "five hundred")]),
        ("twenty  one", "21", [(21, 0, 21, "twenty one")]),
        ("fourty-two", "42", [(42, 0, 42, "fourty-two")]),
        ("twenty zero", "20 0", [(20, 0, 20, "twenty"), (0, 0, 0, "zero")]),
        ("twenty ten", "20 10", [(20, 0, 20, "twenty"), (10, 0, 10, "ten")]),
        (
            "two hundred twenty ten",
            "220 10",
            [(220, 200, 20, "two hundred twenty"), (10, 0, 10, "ten")],
        ),
        ("ten hundred", "10 hundred", [(10, 0, 10, "ten")]),  # hundreds are one to nine
        ("forty-ten", "forty-ten", []),
        ("hundred", "hundred", []),
        ("What’s six plus two", "what's 6 plus 2", [(6, 0, 6, "six"), (2, 0, 2, "two")]),
    ],
)
def test_number_words_become_digits_and_remember_how_they_were_said(text, normalized, spoken):
    result, said = normalize(text)
    assert (result, [astuple(s) for s in said]) == (normalized, spoken)


@pytest.mark.parametrize(
    ("words", "written"),
    [
        ("one hundred seven", "1007"),  # hundreds, then the rest, as heard
        ("three hundred forty-two", "30042"),
        ("three hundred", "300"),  # nothing after the hundreds: nothing to add
        ("sixty-two", "62"),
    ],
)
def test_a_face_value_child_writes_each_spoken_part_as_it_sounds(words, written):
    assert face_value_writing(normalize(f"write {words}")[1][0]) == written


def test_a_field_a_question_lacks_reads_as_the_default_asked_for():
    question = read_question("What is 52 - 27?")
    assert question.get("a") == 52 and question.get("story") is None
    assert question.get("story", False) is False
