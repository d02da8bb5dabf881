"""The debrief computed from a real store filled by real agent sessions (offline brain)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.moves.labels import load_examples
from tests.debrief_sessions import MAYA_LESSON, build_store, continue_lesson, run_lesson
from trainers.debrief.compute import debrief_session
from trainers.debrief.progress import trainee_progress
from trainers.debrief.talk_head import (
    LABELS,
    MANIFEST_FILE,
    TALK_MOVES,
    TalkHead,
    input_signature,
    shared_encoder,
)
from trainers.debrief.talk_moves import NGRAM_FILE, classifier, classify_talk, message_moves
from trainers.debrief.talk_ngram import LinearModel, accuracy
from transcripts.store import Store


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("debrief") / "utta.db"
    return path, build_store(path)


def test_timeline_says_which_moves_counted_and_when_the_belief_resolved(sessions) -> None:
    path, ids = sessions
    debrief = debrief_session(Store(path), ids["taught"])
    line = next(t for t in debrief.timeline if t.id == "smaller-from-larger")
    assert line.first_showed == 1 and line.first_showed_quote
    by_turn = {event.turn: event for event in line.events}
    assert not by_turn[2].counted and by_turn[2].why  # telling the procedure does not help
    assert not by_turn[3].counted
    assert [t for t, e in by_turn.items() if e.counted] == [5, 6, 7]
    assert line.resolved_at == 7 and not line.held_at_end
    # the other misconceptions never came up and are still held
    untouched = [t for t in debrief.timeline if t.id != "smaller-from-larger"]
    assert all(t.first_showed is None and t.held_at_end for t in untouched)
    assert debrief.counted_moves == 3 and debrief.first_resolution == 7


def test_talk_figures_count_words_questions_moves_and_self_answers(sessions) -> None:
    path, ids = sessions
    talk = debrief_session(Store(path), ids["taught"]).talk
    teacher_words = sum(len(line.split()) for line in MAYA_LESSON)
    assert talk.teacher_words == teacher_words and talk.teacher_turns == 8 == talk.child_turns
    assert 0.5 < talk.teacher_word_share < 1.0
    assert talk.teacher_word_share == pytest.approx(
        teacher_words / (teacher_words + talk.child_words)
    )
    assert talk.open_questions >= 1  # "How did you get 35?" presses for reasoning
    assert talk.closed_questions >= 2  # "What is 52 - 27?", "What is 83 - 46?"
    assert 2 in talk.move_turns["telling"] and 8 in talk.move_turns["telling"]
    assert 5 in talk.move_turns["model"]
    assert talk.self_answered_turns == [8]  # asked 83 - 46 and said "It's 37."
    assert 4 in talk.uptake_turns  # "How did you get 35?" takes up the child's "35"


def test_suggestions_quote_the_session(sessions) -> None:
    path, ids = sessions
    store = Store(path)
    debrief = debrief_session(store, ids["told"])
    texts = [s.text for s in debrief.suggestions]
    assert len(texts) == 3 and len({s.kind for s in debrief.suggestions}) == 3
    replies = [t.text for t in store.turns(ids["told"]) if t.role == "student"]
    telling = next(s for s in debrief.suggestions if s.kind == "telling")
    assert telling.turn == 2
    assert "At turn 2 you told Maya" in telling.text and "You have to borrow" in telling.text
    assert f"“{replies[1]}”" in telling.text
    assert "base-ten blocks" in telling.text  # what to try comes from the persona's moves
    assert any("“Are you sure?”" in text for text in texts)


def test_a_resumed_session_s_debrief_covers_all_of_it(tmp_path: Path) -> None:
    with Store(tmp_path / "utta.db") as store:
        session_id = run_lesson(store, "maya", MAYA_LESSON[:5])
        continue_lesson(store, session_id, MAYA_LESSON[5:7])
        debrief = debrief_session(store, session_id)
    assert debrief.exchanges == 7
    line = next(t for t in debrief.timeline if t.id == "smaller-from-larger")
    assert [e.turn for e in line.events if e.counted] == [5, 6, 7] and line.resolved_at == 7


def test_the_child_model_s_own_last_move_is_used_when_the_state_has_it(tmp_path: Path) -> None:
    """States written by the child model that records ``last_move`` (CONTRACTS.md §3)."""
    with Store(tmp_path / "utta.db") as store:
        session_id = store.start_session("maya", "sam", "offline")
        store.add_turn(session_id, "teacher", "What is 6 in 63 worth? Think of dimes.")
        state = {
            "misconceptions": {"digits-face-value": {"held": True, "effective_moves": 0}},
            "mood": "ok",
            "active": "digits-face-value",
            "turns": 1,
            "answer": {"question": "6 in 63", "value": "6", "correct_value": "60",
                       "rule": "face_value", "misconception": "digits-face-value",
                       "held": True, "why": "each digit is itself"},
            "last_move": {"misconception": "digits-face-value", "kind": "chitchat",
                          "counted": False, "why": "talks about coins without a model"},
        }  # fmt: skip
        store.add_turn(session_id, "student", "6", brain_id="offline", student_state=state)
        debrief = debrief_session(store, session_id)
    line = next(t for t in debrief.timeline if t.id == "digits-face-value")
    [event] = line.events
    assert (event.source, event.kind, event.counted) == ("state", "chitchat", False)
    assert event.why == "talks about coins without a model"
    assert line.answers_while_held == [(1, "6")]


def test_progress_has_one_row_per_session_of_the_trainee(sessions) -> None:
    path, ids = sessions
    rows = trainee_progress(Store(path), "sam")
    assert [r.session_id for r in rows] == [ids["told"], ids["taught"], ids["leo"]]
    told, taught = rows[0], rows[1]
    assert told.counted_moves == 0 and told.turns_to_resolution is None
    assert taught.counted_moves == 3 and taught.turns_to_resolution == 7
    assert [r.session_id for r in trainee_progress(Store(path), "sam", "leo")] == [ids["leo"]]


def test_the_talk_move_set_has_a_fixed_test_split_and_the_head_beats_the_bar() -> None:
    examples = load_examples(TALK_MOVES)
    test = [e for e in examples if e.split == "test"]
    assert len(examples) >= 250
    assert {e.label for e in test} == set(LABELS)
    head = TalkHead(shared_encoder())
    predicted = [label for label, _, _ in head.classify_many([e.text for e in test])]
    held_out = sum(p == e.label for p, e in zip(predicted, test, strict=True)) / len(test)
    assert held_out >= 0.8, held_out
    ngram = LinearModel.from_json(json.loads(NGRAM_FILE.read_text(encoding="utf-8")))
    assert accuracy(ngram, test) >= 0.8


def test_the_head_was_trained_on_the_shipped_encoder_and_features() -> None:
    """After the move recognizer's encoder or explicit features change, retrain: python -m
    trainers.debrief.train_talk_moves (else the debrief falls back to the n-gram model)."""
    manifest = json.loads(MANIFEST_FILE.read_text(encoding="utf-8"))
    assert manifest["inputs"] == input_signature()
    assert isinstance(classifier(), TalkHead)


@pytest.mark.parametrize(
    ("sentence", "label"),
    [
        ("Why would the bigger coin be worth more?", "press_reasoning"),
        ("So you're saying the 7 is just seven?", "revoice"),
        ("Let's lay out ten-sticks and ones cubes for 74.", "model"),
        ("Add 38 back to your answer and see if you get 74.", "ask_check"),
        ("The right answer is 36.", "telling"),
        ("Nope, try again.", "reconsider"),
        # traps: a model word in chit-chat, and telling that waves the model away
        ("I have a big box of cubes in my garage.", "other"),
        ("No blocks needed, it is 25.", "telling"),
    ],
)
def test_talk_moves_on_new_lines(sentence: str, label: str) -> None:
    assert classify_talk(sentence).label == label


def test_a_message_is_read_sentence_by_sentence() -> None:
    moves = [move.label for _, move in message_moves("What is 74 - 38? It's 36.")]
    assert moves == ["closed_question", "telling"]


def test_a_session_whose_persona_is_gone_still_has_a_debrief(tmp_path: Path) -> None:
    with Store(tmp_path / "utta.db") as store:
        session_id = store.start_session("ghost", "sam", "offline")
        store.add_turn(session_id, "teacher", "What is 52 - 27? It's 25.")
        store.add_turn(session_id, "student", "35", brain_id="offline", student_state=None)
        debrief = debrief_session(store, session_id)
    assert debrief.child_name == "the child" and debrief.timeline == []
    assert debrief.talk.self_answered_turns == [1]
    assert any("“What is 52 - 27?”" in s.text for s in debrief.suggestions)


def test_the_heading_counts_the_trainee_s_feedback(tmp_path: Path) -> None:
    from trainers.debrief.render import heading

    with Store(tmp_path / "utta.db") as store:
        session_id = run_lesson(store, "maya", MAYA_LESSON[:2])
        first, second = [t.id for t in store.turns(session_id) if t.role == "student"]
        store.add_feedback(first, rating=2)
        store.add_feedback(first, rating=4, rewrite="um 35?")  # the latest row counts
        store.add_feedback(second, flagged=True)
        debrief = debrief_session(store, session_id)
    assert debrief.ratings == {"rated": 1, "flagged": 1, "rewritten": 1}
    assert "your feedback on replies: 1 rated, 1 flagged, 1 rewritten" in heading(debrief)
