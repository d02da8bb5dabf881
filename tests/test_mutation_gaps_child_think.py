"""Gaps the mutation run found in the child's thinking (agent/child/think.py, registry.py), on the
shipped personas: where what a second-grader knows ends, what it does beyond that, answering the
last problem again, two misconceptions on one question, and the rule registry's errors and
third-party rules."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agent.child import registry
from agent.child import think as thinking
from agent.child.reader import read_question
from agent.child.registry import RuleError, build_rule, check_persona, rule_names
from agent.child.rules.base import Rule, RuleAnswer
from agent.child.think import Answer, think
from personas.loader import PersonaLibrary
from personas.schema import Persona, RuleSpec

PERSONAS = {p.id: p for p in PersonaLibrary().list()}
MAYA, LEO, AVA = PERSONAS["maya"], PERSONAS["leo"], PERSONAS["ava"]


def holds_all(_id: str) -> bool:
    return True


def holds_none(_id: str) -> bool:
    return False


def _clear_rule_caches() -> None:
    for cached in (registry._targets, registry.rule_class, thinking._rule):
        cached.cache_clear()


# --- where what the child knows ends ----------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "message", "value", "misconception"),
    [
        # sums and differences within 20 are known facts, even to a child with a subtraction bug
        (MAYA, "What is 20 - 5?", "15", None),
        (MAYA, "What is 12 + 8?", "20", None),
        (MAYA, "What is 0 + 20?", "20", None),
        (MAYA, "What is 7 - 7?", "0", None),
        # one past 20 and the misconception answers
        (MAYA, "What is 21 - 5?", "24", "smaller-from-larger"),
        # numbers below 100 are read right; from 100 on the place-value bug shows
        (MAYA, "Which is more, 98 or 99?", "99", None),
        (MAYA, "Which is more, 99 or 100?", "99", "digits-face-value"),
        (MAYA, "Write ninety-nine.", "99", None),
        (MAYA, "Write one hundred five.", "1005", "digits-face-value"),
        (MAYA, "Write one hundred.", "100", "digits-face-value"),
    ],
)
def test_known_facts_end_at_twenty_and_reading_at_a_hundred(
    persona: Persona, message: str, value: str, misconception: str | None
) -> None:
    answer = think(persona, holds_all, message)
    assert answer is not None, message
    assert (answer.value, answer.misconception) == (value, misconception), answer
    assert answer.mode == "answer" and answer.held == (misconception is not None)
    assert (answer.question, answer.kind) == (message, read_question(message).kind)
    if misconception is None:
        said = build_rule("arithmetic").answer(read_question(message))
        assert answer.rule == "arithmetic" and answer.correct_value == value
        assert answer.why == f"a known fact: {said.why}" and answer.says == said.says, answer


@pytest.mark.parametrize(
    ("message", "value", "says"),
    [
        ("What is 43 - 21?", "22", "43 take away 21 is 22"),
        ("What is 43 - 23?", "20", "43 take away 23 is 20"),  # equal digits need no trade
        ("What is 34 + 25?", "59", "34 plus 25 is 59"),
        ("What is 45 + 44?", "89", "45 plus 44 is 89"),
        ("What is 99 - 99?", "0", "99 take away 99 is 0"),
    ],
)
def test_column_sums_without_regrouping_come_out_right(message: str, value: str, says: str):
    """Ava has no subtraction bug: a two-digit sum with no trade is worked out and said."""
    answer = think(AVA, holds_all, message)
    assert answer == Answer(
        question=message,
        value=value,
        correct_value=value,
        rule="arithmetic",
        misconception=None,
        held=False,
        why=answer.why,
        says=says,
        kind="arithmetic",
        mode="answer",
    )
    assert "no regrouping" in answer.why and value in answer.why


@pytest.mark.parametrize(
    "message",
    [
        "What is 13 + 8?",  # past 20 with a trade
        "What is 45 + 45?",  # 5 + 5 makes a ten
        "What is 43 - 29?",  # 3 - 9 needs a trade
        "What is 100 + 20?",  # three digits
        "What is 21 + 100?",
        "What is 143 + 21?",
        "What is 3 x 4?",  # not adding or taking away
    ],
)
def test_beyond_what_the_child_knows_it_guesses(message: str) -> None:
    answer = think(AVA, holds_all, message)
    assert answer is not None and answer.mode == "guess" and answer.rule == "guess", answer
    assert answer.value != answer.correct_value and answer.correct_value is not None
    assert answer.misconception is None and answer.held is False
    assert answer.says == "i just guessed" and answer.why == "beyond what the child knows: a guess"
    assert (answer.question, answer.kind) == (message, "arithmetic")


def test_guesses_are_about_ten_off_sometimes_idk_and_stable() -> None:
    """A guess is a plausible wrong number (about ten off, above or below, never negative),
    about a third of the time "don't know", and the same question gets the same guess."""
    guesses: list[tuple[int, str | None]] = []
    for a in [a for a in range(50, 99) if a % 10 != 9]:
        for b in (19, 29, 39):  # a 9 to take away always needs a trade
            message = f"What is {a} - {b}?"
            answer = think(AVA, holds_all, message)
            assert answer.mode == "guess", answer
            assert think(AVA, holds_all, message) == answer  # the same guess again
            guesses.append((a - b, answer.value))
    unknown = [right for right, value in guesses if value is None]
    assert 0.2 * len(guesses) <= len(unknown) <= 0.5 * len(guesses), guesses
    offsets = [int(value) - right for right, value in guesses if value is not None]
    assert all(8 <= abs(offset) <= 12 for offset in offsets), offsets
    assert {o for o in offsets if o > 0} and {o for o in offsets if o < 0}, offsets
    # a guess near zero stays a number a child would say
    small = [think(AVA, holds_all, f"What is {a} - {a - 2}?") for a in range(31, 99, 10)]
    assert all(s.mode == "guess" for s in small), small
    assert all(s.value is None or int(s.value) >= 0 for s in small), small


@pytest.mark.parametrize(
    ("persona", "message", "value", "correct"),
    [
        (AVA, "Which is more, 99 or 100?", "100", "100"),  # read right though beyond 99
        (AVA, "Write one hundred five.", "105", "105"),
        (AVA, "What is 20 - 25?", None, None),  # below zero: the child does not know
        (AVA, "Why does it get dark at night?", None, None),  # not this child's topic
        (MAYA, "If you drop a brick and a feather together, which lands first?", None, None),
    ],
)
def test_beyond_its_rules_the_child_reads_numbers_right_or_does_not_know(
    persona: Persona, message: str, value: str | None, correct: str | None
) -> None:
    answer = think(persona, holds_all, message)
    assert answer is not None and answer.question == message
    assert (answer.value, answer.correct_value) == (value, correct), answer
    assert answer.misconception is None and answer.held is False
    assert answer.kind == read_question(message).kind
    if value is None:
        assert answer.rule == "unknown" and answer.mode == "guess" and answer.says == ""
        assert answer.why == "not something this child knows about"
    else:
        assert answer.rule == "arithmetic" and answer.mode == "answer" and answer.says
        assert value in answer.why and "known fact" not in answer.why


# --- the last problem, again -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("follow_up", "mode"),
    [
        ("why?", "explain"),
        ("How did you get that?", "explain"),
        ("Can you explain?", "explain"),
        ("Why do you think so?", "explain"),
        ("Are you sure?", "answer"),
        ("Try it again", "answer"),
        ("So what is it?", "answer"),
        ("Do you still think so?", "answer"),
        ("are you sure", None),  # no question asked
        ("what about 5?", None),  # a new number is a new problem
        ("Nice work!", None),
        ("Hello?", None),
        ("So is it 25?", None),  # the teacher's number, not asking again
        ("Are you sure it is 25?", None),
    ],
)
def test_a_follow_up_explains_or_answers_the_last_problem_again(follow_up, mode):
    answer = think(MAYA, holds_all, follow_up, previous="What is 52 - 27?")
    if mode is None:
        assert answer is None, answer
        return
    assert answer is not None and answer.mode == mode, answer
    assert answer.question == "What is 52 - 27?" and answer.value == "35"  # what it believes
    learned = think(MAYA, holds_none, follow_up, previous="What is 52 - 27?")
    assert learned.value == "25" and learned.mode == mode


def test_a_follow_up_without_a_problem_before_it_is_no_question() -> None:
    assert think(MAYA, holds_all, "why?") is None
    assert think(MAYA, holds_all, "why?", previous="Hi Maya, how are you?") is None


# --- two misconceptions on one question -------------------------------------------------------


def _maya_with_two_readers() -> Persona:
    """Maya with a second misconception that also answers comparisons (the other way)."""
    equals = MAYA.misconception("equals-means-answer")
    other = equals.model_copy(
        update={
            "rule": RuleSpec(name="place-value"),
            "correct_rule": RuleSpec(name="face-value-digits"),
        }
    )
    topic = MAYA.knowledge[2].model_copy(update={"misconceptions": [other]})
    return MAYA.model_copy(update={"knowledge": [MAYA.knowledge[0], MAYA.knowledge[1], topic]})


def test_the_misconception_being_taught_answers_first() -> None:
    persona = _maya_with_two_readers()
    question = "Which is more, 89 or 102?"
    first = think(persona, holds_all, question)
    assert first.value == "89" and first.misconception == "digits-face-value"
    taught = think(persona, holds_all, question, active="equals-means-answer")
    assert taught.value == "102" and taught.misconception == "equals-means-answer"
    assert think(persona, holds_all, question, active="digits-face-value").value == "89"


def test_the_taught_misconception_also_answers_a_follow_up_first() -> None:
    persona = _maya_with_two_readers()
    again = think(
        persona,
        holds_all,
        "Are you sure?",
        active="equals-means-answer",
        previous="Which is more, 89 or 102?",
    )
    assert again.value == "102" and again.misconception == "equals-means-answer"


@pytest.mark.parametrize(
    ("message", "rule", "misconception"),
    [
        ("What is 52 - 27?", "smaller-from-larger", "smaller-from-larger"),
        ("What is the 4 worth in 45?", "face-value-digits", "digits-face-value"),
        ("5 + 3 = __ + 2", "equals-answer-next", "equals-means-answer"),
    ],
)
def test_a_held_misconception_answers_with_its_rules_reason_and_words(message, rule, misconception):
    """The answer carries what the rule said and why, and what the right rule would say."""
    question = read_question(message)
    said = build_rule(rule).answer(question)
    spec = MAYA.misconception(misconception).correct_rule
    right = build_rule(spec.name).answer(question)
    assert think(MAYA, holds_all, message) == Answer(
        question=message,
        value=said.value,
        correct_value=right.value,
        rule=rule,
        misconception=misconception,
        held=True,
        why=said.why,
        says=said.says,
        kind=question.kind,
        mode="answer",
    )
    assert said.value != right.value


class CountsOnIncludingFirst(Rule):
    """Counts on from the first number including it (3 + 2 -> "3, 4" -> 4), on any sum:
    a rule about facts the child otherwise knows."""

    name = "counts-on-including-first"
    kinds = frozenset({"arithmetic"})
    covers_known_facts = True

    def answer(self, question):
        if question.get("op") != "+":
            return None
        a, b = question.get("a"), question.get("b")
        return RuleAnswer(str(a + b - 1), f"counted on from {a} including it", f"{a} then more")


@pytest.fixture
def maya_counting_on(monkeypatch) -> Persona:
    """Maya whose third misconception counts on wrongly: after the subtraction one, which
    also applies to sums but says nothing about them."""
    monkeypatch.setitem(
        registry._BUILT_IN,
        "counts-on-including-first",
        "tests.test_mutation_gaps_child_think:CountsOnIncludingFirst",
    )
    _clear_rule_caches()
    yield _with_rules(
        MAYA,
        {
            "equals-means-answer": {
                "rule": RuleSpec(name="counts-on-including-first"),
                "correct_rule": RuleSpec(name="arithmetic"),
            }
        },
    )
    _clear_rule_caches()


def test_a_later_misconception_answers_what_an_earlier_one_passes_over(maya_counting_on):
    persona = maya_counting_on
    small = think(persona, holds_all, "What is 3 + 2?")  # a known fact, said otherwise
    assert (small.value, small.misconception, small.correct_value) == (
        "4",
        "equals-means-answer",
        "5",
    )
    big = think(persona, holds_all, "What is 25 + 37?")
    assert (big.value, big.misconception, big.mode) == ("61", "equals-means-answer", "answer")
    assert think(persona, holds_all, "What is 52 - 27?").value == "35"


def test_only_the_misconceptions_still_held_answer_wrong(maya_counting_on):
    persona = maya_counting_on

    def still_counting_on(misconception_id: str) -> bool:
        return misconception_id == "equals-means-answer"

    assert think(persona, still_counting_on, "What is 3 + 2?").value == "4"
    learned = think(persona, still_counting_on, "What is 52 - 27?")
    assert (learned.value, learned.held, learned.misconception) == (
        "25",
        False,
        "smaller-from-larger",
    )
    assert think(persona, holds_none, "What is 3 + 2?").value == "5"


def test_a_rule_with_params_answers_by_them() -> None:
    """A persona's rule params reach the rule (a turned square is a "kite" to this child)."""
    turned = AVA.misconception("turned-shape-changes")
    kite = turned.model_copy(
        update={"rule": RuleSpec(name="turned-shape-renamed", params={"names": {"square": "kite"}})}
    )
    topics = [
        t.model_copy(
            update={"misconceptions": [kite if m.id == kite.id else m for m in t.misconceptions]}
        )
        for t in AVA.knowledge
    ]
    persona = AVA.model_copy(update={"knowledge": topics})
    question = "If I turn a square on its corner, what shape is it?"
    assert think(persona, holds_all, question).value == "kite"
    assert think(AVA, holds_all, question).value == "diamond"
    assert think(persona, holds_none, question).value == "square"


