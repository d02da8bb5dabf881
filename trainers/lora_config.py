"""The LoRA trainer's settings: one typed, validated record, saved beside every adapter.

Every field carries a help string (``fields(LoraTrainingConfig)[i].metadata["help"]``), which the
CLI reuses for its ``--help``. :meth:`LoraTrainingConfig.save` writes ``training_config.json``
next to the adapter so an adapter always says how it was made. A plain dataclass (not pydantic)
keeps `utta --help` fast: the CLI reads these help strings while building its parser.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from trainers.errors import TrainingError

Quantize = Literal["4bit", "8bit"]
TrainOn = Literal["last", "all"]
QUANTIZE_CHOICES = ("4bit", "8bit")
TRAIN_ON_CHOICES = ("last", "all")
CONFIG_FILE = "training_config.json"
DEFAULT_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")
DEFAULT_MAX_LORA_RANK = 8  # agent.serving.DEFAULT_MAX_LORA_RANK; repeated to keep imports light


class ConfigError(TrainingError, ValueError):
    """A setting is out of range; the message names the field, what is wrong and the fix."""


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True)
class LoraTrainingConfig:
    """How to LoRA-train a student brain on logged conversations."""

    base: str = field(
        metadata=_help(
            "Base model: a folder saved with save_pretrained (model, tokenizer with a chat "
            "template) or a hub id already in the local cache."
        )
    )
    persona: str = field(metadata=_help("Persona id the adapter plays (e.g. maya)."))
    output_dir: Path = field(
        metadata=_help("Folder for the adapter, training_config.json, data_manifest.json.")
    )
    rank: int = field(
        default=8, metadata=_help("LoRA rank r; at most the server's --max-lora-rank.")
    )
    alpha: float = field(
        default=16.0, metadata=_help("LoRA alpha; the update is scaled by alpha/r.")
    )
    dropout: float = field(default=0.05, metadata=_help("Dropout on the LoRA input, in [0, 1)."))
    target_modules: tuple[str, ...] = field(
        default=DEFAULT_TARGET_MODULES,
        metadata=_help("Linear layers that get LoRA matrices (vLLM serves q/k/v/o_proj)."),
    )
    train_on: TrainOn = field(
        default="last",
        metadata=_help(
            "Which student replies carry the loss: the last of each row (the dataset builder "
            "repeats earlier replies as context) or all of them."
        ),
    )
    epochs: int = field(
        default=3,
        metadata=_help("Passes over the training rows (an upper bound with early stopping)."),
    )
    lr: float = field(default=2e-4, metadata=_help("Peak AdamW learning rate (linear decay to 0)."))
    batch_size: int = field(default=8, metadata=_help("Rows per optimizer step."))
    max_seq_len: int | None = field(
        default=None,
        metadata=_help(
            "Longest row in tokens (none: the base model's context). Nothing is cut inside a "
            "message: a longer row leaves out its oldest exchanges, and a row whose persona "
            "prompt and reply alone do not fit stops training (--skip-bad leaves it out, listed)."
        ),
    )
    quantize: Quantize | None = field(
        default=None,
        metadata=_help(
            "Load the frozen base in 4-bit NF4 or 8-bit through bitsandbytes (QLoRA); none trains "
            "over full-precision weights."
        ),
    )
    early_stopping_patience: int = field(
        default=2,
        metadata=_help(
            "Stop after this many epochs without a lower validation loss and keep the best epoch; "
            "0 turns early stopping off."
        ),
    )
    seed: int = field(
        default=0, metadata=_help("Seed for LoRA initialisation, shuffling and dropout.")
    )
    use_cpu: bool = field(
        default=True, metadata=_help("Train on the CPU even when a GPU is present.")
    )
    gradient_checkpointing: bool = field(
        default=False,
        metadata=_help("Recompute activations in the backward pass to save memory (slower)."),
    )
    max_lora_rank: int = field(
        default=DEFAULT_MAX_LORA_RANK,
        metadata=_help("The vLLM server's --max-lora-rank; the adapter is checked against it."),
    )
    samples: int = field(
        default=4,
        metadata=_help("Held-out prompts answered greedily after training, for the report."),
    )
    sample_max_new_tokens: int = field(
        default=32, metadata=_help("Longest greedy sample reply, in tokens.")
    )

    def __post_init__(self) -> None:
        modules = self.target_modules
        if isinstance(modules, str):  # "q_proj,v_proj" from a command line
            modules = tuple(part.strip() for part in modules.split(",") if part.strip())
        object.__setattr__(self, "target_modules", tuple(modules))
        object.__setattr__(self, "output_dir", Path(self.output_dir).expanduser())
        object.__setattr__(self, "alpha", float(self.alpha))
        for message, fix in self.problems():
            raise ConfigError(message, fix=fix)

    def problems(self) -> list[tuple[str, str]]:
        """Every out-of-range setting: (what is wrong, the fix)."""
        checks = [
            ("base", bool(str(self.base).strip()), "give a model folder or id"),
            ("persona", bool(self.persona.strip()), "give a persona id"),
            ("rank", self.rank >= 1, "use 1 or more"),
            ("alpha", self.alpha > 0, "use a positive number"),
            ("dropout", 0 <= self.dropout < 1, "use a value from 0 up to (not including) 1"),
            ("target_modules", bool(self.target_modules), "name at least one layer"),
            ("train_on", self.train_on in TRAIN_ON_CHOICES, "use last or all"),
            ("epochs", self.epochs >= 1, "use 1 or more"),
            ("lr", self.lr > 0, "use a positive number"),
            ("batch_size", self.batch_size >= 1, "use 1 or more"),
            ("max_seq_len", self.max_seq_len is None or self.max_seq_len >= 16,
             "use 16 or more"),
            ("quantize", self.quantize in (None, *QUANTIZE_CHOICES), "use 4bit, 8bit or none"),
            ("early_stopping_patience", self.early_stopping_patience >= 0, "use 0 or more"),
            ("samples", self.samples >= 0, "use 0 or more"),
            ("sample_max_new_tokens",
             1 <= self.sample_max_new_tokens < (self.max_seq_len or self.sample_max_new_tokens + 1),
             "use 1 or more, below max_seq_len"),
        ]  # fmt: skip
        found = [(f"{name} is {getattr(self, name)!r}", fix) for name, ok, fix in checks if not ok]
        if self.rank > self.max_lora_rank:
            found.append(
                (
                    f"rank is {self.rank}, above the server's --max-lora-rank "
                    f"{self.max_lora_rank} (vLLM would refuse the adapter)",
                    f"use rank {self.max_lora_rank} or less, or restart the server with "
                    f"`utta serve vllm --max-lora-rank {self.rank}`",
                )
            )
        return found

    @property
    def method(self) -> str:
        """``lora``, ``qlora-4bit`` or ``qlora-8bit``, as recorded in a brain's lineage."""
        return f"qlora-{self.quantize}" if self.quantize else "lora"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["output_dir"] = str(self.output_dir)
        data["target_modules"] = list(self.target_modules)
        return data

    def hyperparameters(self) -> dict[str, Any]:
        """The settings that shape the adapter (for lineage), without paths."""
        data = self.to_dict()
        for key in ("base", "persona", "output_dir"):
            data.pop(key)
        return data

    def save(self, folder: Path | None = None) -> Path:
        path = Path(folder or self.output_dir) / CONFIG_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: Path | str) -> LoraTrainingConfig:
        data = json.loads((Path(folder) / CONFIG_FILE).read_text(encoding="utf-8"))
        return cls(**data)


def field_help(name: str) -> str:
    """A field's help string with its default, for argparse."""
    info = next(f for f in fields(LoraTrainingConfig) if f.name == name)
    text = info.metadata["help"]
    if info.default is MISSING:
        return text
    default = info.default
    shown = ",".join(default) if isinstance(default, tuple) else default
    shown = "none" if shown is None else shown
    return f"{text} (default: {shown})"
