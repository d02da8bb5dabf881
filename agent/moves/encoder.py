"""Sentence embeddings from a model2vec static model, read with numpy only.

The files are the ones ``model2vec.StaticModel.save_pretrained`` writes (``tokenizer.json``,
``model.safetensors``, ``config.json``). We read them with ``tokenizers`` and ``safetensors``
instead of ``StaticModel.from_pretrained`` because that import pulls in huggingface_hub's model
cards and costs over a second, too slow for the chat's start; the computation is model2vec's
``encode`` (mean of token vectors, then unit length), and a test checks both agree.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


class StaticEncoder:
    """Mean-pooled static token embeddings, normalized to unit length."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.folder = folder
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        tensors = load_file(str(folder / "model.safetensors"))
        # int8 vectors are rescaled by one global factor: unit-normalizing removes it.
        self.vectors = tensors["embeddings"].astype(np.float32)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(int(config.get("max_length") or 512))
        unk = getattr(self.tokenizer.model, "unk_token", None)
        self.unk_id = self.tokenizer.token_to_id(unk) if unk else None
        self.dim = int(self.vectors.shape[1])

    def token_ids(self, text: str) -> list[int]:
        ids = self.tokenizer.encode(text, add_special_tokens=False).ids
        return [i for i in ids if i != self.unk_id]

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = self.token_ids(text)
            if ids:
                out[row] = self.vectors[ids].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True) + 1e-32
        return out / norms
