"""`utta serve vllm` on a real vLLM (CPU build) that cannot start: the root cause, not the tail."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import serving
from tests.plugins.models import free_port
from tui.cli import main


@pytest.mark.vllm
def test_a_kv_cache_larger_than_memory_is_named_with_its_fix(
    tiny_base: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    argv = ["serve", "vllm", "--base", str(tiny_base), "--port", str(free_port()),
            "--dtype", "float32", "--max-model-len", "512", "--kv-cache-gb", "100000"]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    cause = next(line for line in err.splitlines() if "cause:" in line)
    assert "Error" in cause and "memory" in cause.lower(), err
    assert "fix:" in err and "--kv-cache-gb" in err
    assert not serving.record_path().exists()  # nothing left recorded
    assert not (serving.serve_dir() / "vllm.key").exists()
