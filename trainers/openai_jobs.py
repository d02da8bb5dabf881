"""A fine-tuning job's life on an OpenAI-compatible API: upload, create, watch, finish, cancel.

The calls are the documented ones of openai-python 2.x: ``files.create(purpose="fine-tune")``,
``fine_tuning.jobs.create(model=, training_file=, validation_file=, suffix=, method={"type":
"supervised", "supervised": {"hyperparameters": {...}}})``, ``jobs.retrieve``,
``jobs.list_events``, ``jobs.cancel`` and ``files.content`` for the result file. The base URL is
configurable (``--base-url`` or ``$OPENAI_BASE_URL``): OpenAI stops new self-serve fine-tuning jobs
on 2027-01-06, and other providers speak the same API.

The job is recorded in the store (:mod:`transcripts.jobs`) as soon as the provider accepts it, so a
watcher killed mid-poll can be resumed with ``utta train status JOB_ID``. When the job succeeds the
fine-tuned model becomes an ``openai`` brain with its lineage. The API key comes from
:func:`agent.keys.resolve_key` and lives only in the client: it is never printed, stored or logged,
and error messages are scrubbed of anything key-shaped. ``openai`` is imported inside functions.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agent.keys import KEY_FIX
from agent.openai_errors import server_message
from agent.secrets import redact_secrets
from trainers.errors import TrainingError
from trainers.lineage import build_lineage, dataset_lineage
from trainers.openai_progress import StepBar, reading_with_bar
from transcripts.jobs import TERMINAL_STATUSES, JobRow, update_job

if TYPE_CHECKING:
    from openai import OpenAI
    from openai.types.fine_tuning import FineTuningJob

    from transcripts.store import Store

PROVIDER = "openai"
_MAX_FAILED_POLLS = 20


@dataclass(frozen=True)
class Hyperparameters:
    """Supervised fine-tuning settings; ``None`` lets the provider choose ("auto")."""

    n_epochs: int | None = None
    batch_size: int | None = None
    learning_rate_multiplier: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value is not None}


def host_of(base_url: str) -> str:
    return urlsplit(base_url).netloc or base_url


def make_client(base_url: str, *, timeout: float = 60.0, max_retries: int = 2) -> OpenAI:
    """A client for ``base_url`` with the key :func:`agent.keys.resolve_key` picks for it."""
    from agent.brain import BrainError
    from agent.keys import resolve_key

    try:
        key = resolve_key(PROVIDER, base_url)
    except BrainError as error:
        raise TrainingError(error.message, fix=error.fix) from None
    from openai import OpenAI

    return OpenAI(api_key=key, base_url=base_url, timeout=timeout, max_retries=max_retries)


def explain(error: Exception, base_url: str, client: OpenAI | None = None) -> TrainingError:
    """An ``openai`` SDK exception as a :class:`TrainingError` a trainer can act on; what the
    server said is shown redacted (the client's key, known keys, key shapes, masked keys)."""
    import openai

    host = host_of(base_url)
    where = "OpenAI" if host == "api.openai.com" else f"the server at {host}"
    key = [getattr(client, "api_key", None)]
    said = redact_secrets(server_message(error), extra=key)
    if isinstance(error, openai.APIConnectionError):  # includes timeouts
        return TrainingError(f"could not reach {where}", fix="check the connection and --base-url")
    if isinstance(error, openai.AuthenticationError):
        return TrainingError(f"{where} did not accept the API key", fix=KEY_FIX)
    if isinstance(error, openai.PermissionDeniedError):
        return TrainingError(
            f"{where} refused: {said}", fix="check that your organisation may fine-tune this model"
        )
    if isinstance(error, openai.RateLimitError):
        if getattr(error, "code", None) == "insufficient_quota":
            return TrainingError(f"{where} says the account has no credit left", fix="add credit")
        return TrainingError(f"{where} is rate-limiting requests", fix="try again in a minute")
    if isinstance(error, openai.NotFoundError):
        return TrainingError(
            f"{where} found no such thing: {said}",
            fix="check the job id (`utta train status`) or the model name",
        )
    if isinstance(error, openai.APIStatusError):
        return TrainingError(f"{where} refused the request (HTTP {error.status_code}): {said}")
    return TrainingError(f"{where}: {redact_secrets(str(error), extra=key)}")


# --- starting a job ---------------------------------------------------------------------------


def check_endpoint(client: OpenAI, base_url: str) -> None:
    """Before any work: the key is accepted and the endpoint has a fine-tuning API (one cheap
    ``GET /fine_tuning/jobs?limit=1``). Raises :class:`TrainingError` saying what it answered."""
    import openai

    try:
        client.fine_tuning.jobs.list(limit=1)
    except openai.NotFoundError:
        raise TrainingError(
            f"the server at {host_of(base_url)} answered 404 to GET /fine_tuning/jobs: it has no "
            "fine-tuning API there (checked before preparing any data)",
            fix="check --base-url (it should end in /v1) and that the provider fine-tunes",
        ) from None
    except openai.OpenAIError as error:
        raise explain(error, base_url, client) from None


def upload(client: OpenAI, path: Path, base_url: str, *, progress: bool = False) -> str:
    """Upload ``path`` for fine-tuning (with a bytes bar when ``progress``); return the file id."""
    import openai

    try:
        with reading_with_bar(path, progress) as handle:
            uploaded = client.files.create(file=(path.name, handle), purpose="fine-tune")
    except openai.OpenAIError as error:
        raise explain(error, base_url, client) from None
    return uploaded.id


def create_job(
    client: OpenAI,
    base_url: str,
    *,
    model: str,
    training_file: str,
    validation_file: str | None = None,
    suffix: str | None = None,
    hyperparameters: Hyperparameters | None = None,
) -> FineTuningJob:
    """Start a supervised fine-tuning job."""
    import openai

    supervised: dict[str, Any] = {}
    if hyperparameters and hyperparameters.as_dict():
        supervised["hyperparameters"] = hyperparameters.as_dict()
    optional = {"validation_file": validation_file, "suffix": suffix}
    try:
        return client.fine_tuning.jobs.create(
            model=model,
            training_file=training_file,
            method={"type": "supervised", "supervised": supervised},  # type: ignore[typeddict-item]
            **{name: value for name, value in optional.items() if value},  # type: ignore[arg-type]
        )
    except openai.OpenAIError as error:
        raise explain(error, base_url, client) from None


def cancel_job(client: OpenAI, store: Store, row: JobRow) -> JobRow:
    """Ask the provider to cancel ``row``'s job; record the status it reports."""
    import openai

    try:
        job = client.fine_tuning.jobs.cancel(row.job_id)
    except openai.OpenAIError as error:
        raise explain(error, row.base_url, client) from None
    return update_job(store, row.job_id, status=job.status)


# --- watching ---------------------------------------------------------------------------------


@dataclass
class Watcher:
    """Polls one job until it reaches a final state, printing each status change and each new
    event once, then records the outcome (and registers the brain on success)."""

    client: OpenAI
    store: Store
    row: JobRow
    out: Callable[[str], None] = print
    interval: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    seen_events: set[str] = field(default_factory=set)
    metrics: dict[str, Any] = field(default_factory=dict)
    progress: bool = False
    """Show a bar over the job's training steps (from its metrics events)."""

    def __post_init__(self) -> None:
        self.steps = StepBar(self.progress, self.out)

    def run(self) -> JobRow:
        try:
            return self._poll()
        finally:
            self.steps.close()

    def _poll(self) -> JobRow:
        import openai

        last_status: str | None = None
        failures = 0
        while True:
            try:
                job = self.client.fine_tuning.jobs.retrieve(self.row.job_id)
                self._show_new_events()
            except (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError):
                failures += 1
                if failures > _MAX_FAILED_POLLS:
                    raise TrainingError(
                        f"gave up after {failures} failed polls of {host_of(self.row.base_url)}",
                        fix=f"resume later with `utta train status {self.row.job_id}`",
                    ) from None
                wait = min(60.0, self.interval * 2**failures)
                self.steps.write(
                    f"  (could not poll {host_of(self.row.base_url)}; retrying in {wait:g} s)"
                )
                self.sleep(wait)
                continue
            except openai.OpenAIError as error:
                raise explain(error, self.row.base_url, self.client) from None
            failures = 0
            if job.status != last_status:
                last_status = job.status
                self.steps.write(status_line(job))
                if job.status != self.row.status:
                    self.row = update_job(self.store, self.row.job_id, status=job.status)
            if job.status in TERMINAL_STATUSES:
                return self.finish(job)
            self.sleep(self.interval)

    def _show_new_events(self) -> None:
        page = self.client.fine_tuning.jobs.list_events(self.row.job_id, limit=100)
        events = list(page.data)
        if len(events) > 1 and events[0].created_at > events[-1].created_at:
            events.reverse()  # OpenAI lists the newest first
        for event in sorted(events, key=lambda e: e.created_at):
            if event.type == "metrics" and isinstance(event.data, dict):
                self.metrics = dict(event.data)
                self.steps.advance(self.metrics)
            if event.id in self.seen_events:
                continue
            self.seen_events.add(event.id)
            level = "" if event.level == "info" else f"{event.level}: "
            self.steps.write(f"  {_clock(event.created_at)} {level}{event.message}")

    def finish(self, job: FineTuningJob) -> JobRow:
        """Record a finished job; on success register its model as an ``openai`` brain."""
        error = job.error.message if job.error and job.error.message else None
        self.row = update_job(
            self.store,
            self.row.job_id,
            status=job.status,
            fine_tuned_model=job.fine_tuned_model,
            error=error,
            hyperparameters=job_hyperparameters(job) or self.row.hyperparameters,
        )
        if job.status == "succeeded" and job.fine_tuned_model:
            register_brain(self.store, self.row, job, self.result_metrics(job), self.steps.write)
        elif job.status == "failed":
            detail = error or "the provider gave no reason"
            code = f" [{job.error.code}]" if job.error and job.error.code else ""
            self.steps.write(f"job {job.id} failed{code}: {detail}")
        elif job.status == "cancelled":
            self.steps.write(f"job {job.id} was cancelled; no brain was registered")
        return self.row

    def result_metrics(self, job: FineTuningJob) -> dict[str, Any]:
        """The last metrics event's numbers, and the final row of the result file if it can be
        read (a CSV of step, train_loss, ...); whatever is not available is left out."""
        metrics: dict[str, Any] = {}
        if self.metrics:
            metrics["last_event"] = self.metrics
        for file_id in job.result_files or []:
            try:
                text = self.client.files.content(file_id).text
                rows = list(csv.DictReader(io.StringIO(text)))
            except Exception:  # metrics are a bonus; never fail a finished job over them
                continue
            if rows:
                metrics["result_file"] = {
                    "file": file_id,
                    "final": {k: _number(v) for k, v in rows[-1].items() if k},
                }
                break
        return metrics


def job_hyperparameters(job: FineTuningJob) -> dict[str, Any]:
    """The hyperparameters the provider reports, from ``method.supervised`` and the top-level
    field alike, a chosen value winning over ``"auto"`` (providers resolve them once running)."""
    method = getattr(job, "method", None)
    supervised = getattr(method, "supervised", None) if method else None
    merged: dict[str, Any] = {}
    for source in (getattr(supervised, "hyperparameters", None), job.hyperparameters):
        for name, value in (source.model_dump() if source is not None else {}).items():
            if value is not None and merged.get(name) in (None, "auto"):
                merged[name] = value
    return merged


def register_brain(
    store: Store,
    row: JobRow,
    job: FineTuningJob,
    metrics: dict[str, Any],
    out: Callable[[str], None] = print,
) -> None:
    """Save ``job``'s fine-tuned model as the ``openai`` brain ``row.brain_name``."""
    assert job.fine_tuned_model and row.brain_name
    lineage = build_lineage(
        method="openai-fine-tuning",
        persona=row.persona_id,
        base=job.model,
        # Jobs recorded before the dataset was kept have only its hash.
        dataset=row.dataset or dataset_lineage(content_hash=row.manifest_hash),
        hyperparameters=job_hyperparameters(job) or row.hyperparameters,
        metrics=metrics,
        extra={
            "provider": row.provider,
            "base_url": row.base_url,
            "job_id": job.id,
            "training_file": job.training_file,
            "validation_file": job.validation_file,
            "trained_tokens": job.trained_tokens,
            "job_created_at": _iso(job.created_at),
            "job_finished_at": _iso(job.finished_at),
        },
    )
    spec = {"model": job.fine_tuned_model, "base_url": row.base_url}
    store.save_brain(row.brain_name, "openai", spec, persona_id=row.persona_id, lineage=lineage)
    out(
        f"registered brain {row.brain_name!r} (openai, {job.fine_tuned_model}) — "
        f"`utta brains show {row.brain_name}`; swap to it in the chat with Ctrl+B"
    )


def status_line(job: FineTuningJob) -> str:
    parts = [f"[{datetime.now().strftime('%H:%M:%S')}] {job.id}: {job.status}"]
    if job.trained_tokens:
        parts.append(f"{job.trained_tokens:,} tokens trained")
    if job.estimated_finish and job.status not in TERMINAL_STATUSES:
        parts.append(f"estimated finish {_clock(job.estimated_finish)}")
    if job.fine_tuned_model:
        parts.append(job.fine_tuned_model)
    return " · ".join(parts)


def _clock(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%H:%M:%S")


def _iso(timestamp: int | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")


def _number(text: str | None) -> Any:
    try:
        value = float(text or "")
    except ValueError:
        return text
    return int(value) if value.is_integer() else value
