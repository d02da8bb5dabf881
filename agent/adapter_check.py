"""Whether vLLM can load a LoRA adapter folder, checked before it is sent to a server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent.brain import BrainError

DEFAULT_MAX_LORA_RANK = 8
WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin")


def check_adapter(path: str | Path, max_rank: int = DEFAULT_MAX_LORA_RANK) -> dict[str, Any]:
    """Check that vLLM can load the LoRA adapter in ``path``; return its parsed config.

    Raises :class:`BrainError` naming the file, the field and the fix for: a missing or
    unparseable ``adapter_config.json``, a rank above ``max_rank``, ``modules_to_save``, DoRA,
    trained biases, or a missing weights file.
    """
    folder = Path(path)
    config_file = folder / "adapter_config.json"
    retrain = "retrain the adapter with PEFT LoraConfig"
    if not folder.is_dir():
        raise BrainError(
            f"adapter folder {folder} does not exist",
            fix="give the folder written by `save_pretrained` / `trainer.save_model`",
        )
    if not config_file.is_file():
        raise BrainError(
            f"{config_file} is missing",
            fix="give the folder written by `save_pretrained` / `trainer.save_model`",
        )
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise BrainError(
            f"{config_file}: line {error.lineno}: not valid JSON ({error.msg})",
            fix="re-save the adapter; the file may be truncated",
        ) from None
    except UnicodeDecodeError:
        raise BrainError(
            f"{config_file} is not JSON text (it holds binary or non-UTF-8 bytes)",
            fix="re-save the adapter with PEFT's save_pretrained; the file may be damaged",
        ) from None
    if not isinstance(config, dict):
        raise BrainError(f"{config_file}: expected a JSON object", fix="re-save the adapter")
    peft_type = str(config.get("peft_type", "LORA")).upper()
    if peft_type != "LORA":
        raise BrainError(
            f"{config_file}: field `peft_type` is {peft_type!r}; vLLM serves only LoRA",
            fix=f"{retrain}",
        )
    ranks = [config.get("r"), *(config.get("rank_pattern") or {}).values()]
    for rank in ranks:
        if not isinstance(rank, int) or rank < 1:
            raise BrainError(
                f"{config_file}: field `r` is {rank!r}, not a positive integer",
                fix="re-save the adapter with PEFT",
            )
        if rank > max_rank:
            raise BrainError(
                f"{config_file}: field `r` is {rank}, above the server's --max-lora-rank "
                f"{max_rank}",
                fix=f"{retrain}(r={max_rank}) or restart the server with "
                f"`utta serve vllm --max-lora-rank {rank}`",
            )
    if config.get("modules_to_save"):
        raise BrainError(
            f"{config_file}: field `modules_to_save` is {config['modules_to_save']!r}; vLLM "
            "refuses adapters that save whole modules",
            fix=f"{retrain} without modules_to_save, and do not add tokens while training",
        )
    if config.get("use_dora"):
        raise BrainError(
            f"{config_file}: field `use_dora` is true; vLLM does not serve DoRA adapters",
            fix=f"{retrain}(use_dora=False)",
        )
    if config.get("bias", "none") != "none" or config.get("lora_bias"):
        field_name = "lora_bias" if config.get("lora_bias") else "bias"
        raise BrainError(
            f"{config_file}: field `{field_name}` is {config.get(field_name)!r}; vLLM refuses "
            "adapters with trained biases",
            fix=f'{retrain}(bias="none")',
        )
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        raise BrainError(
            f"{folder / WEIGHT_FILES[0]} is missing (no adapter weights in {folder})",
            fix="copy the whole adapter folder, including adapter_model.safetensors",
        )
    return config
