"""After training: register the adapter as a brain with its lineage, and load it into the
running vLLM server without a restart.

A ``vllm`` brain's spec names the adapter and its folder but not the server's address, so it
follows whatever `utta serve vllm` recorded; its health check loads the adapter again if the
server was restarted. A ``local`` brain runs the base model and the adapter in-process.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.serving import same_model
from trainers.lineage import build_lineage, dataset_lineage

if TYPE_CHECKING:
    from agent.serving import ServerRecord
    from trainers.lora import LoraResult
    from transcripts.records import BrainRow
    from transcripts.store import Store

KINDS = ("vllm", "local")


def default_brain_name(persona: str, now: datetime | None = None) -> str:
    """``<persona>-lora-YYYYmmdd-HHMMSS`` (UTC)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"{persona}-lora-{stamp}"


def lineage(result: LoraResult, *, created_at: str | None = None) -> dict[str, Any]:
    """Where the brain came from (:func:`trainers.lineage.build_lineage`): persona, base, data,
    hyperparameters, metrics and method; the adapter folder under ``extra``."""
    config = result.config
    data = result.data  # the data manifest plus what this trainer kept or skipped
    dataset = dataset_lineage(
        data,
        source=data.get("source"),
        rows=data.get("trained_rows"),
        skipped_by_trainer=data.get("skipped_by_trainer", []),
    )
    return build_lineage(
        method=config.method,
        persona=config.persona,
        base=config.base,
        dataset=dataset,
        hyperparameters=config.hyperparameters(),
        metrics=result.metrics(),
        extra={"adapter_dir": str(result.adapter_dir)},
        created_at=created_at,
    )


def brain_spec(result: LoraResult, name: str, kind: str) -> dict[str, Any]:
    """The options the ``vllm`` or ``local`` brain kind is built from."""
    adapter = str(Path(result.adapter_dir).resolve())
    if kind == "vllm":
        return {
            "adapter": name,
            "adapter_path": adapter,
            "base": result.config.base,
            "max_lora_rank": result.config.max_lora_rank,
        }
    if kind == "local":
        return {"base": result.config.base, "adapters": {name: adapter}, "adapter": name}
    raise ValueError(f"a LoRA brain is of kind {' or '.join(KINDS)}, not {kind!r}")


def register_brain(store: Store, name: str, result: LoraResult, *, kind: str) -> BrainRow:
    """Save the trained adapter in the store's brain registry under ``name``."""
    return store.save_brain(
        name,
        kind,
        brain_spec(result, name, kind),
        persona_id=result.config.persona,
        lineage=lineage(result),
    )


def running_server(home: Path | None = None) -> ServerRecord | None:
    """The recorded vLLM server if its process is alive and it answers, else ``None``."""
    from agent import serving

    status = serving.status(home)
    return status.record if status.running and status.answering else None


def load_into_server(
    adapter_dir: Path | str, name: str, *, base: str, home: Path | None = None
) -> ServerRecord:
    """Load the adapter into the running `utta serve vllm` server under ``name`` (replacing an
    adapter of that name), without restarting it. Raises :class:`agent.brain.BrainError` with
    a fix when no server runs or it serves another base model."""
    from agent import serving
    from agent.brain import BrainError

    record = running_server(home)
    if record is None:
        raise BrainError(
            "no vLLM server is running to load the adapter into",
            fix=f"start one with `utta serve vllm --base {base}` and load it with "
            f"`utta brains check {name}`",
        )
    if not same_model(record.base, base):
        raise BrainError(
            f"the running vLLM server serves {record.base}, but the adapter was trained on {base}",
            fix=f"restart it with `utta serve stop && utta serve vllm --base {base}`",
        )
    # each call sends the key stored beside the record in ``home``
    if name in serving.list_models(record.base_url, home=home):
        serving.unload_adapter(record.base_url, name, home=home)
    serving.load_adapter(
        record.base_url, name, adapter_dir, max_rank=record.max_lora_rank, home=home
    )
    return record
