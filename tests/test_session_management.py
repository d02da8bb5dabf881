"""Finding, renaming, deleting and excluding sessions on a real SQLite store."""

from __future__ import annotations

import pytest

from transcripts.sessions import (
    delete_session,
    find_sessions,
    last_sessions,
    rename_session,
    session_brains,
    set_excluded,
)
from transcripts.store import Store, UnknownSession


def _lesson(store: Store, persona: str, teacher: str, student: str, brain: str = "offline") -> int:
    session_id = store.start_session(persona, "sam", "offline")
    store.add_turn(session_id, "teacher", teacher)
    turn = store.add_turn(session_id, "student", student, brain_id=brain)
    store.add_feedback(turn, rating=5)
    return session_id


def test_search_takes_any_typed_text_as_words(store: Store) -> None:
    found = _lesson(store, "maya", 'she said "hi" to 3*4 with blocks', "ok")
    _lesson(store, "leo", "what is 2 + 2?", "4")
    for text in ['said "hi', "3*4", "block", "NOT (", '"', "-", "AND"]:
        ids = [s.id for s in find_sessions(store, text)]
        assert ids in ([found], []), (text, ids)
    assert [s.id for s in find_sessions(store, "block")] == [found]
    assert [s.id for s in find_sessions(store, '"')] == []


def test_rename_exclude_delete_and_the_brains_used(store: Store) -> None:
    first = _lesson(store, "maya", "What is 52 - 27?", "35", brain="maya-a")
    second = _lesson(store, "maya", "Show me with blocks", "5 rods")
    rename_session(store, first, "  subtraction try  ")
    assert store.session(first).title == "subtraction try"
    assert [s.id for s in find_sessions(store, "subtraction try")] == [first]
    assert session_brains(store, first) == ["offline", "maya-a"]

    assert len(store.approved_examples("maya")) == 2
    set_excluded(store, first, True)
    assert store.approved_examples("maya") == [("Show me with blocks", "5 rods")]
    assert [s.id for s in find_sessions(store, excluded=True)] == [first]
    assert last_sessions(store, "sam")["maya"].id == second

    delete_session(store, second)
    with pytest.raises(UnknownSession):
        store.session(second)
    assert store.search("rods") == []
    assert store.db.execute("select count(*) from feedback").fetchone()[0] == 1
    with pytest.raises(UnknownSession):
        rename_session(store, second, "gone")
