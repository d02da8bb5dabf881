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


# --- the recorder's unanswered message ---------------------------------------------------------


def _recorder(store: Store):
    from transcripts import SessionRecorder

    return SessionRecorder.start(store, "maya", "sam", "offline")


def test_quitting_mid_reply_keeps_the_message_logged_and_unanswered(db: Path) -> None:
    with Store(db) as store:
        recorder = _recorder(store)
        recorder.keep_unanswered = True
        recorder.teacher_sent("what is 7 + 5?")
        recorder.teacher_withdrawn()
        assert recorder.unanswered == "what is 7 + 5?"
        assert [t.text for t in store.turns(recorder.session_id)] == ["what is 7 + 5?"]


def test_a_failed_reply_withdraws_the_message_without_keep(db: Path) -> None:
    with Store(db) as store:
        recorder = _recorder(store)
        recorder.teacher_sent("what is 7 + 5?")
        recorder.teacher_withdrawn()
        assert recorder.unanswered is None
        assert store.turns(recorder.session_id) == []


def test_a_withdrawal_with_nothing_sent_leaves_nothing_unanswered(db: Path) -> None:
    """The store failed inside ``teacher_sent`` of an earlier exchange, so nothing is pending."""
    with Store(db) as store:
        recorder = _recorder(store)
        store.add_turn(recorder.session_id, "teacher", "hi")
        store.add_turn(recorder.session_id, "student", "hi")
        recorder.keep_unanswered = True
        recorder.teacher_withdrawn()
        assert recorder.unanswered is None
        assert [t.role for t in store.turns(recorder.session_id)] == ["teacher", "student"]


def test_a_failed_resend_of_a_waiting_message_keeps_the_edited_text(db: Path) -> None:
    from transcripts import SessionRecorder

    with Store(db) as store:
        first = _recorder(store)
        first.teacher_sent("what is 7 + 5")  # the run died here
        resumed = SessionRecorder.resume(store, first.session_id)
        assert resumed.unanswered == "what is 7 + 5"
        resumed.teacher_sent("what is 7 + 5?")  # edited, re-sent, and the brain fails again
        resumed.teacher_withdrawn()
        assert resumed.unanswered == "what is 7 + 5?"
        assert [t.text for t in store.turns(first.session_id)] == ["what is 7 + 5?"]


def test_answered_turns_drop_only_a_trailing_teacher_turn(db: Path) -> None:
    with Store(db) as store:
        recorder = _recorder(store)
        assert recorder.answered_turns() == []
        store.add_turn(recorder.session_id, "teacher", "hi")
        store.add_turn(recorder.session_id, "student", "hi!")
        assert [t.text for t in recorder.answered_turns()] == ["hi", "hi!"]
        store.add_turn(recorder.session_id, "teacher", "ready?")
        assert [t.text for t in recorder.answered_turns()] == ["hi", "hi!"]


def test_discarding_removes_only_the_unanswered_message(db: Path) -> None:
    from transcripts import SessionRecorder

    with Store(db) as store:
        first = _recorder(store)
        first.teacher_sent("hi")
        first.teacher_sent("still there?")  # no reply logged: waiting
        resumed = SessionRecorder.resume(store, first.session_id)
        resumed.discard_unanswered()
        assert resumed.unanswered is None
        assert [t.text for t in store.turns(first.session_id)] == ["hi"]
        resumed.discard_unanswered()  # nothing waits now: the remaining turn stays
        assert [t.text for t in store.turns(first.session_id)] == ["hi"]


# --- opening: read-only, damaged, older ---------------------------------------------------------


def test_a_read_only_store_of_a_missing_file_creates_nothing_and_refuses_writes(
    tmp_path: Path,
) -> None:
    from transcripts.errors import StoreError

    db = tmp_path / "folder" / "absent.db"
    with Store(db, readonly=True) as store:
        assert store.readonly is True
        assert store.sessions() == []
        with pytest.raises((StoreError, sqlite3.OperationalError)):
            store.start_session("maya", "sam", "offline")
    assert not db.exists() and not db.parent.exists()


