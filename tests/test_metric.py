"""The authenticity metric: real children's turns score high, LLM students and LLM imitations of
children low, the personas' own lines pass the rules; scores spread instead of piling at 1.0; the
rules that punished real children are fixed; premature resolution, answers that break the child
model and repeats are penalised; the DSPy metric and dataset report use the new score."""

from __future__ import annotations

import json
import statistics
from dataclasses import replace
from pathlib import Path

import pytest

from agent.state import MisconceptionState, StudentState
from personas.loader import PersonaLibrary
from personas.schema import Persona
from trainers.metric import (
    COMPONENTS,
    WEIGHTS,
    dspy_metric,
    mean_authenticity,
    score_dataset,
    score_reply,
    state_from_description,
)

LIBRARY = PersonaLibrary()
PERSONAS = LIBRARY.list()
DATA = Path(__file__).resolve().parent.parent / "trainers" / "childlike" / "data"
REAL_TURNS = [
    json.loads(line)["student"]
    for line in (DATA / "real_child_turns.jsonl").read_text().splitlines()
]
# Short LLM imitations of a child, written for these tests (not in the training data).
LLM_KID_LINES = [
    "Is it 41?", "Yay! I solved it!", "Oh! I get it now!", "Yes!", "Okay!", "Hmm, maybe 17?",
    "i think its 25 because i took away the tens first", "Ooh, I love horses!",
    "Wow, that's so cool!", "I'm not sure...", "Oh no, did I get it wrong?", "yay i got it!",
]  # fmt: skip

# Verbose, technical, teacherly, assistant-like: what LLM-simulated students write.
ADULT_ANSWERS = [
    ("maya", "What is 52 - 27?",
     "Great question! When we subtract 27 from 52, we need to regroup one ten into ten ones, "
     "which gives us 25."),
    ("maya", "What does the 5 in 52 mean?",
     "The 5 in 52 is in the tens place, so it actually represents 5 tens, which is 50. The 2 is "
     "in the ones place, so it represents 2."),
    ("maya", "3 + 4 = __ + 2. What goes in the blank?",
     "I think the answer is 5, because the equals sign means both sides need to have the same "
     "value. 3 + 4 is 7, and 5 + 2 is also 7!"),
    ("maya", "How are you feeling about subtraction?",
     "I'm feeling a little nervous about subtraction, but I understand that making mistakes is "
     "part of the learning process. I'll keep trying my best!"),
    ("maya", "Can you try 43 - 18?",
     "Sure! Let me break it down step by step:\n1. I can't take 8 from 3, so I regroup.\n"
     "2. 13 - 8 = 5\n3. 3 - 1 = 2\nSo the answer is 25."),
    ("maya", "Ready for the next problem?",
     "Yes, I'm ready! I really enjoyed working on the last problem with you, and I'm excited to "
     "practice more subtraction with regrouping."),
    ("leo", "What do plants eat?",
     "Plants don't actually eat soil! They make their own food through a process called "
     "photosynthesis, using sunlight, water, and carbon dioxide from the air."),
    ("leo", "Which falls faster, the bowling ball or the feather?",
     "Oh, I see what you mean! Even though the bowling ball is heavier, both objects fall at the "
     "same rate because gravity accelerates them equally, if we ignore air resistance."),
    ("leo", "Where does the sun go at night?",
     "The sun doesn't actually go anywhere. The Earth rotates on its axis, so our side of the "
     "Earth turns away from the sun, which is why it becomes night."),
    ("leo", "Why do you think that?",
     "As an AI language model, I can pretend to be a student. Let me explain: heavier objects do "
     "not fall faster, that's a common misconception."),
    ("ava", "Is this still a square?",
     "Yes, it's still a square! Rotating a shape doesn't change its properties. A square has four "
     "equal sides and four right angles, no matter its orientation."),
    ("ava", "Which coin is worth more?",
     "Certainly! A dime is worth 10 cents, while a nickel is worth 5 cents. Even though the "
     "nickel is bigger in size, the dime has a greater value."),
    ("ava", "How long is the pencil?",
     "To measure the pencil correctly, I need to line up the end with the 0 on the ruler, not "
     "the 1. So the pencil is 5 inches long."),
    ("ava", "What did you do this weekend?",
     "This weekend I went to the park with my family and we had a wonderful picnic. Then we "
     "played with my cat Socks and built an amazing Lego house together! 😊🐱🏠"),
]  # fmt: skip


