"""The student state's own rules, pinned where the mutation run found them untested.

Which misconception a message is about, when a recognized teaching move really counts (posing a
problem is a question, stating the answer is telling, a remark gives nothing to do), the mood,
the moment a misconception resolves, the sentences a language-model brain is given, and the
round trip through a stored dict. All on the shipped personas (or a copy validated by the real
schema where a case needs one more misconception or trigger).

Most tests choose the move recognizer's verdict with ``Teacher.says(message, kind, confidence)``:
it replaces ``agent.state.classify``, our own module's seam to the recognizer (not a paid API),
so the state's reading of a verdict is tested on its own. The last tests use the real recognizer
on messages whose kind is clear.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

import agent.state as state_module
from agent.state import MIN_MOVE_CONFIDENCE, LastMove, StudentState
from personas.schema import Persona

WHY = "stand-in verdict"


@dataclass(frozen=True)
class Verdict:
    """The shape of ``agent.moves.MoveVerdict`` that the state reads."""

    kind: str
    confidence: float
    why: str = WHY


class Teacher:
    """Sends messages to one child, choosing the recognizer's verdict for each."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, persona: Persona) -> None:
        self.monkeypatch = monkeypatch
        self.persona = persona
        self.state = StudentState.initial(persona)

    def says(self, message: str, kind: str = "question", confidence: float = 0.9) -> StudentState:
        verdict = Verdict(kind, confidence)
        self.monkeypatch.setattr(state_module, "classify", lambda _message: verdict)
        self.state = self.state.after_teacher(self.persona, message)
        return self.state


@pytest.fixture(scope="module")
def leo() -> Persona:
    from personas import PersonaLibrary

    return PersonaLibrary().get("leo")


@pytest.fixture(scope="module")
def ava() -> Persona:
    from personas import PersonaLibrary

    return PersonaLibrary().get("ava")


# --- posing a problem is a question, not a teaching move ------------------------------------


@pytest.mark.parametrize(
    ("before", "message", "kind"),
    [
        # the topic's first problem, whatever the recognizer calls it
        ([], "What is 52 - 27?", "counter_example"),
        ([], "What is 52 - 27?", "concrete_model"),
        ([], "Here is a problem. What is 52 - 27?", "counter_example"),
        # the first problem of a new topic
        (["Which is bigger, 98 or 102?"], "What is 52 - 27?", "concrete_model"),
        # the same problem again
        (["what is 52 - 27?"], "What is 52 - 27?", "concrete_model"),
        # a new problem asked plainly, which the recognizer took for a counter-example
        (["What is 52 - 27?"], "What is 43 - 18?", "counter_example"),
        (["What is 52 - 27?", "Let's use the blocks."], "What is 43 - 18?", "counter_example"),
        # a one-sentence story problem
        (
            ["What is 52 - 27?"],
            "Maya has 61 stickers and gives 25 away, how many are left?",
            "concrete_model",
        ),
    ],
)
def test_posing_a_problem_is_a_question_not_a_teaching_move(
    monkeypatch, maya, before, message, kind
):
    teacher = Teacher(monkeypatch, maya)
    for line in before:
        teacher.says(line, "concrete_model" if line.startswith("Let's") else "question")
    moves_before = teacher.state.misconceptions["smaller-from-larger"].effective_moves
    state = teacher.says(message, kind)
    assert state.active == "smaller-from-larger"
    assert state.last_move.kind == "question"
    assert not state.last_move.counted and state.last_move.effect is None
    assert "poses the problem itself" in state.last_move.why and WHY in state.last_move.why
    assert state.misconceptions["smaller-from-larger"].effective_moves == moves_before
    assert state.answer.misconception == "smaller-from-larger" and state.answer.mode == "answer"


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("Is 98 bigger than 100?", "counter_example"),  # a case against the "98" it said
        ("Check: is 97 bigger than 103?", "counter_example"),  # put up to be checked
        ("Now look. Which is bigger, 97 or 103?", "counter_example"),  # with something to do
        # a story problem with something to do is an activity, not a posed problem
        ("Take 97 sticks and 103 sticks, which pile is bigger?", "concrete_model"),
    ],
)
def test_a_case_put_up_against_the_answer_counts_as_a_teaching_move(
    monkeypatch, maya, message, kind
):
    teacher = Teacher(monkeypatch, maya)
    assert teacher.says("Which is bigger, 98 or 102?").answer.value == "98"
    state = teacher.says(message, kind)
    assert state.last_move == LastMove(
        "digits-face-value",
        kind,
        True,
        f"{kind} is an effective move for digits-face-value ({WHY})",
        "effective",
    )
    assert state.misconceptions["digits-face-value"].effective_moves == 1


