"""Fine-tune a model on a persona's approved turns through an OpenAI-compatible fine-tuning API.

    utta train openai --persona maya --model gpt-4o-mini-2024-07-18            # from the logs
    utta train openai --persona maya --model gpt-4o-mini-2024-07-18 --data DIR # train.jsonl [+
                                                                               #  validation.jsonl]
    utta train openai ... --base-url https://other-provider.example/v1         # compatible API
    utta train status [JOB_ID]      # list jobs, or resume watching one after a restart
    utta train cancel JOB_ID

Steps: get the data (export the dataset from the logs, or ``--data``), check it like OpenAI's
data-preparation cookbook (:mod:`trainers.openai_validate`), show the cost estimate and ask before
spending, upload, create the job, record it, watch it, register the brain
(:mod:`trainers.openai_jobs`). This module ties those steps together for the command line.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainers.lineage import dataset_lineage
from trainers.openai_jobs import (
    PROVIDER,
    Hyperparameters,
    TrainingError,
    create_job,
    upload,
)
from trainers.openai_validate import (
    DEFAULT_MAX_TOKENS_PER_EXAMPLE,
    CostEstimate,
    FileReport,
    estimate_cost,
    validate_file,
    write_clean,
)
from transcripts.jobs import JobRow, record_job

if TYPE_CHECKING:
    from openai import OpenAI

    from transcripts.store import Store

TRAIN_FILE, VALIDATION_FILE, MANIFEST_FILE = "train.jsonl", "validation.jsonl", "manifest.json"


class DataInvalid(TrainingError):
    """The data failed the cookbook's checks; ``reports`` hold every problem, line by line."""

    def __init__(self, reports: list[FileReport]) -> None:
        count = sum(len(r.errors) for r in reports)
        super().__init__(
            f"the training data has {count} problem{'s' if count != 1 else ''}",
            fix="fix the lines listed above, or pass --skip-bad to leave them out",
        )
        self.reports = reports


@dataclass(frozen=True)
class FineTuneRequest:
    persona_id: str
    model: str
    data: Path | None = None
    """A folder with train.jsonl (and validation.jsonl), or one JSONL file; ``None``: export the
    persona's dataset from the logs."""
    selection: dict[str, Any] = field(default_factory=dict)
    """Filters for :class:`trainers.datasets.Selection` (since, until, trainees, min_rating,
    session_ids) when the data is exported from the logs."""
    suffix: str | None = None
    hyperparameters: Hyperparameters = field(default_factory=Hyperparameters)
    base_url: str = "https://api.openai.com/v1"
    brain_name: str | None = None
    skip_bad: bool = False
    max_tokens_per_example: int = DEFAULT_MAX_TOKENS_PER_EXAMPLE
    price_per_million: float | None = None


@dataclass(frozen=True)
class PreparedData:
    train: Path
    validation: Path | None
    manifest_hash: str
    reports: list[FileReport]
    estimate: CostEstimate
    skipped: list[dict[str, Any]] = field(default_factory=list)
    """The lines ``--skip-bad`` left out, each ``{"split", "file", "line", "reason"}``."""
    authenticity: dict[str, Any] | None = None
    """:func:`trainers.metric.score_dataset` of the training replies, when it can be computed."""
    dataset: dict[str, Any] = field(default_factory=dict)
    """What is trained on, for the job record and the brain's lineage
    (:func:`trainers.lineage.dataset_lineage`): hash, source, rows and the skipped lines."""

    @property
    def examples(self) -> int:
        return sum(report.examples for report in self.reports)

    @property
    def skipped_lines(self) -> int:
        return len(self.skipped)


def prepare(request: FineTuneRequest, store: Store) -> PreparedData:
    """Find or export the data, check it, and estimate the cost; raise :class:`DataInvalid` when
    a file has errors (unless ``skip_bad``, which uploads cleaned copies without those lines and
    writes a ``manifest.json`` beside them listing each line left out and why)."""
    folder, train, validation = locate_data(request, store)
    source = str(folder or train)
    counted = {"max_tokens_per_example": request.max_tokens_per_example}
    reports = [validate_file(train, **counted)]
    if validation is not None:
        reports.append(validate_file(validation, training=False, **counted))
    manifest_hash = dataset_hash(folder, [train, validation])
    skipped: list[dict[str, Any]] = []
    cleaned: Path | None = None
    if any(not report.ok for report in reports):
        if not request.skip_bad:
            raise DataInvalid(reports)
        cleaned = work_dir(request.persona_id) / "cleaned"
        skipped = bad_lines(reports)
        train = write_clean(reports[0], cleaned / TRAIN_FILE)
        if validation is not None:
            validation = write_clean(reports[1], cleaned / VALIDATION_FILE)
        manifest_hash = dataset_hash(None, [train, validation])
    if reports[0].examples == 0:
        raise TrainingError(f"{train} has no usable examples", fix="check the data")
    estimate = estimate_cost(
        reports[0],
        request.model,
        epochs=request.hyperparameters.n_epochs,
        price_override=request.price_per_million,
    )
    if validation is not None and reports[1].examples == 0:
        validation = None
    dataset = dataset_lineage(
        read_manifest(folder),
        content_hash=manifest_hash,
        source=source,
        rows={"train": reports[0].examples, "validation": reports[1].examples if validation else 0},
        skipped_by_trainer=skipped,
    )
    if cleaned is not None:
        manifest = {**dataset, "files": [p.name for p in (train, validation) if p is not None]}
        text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        (cleaned / MANIFEST_FILE).write_text(text, encoding="utf-8")
    authenticity = score_training_replies(train, request.persona_id)
    return PreparedData(
        train, validation, manifest_hash, reports, estimate, skipped, authenticity, dataset
    )