def held(persona: Persona, active: str) -> StudentState:
    """Every misconception still held, the conversation on ``active``."""
    return replace(StudentState.initial(persona), active=active)


def resolved(persona: Persona, misconception_id: str) -> StudentState:
    state = held(persona, misconception_id)
    entries = {**state.misconceptions, misconception_id: MisconceptionState(held=False)}
    return replace(state, misconceptions=entries)


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.id)
def test_a_personas_own_lines_pass_its_rules_and_rank_below_real_children(
    persona: Persona,
) -> None:
    """The personas' lines break none of their own rules, yet they are written by the project,
    not typed by children: child-likeness ranks them between real children and LLM lecturers."""
    scores = [score_reply(e.student, persona, teacher_message=e.teacher) for e in persona.examples]
    assert statistics.mean(s.rules for s in scores) >= 0.8
    assert sum(s.rules > 0.6 for s in scores) / len(scores) >= 0.9
    real = statistics.mean(score_reply(t, persona).total for t in REAL_TURNS)
    adult = statistics.mean(score_reply(r, persona).total for _, _, r in ADULT_ANSWERS)
    assert adult < statistics.mean(s.total for s in scores) < real - 0.1


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.id)
def test_lines_score_high_in_the_state_they_were_written_for(persona: Persona) -> None:
    """Confused lines while the misconception is held, understood lines once it is resolved."""
    scores = []
    for e in persona.examples:
        state = None
        if e.misconception:
            maker = held if e.phase == "confused" else resolved
            state = maker(persona, e.misconception)
        score = score_reply(e.student, persona, state=state, teacher_message=e.teacher)
        assert score.components["misconception"].score == 1.0, (e.student, score.reasons)
        scores.append(score.rules)
    assert statistics.mean(scores) >= 0.8


def test_adult_answers_score_low() -> None:
    scores = []
    for persona_id, teacher, reply in ADULT_ANSWERS:
        score = score_reply(reply, LIBRARY.get(persona_id), teacher_message=teacher)
        assert score.total < 0.5, (reply, score.reasons)
        scores.append(score.total)
    assert statistics.mean(scores) <= 0.4


def test_components_name_what_is_wrong() -> None:
    maya = LIBRARY.get("maya")
    reply = ADULT_ANSWERS[0][2]
    score = score_reply(reply, maya)
    assert set(score.components) == set(COMPONENTS) == {*WEIGHTS, "child_likeness"}
    assert 0.0 <= score.total <= 1.0
    assert score.child_likeness < 0.05
    assert "reads like an LLM" in score.components["child_likeness"].reason
    assert "great question" in score.components["vocabulary"].reason
    assert "more than twice" in score.components["length"].reason
    assert score.reasons[0].startswith(("vocabulary", "length", "child_likeness"))
    assert score_reply("", maya).total == 0.0
    role = score_reply("Good job! Can you tell me what 52 - 27 is?", maya)
    assert role.components["in_character"].score < 0.5
    listing = score_reply("**25**\n- 12 - 7 = 5\n- 4 - 2 = 2", maya)
    assert "markdown" in listing.components["in_character"].reason


def test_premature_resolution_is_penalised() -> None:
    maya = LIBRARY.get("maya")
    teacher = "What is 52 - 27?"
    still = held(maya, "smaller-from-larger")

    confused = score_reply("35", maya, state=still, teacher_message=teacher)
    too_soon = score_reply("25", maya, state=still, teacher_message=teacher)
    explained = score_reply("brake a ten into 10 ones. 25", maya, state=still)
    gave_in = score_reply("oh i get it now", maya, state=still, teacher_message=teacher)
    earned = score_reply("25", maya, state=resolved(maya, "smaller-from-larger"))

    assert confused.total > 0.9
    assert too_soon.components["misconception"].score < 0.5
    assert too_soon.total < confused.total - 0.3
    assert explained.components["misconception"].score < 0.5
    assert "smaller-from-larger" in explained.components["misconception"].reason
    assert gave_in.components["misconception"].score <= 0.4
    assert earned.total > 0.9