def test_a_worded_case_against_the_childs_answer_counts_as_a_counter_example(monkeypatch, ava):
    teacher = Teacher(monkeypatch, ava)
    assert teacher.says("Which is worth more, a nickel or a dime?").answer.value == "nickel"
    state = teacher.says("Is a nickel worth more than a dime?", "counter_example")
    assert state.last_move.kind == "counter_example" and state.last_move.counted
    assert state.misconceptions["bigger-coin-worth-more"].effective_moves == 1


def test_a_problem_the_child_can_only_guess_at_is_not_one_of_its_topics_problems(monkeypatch, maya):
    teacher = Teacher(monkeypatch, maya)
    teacher.says("What is 52 - 27?")
    state = teacher.says("What is 6 x 7?", "counter_example")
    assert state.answer.mode == "guess"
    assert state.last_move.kind == "counter_example" and state.last_move.counted


def test_a_story_problem_with_something_to_do_counts_as_a_move(monkeypatch, maya):
    teacher = Teacher(monkeypatch, maya)
    teacher.says("What is 52 - 27?")
    state = teacher.says("Take 61 sticks and give 25 away, how many are left?", "concrete_model")
    assert state.last_move.counted and state.last_move.effect == "effective"
    assert state.misconceptions["smaller-from-larger"].effective_moves == 1


# --- stating the answer is telling ----------------------------------------------------------


@pytest.mark.parametrize(
    ("told", "confidence"),
    [
        ("The answer is 25.", 0.9),
        ("The answer is 25.", 0.2),  # even when the recognizer is unsure
        ("The answer is \u201825\u2019.", 0.9),  # quoted with a phone's curly quotes
    ],
)
def test_stating_the_right_answer_is_telling(monkeypatch, maya, told, confidence):
    teacher = Teacher(monkeypatch, maya)
    teacher.says("What is 52 - 27?")
    state = teacher.says(told, "concrete_model", confidence)
    assert state.last_move == LastMove(
        "smaller-from-larger",
        "telling",
        True,
        "telling does not change smaller-from-larger (it states the answer without giving the "
        f"child anything to do ({WHY}))",
        "ineffective",
    )
    assert state.misconceptions["smaller-from-larger"].ineffective_moves == 1
    assert state.holds("smaller-from-larger")


@pytest.mark.parametrize(
    ("problem", "told"),
    [
        ("What is moving in the sky, the sun or the earth?", "The Earth spins."),
        ("Which falls faster, a heavy ball or a light ball?", "They land at the same time."),
    ],
)
def test_stating_a_worded_answer_is_telling(monkeypatch, leo, problem, told):
    teacher = Teacher(monkeypatch, leo)
    asked = teacher.says(problem)
    assert asked.answer.held and asked.answer.correct_value.lower() in told.lower()
    state = teacher.says(told, "concrete_model", 0.9)
    assert state.last_move.kind == "telling" and state.last_move.effect == "ineffective"


@pytest.mark.parametrize(
    ("message", "kind", "confidence", "expected"),
    [
        ("Could it be 25?", "concrete_model", 0.9, "concrete_model"),  # a question
        ("Let's count it out: 25.", "concrete_model", 0.9, "concrete_model"),  # something to do
        ("The answer is 125.", "concrete_model", 0.9, "concrete_model"),  # not the number 25
        ("The answer is 25.", "other", 0.1, "other"),  # not read as teaching: stays as it is
    ],
)
def test_a_message_that_does_not_just_state_the_answer_is_not_telling(
    monkeypatch, maya, message, kind, confidence, expected
):
    teacher = Teacher(monkeypatch, maya)
    teacher.says("What is 52 - 27?")
    state = teacher.says(message, kind, confidence)
    assert state.last_move.kind == expected
    assert state.misconceptions["smaller-from-larger"].ineffective_moves == 0


def test_naming_the_right_answer_is_not_telling_when_the_child_already_has_it(monkeypatch, maya):
    teacher = Teacher(monkeypatch, maya)
    assert teacher.says("What is 12 - 5?").answer.correct_value == "7"
    assert teacher.says("The answer is 7.", "concrete_model").last_move.kind == "concrete_model"