def test_a_read_only_store_reads_what_was_logged_and_changes_no_byte(db: Path) -> None:
    with Store(db) as store:
        session = store.start_session("maya", "sam", "offline")
        store.add_turn(session, "teacher", "what is 7 + 5?")
    before = db.read_bytes()
    with Store(db, readonly=True) as store:
        assert [t.text for t in store.turns(session)] == ["what is 7 + 5?"]
        with pytest.raises(sqlite3.OperationalError):
            store.add_turn(session, "student", "12")
    assert db.read_bytes() == before


def test_a_database_from_an_older_utta_is_named_with_the_fix(db: Path) -> None:
    from transcripts.errors import StoreError
    from transcripts.migrations import MIGRATIONS_TABLE

    with Store(db):
        pass
    table = MIGRATIONS_TABLE
    with sqlite3.connect(db) as connection:  # as if the newest migration had not run yet
        connection.execute(f"delete from {table} where rowid = (select max(rowid) from {table})")
    with pytest.raises(StoreError) as caught:
        Store(db, readonly=True)
    assert f"the database {db} was written by an older utta" in str(caught.value)
    assert caught.value.fix.startswith("open it once with `utta chat`")


@pytest.mark.parametrize("readonly", [False, True])
def test_a_damaged_file_is_named_either_way(db: Path, readonly: bool) -> None:
    from transcripts.errors import StoreError

    db.write_bytes(b"this is not sqlite at all " * 200)
    with pytest.raises(StoreError) as caught:
        Store(db, readonly=readonly)
    assert f"{db} is not a readable utta database" in str(caught.value)
    assert db.read_bytes() == b"this is not sqlite at all " * 200


def test_a_database_on_a_read_only_file_system_is_read_but_not_opened_for_writing(
    tmp_path: Path,
) -> None:
    """A real read-only remount of a tmpfs (root) or read-only modes (elsewhere)."""
    import os

    from tests.faults.filesystems import make_readonly, tmpfs
    from transcripts.errors import StoreError

    folder = tmp_path / "ro"
    with tmpfs(folder, "4m") as mounted:
        if os.geteuid() == 0 and not mounted:
            pytest.skip("root without mount permission cannot make a file read-only")
        db = folder / "utta.db"
        with Store(db) as store:
            session = store.start_session("maya", "sam", "offline")
        make_readonly(folder, mounted)
        try:
            with pytest.raises(StoreError) as caught:
                Store(db)
            assert f"the database {db} is read-only" in str(caught.value)
            with Store(db, readonly=True) as store:
                assert store.session(session).persona_id == "maya"
        finally:
            if not mounted:
                folder.chmod(0o755)
                for path in folder.iterdir():
                    path.chmod(0o644)


@pytest.mark.parametrize("readonly", [False, True])
def test_another_programs_database_is_named_when_its_tables_do_not_fit(
    db: Path, readonly: bool
) -> None:
    """A SQLite file from another program with a ``_migrations`` table of its own."""
    from transcripts.errors import StoreError
    from transcripts.migrations import MIGRATIONS_TABLE

    with sqlite3.connect(db) as connection:
        connection.execute(f"create table {MIGRATIONS_TABLE} (id integer, applied text)")
    before = db.read_bytes()
    with pytest.raises(StoreError) as caught:
        Store(db, readonly=readonly)
    assert f"the database {db} failed" in str(caught.value)
    assert "--db" in caught.value.fix
    tables = [row[0] for row in raw(db, "select name from sqlite_master where type = 'table'")]
    assert tables == [MIGRATIONS_TABLE]  # nothing of ours was half-created in it
    if readonly:
        assert db.read_bytes() == before


def test_the_empty_read_only_stand_in_lives_in_memory_and_serves_worker_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read-only commands run store calls in worker threads, as the chat does."""
    from concurrent.futures import ThreadPoolExecutor

    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    with Store(cwd / "absent.db", readonly=True) as store, ThreadPoolExecutor(1) as worker:
        assert worker.submit(store.sessions).result() == []
    assert list(cwd.iterdir()) == []  # not even a stray file named like ":memory:"