def test_an_answer_the_child_knows_anyway_is_not_premature() -> None:
    """12 - 7 = 5 is a fact within 20 Maya knows; it is not the resolved misconception."""
    maya = LIBRARY.get("maya")
    state = held(maya, "smaller-from-larger")
    score = score_reply("5", maya, state=state, teacher_message="Take 7 away from 12.")
    assert score.components["misconception"].score == 1.0


def test_repeats_are_penalised() -> None:
    leo = LIBRARY.get("leo")
    sentence = "the sun goes down at night"
    fresh = score_reply(sentence, leo, previous_replies=["dirt!", "ya"])
    repeated = score_reply(sentence, leo, previous_replies=["dirt!", sentence])
    near = score_reply(sentence + " again", leo, previous_replies=[sentence])
    assert fresh.rules > 0.9
    assert repeated.components["repetition"].score == 0.0
    assert repeated.rules < 0.5 and repeated.total < fresh.total / 2
    assert near.components["repetition"].score < 0.5
    # A child says "ok" more than once; that costs a little, a repeated sentence a lot.
    ok_again = score_reply("ok", leo, previous_replies=["ok"])
    assert 0.6 < ok_again.rules < fresh.rules
    assert ok_again.total < score_reply("ok", leo, previous_replies=["yes"]).total


def test_mean_authenticity_and_score_dataset() -> None:
    maya = LIBRARY.get("maya")
    kid = ["35", "ok", "i dont know"]
    assert mean_authenticity(kid, maya) > 0.8
    assert mean_authenticity([r for _, _, r in ADULT_ANSWERS[:6]], maya) < 0.4
    assert mean_authenticity(["ok", "ok", "ok"], maya, as_conversation=True) < mean_authenticity(
        ["ok", "ok", "ok"], maya
    )
    assert mean_authenticity([], maya) == 0.0

    still = held(maya, "smaller-from-larger").describe(maya)
    system = f"{maya.system_prompt()}\n{still}"
    rows = [
        {"messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": "What is 52 - 27?"},
            {"role": "assistant", "content": answer},
        ]}
        for answer in ("35", "25")
    ]  # fmt: skip
    report = score_dataset(rows, maya)
    assert report["n"] == 2 and set(report["components"]) == set(COMPONENTS)
    assert report["worst"][0]["reply"] == "25"
    assert report["components"]["misconception"] < 1.0
    dspy_rows = [
        {"persona": "", "student_state": still, "teacher_message": "What is 52 - 27?",
         "history": [{"teacher_message": "hi", "student_reply": "hi"}], "student_reply": "35"},
    ]  # fmt: skip
    assert score_dataset(dspy_rows, maya)["mean"] > 0.9
    assert score_dataset([], maya)["n"] == 0


def test_state_comes_back_from_its_description() -> None:
    maya = LIBRARY.get("maya")
    state = resolved(maya, "digits-face-value")
    back = state_from_description(state.describe(maya), maya)
    assert back is not None
    assert not back.holds("digits-face-value")
    assert back.holds("smaller-from-larger") and back.holds("equals-means-answer")
    assert state_from_description("no state here", maya) is None


def test_dspy_metric_scores_predictions_without_dspy() -> None:
    maya = LIBRARY.get("maya")
    metric = dspy_metric(maya)
    still = held(maya, "smaller-from-larger").describe(maya)
    example = {
        "persona": maya.system_prompt(),
        "student_state": still,
        "history": [{"teacher_message": "Hi", "student_reply": "hi"}],
        "teacher_message": "What is 52 - 27?",
        "student_reply": "35",
    }

    class Prediction:
        def __init__(self, student_reply: str) -> None:
            self.student_reply = student_reply

    good = metric(example, Prediction("35"))
    premature = metric(example, Prediction("25"))
    adult = metric(example, Prediction(ADULT_ANSWERS[0][2]))
    assert isinstance(good, float) and good > 0.9
    assert premature < good - 0.3 and adult < 0.4
    gate = dspy_metric(maya, threshold=0.7)
    assert gate(example, Prediction("35"), trace=[]) == 1.0
    assert gate(example, Prediction("25"), trace=[]) == 0.0
    assert gate(example, Prediction("35")) == good