def test_naming_a_one_word_answer_is_teaching_not_telling(monkeypatch, ava):
    teacher = Teacher(monkeypatch, ava)
    asked = teacher.says(
        "Let's put the square on the table, twist it a bit and then back. "
        "Did it stop being a square at any point?"
    )
    assert asked.answer.correct_value == "square"
    state = teacher.says("It is still a square.", "concrete_model")
    assert state.last_move.kind == "concrete_model" and state.last_move.effect == "effective"


# --- a remark gives nothing to do -----------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "kind", "confidence", "counted"),
    [
        ("Blocks are fun.", "concrete_model", 0.5, False),  # a remark
        ("Blocks are fun.", "concrete_model", 0.7, True),  # the recognizer is sure: a demo
        ("What do the blocks show?", "concrete_model", 0.5, True),  # a question to answer
        ("We could use the blocks.", "concrete_model", 0.5, True),  # a shared activity
        ("My cousin has blocks at her house, do you like blocks?", "concrete_model", 0.9, False),
    ],
)
def test_a_remark_that_gives_nothing_to_do_does_not_count(
    monkeypatch, maya, message, kind, confidence, counted
):
    teacher = Teacher(monkeypatch, maya)
    teacher.says("What is 52 - 27?")
    state = teacher.says(message, kind, confidence)
    assert state.last_move.counted is counted
    assert state.misconceptions["smaller-from-larger"].effective_moves == int(counted)
    if counted:
        assert state.last_move.kind == kind
    else:
        assert state.last_move == LastMove(
            "smaller-from-larger",
            "other",
            False,
            "other is not a teaching move for smaller-from-larger (a remark that gives the "
            f"child nothing to do, look at or answer ({kind}?: {WHY}))",
        )


def test_a_remark_the_recognizer_did_not_read_as_teaching_keeps_its_kind(monkeypatch, maya):
    teacher = Teacher(monkeypatch, maya)
    teacher.says("What is 52 - 27?")
    assert teacher.says("Blocks are fun.", "chitchat", 0.5).last_move.kind == "chitchat"


# --- what counted and why -------------------------------------------------------------------


EFFECTIVE = "concrete_model is an effective move for smaller-from-larger"


@pytest.mark.parametrize(
    ("kind", "confidence", "counted", "reason", "effect"),
    [
        ("concrete_model", 0.9, True, EFFECTIVE, "effective"),
        ("concrete_model", MIN_MOVE_CONFIDENCE, True, EFFECTIVE, "effective"),  # just sure enough
        ("concrete_model", 0.2, False, "not sure what the message does", None),
        ("telling", 0.9, True, "telling does not change smaller-from-larger", "ineffective"),
        ("praise", 0.9, False, "praise is not a teaching move for smaller-from-larger", None),
    ],
)
def test_the_last_move_says_whether_it_counted_and_why(
    monkeypatch, maya, kind, confidence, counted, reason, effect
):
    teacher = Teacher(monkeypatch, maya)
    teacher.says("What is 52 - 27?")
    state = teacher.says("Let's use the blocks.", kind, confidence)
    topic = "smaller-from-larger"
    assert state.last_move == LastMove(topic, kind, counted, f"{reason} ({WHY})", effect)
    entry = state.misconceptions[topic]
    assert (entry.effective_moves, entry.ineffective_moves) == (
        int(effect == "effective"),
        int(effect == "ineffective"),
    )
    assert entry.held


def test_moves_after_a_misconception_resolves_no_longer_count(monkeypatch, maya):
    teacher = Teacher(monkeypatch, maya)
    teacher.says("Which is bigger, 98 or 102?")
    needed = maya.misconception("digits-face-value").moves_needed
    for _ in range(needed):
        teacher.says("Let's count them on the hundred chart.", "counter_example")
    assert not teacher.state.holds("digits-face-value")
    state = teacher.says("Let's count them on the hundred chart.", "telling")
    assert state.last_move == LastMove(
        "digits-face-value",
        "telling",
        False,
        f"digits-face-value is already resolved ({WHY})",
    )
    assert state.misconceptions["digits-face-value"].ineffective_moves == 0
    assert state.misconceptions["digits-face-value"].effective_moves == needed


def test_a_message_about_no_topic_is_recorded_but_counts_for_nothing(monkeypatch, maya):
    state = Teacher(monkeypatch, maya).says("Hello there!", "other")
    assert state.active is None
    assert state.last_move == LastMove(None, "other", False, WHY)


