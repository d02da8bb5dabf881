"""The transcript store on real SQLite files: turns, state, feedback, search, sharing, export."""

from __future__ import annotations

import io
import json
import sqlite3
import threading
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils.db

from transcripts import Store
from transcripts.connection import write_transaction
from transcripts.export import export_jsonl
from transcripts.store import UnknownBrain, UnknownSession

STATE = {"misconceptions": {"bigger-minus-smaller": {"held": True}}, "mood": "ok", "turns": 1}


def exchange(store: Store, session_id: int, teacher: str, student: str) -> int:
    """Log a teacher message and the student's reply; return the student turn's id."""
    store.add_turn(session_id, "teacher", teacher)
    return store.add_turn(session_id, "student", student, brain_id="offline")


# --- opening ----------------------------------------------------------------------------------


def test_default_path_is_in_the_user_data_dir(utta_home: Path) -> None:
    with Store() as store:
        assert store.path == utta_home / "utta.db"
    assert (utta_home / "utta.db").is_file()


def test_opening_creates_missing_folders_and_sets_pragmas(tmp_path: Path) -> None:
    with Store(tmp_path / "a" / "b" / "t.db") as store:
        assert store.path.is_file()
        pragma = store.db.execute
        assert pragma("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert pragma("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert pragma("PRAGMA foreign_keys").fetchone()[0] == 1


# --- sessions and turns -----------------------------------------------------------------------


def test_turns_come_back_in_order_with_their_details(store: Store) -> None:
    sid = store.start_session("maya", "sam", "offline")
    store.add_turn(sid, "teacher", "What is 52 - 17?")
    store.add_turn(
        sid, "student", "45", brain_id="offline", latency_ms=12.5,
        prompt_tokens=30, completion_tokens=2, student_state=STATE,
    )  # fmt: skip
    exchange(store, sid, "Show me with blocks.", "ok 35?")

    turns = store.turns(sid)
    assert [(t.idx, t.role, t.text) for t in turns] == [
        (0, "teacher", "What is 52 - 17?"),
        (1, "student", "45"),
        (2, "teacher", "Show me with blocks."),
        (3, "student", "ok 35?"),
    ]
    assert turns[0].brain_id is None and turns[0].student_state is None
    assert (turns[1].brain_id, turns[1].latency_ms) == ("offline", 12.5)
    assert (turns[1].prompt_tokens, turns[1].completion_tokens) == (30, 2)
    assert turns[1].student_state == STATE
    assert store.session(sid).turn_count == 4


def test_student_turn_updates_the_session_state_visible_to_another_connection(
    store: Store,
) -> None:
    sid = store.start_session("maya", "sam", "offline")
    assert store.latest_state(sid) is None
    store.add_turn(sid, "teacher", "hi")
    store.add_turn(sid, "student", "hi", student_state=STATE)
    with Store(store.path) as other:
        assert other.latest_state(sid) == STATE
        assert other.turns(sid)[-1].student_state == STATE


def test_student_turn_and_state_are_one_transaction(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = store.start_session("maya", "sam", "offline")
    store.add_turn(sid, "teacher", "hi")

    def broken_update(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(sqlite_utils.db.Table, "update", broken_update)
    with pytest.raises(sqlite3.OperationalError):
        store.add_turn(sid, "student", "hello", student_state=STATE)
    monkeypatch.undo()
    # The failed state update took the student turn with it.
    assert [t.role for t in store.turns(sid)] == ["teacher"]
    assert store.latest_state(sid) is None
    assert not store.db.conn.in_transaction


def test_bad_turns_are_refused(store: Store) -> None:
    sid = store.start_session("maya", "sam", "offline")
    with pytest.raises(ValueError, match="'teacher' or 'student'"):
        store.add_turn(sid, "narrator", "Once upon a time")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="only a student turn"):
        store.add_turn(sid, "teacher", "hi", student_state=STATE)
    with pytest.raises(UnknownSession) as caught:
        store.add_turn(999, "teacher", "hi")
    assert isinstance(caught.value, KeyError)
    assert "utta sessions list" in str(caught.value)
    assert str(store.path) in str(caught.value)
    assert store.turns(sid) == []


def test_withdrawing_an_unanswered_teacher_turn(store: Store) -> None:
    sid = store.start_session("maya", "sam", "offline")
    exchange(store, sid, "hi", "hi")
    store.add_turn(sid, "teacher", "What is 3 + 4?")

    assert store.delete_last_turn_if_teacher(sid) == "What is 3 + 4?"
    assert [t.text for t in store.turns(sid)] == ["hi", "hi"]
    # The last turn is now the student's: nothing more is withdrawn.
    assert store.delete_last_turn_if_teacher(sid) is None
    assert len(store.turns(sid)) == 2
    # The freed index is reused, so indexes stay contiguous.
    store.add_turn(sid, "teacher", "Try again?")
    assert [t.idx for t in store.turns(sid)] == [0, 1, 2]


def test_sessions_listing_filters_and_ending(store: Store) -> None:
    first = store.start_session("maya", "sam", "offline")
    second = store.start_session("leo", "sam", "offline")
    third = store.start_session("maya", "kim", "gpt")
    exchange(store, third, "hi", "hey")

    assert [s.id for s in store.sessions()] == [third, second, first]
    assert [s.id for s in store.sessions(persona_id="maya")] == [third, first]
    assert [s.id for s in store.sessions(trainee="sam")] == [second, first]
    assert [s.id for s in store.sessions(limit=1)] == [third]
    assert store.sessions()[0].turn_count == 2
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert store.sessions(since=tomorrow) == []
    assert len(store.sessions(since=datetime.now(UTC) - timedelta(hours=1))) == 3

    assert store.session(first).ended_at is None
    store.end_session(first)
    ended = store.session(first).ended_at
    assert ended is not None and datetime.fromisoformat(ended).tzinfo is not None
    with pytest.raises(UnknownSession):
        store.session(12345)


def test_swaps_record_the_turn_count(store: Store) -> None:
    sid = store.start_session("maya", "sam", "offline")
    exchange(store, sid, "hi", "hi")
    store.record_swap(sid, "offline", "gpt", True, "ready")
    store.record_swap(sid, "gpt", "lora", False, "no adapter loaded")
    swaps = store.swaps(sid)
    assert [(s.at_turn, s.from_brain, s.to_brain, s.accepted) for s in swaps] == [
        (2, "offline", "gpt", True),
        (2, "gpt", "lora", False),
    ]
    assert swaps[1].reason == "no adapter loaded"


# --- feedback ---------------------------------------------------------------------------------


def test_feedback_is_validated(store: Store) -> None:
    sid = store.start_session("maya", "sam", "offline")
    student = exchange(store, sid, "hi", "hi")
    teacher = store.turns(sid)[0].id
    for bad in (0, 6, 3.5, True, "5"):
        with pytest.raises(ValueError, match="1 to 5"):
            store.add_feedback(student, rating=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="teacher's message"):
        store.add_feedback(teacher, rating=3)
    with pytest.raises(ValueError, match="no turn 999"):
        store.add_feedback(999, flagged=True)
    assert store.feedback(sid) == []

    first = store.add_feedback(student, rating=2, note="too grown-up")
    second = store.add_feedback(student, flagged=True, rewrite="  ", note="")
    rows = store.feedback(sid)
    assert [r.id for r in rows] == [first, second]
    assert (rows[0].rating, rows[0].flagged, rows[0].note) == (2, False, "too grown-up")
    assert (rows[1].flagged, rows[1].rewrite, rows[1].note) == (True, None, None)


def test_approved_examples(store: Store) -> None:
    sid = store.start_session("maya", "sam", "offline")
    good = exchange(store, sid, "What is 52 - 17?", "45 i think")
    meh = exchange(store, sid, "Are you sure?", "yes")
    flagged = exchange(store, sid, "Why?", "Because subtraction is commutative.")
    rewritten = exchange(store, sid, "Can you explain?", "The algorithm requires it.")
    changed_mind = exchange(store, sid, "Show me with blocks", "5 tens take 1 ten")
    exchange(store, sid, "No feedback here", "ok")
    store.add_feedback(good, rating=5)
    store.add_feedback(meh, rating=3)
    store.add_feedback(flagged, rating=5, flagged=True)
    store.add_feedback(rewritten, rating=1, flagged=True, rewrite="cuz u take the small from big")
    store.add_feedback(changed_mind, rating=5)
    store.add_feedback(changed_mind, flagged=True, note="on second look, no")  # latest wins
    other = store.start_session("leo", "sam", "offline")
    store.add_feedback(exchange(store, other, "hi leo", "hi"), rating=5)

    assert store.approved_examples("maya") == [
        ("What is 52 - 17?", "45 i think"),
        ("Can you explain?", "cuz u take the small from big"),
    ]
    assert ("Are you sure?", "yes") in store.approved_examples("maya", min_rating=3)
    assert store.approved_examples("leo") == [("hi leo", "hi")]
    assert store.approved_examples("nobody") == []


# --- search -----------------------------------------------------------------------------------


def test_full_text_search(store: Store) -> None:
    sid = store.start_session("maya", "sam", "offline")
    exchange(store, sid, "Let's use the base-ten blocks", "i like blocks")
    exchange(store, sid, "What is 52 - 17?", "45")
    store.add_turn(sid, "teacher", "Count the rods please")

    hits = store.search("block")  # stemmed: finds "blocks"
    assert {(h.role, h.text) for h in hits} == {
        ("teacher", "Let's use the base-ten blocks"),
        ("student", "i like blocks"),
    }
    assert all(h.session_id == sid for h in hits)
    assert [h.text for h in store.search("rods")] == ["Count the rods please"]
    store.delete_last_turn_if_teacher(sid)
    assert store.search("rods") == []  # the delete trigger cleaned the index
    assert len(store.search("blocks", limit=1)) == 1
    assert store.search("don't \"AND (") == []  # FTS syntax is not interpreted
    assert store.search("   ") == []


# --- sharing one file -------------------------------------------------------------------------


def test_two_stores_interleave_writes_on_one_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with Store(path) as one, Store(path) as two:
        sid = one.start_session("maya", "sam", "offline")
        for n in range(5):
            (one if n % 2 else two).add_turn(sid, "teacher", f"message {n}")
        assert [t.idx for t in two.turns(sid)] == [0, 1, 2, 3, 4]
        assert [t.text for t in one.turns(sid)] == [f"message {n}" for n in range(5)]


def _append_turns_and_swaps(path: str, session_id: int, name: str, start, errors) -> None:
    """Runs in one of two processes: at the barrier, append 40 turns and 40 swaps."""
    try:
        with Store(path) as store:
            start.wait(timeout=120)
            for n in range(40):
                store.add_turn(session_id, "teacher", f"{name} {n}")
                store.record_swap(session_id, "a", "b", True, name)
    except BaseException as error:  # reported to the test
        errors.put(f"{name}: {type(error).__name__}: {error}")


def test_concurrent_writers_neither_fail_nor_collide(tmp_path: Path) -> None:
    """Two real processes (two chats), each with its own Store, append to the same session of
    the same file at once: no write fails and no turn index is taken twice."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    path = tmp_path / "shared.db"
    with Store(path) as setup:
        sid = setup.start_session("maya", "sam", "offline")
    start, errors = context.Barrier(2), context.Queue()
    writers = [
        context.Process(target=_append_turns_and_swaps, args=(str(path), sid, name, start, errors))
        for name in ("one", "two")
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)
    reported = []
    while not errors.empty():
        reported.append(errors.get())
    assert reported == []
    assert [writer.exitcode for writer in writers] == [0, 0]
    with Store(path) as check:
        turns = check.turns(sid)
        assert [t.idx for t in turns] == list(range(80))
        assert sorted(t.text for t in turns) == sorted(
            f"{name} {n}" for name in ("one", "two") for n in range(40)
        )
        assert len(check.swaps(sid)) == 80


def test_one_store_can_be_shared_between_threads(tmp_path: Path) -> None:
    """A UI opens the store in a worker thread and writes from its event loop."""
    opened: list[Store] = []
    opener = threading.Thread(target=lambda: opened.append(Store(tmp_path / "t.db")))
    opener.start()
    opener.join()
    with opened[0] as store:
        sid = store.start_session("maya", "sam", "offline")

        def write(name: str) -> None:
            for n in range(30):
                store.add_turn(sid, "teacher", f"{name} {n}")

        threads = [threading.Thread(target=write, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        write("main")
        for thread in threads:
            thread.join()
        assert [t.idx for t in store.turns(sid)] == list(range(90))
        assert not store.db.conn.in_transaction


def _second_writer(path: str, session_id: int, events) -> None:
    """Runs in another process: say when its write transaction starts running (SQLite's trace
    callback fires as ``BEGIN IMMEDIATE`` begins, right before it asks for the lock), write,
    report the outcome."""
    try:
        with Store(path) as store:

            def announce(sql: str) -> None:
                if sql.startswith("BEGIN IMMEDIATE"):
                    events.put("locking")

            store.db.conn.set_trace_callback(announce)
            store.add_turn(session_id, "teacher", "second")
        events.put("written")
    except BaseException as error:  # reported to the test
        events.put(f"failed: {error}")


def test_a_writer_in_another_process_waits_for_the_lock_instead_of_failing(tmp_path: Path):
    """While one process holds the write lock, another's write waits (busy timeout) and then
    lands after it; without the busy timeout it fails at once with "database is locked".

    Proved by order, not by time: the lock is let go only after the other process has started
    its write transaction, so its write can only have succeeded by waiting."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    path = tmp_path / "shared.db"
    events = context.Queue()
    with Store(path) as holder:
        sid = holder.start_session("maya", "sam", "offline")
        with write_transaction(holder.db):
            holder.db["turns"].insert(
                {"session_id": sid, "idx": 0, "role": "teacher", "text": "first",
                 "created_at": "now"}
            )  # fmt: skip
            child = context.Process(target=_second_writer, args=(str(path), sid, events))
            child.start()
            assert events.get(timeout=60) == "locking"
        assert events.get(timeout=60) == "written"
        child.join(timeout=60)
        assert child.exitcode == 0
        assert [t.text for t in holder.turns(sid)] == ["first", "second"]


# --- export -----------------------------------------------------------------------------------


def test_export_round_trip(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "zz-test-do-not-export"  # no key shape: only its value in the environment gives it away
    monkeypatch.setenv("OPENAI_API_KEY", key)
    sid = store.start_session("maya", "sam", "offline")
    store.add_turn(sid, "teacher", "What is 52 - 17?")
    student = store.add_turn(sid, "student", "45", brain_id="offline", student_state=STATE)
    store.add_feedback(student, rating=2, note=f"classic; my key is {key}")
    store.add_feedback(student, rewrite="45!! easy")
    store.record_swap(sid, "offline", "gpt", False, f"401: bad key {key}")
    store.end_session(sid)
    empty = store.start_session("leo", "kim", "offline")

    out = io.StringIO()
    assert export_jsonl(store, [sid, empty], out) == 2
    text = out.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]

    assert len(lines) == 2
    document = lines[0]
    turns = document.pop("turns")
    swaps = document.pop("swaps")
    assert document == asdict(store.session(sid))
    assert [{k: v for k, v in t.items() if k != "feedback"} for t in turns] == [
        asdict(t) for t in store.turns(sid)
    ]
    assert turns[0]["feedback"] == []
    assert turns[1]["feedback"] == [asdict(f) for f in store.feedback(sid)]
    assert turns[1]["student_state"] == STATE
    assert swaps == [asdict(s) for s in store.swaps(sid)]
    assert (lines[1]["id"], lines[1]["turns"], lines[1]["swaps"]) == (empty, [], [])
    assert key not in text and "[redacted]" in text
    assert str(store.path.parent) not in text


def test_export_redacts_a_key_that_an_older_database_still_holds(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database written before the store redacted holds keys as typed: the export redacts
    again. The key is put in with a raw SQLite connection, past the store's own redaction."""
    key = "zz-test-do-not-export"  # no key shape: only its value in the environment gives it away
    monkeypatch.setenv("OPENAI_API_KEY", key)
    sid = store.start_session("maya", "sam", "offline")
    store.add_turn(sid, "teacher", "What is 52 - 17?")
    student = store.add_turn(sid, "student", "45", brain_id="offline")
    store.add_feedback(student, rating=2, note="classic")
    store.record_swap(sid, "offline", "gpt", False, "401")
    with sqlite3.connect(store.path) as raw:
        raw.execute("UPDATE turns SET text = ? WHERE id = ?", (f"my key is {key}", student))
        raw.execute("UPDATE feedback SET note = ?", (f"classic; {key}",))
        raw.execute("UPDATE brain_swaps SET reason = ?", (f"401: bad key {key}",))
    raw.close()
    assert key in store.turns(sid)[1].text  # the store reads back what the file holds

    out = io.StringIO()
    assert export_jsonl(store, [sid], out) == 1
    text = out.getvalue()
    assert key not in text
    [document] = [json.loads(line) for line in text.splitlines()]
    assert document["turns"][1]["text"] == "my key is [redacted]"
    assert document["turns"][1]["feedback"][0]["note"] == "classic; [redacted]"
    assert document["swaps"][0]["reason"] == "401: bad key [redacted]"


def test_export_of_an_unknown_session_writes_nothing(store: Store) -> None:
    sid = store.start_session("maya", "sam", "offline")
    out = io.StringIO()
    with pytest.raises(UnknownSession):
        export_jsonl(store, [sid, 404], out)
    assert out.getvalue() == ""


# --- brain registry ---------------------------------------------------------------------------


def test_brain_registry_crud(store: Store) -> None:
    assert store.brains() == []
    spec = {"base": "qwen", "adapter": "runs/7/adapter", "temperature": 0.7}
    saved = store.save_brain("maya-lora", "lora", spec, persona_id="maya", lineage={"run": 7})
    store.save_brain("gpt-mini", "openai", {"model": "gpt-4o-mini"})

    loaded = store.brain("maya-lora")
    assert loaded == saved
    assert (loaded.kind, loaded.persona_id, loaded.spec, loaded.lineage) == (
        "lora", "maya", spec, {"run": 7}
    )  # fmt: skip
    assert [b.name for b in store.brains()] == ["gpt-mini", "maya-lora"]
    assert store.brain("gpt-mini").lineage is None

    store.save_brain("gpt-mini", "openai", {"model": "gpt-4.1-mini"})
    assert store.brain("gpt-mini").spec == {"model": "gpt-4.1-mini"}
    assert len(store.brains()) == 2

    store.remove_brain("gpt-mini")
    assert [b.name for b in store.brains()] == ["maya-lora"]
    with pytest.raises(UnknownBrain, match="saved brains: maya-lora"):
        store.brain("gpt-mini")
    with pytest.raises(UnknownBrain):
        store.remove_brain("gpt-mini")
    with pytest.raises(ValueError, match="JSON"):
        store.save_brain("bad", "lora", {"path": Path("x")})
    with pytest.raises(ValueError, match="needs a name"):
        store.save_brain(" ", "lora", {})
    assert [b.name for b in store.brains()] == ["maya-lora"]


def _open_and_write_each(paths: list[str], start, errors) -> None:
    """Runs in one of several processes: at each barrier, open a fresh file and write to it."""
    for path in paths:
        try:
            start.wait(timeout=120)
            with Store(path) as store:
                store.add_turn(store.start_session("maya", "sam", "offline"), "teacher", "hi")
        except BaseException as error:  # reported to the test
            errors.put(f"{path}: {type(error).__name__}: {error}")


def test_several_processes_may_create_the_database_at_once(tmp_path: Path) -> None:
    """Opening a brand-new file races on the switch to WAL and on the migrations: four real
    processes open each of many fresh files at the same moment, so that a lost race shows up."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    paths = [str(tmp_path / f"fresh-{attempt}.db") for attempt in range(25)]
    start, errors = context.Barrier(4), context.Queue()
    workers = [
        context.Process(target=_open_and_write_each, args=(paths, start, errors)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    reported = []
    while not errors.empty():
        reported.append(errors.get())
    assert reported == []
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    for path in paths:
        with Store(path) as check:
            assert len(check.sessions()) == 4