def test_an_answer_survives_the_round_trip_through_a_dict() -> None:
    answer = think(MAYA, holds_all, "What is 52 - 27?")
    data = answer.to_dict()
    assert data["value"] == "35" and data["correct_value"] == "25" and data["held"] is True
    assert Answer.from_dict(data) == answer
    assert Answer.from_dict({**data, "from_a_newer_version": 1}) == answer
    assert Answer.from_dict(None) is None and Answer.from_dict({}) is None


# --- the rule registry ------------------------------------------------------------------------


class TwoParamRule(Rule):
    """A third party's rule with two params: it answers sums with a fixed offset."""

    name = "off-by-some"
    kinds = frozenset({"arithmetic"})
    params = {"offset": 1, "label": "off"}

    def answer(self, question):
        a, b = question.get("a"), question.get("b")
        total = a + b + int(self.options["offset"])
        return RuleAnswer(str(total), f"{self.options['label']} by {self.options['offset']}")


def test_a_bad_param_names_the_rules_own_params_in_the_fix(monkeypatch) -> None:
    monkeypatch.setitem(
        registry._BUILT_IN, "off-by-some", "tests.test_mutation_gaps_child_think:TwoParamRule"
    )
    _clear_rule_caches()
    try:
        with pytest.raises(RuleError) as two:
            build_rule("off-by-some", {"ofset": 2})
        assert two.value.fix == "use only its params (offset, label), or leave params out"
        assert "ofset" in two.value.message and "off-by-some" in two.value.message
        with pytest.raises(RuleError) as none:
            build_rule("place-value", {"base": 8})
        assert none.value.fix == "use only its params (none), or leave params out"
        with pytest.raises(RuleError) as one:
            build_rule("turned-shape-renamed", {"name": {}})
        assert one.value.fix == "use only its params (names), or leave params out"
        said = build_rule("off-by-some", {"offset": 3}).answer(read_question("What is 2 + 2?"))
        assert said.value == "7"
    finally:
        _clear_rule_caches()