def test_moves_needed_effective_moves_resolve_a_misconception(monkeypatch, leo):
    teacher = Teacher(monkeypatch, leo)
    needed = leo.misconception("sun-goes-around-earth").moves_needed
    teacher.says("What is moving in the sky, the sun or the earth?")
    for count in range(1, needed + 1):
        assert teacher.state.holds("sun-goes-around-earth")
        state = teacher.says("Let's spin the globe next to a lamp.", "experiment")
        assert state.misconceptions["sun-goes-around-earth"].effective_moves == count
    assert not state.holds("sun-goes-around-earth")


# --- mood -----------------------------------------------------------------------------------


def test_praise_makes_the_child_happy_for_one_message(monkeypatch, maya):
    teacher = Teacher(monkeypatch, maya)
    assert teacher.says("Great job!", "praise").mood == "happy"
    assert teacher.says("Hmm.", "other").mood == "ok"


def test_two_ineffective_moves_frustrate_and_the_mood_stays_until_something_changes_it(
    monkeypatch, maya
):
    teacher = Teacher(monkeypatch, maya)
    teacher.says("What is 52 - 27?")
    assert teacher.says("You have to borrow.", "telling").mood == "ok"
    assert teacher.says("The rule is bigger number on top.", "telling").mood == "frustrated"
    assert teacher.says("Hmm.", "other").mood == "frustrated"
    assert teacher.says("Great job!", "praise").mood == "happy"
    # an effective move is not an ineffective one: the child calms down instead
    assert teacher.says("Let's use the blocks.", "concrete_model").mood == "ok"


def test_resolving_a_misconception_makes_the_child_happy(monkeypatch, maya):
    teacher = Teacher(monkeypatch, maya)
    teacher.says("Which is bigger, 98 or 102?")
    assert teacher.says("Let's count on the hundred chart.", "counter_example").mood == "ok"
    assert teacher.says("Let's build both with blocks.", "concrete_model").mood == "happy"


def test_a_long_lecture_bores_the_child(monkeypatch, maya):
    sentence = "the river runs past the old mill and the fields "  # 10 words, no topic
    words = (sentence * 5).split()
    teacher = Teacher(monkeypatch, maya)
    assert teacher.says(" ".join(words[:45]) + ".", "other").mood == "ok"
    assert teacher.says(" ".join(words[:46]) + ".", "other").mood == "bored"


# --- the moment it clicks -------------------------------------------------------------------


def test_when_a_misconception_resolves_the_child_sees_the_last_problem_right(monkeypatch, maya):
    teacher = Teacher(monkeypatch, maya)
    teacher.says("Which is bigger, 98 or 102?")
    state = teacher.says("Let's count on the hundred chart.", "counter_example")
    assert state.answer is None  # still held: nothing new to say about the problem
    state = teacher.says("Let's build both with blocks.", "concrete_model")
    assert state.answer.mode == "realize"
    assert (state.answer.value, state.answer.misconception) == ("102", "digits-face-value")
    assert state.last_question == "Which is bigger, 98 or 102?"
    # it clicks once: a later move with no problem in it has nothing new to answer
    assert teacher.says("Let's draw them too.", "concrete_model").answer is None


def test_no_realization_when_the_last_problem_was_about_something_else(monkeypatch, maya):
    teacher = Teacher(monkeypatch, maya)
    teacher.says("Which is bigger, 98 or 102?")
    assert teacher.says("What is 12 - 5?").active == "digits-face-value"  # a known fact
    teacher.says("Let's count on the hundred chart.", "counter_example")
    state = teacher.says("Let's build both with blocks.", "concrete_model")
    assert not state.holds("digits-face-value")
    assert state.answer is None


# --- which misconception the conversation is on ---------------------------------------------


@pytest.mark.parametrize(
    ("first", "message", "active"),
    [
        (None, "Let's think about place value.", "digits-face-value"),
        (None, "Look at these stones.", None),  # "ones" inside a word is no trigger
        # more triggers of one topic than another: the leader
        (
            None,
            "Let's think about place value and each digit when we subtract.",
            "digits-face-value",
        ),
        # later: one trigger of another topic does not switch, two do
        ("What is 52 - 27?", "Let's think about place value.", "smaller-from-larger"),
        ("What is 52 - 27?", "Let's think about place value and each digit.", "digits-face-value"),
        # ... unless the message also names the current topic
        (
            "What is 52 - 27?",
            "Let's think about place value and each digit when we subtract.",
            "smaller-from-larger",
        ),
        # a problem decides the topic by itself
        ("Which is bigger, 98 or 102?", "What is 61 - 25?", "smaller-from-larger"),
    ],
)
def test_the_topic_follows_problems_and_clear_changes_of_subject(
    monkeypatch, maya, first, message, active
):
    teacher = Teacher(monkeypatch, maya)
    if first:
        teacher.says(first)
    assert teacher.says(message, "other").active == active


