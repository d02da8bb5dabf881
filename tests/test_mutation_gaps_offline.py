"""How the offline brain picks a reply, on a small persona whose examples separate the cases.

The shipped personas have many overlapping examples, so a broken rule often still lands on an
acceptable line there. This persona (built here through the persona schema, like a persona file)
has one example per case: two misconceptions with confused and understood lines, the child's
own off-task and feeling lines, a question whose answer is the child's own number, and plain
classroom lines that share no word with any message below. The student state is built by hand
so that each test names exactly the mood, topic, turn and last move it is about.
"""

from __future__ import annotations

import pytest

from agent.brain import BrainRequest
from agent.brains.offline import OfflineBrain
from agent.memory import ConversationMemory
from agent.state import LastMove, MisconceptionState, StudentState
from personas.schema import Persona


def _misconception(misconception_id: str, trigger: str) -> dict:
    return {
        "id": misconception_id,
        "belief": f"a belief about {trigger}",
        "shows_as": [f"gets {trigger} wrong"],
        "triggers": [trigger],
        "ineffective_moves": [{"description": "telling the rule", "cues": ["the rule is"]}],
        "effective_moves": [{"description": "blocks", "cues": ["blocks"]}],
    }


# (teacher, student, kind, misconception, phase); the order matters: see each test.
EXAMPLES = [
    ("let's get started", "ok lets go", "on_task", None, None),
    (
        "what do you do with the ones column",
        "i take the small one from the big one",
        "on_task",
        "flip",
        "confused",
    ),
    ("tell me how you take away", "big minus small always", "on_task", "flip", "confused"),
    (
        "what do you do with the ones column",
        "i have to trade first",
        "on_task",
        "flip",
        "understood",
    ),
    ("what does the tens digit mean", "its just a one", "on_task", "tens", "confused"),
    ("what does the tens digit mean", "it means ten of them", "on_task", "tens", "understood"),
    ("what pets do you have at home", "a hamster named bob", "off_task", None, None),
    ("how many pets have you got", "um 3?", "off_task", None, None),
    ("how many fingers do you have", "10 fingers", "on_task", None, None),
    ("dinosaurs", "i love t rex", "off_task", None, None),
    ("how are you feeling this morning", "sleepy", "feeling", None, None),
    ("do you like doing math at school", "no its boring", "feeling", None, None),
    ("we will keep going for a while", "my head hurts", "feeling", None, None),
    ("this is a tricky one", "its too hard", "feeling", None, None),
    ("welcome back everyone", "yay math", "on_task", None, None),
    ("look at that bird outside", "a bird!! can we go see", "off_task", None, None),
    ("try the cubes", "ok i got the cubes", "on_task", None, None),
    ("count the beads on the string", "one two three", "on_task", None, None),
    ("read the next word", "ok reading", "on_task", None, None),
    ("open the book", "which page", "on_task", None, None),
    ("sit down please", "im sitting", "on_task", None, None),
    ("line up by the door", "can i be first", "on_task", None, None),
    ("put the pencil down", "done", "on_task", None, None),
    ("clean up the table", "ok cleaning", "on_task", None, None),
    ("wash up before snack", "they are clean", "on_task", None, None),
]
FLIP_CONFUSED = ["i take the small one from the big one", "big minus small always"]
IDK = {"idk", "wat?", "um idk", "i dont know", "idk thats hard", "i dont know that one", "no idea"}


@pytest.fixture(scope="module")
def sam() -> Persona:
    return Persona.model_validate(
        {
            "id": "sam",
            "name": "Sam",
            "grade": 2,
            "age": 7,
            "summary": "A test persona with one example per case.",
            "personality": ["chatty"],
            "speech": {"spelling_habits": ["no capital letters", "drops apostrophes"]},
            "knowledge": [
                {
                    "topic": "subtraction",
                    "misconceptions": [
                        _misconception("flip", "subtract"),
                        _misconception("tens", "tens"),
                    ],
                }
            ],
            "examples": [
                {"teacher": t, "student": s, "kind": k, "misconception": m, "phase": p}
                for t, s, k, m, p in EXAMPLES
            ],
        }
    )


def reply(
    persona: Persona,
    message: str,
    *,
    mood: str = "ok",
    active: str | None = None,
    resolved: tuple[str, ...] = (),
    turns: int = 0,
    last_move: str | None = None,
    recent: tuple[str, ...] = (),
    approved: tuple[tuple[str, str], ...] = (),
) -> str:
    state = StudentState(
        misconceptions={
            m.id: MisconceptionState(held=m.id not in resolved) for m in persona.misconceptions
        },
        mood=mood,  # type: ignore[arg-type]
        active=active,
        turns=turns,
        last_move=LastMove(active, last_move, True, "") if last_move else None,
    )
    memory = ConversationMemory()
    for said in recent:
        memory.add_exchange("go on", said)
    brain = OfflineBrain(persona, approved)
    return brain.choose(BrainRequest(persona, state, memory.window(), message))


# --- misconception lines -------------------------------------------------------------------------


def test_a_misconception_line_is_said_only_in_its_phase(sam: Persona) -> None:
    """The same teacher line has a confused and an understood answer: which one the child says
    follows whether the misconception is still held."""
    question = "What do you do with the ones column?"
    assert reply(sam, question, active="flip") == "i take the small one from the big one"
    assert reply(sam, question, active="flip", resolved=("flip",)) == "i have to trade first"


def test_the_active_topics_lines_win_when_nothing_else_fits(sam: Persona) -> None:
    """A remark that shares no word with any example: the child answers from the topic in play
    (its confused line while held), never from another topic and never with a bare ok."""
    said = reply(sam, "Right.", active="flip")
    assert said in FLIP_CONFUSED
    assert reply(sam, "Right.", active="tens") == "its just a one"


