"""A tiny model, two LoRA adapters and a real vLLM server for the benchmarks (CPU build here).

Built on the fly like the test fixtures (tests/tinymodel.py): no model hub is reachable.
"""

from __future__ import annotations

import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SMALL_PERSONA = ROOT / "tests" / "data" / "personas" / "valid.yaml"


@dataclass(frozen=True)
class Served:
    base_url: str
    base: str
    adapter_b_path: Path
    home: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served_tiny_model() -> Iterator[Served]:
    """Start the server with adapter ``a`` loaded; adapter ``b`` is on disk for runtime loading."""
    from agent import serving
    from tests.tinymodel import build_tiny_model, make_lora_adapter

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = build_tiny_model(work / "base")
        adapter_a = make_lora_adapter(base, work / "a", seed=1)
        adapter_b = make_lora_adapter(base, work / "b", seed=2)
        home = work / "home"
        print("starting vLLM (CPU build)…", file=sys.stderr)
        record = serving.start(
            base=str(base),
            adapters={"a": adapter_a},
            port=_free_port(),
            max_lora_rank=8,
            max_loras=2,
            dtype="float32",
            max_model_len=512,
            extra_env={"VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1"},
            home=home,
            timeout=300,
        )
        try:
            yield Served(record.base_url, record.model, adapter_b, home)
        finally:
            serving.stop(home=home)


def zoe():
    """The short test persona: the tiny model's context is 512 tokens."""
    from personas.loader import load_persona_file

    return load_persona_file(SMALL_PERSONA)
