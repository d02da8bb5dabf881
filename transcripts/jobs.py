"""Fine-tuning jobs recorded in the transcript database (table ``training_jobs``).

A trainer records a job the moment the provider accepts it, updates it while watching, and a later
process (``utta train status``) reads it back to resume watching. These are plain functions taking
a :class:`~transcripts.store.Store`, so the store itself stays about transcripts. No API key is ever
written here: only the provider's name and base URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.secrets import redact_secrets
from transcripts.connection import utc_now, write_transaction

if TYPE_CHECKING:
    from transcripts.store import Store

TABLE = "training_jobs"
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
_UPDATABLE = frozenset(
    {"status", "brain_name", "fine_tuned_model", "error", "hyperparameters", "validation_file"}
)


class UnknownJob(KeyError):
    """No recorded training job has the requested provider job id."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id
        self.message = (
            f"no training job {job_id!r} is recorded here — run `utta train status` to list them"
        )

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class JobRow:
    id: int
    provider: str
    base_url: str
    job_id: str
    """The provider's id for the job, e.g. ``ftjob-abc123``."""
    model: str
    """The base model being fine-tuned."""
    status: str
    persona_id: str | None
    brain_name: str | None
    """The brain to register (or registered) when the job succeeds."""
    training_file: str | None
    validation_file: str | None
    fine_tuned_model: str | None
    error: str | None
    created_at: str
    updated_at: str
    manifest_hash: str | None
    hyperparameters: dict[str, Any]
    dataset: dict[str, Any]
    """What the job trains on (:func:`trainers.lineage.dataset_lineage`); ``{}`` for a job
    recorded before this was kept."""

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> JobRow:
        fields = dict(row)
        fields["hyperparameters"] = json.loads(row["hyperparameters"] or "{}")
        fields["dataset"] = json.loads(row.get("dataset") or "{}")
        return cls(**fields)


def record_job(
    store: Store,
    *,
    provider: str,
    base_url: str,
    job_id: str,
    model: str,
    status: str,
    persona_id: str | None = None,
    brain_name: str | None = None,
    training_file: str | None = None,
    validation_file: str | None = None,
    manifest_hash: str | None = None,
    hyperparameters: dict[str, Any] | None = None,
    dataset: dict[str, Any] | None = None,
) -> JobRow:
    """Record a job the provider has just accepted; commits before returning."""
    now = utc_now()
    row = {
        "provider": provider,
        "base_url": base_url,
        "job_id": job_id,
        "model": model,
        "status": status,
        "persona_id": persona_id,
        "brain_name": brain_name,
        "training_file": training_file,
        "validation_file": validation_file,
        "fine_tuned_model": None,
        "error": None,
        "created_at": now,
        "updated_at": now,
        "manifest_hash": manifest_hash,
        "hyperparameters": json.dumps(hyperparameters or {}, sort_keys=True),
        # Redacted like a brain's lineage, which it becomes part of.
        "dataset": redact_secrets(json.dumps(dataset or {}, ensure_ascii=False, sort_keys=True)),
    }
    with store._lock, write_transaction(store.db):
        table = store.db[TABLE].insert(row)
        row["id"] = int(table.last_pk)
    return JobRow.from_row(row)


def update_job(store: Store, job_id: str, **changes: Any) -> JobRow:
    """Change the recorded ``status``, ``fine_tuned_model``, ``error``, ``brain_name``,
    ``hyperparameters`` or ``validation_file`` of job ``job_id``; stamps ``updated_at``."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"a training job's {', '.join(sorted(unknown))} cannot be changed")
    if "hyperparameters" in changes:
        changes["hyperparameters"] = json.dumps(changes["hyperparameters"] or {}, sort_keys=True)
    with store._lock, write_transaction(store.db):
        row = _latest(store, job_id)
        store.db[TABLE].update(row["id"], {**changes, "updated_at": utc_now()})
        return JobRow.from_row(store.db[TABLE].get(row["id"]))


def get_job(store: Store, job_id: str) -> JobRow:
    """The recorded job with provider id ``job_id`` (the latest, should two share it)."""
    with store._lock:
        return JobRow.from_row(_latest(store, job_id))


def list_jobs(store: Store, *, unfinished: bool = False) -> list[JobRow]:
    """Recorded jobs, newest first; with ``unfinished`` only those not yet in a final state."""
    where = None
    args: list[str] = []
    if unfinished:
        where = f"status not in ({', '.join('?' for _ in TERMINAL_STATUSES)})"
        args = sorted(TERMINAL_STATUSES)
    with store._lock:
        rows = store.db[TABLE].rows_where(where, args, order_by="id desc")
        return [JobRow.from_row(row) for row in rows]


def _latest(store: Store, job_id: str) -> dict[str, Any]:
    rows = list(store.db[TABLE].rows_where("job_id = ?", [job_id], order_by="id desc", limit=1))
    if not rows:
        raise UnknownJob(job_id)
    return rows[0]