def test_are_you_sure_brings_the_topic_back_to_the_problem_it_asks_about(monkeypatch, maya):
    teacher = Teacher(monkeypatch, maya)
    teacher.says("What is 52 - 27?")
    assert teacher.says("Let's think about place value and each digit.", "other").active == (
        "digits-face-value"
    )
    state = teacher.says("Are you sure?", "reconsider")
    assert state.active == "smaller-from-larger"
    assert state.answer.value == "35"


def test_a_trigger_with_an_apostrophe_matches_a_curly_one(monkeypatch, maya):
    data = maya.model_dump()
    data["knowledge"][0]["misconceptions"][0]["triggers"].append("what's bigger")
    persona = Persona.model_validate(data)
    state = Teacher(monkeypatch, persona).says("So what\u2019s bigger here", "other")
    assert state.active == "digits-face-value"


def test_a_problem_two_misconceptions_could_answer_goes_to_the_one_under_discussion(
    monkeypatch, maya
):
    """A copy of smaller-from-larger listed first: only the conversation's topic decides."""
    data = maya.model_dump()
    subtraction = data["knowledge"][1]["misconceptions"]
    copy = dict(subtraction[0], id="columns-copy", triggers=["columns"])
    subtraction.insert(0, copy)
    data["examples"] += [
        dict(example, misconception="columns-copy")
        for example in data["examples"]
        if example["misconception"] == "smaller-from-larger"
    ]
    persona = Persona.model_validate(data)
    teacher = Teacher(monkeypatch, persona)
    assert teacher.says("Let's subtract.", "other").active == "smaller-from-larger"
    state = teacher.says("What is 52 - 27?")
    assert (state.active, state.answer.misconception) == ("smaller-from-larger",) * 2
    # a new problem of the same topic is a plain move, not the topic's first problem
    state = teacher.says("Let's use blocks for 43 - 18.", "concrete_model")
    assert state.last_move.counted
    for _ in range(persona.misconception("smaller-from-larger").moves_needed - 1):
        state = teacher.says("Let's use the blocks.", "concrete_model")
    assert state.answer.mode == "realize"
    assert state.answer.misconception == "smaller-from-larger"


def test_a_persona_without_misconceptions_has_no_topic_and_counts_nothing(monkeypatch, maya):
    """The schema allows a child with only known facts: the state must still work."""
    data = maya.model_dump()
    for topic in data["knowledge"]:
        topic["misconceptions"] = []
    facts = [e for e in data["examples"] if not e["misconception"]]
    data["examples"] = (facts * 2)[:25]
    persona = Persona.model_validate(data)
    teacher = Teacher(monkeypatch, persona)
    state = teacher.says("Let's use blocks for place value.", "concrete_model")
    assert state.active is None and state.misconceptions == {}
    assert state.last_move == LastMove(None, "concrete_model", False, WHY)
    assert teacher.says("What is 12 - 5?").answer.value == "7"


# --- the state as sentences for a language-model brain --------------------------------------


def _beliefs(persona: Persona, held: set[str]) -> str:
    return " ".join(
        f"You still believe: {m.belief}"
        if m.id in held
        else f"You now understand what was wrong with: {m.belief}"
        for m in persona.misconceptions
    )


def test_describe_at_the_start_names_mood_beliefs_and_the_no_repeat_rule(maya):
    held = {m.id for m in maya.misconceptions}
    assert StudentState.initial(maya).describe(maya) == (
        f"Right now you feel ok. {_beliefs(maya, held)} "
        "Never repeat one of your last five replies word for word."
    )


def test_describe_a_held_wrong_answer_tells_the_child_to_keep_it(monkeypatch, maya):
    state = Teacher(monkeypatch, maya).says("What is 52 - 27?")
    text = state.describe(maya)
    assert (
        "Your answer to the teacher's question is 35 because you still believe it "
        f"({state.answer.why})." in text
    )
    assert "Say 35, not 25: you do not see the right answer yet." in text
    assert "What the teacher just did" not in text  # a question is not a counted move