def test_a_rule_installed_by_another_package_is_found_through_its_entry_point(
    tmp_path: Path, monkeypatch
) -> None:
    """A real distribution's metadata on the path (what ``pip install`` leaves) registers a
    rule in the ``utta.rules`` group; personas can then name it."""
    dist = tmp_path / "utta_extra_rules-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: utta-extra-rules\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[utta.rules]\noff-by-some = tests.test_mutation_gaps_child_think:TwoParamRule\n"
    )
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    _clear_rule_caches()
    try:
        assert "off-by-some" in rule_names()
        assert "smaller-from-larger" in rule_names()  # the built-in ones stay
        assert rule_names() == sorted(rule_names())
        rule = build_rule("off-by-some", {"offset": 10})
        assert rule.answer(read_question("What is 2 + 3?")).value == "15"
    finally:
        monkeypatch.undo()
        _clear_rule_caches()
    assert "off-by-some" not in rule_names()


def _with_rules(persona: Persona, changes: dict[str, dict[str, RuleSpec]]) -> Persona:
    topics = []
    for topic in persona.knowledge:
        misconceptions = [
            m.model_copy(update=changes[m.id]) if m.id in changes else m
            for m in topic.misconceptions
        ]
        topics.append(topic.model_copy(update={"misconceptions": misconceptions}))
    return persona.model_copy(update={"knowledge": topics})


