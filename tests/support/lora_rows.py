"""Shared by the LoRA-data tests: the tiny test tokenizer (built once per process) and the texts a
tokenized row trains on."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any


@functools.cache
def built_tokenizer() -> Any:
    """Trained once per process (mutation runs fork workers that inherit it)."""
    from tests.tinymodel import build_tokenizer

    return build_tokenizer(Path(tempfile.mkdtemp(prefix="utta-tokenizer-")))


def trained_text(tokenizer: Any, row: Any) -> list[str]:
    """The texts the row's labels train on, one per run of labelled tokens; every labelled token
    must be labelled with itself."""
    from trainers.lora_data import IGNORE_INDEX

    runs: list[list[int]] = []
    previous = False
    for token, label in zip(row.input_ids, row.labels, strict=True):
        if label != IGNORE_INDEX:
            assert label == token
            if not previous:
                runs.append([])
            runs[-1].append(token)
        previous = label != IGNORE_INDEX
    return [tokenizer.decode(run) for run in runs]