@pytest.mark.parametrize(
    ("message", "value", "because"),
    [
        ("What is 58 - 23?", "35", "because you still believe it"),  # held, but right here
        ("What is 6 x 7?", "53", ""),  # a guess beyond what the child knows
        ("What is 12 - 5?", "7", ""),  # a known fact
    ],
)
def test_describe_an_answer_without_a_wrong_value_to_defend(
    monkeypatch, maya, message, value, because
):
    state = Teacher(monkeypatch, maya).says(message)
    text = state.describe(maya)
    reason = f"{because} ({state.answer.why})".strip()
    assert f"Your answer to the teacher's question is {value} {reason}." in text
    assert "Say " not in text
    if not because:
        assert "still believe it (" not in text


def test_describe_after_resolving_says_what_changed_and_what_the_teacher_did(monkeypatch, maya):
    teacher = Teacher(monkeypatch, maya)
    teacher.says("Which is bigger, 98 or 102?")
    teacher.says("Let's count on the hundred chart.", "counter_example")
    state = teacher.says("Let's build both with blocks.", "concrete_model")
    text = state.describe(maya)
    held = {"smaller-from-larger", "equals-means-answer"}
    assert text.startswith(f"Right now you feel happy. {_beliefs(maya, held)} ")
    assert (
        "What the teacher just showed you makes it click: the answer to the last problem is 102 "
        f"({state.answer.why}). Say so, surprised, in a few words." in text
    )
    assert (
        "What the teacher just did: concrete_model is an effective move for digits-face-value "
        f"({WHY})." in text
    )
    # asked again, the resolved child answers right, no longer "because you still believe it"
    again = teacher.says("Which is bigger, 98 or 102?").describe(maya)
    assert "Your answer to the teacher's question is 102 (" in again
    assert "still believe it" not in again


def test_describe_a_why_question_asks_for_the_childs_own_explanation(monkeypatch, maya):
    teacher = Teacher(monkeypatch, maya)
    teacher.says("What is 52 - 27?")
    state = teacher.says("Why?", "other")
    assert state.answer.mode == "explain" and state.answer.says
    assert (
        f"The teacher asks how you got 35; explain it your way: {state.answer.says}."
        in state.describe(maya)
    )


def test_describe_a_problem_the_child_cannot_answer(monkeypatch, maya):
    state = Teacher(monkeypatch, maya).says("What is 1000000 - 1?")
    assert state.answer.value is None
    assert state.describe(maya).endswith(
        " You do not know the answer to this; say so or guess, briefly."
        " Never repeat one of your last five replies word for word."
    )


# --- stored and restored --------------------------------------------------------------------


def test_a_state_survives_a_json_round_trip_with_everything_in_it(monkeypatch, maya):
    teacher = Teacher(monkeypatch, maya)
    teacher.says("What is 52 - 27?")
    teacher.says("You have to borrow.", "telling")
    state = teacher.says("The rule is bigger number on top.", "telling")
    assert state.mood == "frustrated" and state.turns == 3 and state.answer is None
    assert state.last_move is not None and state.last_question == "What is 52 - 27?"
    assert StudentState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    asked = teacher.says("What is 43 - 18?")
    assert StudentState.from_dict(json.loads(json.dumps(asked.to_dict()))) == asked


def test_an_empty_record_restores_the_starting_state_and_still_counts_moves(monkeypatch, maya):
    restored = StudentState.from_dict({})
    assert restored == StudentState()
    assert restored.holds("smaller-from-larger")  # no entry yet: still held
    teacher = Teacher(monkeypatch, maya)
    teacher.state = restored
    teacher.says("What is 52 - 27?")
    state = teacher.says("Let's use the blocks.", "concrete_model")
    assert state.misconceptions["smaller-from-larger"].effective_moves == 1


# --- on the real recognizer's verdicts ------------------------------------------------------


def test_real_recognizer_a_plain_first_problem_is_a_question_and_telling_the_answer_is_telling(
    maya,
):
    state = StudentState.initial(maya).after_teacher(maya, "Which is bigger, 98 or 102?")
    assert state.last_move.kind == "question" and not state.last_move.counted
    state = state.after_teacher(maya, "102 is bigger than 98.")
    assert state.last_move.kind == "telling"
    assert state.misconceptions["digits-face-value"].effective_moves == 0
    state = state.after_teacher(maya, "Look at the hundred chart: is 98 bigger than 102?")
    assert state.last_move.effect == "effective"
