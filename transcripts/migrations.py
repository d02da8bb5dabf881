"""The transcript schema, as an append-only list of small migrations.

Each migration is a function ``mNNN_what(db)`` registered with ``@migration``; never edit or
reorder one that has shipped, append a new one instead. :func:`migrate` applies the missing ones
in order, each in its own transaction, and records its name in ``_migrations``. When everything is
applied (the usual case) it only reads, so opening the database never queues behind a writer.
"""

from __future__ import annotations

from collections.abc import Callable

from transcripts._sqlite_utils import Database
from transcripts.connection import utc_now, write_transaction

Migration = Callable[[Database], None]

MIGRATIONS: list[Migration] = []
MIGRATIONS_TABLE = "_migrations"


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_initial(db: Database) -> None:
    """Sessions and their turns, in order; the latest student state lives on the session."""
    db["sessions"].create(
        {
            "id": int,
            "persona_id": str,
            "trainee": str,
            "started_at": str,
            "ended_at": str,
            "brain_at_start": str,
            "student_state": str,
        },
        pk="id",
        not_null=["persona_id", "trainee", "started_at", "brain_at_start"],
    )
    db["turns"].create(
        {
            "id": int,
            "session_id": int,
            "idx": int,
            "role": str,
            "text": str,
            "brain_id": str,
            "latency_ms": float,
            "prompt_tokens": int,
            "completion_tokens": int,
            "created_at": str,
            "student_state": str,
        },
        pk="id",
        foreign_keys=[("session_id", "sessions", "id")],
        not_null=["session_id", "idx", "role", "text", "created_at"],
    )
    db["turns"].create_index(["session_id", "idx"], unique=True)


@migration
def m002_turns_fts(db: Database) -> None:
    """Full-text search over what was said, kept current by triggers."""
    db["turns"].enable_fts(["text"], create_triggers=True, tokenize="porter")


@migration
def m003_brain_swaps(db: Database) -> None:
    db["brain_swaps"].create(
        {
            "id": int,
            "session_id": int,
            "at_turn": int,
            "from_brain": str,
            "to_brain": str,
            "accepted": int,
            "reason": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("session_id", "sessions", "id")],
        not_null=["session_id", "at_turn", "from_brain", "to_brain", "accepted", "created_at"],
    )
    db["brain_swaps"].create_index(["session_id"])


@migration
def m004_feedback(db: Database) -> None:
    """Trainee feedback on student turns; several rows per turn, the latest is current."""
    # Written out because sqlite-utils' create_table() has no way to declare CHECK constraints.
    db.execute(
        """
CREATE TABLE "feedback" (
   "id" INTEGER PRIMARY KEY,
   "turn_id" INTEGER NOT NULL REFERENCES "turns"("id"),
   "flagged" INTEGER NOT NULL DEFAULT 0 CHECK ("flagged" IN (0, 1)),
   "rating" INTEGER CHECK ("rating" BETWEEN 1 AND 5),
   "rewrite" TEXT,
   "note" TEXT,
   "created_at" TEXT NOT NULL
)""".strip()
    )
    db["feedback"].create_index(["turn_id"])


@migration
def m005_brains(db: Database) -> None:
    """The brain registry: named brain specs (JSON), e.g. fine-tuned models and their lineage."""
    db["brains"].create(
        {
            "name": str,
            "kind": str,
            "persona_id": str,
            "spec": str,
            "created_at": str,
            "lineage": str,
        },
        pk="name",
        not_null=["kind", "spec", "created_at"],
    )


@migration
def m006_training_jobs(db: Database) -> None:
    """Fine-tuning jobs started on a provider's API, so a restarted process can resume watching
    them. ``base_url`` is where the job lives; no key is ever stored here."""
    db["training_jobs"].create(
        {
            "id": int,
            "provider": str,
            "base_url": str,
            "job_id": str,
            "model": str,
            "status": str,
            "persona_id": str,
            "brain_name": str,
            "training_file": str,
            "validation_file": str,
            "fine_tuned_model": str,
            "error": str,
            "created_at": str,
            "updated_at": str,
            "manifest_hash": str,
            "hyperparameters": str,
        },
        pk="id",
        not_null=["provider", "base_url", "job_id", "model", "status", "created_at", "updated_at"],
    )
    db["training_jobs"].create_index(["job_id"])


@migration
def m007_training_job_dataset(db: Database) -> None:
    """What a fine-tuning job trained on (JSON: the ``dataset`` part of the brain's lineage,
    see :mod:`trainers.lineage`, with the lines ``--skip-bad`` left out and why), kept from the
    start so a watcher resumed later registers the brain with it."""
    db["training_jobs"].add_column("dataset", str)


@migration
def m008_session_management(db: Database) -> None:
    """What a trainee manages per session: a stable ``uuid`` (backfilled, unique, so bundles from
    many machines merge without id clashes), a ``title``, ``exclude_from_training`` (kept out of
    every dataset export) and, for sessions imported from a bundle, where they came from."""
    import uuid

    table = db["sessions"]
    table.add_column("uuid", str)
    table.add_column("title", str)
    table.add_column("exclude_from_training", int, not_null_default=0)
    table.add_column("origin_machine", str)
    table.add_column("imported_at", str)
    for (session_id,) in db.execute("select id from sessions").fetchall():
        db.execute("update sessions set uuid = ? where id = ?", [str(uuid.uuid4()), session_id])
    table.create_index(["uuid"], unique=True)


def applied_migrations(db: Database) -> list[str]:
    """Names of the migrations applied to ``db``, in the order they were applied."""
    if not db[MIGRATIONS_TABLE].exists():
        return []
    return [row["name"] for row in db.query(f"select name from {MIGRATIONS_TABLE} order by rowid")]


def migrate(db: Database) -> list[str]:
    """Apply the migrations ``db`` is missing, in order; return the names applied now."""
    done = set(applied_migrations(db))
    ran: list[str] = []
    for fn in MIGRATIONS:
        name = fn.__name__
        if name in done:
            continue
        with write_transaction(db):
            # Another process may have applied it while this one waited for the write lock.
            if name in applied_migrations(db):
                continue
            db[MIGRATIONS_TABLE].create(
                {"name": str, "applied_at": str}, pk="name", if_not_exists=True
            )
            fn(db)
            db[MIGRATIONS_TABLE].insert({"name": name, "applied_at": utc_now()})
        ran.append(name)
    return ran
