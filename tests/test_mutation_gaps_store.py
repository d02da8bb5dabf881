"""The store's own key redaction, checked on the raw SQLite rows (no dataset scrubber in between).

The dataset scrubber masks the same key shapes, so a test that exports a dataset cannot tell
whether the store redacted anything; these read what the store wrote, column by column.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from agent.secrets import REDACTED
from transcripts.store import Store

SHAPED_KEY = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5q"
ENV_KEY = "zz-local-token-7f3a9c"  # no key shape: only the *_API_KEY value gives it away


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "redaction.db"


def raw(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


def test_turn_text_is_redacted_by_the_store(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_API_KEY", ENV_KEY)
    with Store(db) as store:
        session = store.start_session("maya", "sam", "offline")
        store.add_turn(session, "teacher", f"here is {SHAPED_KEY} and {ENV_KEY}, ok?")
    (text,) = raw(db, "select text from turns")[0]
    assert text == f"here is {REDACTED} and {REDACTED}, ok?"


def test_feedback_rewrites_and_notes_are_redacted_by_the_store(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_SERVICE_API_KEY", ENV_KEY)
    with Store(db) as store:
        session = store.start_session("maya", "sam", "offline")
        store.add_turn(session, "teacher", "hi")
        student = store.add_turn(session, "student", "hi")
        store.add_feedback(student, rating=5, rewrite=f"hi {SHAPED_KEY}", note=f"k {ENV_KEY}")
        approved = store.approved_examples("maya")
    rewrite, note = raw(db, "select rewrite, note from feedback")[0]
    assert rewrite == f"hi {REDACTED}"
    assert note == f"k {REDACTED}"
    assert approved == [("hi", f"hi {REDACTED}")]  # the rewrite that teaches a brain is clean


def test_swap_reasons_and_states_are_redacted_by_the_store(db: Path) -> None:
    with Store(db) as store:
        session = store.start_session("maya", "sam", "offline")
        store.record_swap(session, "offline", "openai", False, f"401 for key {SHAPED_KEY}")
        store.add_turn(session, "teacher", "hi")
        store.add_turn(session, "student", "hi", student_state={"note": SHAPED_KEY})
        store.save_brain("b", "openai", {"api_key": SHAPED_KEY}, "maya")
    assert raw(db, "select reason from brain_swaps") == [(f"401 for key {REDACTED}",)]
    ((state,),) = raw(db, "select student_state from sessions")
    assert SHAPED_KEY not in state and REDACTED in state
    ((spec,),) = raw(db, "select spec from brains")
    assert SHAPED_KEY not in spec and REDACTED in spec
    assert SHAPED_KEY.encode() not in db.read_bytes()


def test_blank_rewrites_count_as_none(db: Path) -> None:
    with Store(db) as store:
        session = store.start_session("maya", "sam", "offline")
        store.add_turn(session, "teacher", "hi")
        student = store.add_turn(session, "student", "hello")
        store.add_feedback(student, rating=5, rewrite="   ", note="")
        assert store.approved_examples("maya") == [("hi", "hello")]
    assert raw(db, "select rewrite, note from feedback") == [(None, None)]


# --- survivors of the first mutation run ---------------------------------------------------------


def test_states_are_stored_as_readable_json(db: Path) -> None:
    """Non-ASCII text in a state is stored as itself, so the database stays readable."""
    with Store(db) as store:
        session = store.start_session("maya", "sam", "offline")
        store.add_turn(session, "teacher", "hi")
        store.add_turn(session, "student", "hi", student_state={"said": "café – 5¢"})
        assert store.latest_state(session) == {"said": "café – 5¢"}
    ((state,),) = raw(db, "select student_state from turns where role = 'student'")
    assert "café – 5¢" in state


def test_an_unknown_session_is_named_with_where_to_look(db: Path) -> None:
    from transcripts.store import UnknownSession

    with Store(db) as store:
        with pytest.raises(UnknownSession) as caught:
            store.add_turn(404, "teacher", "hi")
        assert caught.value.session_id == 404
        assert f"there is no session 404 in {db}" in caught.value.message
        assert repr(store) == f"Store({str(db)!r})"


def test_a_new_recorder_has_nothing_unanswered_and_no_student_turn(db: Path) -> None:
    from transcripts import SessionRecorder

    with Store(db) as store:
        recorder = SessionRecorder.start(store, "maya", "sam", "offline")
        assert recorder.unanswered is None and recorder.last_student_turn_id is None


def test_exchanges_pair_only_a_teacher_turn_with_the_student_reply_after_it(db: Path) -> None:
    from transcripts import SessionRecorder

    with Store(db) as store:
        recorder = SessionRecorder.start(store, "maya", "sam", "offline")
        for role, text in [("teacher", "t1"), ("teacher", "t2"), ("student", "s2"),
                           ("student", "s3"), ("teacher", "t4"), ("student", "s4")]:  # fmt: skip
            store.add_turn(recorder.session_id, role, text)
        assert recorder.exchanges() == [("t2", "s2"), ("t4", "s4")]
