"""What a LoRA training run reports: per-epoch losses, throughput, greedy samples of the trained
adapter and their authenticity. :class:`LoraResult` is also written as ``training_report.json``
beside the adapter, and its :meth:`~LoraResult.metrics` go into the brain's lineage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from trainers.lora_config import LoraTrainingConfig
from trainers.lora_data import Row, prompt_and_target, render


@dataclass(frozen=True)
class EpochLosses:
    epoch: int
    train_loss: float | None
    val_loss: float | None


@dataclass(frozen=True)
class Sample:
    """A greedy reply of the trained adapter to a held-out prompt, beside the logged reply."""

    teacher: str
    target: str
    reply: str


@dataclass
class LoraResult:
    """What a training run produced and how it went."""

    adapter_dir: Path
    config: LoraTrainingConfig
    history: list[EpochLosses]
    best_val_loss: float | None
    best_epoch: int | None
    train_tokens: int
    """Tokens (prompt and reply, no padding) passed through the model while training."""
    runtime_s: float
    """Wall time of ``trainer.train()``, its setup included."""
    loop_s: float
    """Time from the first step to the end of the last epoch (per-epoch evaluation included)."""
    trainable_parameters: int
    unchanged_parameters: list[str]
    """Names of LoRA tensors training did not move (should be empty)."""
    context_trimmed_rows: int
    """Rows that left out their oldest exchanges to fit max_seq_len (never part of a message)."""
    data: dict[str, Any]
    base_layers: dict[str, int] = field(default_factory=dict)
    """Class names of the frozen layers under the LoRA matrices, counted (e.g. Linear4bit: 8)."""
    samples: list[Sample] = field(default_factory=list)
    authenticity: float | None = None
    stopped_early: bool = False

    @property
    def tokens_per_s(self) -> float:
        """Training throughput over the training loop (setup excluded, like a step timer)."""
        return self.train_tokens / self.loop_s if self.loop_s > 0 else 0.0

    @property
    def exact_match(self) -> float | None:
        if not self.samples:
            return None
        return sum(s.reply.strip() == s.target.strip() for s in self.samples) / len(self.samples)

    @property
    def method(self) -> str:
        return self.config.method

    def metrics(self) -> dict[str, Any]:
        """Numbers for a brain's lineage and the report file."""
        return {
            "train_loss": [h.train_loss for h in self.history],
            "val_loss": [h.val_loss for h in self.history],
            "best_val_loss": self.best_val_loss,
            "best_epoch": self.best_epoch,
            "epochs_run": len(self.history),
            "stopped_early": self.stopped_early,
            "train_tokens": self.train_tokens,
            "runtime_s": round(self.runtime_s, 3),
            "loop_s": round(self.loop_s, 3),
            "tokens_per_s": round(self.tokens_per_s, 1),
            "trainable_parameters": self.trainable_parameters,
            "context_trimmed_rows": self.context_trimmed_rows,
            "base_layers": self.base_layers,
            "sample_exact_match": self.exact_match,
            "authenticity": self.authenticity,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "adapter_dir": str(self.adapter_dir),
            "method": self.method,
            "metrics": self.metrics(),
            "history": [asdict(h) for h in self.history],
            "samples": [asdict(s) for s in self.samples],
            "unchanged_parameters": self.unchanged_parameters,
        }

    def summary(self) -> str:
        layers = ", ".join(f"{count} x {name}" for name, count in self.base_layers.items())
        lines = [
            f"adapter: {self.adapter_dir} ({self.method}, r={self.config.rank}, over {layers})",
            "epochs: "
            + "  ".join(
                f"{h.epoch}: train {format_loss(h.train_loss)} / val {format_loss(h.val_loss)}"
                for h in self.history
            ),
        ]
        if self.best_val_loss is not None:
            lines.append(f"best val loss: {self.best_val_loss:.4f} (epoch {self.best_epoch})")
        lines.append(
            f"throughput: {self.tokens_per_s:,.0f} tokens/s "
            f"({self.train_tokens:,} tokens in a {self.loop_s:.1f} s training loop; "
            f"{self.runtime_s:.1f} s with setup)"
        )
        if self.exact_match is not None:
            lines.append(f"greedy samples matching the logged reply: {self.exact_match:.0%}")
        if self.authenticity is not None:
            lines.append(f"authenticity of greedy samples: {self.authenticity:.3f}")
        for sample in self.samples:
            lines.append(f"  teacher: {sample.teacher!r}  logged: {sample.target!r}")
            lines.append(f"    adapter: {sample.reply!r}")
        return "\n".join(lines)


def format_loss(loss: float | None) -> str:
    return "-" if loss is None else f"{loss:.4f}"


# --- after training -------------------------------------------------------------------------


def greedy_samples(
    model: Any, tokenizer: Any, rows: Sequence[Row], config: LoraTrainingConfig
) -> list[Sample]:
    """Greedy replies of ``model`` to the last teacher message of up to ``config.samples`` rows."""
    import torch

    samples: list[Sample] = []
    model.eval()
    device = next(model.parameters()).device
    for messages in rows[: config.samples]:
        prompt, target = prompt_and_target(messages)
        text = render(tokenizer, prompt, generation_prompt=True)
        ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        ids = ids[:, -(config.max_seq_len - config.sample_max_new_tokens) :].to(device)
        with torch.no_grad():
            output = model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=config.sample_max_new_tokens,
                do_sample=False,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
            )
        reply = tokenizer.decode(output[0, ids.shape[1] :], skip_special_tokens=True).strip()
        teacher = next((m["content"] for m in reversed(prompt) if m["role"] == "user"), "")
        samples.append(Sample(teacher=teacher, target=target, reply=reply))
    return samples


def authenticity(replies: Sequence[str], persona_id: str) -> float | None:
    """Mean authenticity of ``replies`` for the persona, when :mod:`trainers.metric` exists."""
    if not replies:
        return None
    try:
        from trainers import metric  # written by another part of the project; may be absent
    except ImportError:
        return None
    score = getattr(metric, "mean_authenticity", None)
    if score is None:
        return None
    from agent.paths import persona_library

    try:
        persona = persona_library().get(persona_id)
    except KeyError:
        return None
    return float(score(list(replies), persona))
