"""Dataset building behaviours that the mutation run of trainers/datasets.py showed untested:
the arguments refused, the text of the bad-rows error, every kind of bad turn, which ratings
make a target, the persona's example rows, the stored versus replayed state, duplicates and the
split's edges, and what the manifest says. Real SQLite stores throughout (tests/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from agent.prompt import persona_prompt
from agent.state import StudentState
from personas.loader import PersonaLibrary
from personas.schema import Persona
from tests.dataset_sessions import Session, conversation, every_reply, replies
from trainers.datasets import BadRows, RowProblem, Selection, build_dataset, write_openai
from transcripts import Store

# --- arguments ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fraction", [-0.1, 1, 1.5])
def test_a_validation_fraction_outside_0_to_1_is_refused_by_name(
    store: Store, fraction: float
) -> None:
    with pytest.raises(ValueError) as raised:
        build_dataset(store, every_reply("maya"), validation_fraction=fraction)
    assert str(raised.value) == f"validation_fraction is from 0 up to 1, not {fraction}"


def test_an_unknown_target_kind_is_refused_by_name(store: Store) -> None:
    with pytest.raises(ValueError) as raised:
        build_dataset(store, Selection("maya", targets="best"))
    assert str(raised.value) == "targets is one of approved, unflagged, all, not 'best'"


def test_a_fraction_of_zero_keeps_every_session_in_train(store: Store, maya: Persona) -> None:
    for n in range(3):
        conversation(store, maya, f"Hi {n}")
    dataset = build_dataset(store, every_reply("maya"), validation_fraction=0)
    assert dataset.validation == [] and len(dataset.train) == 9
    assert dataset.manifest["validation_fraction"] == 0


# --- the bad-rows error -------------------------------------------------------------------------


def test_the_bad_rows_error_counts_and_lists_each_problem() -> None:
    problems = [RowProblem(3, 4, "student reply is empty"), RowProblem(5, None, "no persona")]
    error = BadRows(problems)
    assert error.problems == problems
    assert str(error).splitlines() == [
        "2 bad row(s) in the selected sessions:",
        "  session 3 turn 4: student reply is empty",
        "  session 5: no persona",
        "Fix the sessions, or pass --skip-bad to train without them.",
    ]
    # turn 0 is a turn, not "the whole session"
    assert str(RowProblem(7, 0, "why")) == "session 7 turn 0: why"
    assert RowProblem(7, None, "why").to_dict() == {
        "session_id": 7,
        "turn_idx": None,
        "reason": "why",
    }


def test_a_clean_dataset_passes_skip_bad_without_a_skipped_list(
    store: Store, maya: Persona, tmp_path: Path
) -> None:
    conversation(store, maya, "Hi")
    dataset = build_dataset(store, every_reply("maya"))
    assert dataset.bad_rows_accepted
    dataset.raise_if_bad(skip_bad=False)
    dataset.raise_if_bad(skip_bad=True)
    assert "skipped" not in dataset.manifest
    manifest = json.loads((write_openai(dataset, tmp_path) / "manifest.json").read_text())
    assert "skipped" not in manifest and manifest["bad_rows"] == []


# --- bad turns ----------------------------------------------------------------------------------


def test_every_kind_of_bad_turn_is_named_with_its_turn_and_left_out(
    store: Store, maya: Persona
) -> None:
    """Two teacher turns in a row, an unreadable stored state, an empty teacher message: each
    is a bad row naming its turn; the good exchanges around them still become rows."""
    session = store.start_session("maya", "sam", "offline")
    store.add_turn(session, "teacher", "Hello Maya!")  # 0: never answered, another follows
    store.add_turn(session, "teacher", "What is 6 + 7?")  # 1
    store.add_turn(session, "student", "13")  # 2
    store.add_turn(session, "teacher", "What is 52 - 27?")  # 3
    store.add_turn(session, "student", "35", student_state={"misconceptions": 5})  # 4: unreadable
    store.add_turn(session, "teacher", "Count by tens.")  # 5: follows a used-up teacher turn
    store.add_turn(session, "student", "10 20 30")  # 6
    store.add_turn(session, "teacher", "   ")  # 7: empty
    store.add_turn(session, "student", "what?")  # 8
    store.add_turn(session, "teacher", "Show me with blocks.")  # 9
    store.add_turn(session, "student", "  ")  # 10: empty
    store.add_turn(session, "teacher", "Show me with blocks.")  # 11
    store.add_turn(session, "student", "ok")  # 12

    dataset = build_dataset(store, every_reply("maya"))

    assert replies(dataset.rows) == ["13", "10 20 30", "ok"]
    assert [(p.session_id, p.turn_idx) for p in dataset.problems] == [
        (session, 0),
        (session, 4),
        (session, 7),
        (session, 10),
    ]
    reasons = [p.reason for p in dataset.problems]
    assert reasons[0] == "teacher message has no student reply (two teacher turns in a row)"
    assert reasons[1].startswith("student_state cannot be read (AttributeError: ")
    assert reasons[2] == "teacher message is empty"
    assert reasons[3] == "student reply is empty"
    assert [row["turn_idx"] for row in dataset.rows] == [2, 6, 12]
    assert {row["session_id"] for row in dataset.rows} == {session}
    assert dataset.manifest["counts"]["bad"] == 4
    assert dataset.manifest["bad_rows"] == [p.to_dict() for p in dataset.problems]
    assert not dataset.bad_rows_accepted
    # the bad exchanges are not context for the good ones either
    last = [m["content"] for m in dataset.rows[-1]["messages"][1:]]
    assert last == [
        "What is 6 + 7?",
        "13",
        "Count by tens.",
        "10 20 30",
        "Show me with blocks.",
        "ok",
    ]


def test_a_bad_state_of_the_wrong_shape_is_named_by_its_error_type(
    store: Store, maya: Persona
) -> None:
    session = store.start_session("maya", "sam", "offline")
    store.add_turn(session, "teacher", "What is 6 + 7?")
    bad = {"misconceptions": {"x": {"no_such_field": 1}}}
    store.add_turn(session, "student", "13", student_state=bad)
    dataset = build_dataset(store, every_reply("maya"))
    assert dataset.rows == []
    assert dataset.problems[0].reason.startswith("student_state cannot be read (TypeError: ")


def test_an_unknown_persona_is_one_bad_row_per_session_even_with_examples(store: Store) -> None:
    sessions = []
    for _ in range(2):
        session = store.start_session("zed", "sam", "offline")
        store.add_turn(session, "teacher", "Hi")
        store.add_turn(session, "student", "hi")
        sessions.append(session)

    dataset = build_dataset(store, Selection("zed"))  # the default selection asks for examples

    assert dataset.rows == [] and dataset.persona_prompt == ""
    assert [p.session_id for p in dataset.problems] == sessions
    assert {p.turn_idx for p in dataset.problems} == {None}
    assert dataset.problems[0].reason.startswith(
        "persona 'zed' is not known to the persona library: "
    )
    with pytest.raises(BadRows):
        dataset.raise_if_bad()  # refusing is the default


# --- which replies are targets ------------------------------------------------------------------


def test_ratings_from_4_up_approve_a_reply_whoever_wrote_it(store: Store, maya: Persona) -> None:
    """Default targets: rating 4 or 5 approves, 3 or a note alone does not; an approved or
    rewritten reply of a trained brain still under evaluation is a target too."""
    store.save_brain("maya-lora-1", "vllm", {}, "maya", lineage={"method": "lora"})
    session = Session(store, maya)
    rated = {rating: session.say(f"What is {rating} + 7?", f"{rating + 7}") for rating in (3, 4, 5)}
    noted = session.say("And 9 + 9?", "18")
    store.add_feedback(noted, note="fine")
    for rating, turn in rated.items():
        store.add_feedback(turn, rating=rating)
    store.add_turn(session.id, "teacher", "Count by tens.")
    by_brain = store.add_turn(session.id, "student", "10 20 30", brain_id="maya-lora-1")
    store.add_feedback(by_brain, rating=4)
    store.add_turn(session.id, "teacher", "Count by fives.")
    fixed = store.add_turn(session.id, "student", "5 10 51", brain_id="maya-lora-1")
    store.add_feedback(fixed, rewrite="5 10 15")

    dataset = build_dataset(store, Selection("maya", examples=False))

    assert replies(dataset.rows) == ["11", "12", "10 20 30", "5 10 15"]
    assert dataset.manifest["counts"]["targets"] == {"approved": 3, "rewritten": 1}
    assert dataset.manifest["dropped"] == [
        {
            "session_id": session.id,
            "turn_idx": idx,
            "reason": "unreviewed reply, not a target with --targets approved",
        }
        for idx in (1, 7)
    ]
    # a reply that is no target is still context, with every exchange before it
    last = [m["content"] for m in dataset.rows[-1]["messages"][1:]]
    assert last[::2] == [
        "What is 3 + 7?",
        "What is 4 + 7?",
        "What is 5 + 7?",
        "And 9 + 9?",
        "Count by tens.",
        "Count by fives.",
    ]
    unflagged = build_dataset(store, Selection("maya", targets="unflagged", examples=False))
    assert replies(unflagged.rows) == ["10", "11", "12", "18", "10 20 30", "5 10 15"]


def test_a_flagged_reply_is_dropped_by_session_and_turn(store: Store, maya: Persona) -> None:
    Session(store, maya).say("What is 6 + 7?", "13")
    session = Session(store, maya)
    store.add_feedback(session.say("What is 52 - 27?", "As an AI, 25."), flagged=True)
    dataset = build_dataset(store, every_reply("maya"))
    assert dataset.manifest["dropped"] == [
        {"session_id": session.id, "turn_idx": 1, "reason": "flagged without rewrite"}
    ]


# --- the persona's example rows -----------------------------------------------------------------


def _padded_maya(folder: Path) -> PersonaLibrary:
    """A library whose maya has one example padded with spaces and mentioning a name."""
    data = yaml.safe_load(
        (Path(__file__).parent.parent / "personas" / "shipped" / "maya.yaml").read_text()
    )
    data["examples"][0] = {"teacher": "  Hi Maya, I am Ms Pepper!  ", "student": "  hi Pepper  "}
    folder.mkdir()
    (folder / "maya.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return PersonaLibrary([folder])


def test_example_rows_are_trimmed_scrubbed_and_numbered(store: Store, tmp_path: Path) -> None:
    library = _padded_maya(tmp_path / "personas")
    maya = library.get("maya")
    dataset = build_dataset(
        store,
        Selection("maya", targets="all"),
        library=library,
        pii_patterns=["Pepper"],
        validation_fraction=0.5,
    )

    assert len(dataset.rows) == len(maya.examples)
    first = dataset.rows[0]
    opening = StudentState.initial(maya).describe(maya)
    assert first["messages"] == [
        {"role": "system", "content": f"{persona_prompt(maya)}\n{opening}"},
        {"role": "user", "content": "Hi Maya, I am Ms [redacted]!"},
        {"role": "assistant", "content": "hi [redacted]"},
    ]
    assert [row["turn_idx"] for row in dataset.rows] == list(range(len(maya.examples)))
    assert {row["session_id"] for row in dataset.rows} == {0}
    assert {row["student_state"] for row in dataset.rows} == {opening}
    # examples are no session: always train, never counted as a session with rows
    assert dataset.validation == []
    assert dataset.manifest["splits"]["train"]["session_ids"] == []
    assert dataset.manifest["counts"]["sessions_with_rows"] == 0
    assert dataset.manifest["counts"]["targets"] == {"persona example": len(maya.examples)}

    plain = build_dataset(store, Selection("maya"), library=library, include_state=False)
    assert {row["messages"][0]["content"] for row in plain.rows} == {persona_prompt(maya)}
    assert plain.manifest["include_state"] is False


def test_a_session_beside_the_examples_is_counted_and_split_alone(
    store: Store, maya: Persona
) -> None:
    one = conversation(store, maya, "Hi")
    two = conversation(store, maya, "Hello")
    dataset = build_dataset(store, Selection("maya", targets="all"), validation_fraction=0.5)
    counts = dataset.manifest["counts"]
    assert counts["sessions_with_rows"] == 2
    splits = dataset.manifest["splits"]
    assert sorted(splits["train"]["session_ids"] + splits["validation"]["session_ids"]) == [
        one.id,
        two.id,
    ]
    assert len(splits["validation"]["session_ids"]) == 1
    assert splits["train"]["rows"] == counts["train_rows"] == len(dataset.train)
    assert splits["validation"]["rows"] == counts["validation_rows"] == 3


def test_the_persona_prompt_is_scrubbed_in_rows_and_for_dspy(store: Store, maya: Persona) -> None:
    Session(store, maya).say("What is 6 + 7?", "13")
    dataset = build_dataset(store, every_reply("maya"), pii_patterns=["Maya"], include_state=False)
    expected = persona_prompt(maya).replace("Maya", "[redacted]")
    assert expected != persona_prompt(maya)
    assert dataset.persona_prompt == expected
    assert dataset.rows[0]["messages"][0]["content"] == expected


# --- the state each row describes ---------------------------------------------------------------


def test_a_stored_state_wins_and_an_older_one_gets_the_answer_replayed(
    store: Store, maya: Persona
) -> None:
    """The state logged with a reply is the row's state (here a mood the replay cannot know);
    a state logged before answers were stored gets the answer replayed from the teacher."""
    question = "What is 52 - 27?"
    replayed = StudentState.initial(maya).after_teacher(maya, question)
    assert replayed.answer is not None

    bored = {**replayed.to_dict(), "mood": "bored"}
    older = {k: v for k, v in bored.items() if k not in ("answer", "last_move", "last_question")}
    no_answer = {**bored, "answer": None}
    for state in (bored, older, no_answer):
        session = store.start_session("maya", "sam", "offline")
        store.add_turn(session, "teacher", question)
        store.add_turn(session, "student", f"um {len(state)}", student_state=state)

    rows = build_dataset(store, every_reply("maya"), validation_fraction=0).rows

    from dataclasses import replace

    expected = replace(replayed, mood="bored").describe(maya)
    assert "Right now you feel bored." in expected
    assert [row["student_state"] for row in rows[:2]] == [expected, expected]
    assert rows[2]["student_state"] == replace(replayed, mood="bored", answer=None).describe(maya)
    assert rows[2]["student_state"] != expected


def test_states_logged_before_answers_were_stored_get_move_and_question_replayed(
    store: Store, maya: Persona
) -> None:
    """An older utta logged states without ``answer``, ``last_move`` and ``last_question``: the
    rows describe the teaching move just made and, asked "how did you get that?", the answer
    to the question before, as the live child would."""
    teacher = [
        "Let's build 52 with base-ten blocks and look at what each digit is worth.",
        "What is 52 - 27?",
        "How did you get that?",
    ]
    live = StudentState.initial(maya)
    session = store.start_session("maya", "sam", "offline")
    expected = []
    for text in teacher:
        live = live.after_teacher(maya, text)
        expected.append(live.describe(maya))
        older = live.to_dict()
        for key in ("answer", "last_move", "last_question"):
            del older[key]
        store.add_turn(session, "teacher", text)
        store.add_turn(session, "student", f"reply {len(expected)}", student_state=older)

    rows = build_dataset(store, every_reply("maya")).rows

    assert [row["student_state"] for row in rows] == expected
    assert "What the teacher just did: " in expected[0]
    assert "The teacher asks how you got 35" in expected[2]


# --- duplicates and the split -------------------------------------------------------------------


def test_a_duplicate_is_dropped_by_its_own_session_and_turn(store: Store, maya: Persona) -> None:
    first = Session(store, maya)
    first.say("What is 6 + 7?", "13")
    second = Session(store, maya)
    second.say("Hi!", "hi")
    second.say("What is 6 + 7?", "13")  # different context: kept
    third = Session(store, maya)
    third.say("What is 6 + 7?", "13")  # same as the first: dropped

    dataset = build_dataset(store, every_reply("maya"))

    assert len(dataset.rows) == 3
    assert dataset.manifest["dropped"] == [
        {"session_id": third.id, "turn_idx": 1, "reason": "duplicate"}
    ]
    assert dataset.manifest["counts"]["dropped"] == 1


@pytest.mark.parametrize(
    ("sessions", "fraction", "held_out"),
    [(1, 0.5, 0), (2, 0.99, 1), (3, 0.99, 2), (4, 0.5, 2), (5, 0.1, 1), (10, 0.25, 2)],
)
def test_validation_takes_a_rounded_share_of_sessions_never_all(
    store: Store, maya: Persona, sessions: int, fraction: float, held_out: int
) -> None:
    for n in range(sessions):
        Session(store, maya).say(f"What is {n} + 7?", str(n + 7))
    dataset = build_dataset(store, every_reply("maya"), validation_fraction=fraction)
    assert len(dataset.validation) == held_out
    assert len(dataset.train) == sessions - held_out


# --- the manifest -------------------------------------------------------------------------------


def test_the_manifest_records_how_the_data_was_made(store: Store, maya: Persona) -> None:
    kept = conversation(store, maya, "Hi")
    left_out = conversation(store, maya, "Hello")
    store.add_feedback(next(t for t in store.turns(kept.id) if t.role == "student").id, rating=5)
    selection = every_reply("maya", min_rating=4)
    dataset = build_dataset(
        store, selection, validation_fraction=0.4, seed=11, pii_patterns=["pepper"]
    )
    manifest = dataset.manifest
    assert manifest["format_version"] == 1
    assert manifest["persona_id"] == "maya"
    assert manifest["selection"] == selection.to_dict()
    assert manifest["validation_fraction"] == 0.4 and manifest["seed"] == 11
    assert manifest["include_state"] is True
    assert manifest["pii_patterns"] == ["pepper"]
    assert manifest["source_session_ids"] == [kept.id]
    assert [e["session_id"] for e in manifest["excluded_sessions"]] == [left_out.id]
    assert manifest["counts"]["sessions"] == 1 and manifest["counts"]["turns"] == 6
    assert manifest["scrubbed"] == dict.fromkeys(manifest["scrubbed"], 0)
    assert "custom" in manifest["scrubbed"]


def test_the_defaults_hold_out_a_fifth_of_sessions_with_seed_0(store: Store, maya: Persona) -> None:
    for n in range(5):
        Session(store, maya).say(f"What is {n} + 7?", str(n + 7))
    default = build_dataset(store, every_reply("maya"))
    assert (default.manifest["validation_fraction"], default.manifest["seed"]) == (0.2, 0)
    assert len(default.validation) == 1
    assert default.validation == build_dataset(store, every_reply("maya"), seed=0).validation