def bad_lines(reports: list[FileReport]) -> list[dict[str, Any]]:
    """The lines ``--skip-bad`` leaves out, in file order, each with every reason it is bad."""
    skipped: list[dict[str, Any]] = []
    for split, report in zip(("train", "validation"), reports, strict=False):
        reasons: dict[int, list[str]] = {}
        for problem in report.errors:
            if problem.line is not None:
                reasons.setdefault(problem.line, []).append(problem.message)
        skipped += [
            {"split": split, "file": report.name, "line": line, "reason": "; ".join(why)}
            for line, why in sorted(reasons.items())
        ]
    return skipped


def score_training_replies(train: Path, persona_id: str) -> dict[str, Any] | None:
    """How much the training replies sound like the persona's second-grader
    (:mod:`trainers.metric`); ``None`` when the metric or the persona is not available."""
    try:
        from agent.paths import persona_library
        from trainers.metric import score_dataset

        persona = persona_library().get(persona_id)
        rows = [json.loads(line) for line in train.read_text(encoding="utf-8").splitlines()]
        summary = score_dataset(rows, persona)
    except Exception:  # an optional summary; the cookbook checks already passed
        return None
    return {key: summary[key] for key in ("n", "mean", "share_above_0_6") if key in summary}


def locate_data(request: FineTuneRequest, store: Store) -> tuple[Path | None, Path, Path | None]:
    """(folder, training file, validation file or ``None``)."""
    if request.data is None:
        folder = export_dataset(request, store)
    elif request.data.is_file():
        return None, request.data, None
    elif request.data.is_dir():
        folder = request.data
    else:
        raise TrainingError(f"{request.data} does not exist", fix="pass --data a folder or file")
    train = folder / TRAIN_FILE
    if not train.is_file():
        raise TrainingError(f"{folder} has no {TRAIN_FILE}", fix="point --data at the dataset")
    validation = folder / VALIDATION_FILE
    return folder, train, validation if validation.is_file() else None


def export_dataset(request: FineTuneRequest, store: Store) -> Path:
    """Build the persona's dataset from the logged sessions and write it as OpenAI JSONL."""
    try:
        from trainers.datasets import Selection, build_dataset, write_openai
    except ImportError:
        raise TrainingError(
            "building a dataset from the logs is not available in this install",
            fix="export one and pass --data DIR (train.jsonl, validation.jsonl)",
        ) from None
    try:
        dataset = build_dataset(store, Selection(request.persona_id, **request.selection))
        dataset.raise_if_bad(request.skip_bad)
    except ValueError as error:  # BadRows lists the turns; or a bad date in the selection
        raise TrainingError(str(error)) from None
    if not dataset.train:
        raise TrainingError(
            f"the selected sessions of {request.persona_id!r} give no training rows",
            fix="log some sessions with `utta chat`, or widen the selection",
        )
    folder = work_dir(request.persona_id) / "dataset"
    write_openai(dataset, folder)
    return folder


def work_dir(persona_id: str) -> Path:
    """A fresh folder for this run's files under ``$UTTA_HOME/training/openai``."""
    from agent.paths import data_dir

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    folder = data_dir() / "training" / "openai" / f"{persona_id}-{stamp}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def read_manifest(folder: Path | None) -> dict[str, Any]:
    """The dataset folder's ``manifest.json``; ``{}`` when there is none or it is unreadable."""
    if folder is None or not (folder / MANIFEST_FILE).is_file():
        return {}
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def dataset_hash(folder: Path | None, files: list[Path | None]) -> str:
    """The dataset manifest's ``content_hash`` when there is one, else a sha256 of the files."""
    manifest = read_manifest(folder)
    if manifest.get("content_hash"):
        return str(manifest["content_hash"])
    digest = hashlib.sha256()
    for path in files:
        if path is not None:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return f"sha256:{digest.hexdigest()}"


def default_brain_name(store: Store, persona_id: str, suffix: str | None, job_id: str) -> str:
    """``PERSONA-SUFFIX`` or ``PERSONA-ft-JOBTAIL``; never the name of a brain already saved."""
    tail = job_id.split("-")[-1][-8:]
    name = f"{persona_id}-{suffix}" if suffix else f"{persona_id}-ft-{tail}"
    taken = {brain.name for brain in store.brains()}
    return name if name not in taken else f"{name}-{tail}"


def launch(
    request: FineTuneRequest,
    prepared: PreparedData,
    store: Store,
    client: OpenAI,
    *,
    progress: bool = False,
) -> JobRow:
    """Upload the files (a bytes bar each when ``progress``), start the job, and record it at
    once (before any watching)."""
    training_file = upload(client, prepared.train, request.base_url, progress=progress)
    validation_file = (
        upload(client, prepared.validation, request.base_url, progress=progress)
        if prepared.validation
        else None
    )
    job = create_job(
        client,
        request.base_url,
        model=request.model,
        training_file=training_file,
        validation_file=validation_file,
        suffix=request.suffix,
        hyperparameters=request.hyperparameters,
    )
    return record_job(
        store,
        provider=PROVIDER,
        base_url=request.base_url,
        job_id=job.id,
        model=request.model,
        status=job.status,
        persona_id=request.persona_id,
        brain_name=request.brain_name
        or default_brain_name(store, request.persona_id, request.suffix, job.id),
        training_file=training_file,
        validation_file=validation_file,
        manifest_hash=prepared.manifest_hash,
        hyperparameters=request.hyperparameters.as_dict(),
        dataset=prepared.dataset,
    )