def test_the_topic_bonus_adds_to_how_well_a_line_matches(sam: Persona) -> None:
    """Both confused lines of the topic get the bonus; the one that shares the teacher's words
    still wins over the one listed first."""
    assert reply(sam, "Take it away.", active="flip") == "big minus small always"


def test_tied_lines_take_turns_in_the_persona_files_order(sam: Persona) -> None:
    """With nothing in the message to choose by, the rotation starts at the turn count in the
    persona's example order: the first tied line at or after that position is said."""
    positions = [i for i, example in enumerate(EXAMPLES) if example[1] in FLIP_CONFUSED]
    for turns in range(len(EXAMPLES) + 2):
        start = turns % len(EXAMPLES)
        expected = next((p for p in positions if p >= start), positions[0])
        assert reply(sam, "Right.", active="flip", turns=turns) == EXAMPLES[expected][1], turns


# --- moods ---------------------------------------------------------------------------------------


def test_the_mood_bonus_adds_to_how_well_a_feeling_line_matches(sam: Persona) -> None:
    """A frustrated child says a feeling line; of its feeling lines, the one closest to what the
    teacher said ("tricky"), not simply the first listed."""
    assert reply(sam, "The tricky part is next.", mood="frustrated") == "its too hard"


def test_a_frustrated_child_asked_how_it_is_says_so(sam: Persona) -> None:
    said = reply(sam, "Are you ok?", mood="frustrated")
    assert said in {"its hard", "no its hard", "kinda", "not really", "sad"}, said
    assert reply(sam, "Are you ok?", mood="ok") in {"yes", "yes im ok", "im ok", "ok"}


# --- questions -----------------------------------------------------------------------------------


def test_a_question_gets_the_example_that_shares_its_words(sam: Persona) -> None:
    """The question's example is listed after many that share nothing with it."""
    assert reply(sam, "How would you count these beads?") == "one two three"


def test_an_approved_turn_that_shares_nothing_with_a_question_is_not_an_answer(
    sam: Persona,
) -> None:
    approved = (("where do the hundreds go", "on the left side"),)
    assert reply(sam, "Where do the hundreds go?", approved=approved) == "on the left side"
    said = reply(sam, "Why do magnets stick?", approved=approved)
    assert said in IDK, said


# --- the child's own lines -----------------------------------------------------------------------


def test_the_childs_own_answer_to_the_very_same_question_keeps_its_number(sam: Persona) -> None:
    """ "How many pets have you got?" -> "um 3?": the number is the child's own fact, said for
    the same question (reworded only in function words) and not again right after."""
    assert reply(sam, "How many pets have you got?") == "um 3?"
    assert reply(sam, "how many pets have you got") == "um 3?"
    assert reply(sam, "How many pets have you got?", recent=("um 3?",)) != "um 3?"


def test_after_a_teaching_move_the_same_question_still_gets_its_on_task_line(
    sam: Persona,
) -> None:
    """Off-task lines listed before it are skipped, not the end of the search."""
    said = reply(sam, "How many fingers do you have?", last_move="concrete_model")
    assert said == "10 fingers"


def test_a_personal_question_gets_the_childs_own_off_task_line(sam: Persona) -> None:
    assert reply(sam, "What pets do you keep at home?") == "a hamster named bob"


@pytest.mark.parametrize(
    "question",
    [
        "What pets do you have at school and camp?",  # half its words are the example's
        "What dinosaurs did you see at the museum with your family?",  # one word of five
    ],
)
def test_an_own_line_needs_more_than_half_of_the_questions_words(
    sam: Persona, question: str
) -> None:
    said = reply(sam, question)
    assert said not in {"a hamster named bob", "i love t rex"}
    assert said in IDK, said


def test_a_yes_no_question_gets_the_childs_own_feeling_line(sam: Persona) -> None:
    assert reply(sam, "Do you like math at school?") == "no its boring"


def test_asked_how_it_feels_the_child_says_its_own_feeling_line_first(sam: Persona) -> None:
    assert reply(sam, "How are you feeling this morning, Sam?") == "sleepy"
    again = reply(sam, "How are you feeling this morning, Sam?", recent=("sleepy",))
    assert again != "sleepy"


def test_a_greeting_is_answered_as_a_greeting_not_by_a_lesson_line(sam: Persona) -> None:
    """The lesson line "welcome back everyone" shares the greeting's words; only an approved
    turn may replace the child's own greeting."""
    said = reply(sam, "Hi, welcome back everyone!")
    assert said in {"hi", "hi!", "hello", "hey", "hi yes"}, said
    approved = (("hi welcome back everyone", "hi hi hi"),)
    assert reply(sam, "Hi, welcome back everyone!", approved=approved) == "hi hi hi"


# --- staying on task -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_move", "drifts"),
    [(None, True), ("chitchat", True), ("other", True), ("telling", False), ("reconsider", False)],
)
def test_the_child_drifts_off_task_only_when_not_being_taught_or_told(
    sam: Persona, last_move: str | None, drifts: bool
) -> None:
    said = reply(sam, "There is a bird outside the window.", last_move=last_move)
    assert (said == "a bird!! can we go see") is drifts, said


def test_a_teaching_move_phrased_as_would_you_gets_the_lesson_line(sam: Persona) -> None:
    """ "Would you try the cubes?" after a teaching move is the lesson, not a question about the
    child's life; the lesson line comes after the off-task lines in the persona."""
    assert reply(sam, "Would you try the cubes for me?", last_move="concrete_model") == (
        "ok i got the cubes"
    )
    assert reply(sam, "Try the cubes now.", last_move="concrete_model") == "ok i got the cubes"
