"""The authenticity metric: shipped personas' own lines score high, LLM-student answers low,
premature resolution and repeats are penalised; the DSPy metric and dataset report work."""

from __future__ import annotations

import statistics
from dataclasses import replace

import pytest

from agent.state import MisconceptionState, StudentState
from personas.loader import PersonaLibrary
from personas.schema import Persona
from trainers.metric import (
    WEIGHTS,
    dspy_metric,
    mean_authenticity,
    score_dataset,
    score_reply,
    state_from_description,
)

LIBRARY = PersonaLibrary()
PERSONAS = LIBRARY.list()

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
def test_a_personas_own_lines_score_high(persona: Persona) -> None:
    scores = [
        score_reply(e.student, persona, teacher_message=e.teacher).total for e in persona.examples
    ]
    assert statistics.mean(scores) >= 0.8
    assert sum(score > 0.6 for score in scores) / len(scores) >= 0.9


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
        scores.append(score.total)
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
    assert set(score.components) == set(WEIGHTS)
    assert 0.0 <= score.total <= 1.0
    assert "great question" in score.components["vocabulary"].reason
    assert "more than twice" in score.components["length"].reason
    assert score.reasons[0].startswith(("vocabulary", "length"))
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
    sentence = "the sun goes down and then the moon comes up"
    fresh = score_reply(sentence, leo, previous_replies=["dirt!", "ya"])
    repeated = score_reply(sentence, leo, previous_replies=["dirt!", sentence])
    near = score_reply(sentence + " again", leo, previous_replies=[sentence])
    assert fresh.total > 0.9
    assert repeated.components["repetition"].score == 0.0
    assert repeated.total < 0.5
    assert near.components["repetition"].score < 0.5
    # A child says "ok" more than once; that costs a little, a repeated sentence a lot.
    ok_again = score_reply("ok", leo, previous_replies=["ok"])
    assert 0.6 < ok_again.total < fresh.total


def test_mean_authenticity_and_score_dataset() -> None:
    maya = LIBRARY.get("maya")
    kid = ["35", "um 7 take away 2 is 5", "ok"]
    assert mean_authenticity(kid, maya) > 0.9
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
    assert report["n"] == 2 and set(report["components"]) == set(WEIGHTS)
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