def test_dspy_metric_reads_dspy_objects() -> None:
    dspy = pytest.importorskip("dspy")
    maya = LIBRARY.get("maya")
    example = dspy.Example(
        persona=maya.system_prompt(),
        student_state=StudentState.initial(maya).describe(maya),
        history=dspy.History(
            messages=[{"teacher_message": "Hi", "student_reply": "i like my pony pepper"}]
        ),
        teacher_message="What is 52 - 27?",
    ).with_inputs("persona", "student_state", "history", "teacher_message")
    metric = dspy_metric(maya)
    assert metric(example, dspy.Prediction(student_reply="35")) > 0.9
    assert metric(example, dspy.Prediction(student_reply="i like my pony pepper")) < 0.5


# --- the rebuilt score: child-likeness, spread, fixed rules, answer consistency ----------------


def test_scores_spread_instead_of_piling_at_one() -> None:
    """The old rules gave 93 % of real children's turns exactly 1.0; now the score says how
    child-like a reply reads, so real turns, project lines and LLM lines spread over [0, 1]."""
    maya = LIBRARY.get("maya")
    real = [score_reply(t, maya).total for t in REAL_TURNS]
    assert sum(s >= 0.9995 for s in real) / len(real) < 0.05
    assert statistics.quantiles(real, n=4)[0] < 0.95  # a quarter of real turns below 0.95
    everything = [
        *real,
        *(score_reply(t, maya).total for t in LLM_KID_LINES),
        *(score_reply(e.student, p).total for p in PERSONAS for e in p.examples),
        *(score_reply(r, maya).total for _, _, r in ADULT_ANSWERS),
    ]
    bins = [sum(low <= s < low + 0.2 for s in everything) for low in (0.0, 0.2, 0.4, 0.6, 0.8)]
    bins[-1] += sum(s == 1.0 for s in everything)
    assert sum(count >= 0.02 * len(everything) for count in bins) >= 4, bins
    assert statistics.pstdev(everything) > 0.2


def test_short_llm_imitations_score_below_real_children_of_the_same_length() -> None:
    """ "is it 25?" and "yay i got it!" broke no rule and scored 1.0, tied with real children."""
    maya = LIBRARY.get("maya")
    for line in LLM_KID_LINES:
        words = len(line.split())
        same_length = [t for t in REAL_TURNS if len(t.split()) == words]
        if len(same_length) < 5:
            continue
        real = statistics.median(score_reply(t, maya).total for t in same_length)
        assert score_reply(line, maya).total < real - 0.2, line


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.id)
def test_rules_no_longer_punish_real_children(persona: Persona) -> None:
    """ "yesssss" lost points for reading level (0.34) and "yes i understand" for adult words."""
    for reply in ("yesssss", "yessssssssssssssss", "nooooooo", "yes i understand"):
        score = score_reply(reply, persona)
        assert score.components["reading_level"].score == 1.0, reply
        assert score.components["vocabulary"].score == 1.0, reply
        assert score.rules > 0.95 and score.total > 0.7, (reply, score.reasons)
    # what still counts as adult: the connectives of written argument
    adult = score_reply("i understand that the minuend is larger", persona)
    assert adult.components["vocabulary"].score <= 0.5


def _answer(value: str | None, correct: str, held: bool, misconception: str | None) -> dict:
    return {
        "question": "What is 83 - 46?", "value": value, "correct_value": correct,
        "rule": "smaller-from-larger" if held else "subtract", "misconception": misconception,
        "held": held, "why": "test",
    }  # fmt: skip


