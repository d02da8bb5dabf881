"""The schema a blank database migrates to, checked table by table on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlite_utils import Database

from transcripts.connection import open_database
from transcripts.migrations import MIGRATIONS, applied_migrations, migrate

EXPECTED_COLUMNS = {
    "_migrations": ["name", "applied_at"],
    "sessions": [
        "id", "persona_id", "trainee", "started_at", "ended_at", "brain_at_start",
        "student_state", "uuid", "title", "exclude_from_training", "origin_machine",
        "imported_at",
    ],
    "turns": [
        "id", "session_id", "idx", "role", "text", "brain_id", "latency_ms", "prompt_tokens",
        "completion_tokens", "created_at", "student_state",
    ],
    "brain_swaps": [
        "id", "session_id", "at_turn", "from_brain", "to_brain", "accepted", "reason",
        "created_at",
    ],
    "feedback": ["id", "turn_id", "flagged", "rating", "rewrite", "note", "created_at"],
    "brains": ["name", "kind", "persona_id", "spec", "created_at", "lineage"],
    "training_jobs": [
        "id", "provider", "base_url", "job_id", "model", "status", "persona_id", "brain_name",
        "training_file", "validation_file", "fine_tuned_model", "error", "created_at",
        "updated_at", "manifest_hash", "hyperparameters", "dataset",
    ],
}  # fmt: skip
FTS_SHADOW_TABLES = {
    "turns_fts", "turns_fts_data", "turns_fts_idx", "turns_fts_docsize", "turns_fts_config",
}  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(tmp_path / "blank.db")
    migrate(database)
    return database


def test_blank_database_gets_exactly_the_expected_tables(db: Database) -> None:
    assert set(db.table_names()) == set(EXPECTED_COLUMNS) | FTS_SHADOW_TABLES
    for table, columns in EXPECTED_COLUMNS.items():
        assert [c.name for c in db[table].columns] == columns, table


def test_primary_keys_and_column_types(db: Database) -> None:
    assert db["sessions"].pks == ["id"]
    assert db["turns"].pks == ["id"]
    assert db["brains"].pks == ["name"]
    assert db["_migrations"].pks == ["name"]
    types = db["turns"].columns_dict
    assert types["latency_ms"] is float
    assert types["prompt_tokens"] is int
    assert types["text"] is str


def test_foreign_keys(db: Database) -> None:
    def fks(table: str) -> set[tuple[str, str, str]]:
        return {(fk.column, fk.other_table, fk.other_column) for fk in db[table].foreign_keys}

    assert fks("turns") == {("session_id", "sessions", "id")}
    assert fks("brain_swaps") == {("session_id", "sessions", "id")}
    assert fks("feedback") == {("turn_id", "turns", "id")}
    assert fks("sessions") == set()
    assert fks("brains") == set()
    assert fks("training_jobs") == set()


def test_turn_order_is_unique_within_a_session(db: Database) -> None:
    unique = [index.columns for index in db["turns"].indexes if index.unique]
    assert ["session_id", "idx"] in unique


def test_fts_over_turn_text_with_triggers(db: Database) -> None:
    assert db["turns"].detect_fts() == "turns_fts"
    assert db["turns_fts"].virtual_table_using == "FTS5"
    assert {t.name for t in db["turns"].triggers} == {"turns_ai", "turns_ad", "turns_au"}
    assert {t.name for t in db.triggers} == {"turns_ai", "turns_ad", "turns_au"}


def test_feedback_rating_check_constraint(db: Database) -> None:
    import sqlite3

    db["sessions"].insert(
        {"id": 1, "persona_id": "p", "trainee": "t", "started_at": "x", "brain_at_start": "b"}
    )
    db["turns"].insert(
        {"id": 1, "session_id": 1, "idx": 0, "role": "student", "text": "hi", "created_at": "x"}
    )
    db["feedback"].insert({"turn_id": 1, "rating": 5, "created_at": "x"})
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db["feedback"].insert({"turn_id": 1, "rating": 6, "created_at": "x"})
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db["feedback"].insert({"turn_id": 99, "rating": 3, "created_at": "x"})


def test_migrations_are_recorded_in_order_and_rerunning_is_a_no_op(db: Database) -> None:
    names = [fn.__name__ for fn in MIGRATIONS]
    assert names[0] == "m001_initial"
    assert names == sorted(names)
    assert applied_migrations(db) == names
    schema = db.schema
    stamps = [row["applied_at"] for row in db["_migrations"].rows]

    assert migrate(db) == []
    assert db.schema == schema
    assert applied_migrations(db) == names
    assert [row["applied_at"] for row in db["_migrations"].rows] == stamps


def test_migrate_applies_only_the_missing_ones(tmp_path: Path) -> None:
    database = open_database(tmp_path / "old.db")
    first, *rest = MIGRATIONS
    # A database from a version that only had the first migration:
    database["_migrations"].create({"name": str, "applied_at": str}, pk="name")
    first(database)
    database["_migrations"].insert({"name": first.__name__, "applied_at": "then"})

    assert migrate(database) == [fn.__name__ for fn in rest]
    assert applied_migrations(database) == [fn.__name__ for fn in MIGRATIONS]
    assert database["_migrations"].get(first.__name__)["applied_at"] == "then"


def test_a_failing_migration_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def m999_broken(db: Database) -> None:
        db["half_done"].create({"id": int}, pk="id")
        raise RuntimeError("boom")

    monkeypatch.setattr("transcripts.migrations.MIGRATIONS", [*MIGRATIONS, m999_broken])
    database = open_database(tmp_path / "broken.db")
    with pytest.raises(RuntimeError, match="boom"):
        migrate(database)
    assert "half_done" not in database.table_names()
    assert "m999_broken" not in applied_migrations(database)
    assert applied_migrations(database) == [fn.__name__ for fn in MIGRATIONS]


def test_sessions_from_before_uuids_get_distinct_ones_and_stay_in_training(tmp_path: Path) -> None:
    database = open_database(tmp_path / "old.db")
    database["_migrations"].create({"name": str, "applied_at": str}, pk="name")
    before = [fn for fn in MIGRATIONS if fn.__name__ < "m008"]
    for fn in before:
        fn(database)
        database["_migrations"].insert({"name": fn.__name__, "applied_at": "then"})
    for number in (1, 2):
        database["sessions"].insert(
            {"id": number, "persona_id": "p", "trainee": "t", "started_at": "x",
             "brain_at_start": "b"}
        )  # fmt: skip

    assert "m008_session_management" in migrate(database)
    rows = list(database["sessions"].rows)
    assert len({row["uuid"] for row in rows}) == 2 and all(row["uuid"] for row in rows)
    assert [row["exclude_from_training"] for row in rows] == [0, 0]
