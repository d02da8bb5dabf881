"""Training data from real SQLite transcript stores: feedback, dedup, split, scrub, manifest,
bad rows and targets. The three writers (loaded back with ``datasets`` and ``dspy``) are in
tests/test_dataset_writers.py, the CLI export in tests/test_sessions_export.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.prompt import persona_prompt
from personas.loader import PersonaLibrary
from personas.schema import Persona
from tests.dataset_sessions import (
    FAKE_KEY,
    Session,
    conversation,
    every_reply,
    logged_before_redaction,
    replies,
)
from trainers.datasets import (
    BadRows,
    Selection,
    build_dataset,
    write_dspy,
    write_hf,
    write_openai,
)
from transcripts import Store

WRITERS = {"openai": write_openai, "hf": write_hf, "dspy": write_dspy}


# --- rows ---------------------------------------------------------------------------------------


def test_one_row_per_student_turn_with_the_whole_dialogue_before_it(
    store: Store, maya: Persona
) -> None:
    session = conversation(store, maya, "Hello Maya!")
    dataset = build_dataset(store, every_reply("maya"))

    assert [len(row["messages"]) for row in dataset.rows] == [3, 5, 7]
    last = dataset.rows[-1]
    assert [m["role"] for m in last["messages"]] == ["system"] + ["user", "assistant"] * 3
    assert [m["content"] for m in last["messages"][1:]] == [
        "Hello Maya!", "hi", "What is 52 - 27?", "35", "Let's get out the blocks.", "ok",
    ]  # fmt: skip
    assert last["session_id"] == session.id
    # The system prompt is what the LLM brains send: persona, then the state of that turn.
    description = session.state.describe(maya)
    assert last["messages"][0]["content"] == f"{persona_prompt(maya)}\n{description}"
    assert last["student_state"] == description

    plain = build_dataset(store, every_reply("maya"), include_state=False)
    assert {row["messages"][0]["content"] for row in plain.rows} == {persona_prompt(maya)}


def test_a_rewrite_replaces_the_reply_here_and_in_later_context(
    store: Store, maya: Persona
) -> None:
    session = Session(store, maya)
    turn = session.say("What is 52 - 27?", "The answer is 25 because we ZEBRA.")
    session.say("How did you get it?", "um 7 take away 2")
    store.add_feedback(turn, rating=1, rewrite="first rewrite")
    store.add_feedback(turn, rewrite="35")  # the latest feedback wins

    rows = build_dataset(store, every_reply("maya")).rows

    assert replies(rows) == ["35", "um 7 take away 2"]
    assert rows[1]["messages"][2] == {"role": "assistant", "content": "35"}
    assert "ZEBRA" not in json.dumps(rows)


def test_a_flagged_reply_without_a_rewrite_is_dropped_with_its_teacher_turn(
    store: Store, maya: Persona
) -> None:
    session = Session(store, maya)
    session.say("What is 6 + 7?", "13")
    flagged = session.say("What is 52 - 27?", "As an AI, I think it is 25.")
    session.say("Show me with blocks.", "ok")
    rewritten_then_flagged = session.say("Count the rods.", "10 20 30 40 50")
    store.add_feedback(flagged, flagged=True, note="assistant voice")
    store.add_feedback(rewritten_then_flagged, rewrite="10 20 30")
    store.add_feedback(rewritten_then_flagged, flagged=True)  # latest: flagged, no rewrite

    dataset = build_dataset(store, every_reply("maya"))

    assert replies(dataset.rows) == ["13", "ok"]
    contents = [m["content"] for m in dataset.rows[-1]["messages"][1:]]
    assert contents == ["What is 6 + 7?", "13", "Show me with blocks.", "ok"]
    assert dataset.manifest["dropped_counts"] == {"flagged without rewrite": 2}
    assert {(d["turn_idx"], d["reason"]) for d in dataset.manifest["dropped"]} == {
        (3, "flagged without rewrite"),
        (7, "flagged without rewrite"),
    }


def test_identical_rows_are_kept_once_and_counted(store: Store, maya: Persona) -> None:
    for _ in range(3):
        Session(store, maya).say("What is 6 + 7?", "13")
    other = Session(store, maya)
    other.say("What is 6 + 7?", "12")

    dataset = build_dataset(store, every_reply("maya"))

    assert sorted(replies(dataset.rows)) == ["12", "13"]
    assert dataset.manifest["dropped_counts"] == {"duplicate": 2}
    assert dataset.manifest["counts"]["rows"] == 2


# --- selection and split ------------------------------------------------------------------------


def test_split_is_by_session_and_deterministic(store: Store, maya: Persona) -> None:
    for n in range(10):
        conversation(store, maya, f"Good morning, group {n}!")

    dataset = build_dataset(store, every_reply("maya"), validation_fraction=0.3, seed=7)
    train_ids = {row["session_id"] for row in dataset.train}
    validation_ids = {row["session_id"] for row in dataset.validation}

    assert train_ids.isdisjoint(validation_ids)
    assert len(validation_ids) == 3 and len(train_ids) == 7
    assert len(dataset.train) == 21 and len(dataset.validation) == 9
    splits = dataset.manifest["splits"]
    assert splits["validation"]["session_ids"] == sorted(validation_ids)
    again = build_dataset(store, every_reply("maya"), validation_fraction=0.3, seed=7)
    assert again.validation == dataset.validation
    assert again.manifest["content_hash"] == dataset.manifest["content_hash"]

    def held_out(seed: int) -> tuple[int, ...]:
        manifest = build_dataset(store, every_reply("maya"), seed=seed).manifest
        return tuple(manifest["splits"]["validation"]["session_ids"])

    picks = {held_out(seed) for seed in range(6)}
    assert len(picks) > 1  # the seed matters


def test_two_sessions_put_one_in_validation(store: Store, maya: Persona) -> None:
    conversation(store, maya, "Hi!")
    conversation(store, maya, "Hello!")
    dataset = build_dataset(store, every_reply("maya"), validation_fraction=0.01)
    assert len({r["session_id"] for r in dataset.validation}) == 1
    assert len({r["session_id"] for r in dataset.train}) == 1


def test_selection_filters(store: Store, maya: Persona) -> None:
    leo = PersonaLibrary().get("leo")
    sam = conversation(store, maya, "Hi from sam", trainee="sam")
    kim = conversation(store, maya, "Hi from kim", trainee="kim")
    rated = conversation(store, maya, "Hi from ana", trainee="ana")
    conversation(store, leo, "Hi Leo")
    good = [t for t in store.turns(rated.id) if t.role == "student"]
    store.add_feedback(good[0].id, rating=5)
    store.add_feedback(good[1].id, rating=4)
    store.add_feedback(next(t for t in store.turns(kim.id) if t.role == "student").id, rating=2)
    store.db["sessions"].update(sam.id, {"started_at": "2025-01-05T10:00:00.000+00:00"})

    def ids(**filters: object) -> list[int]:
        return build_dataset(store, every_reply("maya", **filters)).manifest["source_session_ids"]

    assert ids() == [sam.id, kim.id, rated.id]
    assert ids(trainees=["kim", "ana"]) == [kim.id, rated.id]
    assert ids(until="2025-01-05") == [sam.id]
    assert ids(since="2025-01-06") == [kim.id, rated.id]
    assert ids(session_ids=[rated.id]) == [rated.id]
    dataset = build_dataset(store, every_reply("maya", min_rating=4))
    assert dataset.manifest["source_session_ids"] == [rated.id]
    assert {e["session_id"]: e["reason"] for e in dataset.manifest["excluded_sessions"]} == {
        sam.id: "no rated turns",
        kim.id: "average rating 2.00 < 4",
    }
    with pytest.raises(ValueError, match="not an ISO date"):
        build_dataset(store, every_reply("maya", since="last week"))


# --- scrubbing ----------------------------------------------------------------------------------


def test_secrets_and_pii_are_scrubbed_from_every_written_file(
    store: Store, maya: Persona, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.keys import set_key

    env_secret = "plainvalue-from-env-0042"
    stored_secret = "stored-in-keys-file-0099"
    session = Session(store, maya)
    first = session.say("My key is ...", "ok")
    leaky = session.say("Email me at jo.doe@example.com or call 555-123-4567, pepper.", "ok")
    rewrite = store.add_feedback(leaky, rewrite="idk")
    logged_before_redaction(store, first - 1, f"My key is {FAKE_KEY}, or {env_secret}.")
    logged_before_redaction(store, first, f"ok {FAKE_KEY}")
    store.db["feedback"].update(
        rewrite, {"rewrite": f"idk {stored_secret} Authorization: Bearer abcdef1234567"}
    )
    # The keys became known after the turns were logged.
    monkeypatch.setenv("OPENAI_API_KEY", env_secret)
    set_key("other", stored_secret)

    dataset = build_dataset(store, every_reply("maya"), pii_patterns=[r"(?i)pepper"])

    scrubbed = dataset.manifest["scrubbed"]
    assert scrubbed["api_key"] == 3 and scrubbed["known_key"] == 2
    assert scrubbed["email"] == 1 and scrubbed["phone"] == 1 and scrubbed["custom"] >= 1
    secrets = [FAKE_KEY, env_secret, stored_secret, "jo.doe@example.com", "555-123-4567"]
    for name, writer in WRITERS.items():
        out = writer(dataset, tmp_path / name)
        for path in out.iterdir():
            text = path.read_text(encoding="utf-8")
            for secret in [*secrets, "abcdef1234567"]:
                assert secret not in text, f"{secret} leaked into {name}/{path.name}"
    assert "[redacted]" in (tmp_path / "openai" / "train.jsonl").read_text(encoding="utf-8")


def test_keys_typed_today_never_reach_the_rows(store: Store, maya: Persona) -> None:
    """The store redacts as it writes; the rows keep that redaction."""
    Session(store, maya).say(f"My key is {FAKE_KEY}", "ok")
    dataset = build_dataset(store, every_reply("maya"))
    assert FAKE_KEY not in json.dumps(dataset.rows)
    assert "[redacted]" in dataset.rows[0]["messages"][1]["content"]


def test_a_bad_pii_pattern_is_named(store: Store) -> None:
    with pytest.raises(ValueError, match=r"--pii-pattern '\(unclosed'"):
        build_dataset(store, every_reply("maya"), pii_patterns=["(unclosed"])


# --- manifest -----------------------------------------------------------------------------------


def test_content_hash_is_stable_and_follows_the_content(
    store: Store, maya: Persona, tmp_path: Path
) -> None:
    session = conversation(store, maya, "Hi Maya")
    first = build_dataset(store, every_reply("maya"))
    second = build_dataset(store, every_reply("maya"))
    assert first.manifest["content_hash"] == second.manifest["content_hash"]

    write_openai(first, tmp_path / "a")
    write_openai(second, tmp_path / "b")
    for name in ("train.jsonl", "validation.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()

    student = [t for t in store.turns(session.id) if t.role == "student"][1]
    store.add_feedback(student.id, rewrite="35?")
    changed = build_dataset(store, every_reply("maya"))
    assert changed.manifest["content_hash"] != first.manifest["content_hash"]


def test_manifest_describes_the_data(store: Store, maya: Persona, tmp_path: Path) -> None:
    a = conversation(store, maya, "Hi")
    b = conversation(store, maya, "Hello")
    store.add_turn(b.id, "teacher", "Are you still there?")  # never answered

    dataset = build_dataset(store, every_reply("maya", trainees=["sam"]), seed=3)
    manifest = json.loads((write_openai(dataset, tmp_path) / "manifest.json").read_text())

    assert manifest["persona_id"] == "maya"
    assert manifest["source_session_ids"] == [a.id, b.id]
    assert manifest["selection"]["trainees"] == ["sam"]
    assert manifest["counts"] == {
        "sessions": 2,
        "sessions_with_rows": 2,
        "turns": 13,
        "rows": 6,
        "train_rows": 3,
        "validation_rows": 3,
        "dropped": 1,
        "bad": 0,
        "targets": {"unreviewed": 6},
    }
    assert manifest["dropped"] == [
        {"session_id": b.id, "turn_idx": 6, "reason": "teacher message never answered"}
    ]
    assert manifest["format"] == "openai" and manifest["seed"] == 3
    assert manifest["files"]["train.jsonl"]["rows"] == 3
    assert manifest["content_hash"] == dataset.manifest["content_hash"]
    assert manifest["created_at"]


# --- bad rows -----------------------------------------------------------------------------------


def test_bad_rows_stop_the_build_unless_skipped(
    store: Store, maya: Persona, tmp_path: Path
) -> None:
    good = conversation(store, maya, "Hi")
    orphan = store.start_session("maya", "sam", "offline")
    store.add_turn(orphan, "student", "hello?")  # a reply with no teacher message
    store.add_turn(orphan, "teacher", "What is 6 + 7?")
    store.add_turn(orphan, "student", "13")
    gone = store.start_session("zed", "sam", "offline")
    store.add_turn(gone, "teacher", "Hi")
    store.add_turn(gone, "student", "hi")
    selection = every_reply("maya", session_ids=[good.id, orphan, gone])

    dataset = build_dataset(store, selection)
    with pytest.raises(BadRows) as raised:
        dataset.raise_if_bad(skip_bad=False)
    message = str(raised.value)
    assert f"session {orphan} turn 0: student turn has no teacher turn before it" in message
    assert f"session {gone}: the session is persona 'zed'" in message
    assert "pass --skip-bad to train without them" in message
    with pytest.raises(BadRows):
        write_openai(dataset, tmp_path / "refused")
    assert not (tmp_path / "refused").exists()

    dataset.raise_if_bad(skip_bad=True)
    out = write_openai(dataset, tmp_path / "ok")
    manifest = json.loads((out / "manifest.json").read_text())
    assert {(s["session_id"], s["turn_idx"]) for s in manifest["skipped"]} == {
        (orphan, 0),
        (gone, None),
    }
    assert sorted(replies(dataset.rows)) == sorted(["hi", "35", "ok", "13"])


def test_an_unknown_persona_makes_every_session_bad(store: Store) -> None:
    session = store.start_session("zed", "sam", "offline")
    store.add_turn(session, "teacher", "Hi")
    store.add_turn(session, "student", "hi")
    dataset = build_dataset(store, every_reply("zed"))
    assert dataset.rows == []
    assert "not known to the persona library" in dataset.problems[0].reason


def test_empty_text_is_a_bad_row(store: Store, maya: Persona) -> None:
    session = Session(store, maya)
    session.say("What is 6 + 7?", "   ")
    dataset = build_dataset(store, every_reply("maya"))
    assert [p.reason for p in dataset.problems] == ["student reply is empty"]


# --- which replies are targets ------------------------------------------------------------------


def _reviewed_session(store: Store, maya: Persona) -> dict[str, int]:
    """One session whose replies are approved, rewritten, unreviewed, flagged and, last, written
    by a trained brain that is still under evaluation (registered with a lineage)."""
    store.save_brain("maya-lora-1", "vllm", {}, "maya", lineage={"method": "lora"})
    session = Session(store, maya)
    turns = {
        "approved": session.say("What is 52 - 27?", "um 35?"),
        "rewritten": session.say("Show me with blocks.", "blocks are fun"),
        "unreviewed": session.say("How many tens in 52?", "5 tens"),
        "flagged": session.say("And the ones?", "As an AI language model, 2."),
    }
    store.add_feedback(turns["approved"], rating=5)
    store.add_feedback(turns["rewritten"], rewrite="i dont know how")
    store.add_feedback(turns["flagged"], flagged=True)
    store.add_turn(session.id, "teacher", "Can you break a ten?")
    turns["trained brain"] = store.add_turn(session.id, "student", "zzz qq", brain_id="maya-lora-1")
    return turns


def test_default_targets_are_approved_and_rewritten_replies_plus_the_examples(
    store: Store, maya: Persona
) -> None:
    _reviewed_session(store, maya)
    dataset = build_dataset(store, Selection("maya"))
    replies = [row["messages"][-1]["content"] for row in dataset.rows]
    examples = [example.student.strip() for example in maya.examples]
    assert "um 35?" in replies and "i dont know how" in replies
    for unwanted in ("5 tens", "As an AI language model, 2.", "zzz qq", "blocks are fun"):
        assert unwanted not in replies
    assert set(examples) <= set(replies)
    counts = dataset.manifest["counts"]["targets"]
    assert counts["approved"] == 1 and counts["rewritten"] == 1
    assert counts["persona example"] == len({(e.teacher, e.student) for e in maya.examples})
    # examples are always trained on; a session's replies that are not targets stay as context
    assert all(r["session_id"] != 0 for r in dataset.validation)
    rewritten = next(r for r in dataset.rows if r["messages"][-1]["content"] == "i dont know how")
    assert rewritten["messages"][2]["content"] == "um 35?"
    reasons = dataset.manifest["dropped_counts"]
    assert reasons["unreviewed reply, not a target with --targets approved"] == 1
    assert reasons["trained brain reply, not a target with --targets approved"] == 1


def test_unflagged_targets_leave_out_brains_under_evaluation_unless_all(
    store: Store, maya: Persona
) -> None:
    _reviewed_session(store, maya)
    unflagged = build_dataset(store, Selection("maya", targets="unflagged", examples=False))
    replies = [row["messages"][-1]["content"] for row in unflagged.rows]
    assert replies == ["um 35?", "i dont know how", "5 tens"]
    assert unflagged.manifest["counts"]["targets"] == {
        "approved": 1, "rewritten": 1, "unreviewed": 1,
    }  # fmt: skip
    every = build_dataset(store, Selection("maya", targets="all", examples=False))
    assert [row["messages"][-1]["content"] for row in every.rows] == [*replies, "zzz qq"]
    assert every.manifest["counts"]["targets"]["trained brain"] == 1
    with pytest.raises(ValueError, match="targets is one of approved, unflagged, all"):
        build_dataset(store, Selection("maya", targets="some"))