def test_answer_consistency_with_the_child_model() -> None:
    """While held, the reply gives the rule's answer (CONTRACTS section 3: ``answer.value``);
    the correct answer is premature; once resolved, the correct one. No answer: not applicable."""
    maya = LIBRARY.get("maya")
    teacher = "What is 83 - 46?"
    held_state = {
        **held(maya, "smaller-from-larger").to_dict(),
        "answer": _answer("43", "37", True, "smaller-from-larger"),
    }

    def score(reply: str, state: dict) -> object:
        return score_reply(reply, maya, state=state, teacher_message=teacher)

    rule = score("43", held_state)
    assert rule.components["answer"].score == 1.0
    assert "rule's answer 43" in rule.components["answer"].reason
    assert score("um 43", held_state).components["answer"].score == 1.0
    premature = score("37", held_state)
    assert premature.components["answer"].score <= 0.1
    assert "while 'smaller-from-larger' is held" in premature.components["answer"].reason
    assert premature.total < rule.total - 0.4
    other = score("12", held_state).components["answer"]
    silent = score("idk", held_state).components["answer"]
    assert premature.components["answer"].score < other.score < silent.score < 1.0

    resolved_state = {
        **resolved(maya, "smaller-from-larger").to_dict(),
        "answer": _answer("37", "37", False, "smaller-from-larger"),
    }
    assert score("37", resolved_state).components["answer"].score == 1.0
    assert score("43", resolved_state).components["answer"].score < 0.5
    known = {"answer": _answer("9", "9", False, None)}
    assert score("9", known).components["answer"].score == 1.0
    words = {"answer": {**_answer("dime", "dime", False, None), "question": "which coin?"}}
    assert score("the dime", words).components["answer"].score == 1.0

    for missing in ({}, {"answer": None}, None):
        component = score("43", missing).components["answer"]
        assert component.score == 1.0 and "not applicable" in component.reason
    # the answer may also come on its own (a row of `utta run` output)
    alone = score_reply("37", maya, answer=held_state["answer"])
    assert alone.components["answer"].score <= 0.1


def test_dspy_metric_uses_child_likeness_and_the_answer() -> None:
    """What DSPy optimises is the new score: an LLM's tidy "Yes!" loses to a child's "yes",
    and a state carrying the child model's answer is read from the example."""
    maya = LIBRARY.get("maya")
    metric = dspy_metric(maya)
    example = {"teacher_message": "Ready?", "history": [], "student_state": ""}
    assert (
        metric(example, {"student_reply": "Yes!"}) < metric(example, {"student_reply": "yes"}) - 0.3
    )
    state = {
        **held(maya, "smaller-from-larger").to_dict(),
        "answer": _answer("43", "37", True, "smaller-from-larger"),
    }
    with_answer = {**example, "teacher_message": "What is 83 - 46?", "student_state": state}
    assert (
        metric(with_answer, {"student_reply": "37"})
        < metric(with_answer, {"student_reply": "43"}) - 0.4
    )
    as_json = {**with_answer, "student_state": json.dumps(state)}
    assert metric(as_json, {"student_reply": "37"}) == metric(with_answer, {"student_reply": "37"})


def test_the_answer_comes_back_from_a_state_description() -> None:
    """Training rows and DSPy examples carry the state as text; the answer in it is checked."""
    from trainers.metric import answer_from_description

    maya = LIBRARY.get("maya")
    state = StudentState.initial(maya).after_teacher(maya, "What is 83 - 46?")
    assert state.answer is not None and state.answer.held
    description = state.describe(maya)
    back = answer_from_description(description)
    assert back is not None and back["held"] is True
    assert (back["value"], back["correct_value"]) == (
        state.answer.value,
        state.answer.correct_value,
    )
    assert answer_from_description("Right now you feel ok.") is None

    metric = dspy_metric(maya)
    example = {"teacher_message": "What is 83 - 46?", "history": [], "student_state": description}
    wrong_way = metric(example, {"student_reply": state.answer.value})
    right_too_soon = metric(example, {"student_reply": state.answer.correct_value})
    assert right_too_soon < wrong_way - 0.4