def test_persona_checks_name_the_field_and_the_fix_for_each_bad_rule() -> None:
    persona = _with_rules(
        MAYA,
        {
            # topic 1: a rule that does not exist
            "smaller-from-larger": {"rule": RuleSpec(name="smaller-from-largr")},
            # topic 0: a param the correct rule does not take
            "digits-face-value": {"correct_rule": RuleSpec(name="place-value", params={"base": 8})},
            # topic 2: a correct rule for other questions than the misconception's
            "equals-means-answer": {"correct_rule": RuleSpec(name="arithmetic")},
        },
    )
    problems = dict(check_persona(persona))
    assert len(problems) == 3, problems
    unknown = problems[("knowledge", 1, "misconceptions", 0, "rule", "name")]
    assert unknown.startswith("no answer rule called 'smaller-from-largr'. Fix: choose one of: ")
    assert "smaller-from-larger" in unknown and unknown.endswith(".")
    params = problems[("knowledge", 0, "misconceptions", 0, "correct_rule", "params")]
    assert params.startswith("the rule 'place-value' cannot take these params: ")
    assert "base" in params and params.endswith(
        "Fix: use only its params (none), or leave params out."
    )
    unfit = problems[("knowledge", 2, "misconceptions", 0, "correct_rule", "name")]
    assert unfit == (
        "'arithmetic' cannot answer the equation_blank, equation_true questions that "
        "'equals-answer-next' answers, so the child could not show it learned. "
        "Fix: pick a correct rule for the same questions."
    )


