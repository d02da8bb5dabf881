"""The vLLM server's bookkeeping and adapter checks, without starting a server.

Starting a real server is covered by tests/test_vllm_brain.py through the session fixture.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent import serving
from agent.brain import BrainError
from tui.cli import main


def _adapter(folder: Path, **overrides) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "peft_type": "LORA",
        "r": 8,
        "lora_alpha": 16,
        "bias": "none",
        "target_modules": ["q_proj", "v_proj"],
        "modules_to_save": None,
        "use_dora": False,
    }
    config.update(overrides)
    (folder / "adapter_config.json").write_text(json.dumps(config))
    (folder / "adapter_model.safetensors").write_bytes(b"\0" * 16)
    return folder


def test_a_good_adapter_passes(tmp_path: Path) -> None:
    config = serving.check_adapter(_adapter(tmp_path / "ok"), max_rank=8)
    assert config["r"] == 8


@pytest.mark.parametrize(
    ("overrides", "field", "fix"),
    [
        ({"r": 16}, "`r` is 16", "--max-lora-rank 16"),
        ({"rank_pattern": {"q_proj": 32}}, "`r` is 32", "--max-lora-rank 32"),
        ({"modules_to_save": ["lm_head"]}, "`modules_to_save`", "without modules_to_save"),
        ({"use_dora": True}, "`use_dora`", "use_dora=False"),
        ({"bias": "all"}, "`bias` is 'all'", 'bias="none"'),
        ({"peft_type": "IA3"}, "`peft_type`", "LoraConfig"),
    ],
)
def test_bad_adapters_name_file_field_and_fix(tmp_path: Path, overrides, field, fix) -> None:
    folder = _adapter(tmp_path / "bad", **overrides)
    with pytest.raises(BrainError) as caught:
        serving.check_adapter(folder, max_rank=8)
    assert str(folder / "adapter_config.json") in caught.value.message
    assert field in caught.value.message
    assert fix in (caught.value.fix or "")


def test_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(BrainError, match="does not exist"):
        serving.check_adapter(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BrainError, match=r"adapter_config\.json is missing"):
        serving.check_adapter(tmp_path / "empty")
    folder = _adapter(tmp_path / "noweights")
    (folder / "adapter_model.safetensors").unlink()
    with pytest.raises(BrainError, match=r"adapter_model\.safetensors is missing"):
        serving.check_adapter(folder)


def test_broken_json_names_the_line(tmp_path: Path) -> None:
    folder = _adapter(tmp_path / "broken")
    (folder / "adapter_config.json").write_text('{\n  "r": 8,\n  oops\n}')
    with pytest.raises(BrainError, match=r"adapter_config\.json: line 3: not valid JSON"):
        serving.check_adapter(folder)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _write_stale_record(home: Path) -> serving.ServerRecord:
    record = serving.ServerRecord(
        pid=_dead_pid(),
        host="127.0.0.1",
        port=1,
        base="/models/base",
        adapters={"a": "/adapters/a"},
        log_path=str(home / "serve" / "vllm.log"),
    )
    path = serving.record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dataclasses.asdict(record)))
    return record


def test_status_with_a_stale_record_removes_it(utta_home: Path) -> None:
    record = _write_stale_record(utta_home)
    assert serving.read_record() == record
    state = serving.status()
    assert not state.running and not state.answering
    assert f"pid {record.pid}" in state.detail and "gone" in state.detail
    assert not serving.record_path().exists()


def test_stop_with_a_stale_record_cleans_up(utta_home: Path, capsys) -> None:
    _write_stale_record(utta_home)
    assert serving.stop() is not None
    assert not serving.record_path().exists()
    assert serving.stop() is None
    _write_stale_record(utta_home)
    assert main(["serve", "stop"]) == 0
    assert "gone" in capsys.readouterr().out
    assert not serving.record_path().exists()


def test_serve_status_when_nothing_runs(capsys) -> None:
    assert main(["serve", "status"]) == 1
    out = capsys.readouterr().out
    assert "no vLLM server is running" in out
    assert "utta serve vllm --base" in out


def test_serve_vllm_refuses_a_bad_adapter_before_starting(tmp_path: Path, capsys) -> None:
    bad = _adapter(tmp_path / "bad", r=64)
    code = main(["serve", "vllm", "--base", str(tmp_path), "--adapter", f"x={bad}", "--port", "1"])
    assert code == 1
    assert "`r` is 64" in capsys.readouterr().err
    assert not serving.record_path().exists()


def test_command_line_has_the_lora_flags(tmp_path: Path) -> None:
    argv = serving.build_command("/m", {"a": "/p/a", "b": "/p/b"}, port=9, max_lora_rank=8)
    assert argv[:3] == [sys.executable, "-m", "vllm.entrypoints.openai.api_server"]
    joined = " ".join(argv)
    assert "--enable-lora --max-lora-rank 8 --max-loras 2" in joined
    assert "--lora-modules a=/p/a b=/p/b" in joined
    assert serving.api_root("http://h:1/v1/") == serving.api_root("http://h:1") == "http://h:1"
