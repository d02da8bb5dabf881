"""One shape for a trained brain's lineage, whichever trainer made it.

The LoRA, DSPy and OpenAI trainers register their brains with :func:`build_lineage`, so
``utta brains compare`` (which flattens lineage into ``lineage.dataset.content_hash`` and the
like) lines up the same fields instead of reporting every one as different. The top-level keys:

==================  ===========================================================================
``method``          how it was trained: ``lora``, ``qlora-4bit``, ``dspy-bootstrap``,
                    ``openai-fine-tuning``, ...
``persona``         the persona id
``base``            what was trained on top of: a model path or id, or a DSPy brain's LM spec
``dataset``         :func:`dataset_lineage`: ``content_hash``, ``source``, ``rows`` (``train``,
                    ``validation``), ``skipped`` (left out when the dataset was built, from its
                    manifest) and ``skipped_by_trainer`` (left out by the trainer's own checks,
                    each with where it was and why)
``hyperparameters`` the settings that shaped it
``metrics``         how it did (losses, scores, ...)
``created_at``      when the lineage was written (UTC, ISO 8601, seconds)
``extra``           what only this trainer has (adapter folder, program file, provider job id)
==================  ===========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

LINEAGE_KEYS = (
    "method", "persona", "base", "dataset", "hyperparameters", "metrics", "created_at", "extra",
)  # fmt: skip
DATASET_KEYS = ("content_hash", "source", "rows", "skipped", "skipped_by_trainer")


def dataset_lineage(
    manifest: Mapping[str, Any] | None = None,
    *,
    content_hash: str | None = None,
    source: str | None = None,
    rows: Mapping[str, int] | None = None,
    skipped_by_trainer: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The ``dataset`` part of a lineage, with every one of :data:`DATASET_KEYS`.

    ``manifest`` is the dataset's manifest (:mod:`trainers.manifest`), if there is one: its
    ``content_hash``, ``skipped`` and split sizes are used unless given here. ``rows`` are the
    rows actually trained on, by split; ``skipped_by_trainer`` the rows or lines the trainer
    left out, e.g. ``{"split": "train", "line": 3, "reason": "..."}``.
    """
    manifest = manifest or {}
    if rows is None:
        splits = manifest.get("splits") or {}
        rows = {
            name: int((splits.get(name) or {}).get("rows", 0)) for name in ("train", "validation")
        }
    return {
        "content_hash": content_hash or manifest.get("content_hash"),
        "source": source,
        "rows": {"train": int(rows.get("train", 0)), "validation": int(rows.get("validation", 0))},
        "skipped": list(manifest.get("skipped", [])),
        "skipped_by_trainer": [dict(item) for item in skipped_by_trainer],
    }


def build_lineage(
    *,
    method: str,
    persona: str | None,
    base: Any,
    dataset: Mapping[str, Any],
    hyperparameters: Mapping[str, Any],
    metrics: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
    created_at: str | None = None,
) -> dict[str, Any]:
    """A brain's lineage with exactly the keys :data:`LINEAGE_KEYS`.

    ``dataset`` is normally :func:`dataset_lineage`'s result; whatever of
    :data:`DATASET_KEYS` it lacks is filled in empty, so every lineage has them all.
    """
    return {
        "method": method,
        "persona": persona,
        "base": base,
        "dataset": {**dataset_lineage(), **dataset},
        "hyperparameters": dict(hyperparameters),
        "metrics": dict(metrics),
        "created_at": created_at or datetime.now(UTC).isoformat(timespec="seconds"),
        "extra": dict(extra or {}),
    }