def test_persona_checks_accept_good_params_and_misconceptions_without_rules() -> None:
    kite = {"rule": RuleSpec(name="turned-shape-renamed", params={"names": {"square": "kite"}})}
    assert check_persona(_with_rules(AVA, {"turned-shape-changes": kite})) == []
    free = {"rule": None, "correct_rule": None}
    assert check_persona(_with_rules(LEO, {"plants-eat-soil": free})) == []


def test_a_sum_the_subtraction_bug_passes_over_goes_to_the_next_misconception(monkeypatch):
    """Maya's subtraction rule says nothing about 25 + 37; a later misconception's rule about
    sums (not about known facts) answers it, rather than the child guessing."""
    monkeypatch.setitem(
        registry._BUILT_IN, "off-by-some", "tests.test_mutation_gaps_child_think:TwoParamRule"
    )
    _clear_rule_caches()
    try:
        spec = {"rule": RuleSpec(name="off-by-some"), "correct_rule": RuleSpec(name="arithmetic")}
        persona = _with_rules(MAYA, {"equals-means-answer": spec})
        answer = think(persona, holds_all, "What is 25 + 37?")
        assert (answer.value, answer.misconception, answer.correct_value) == (
            "63",
            "equals-means-answer",
            "62",
        )
    finally:
        _clear_rule_caches()
