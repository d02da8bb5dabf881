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


# --- sizing, the key, the root cause of a failed start ----------------------------------------

# The shape of a real failed start on the CPU build (log of `utta serve vllm` on a machine with
# too little free memory): the cause is a worker's ValueError, far above the final traceback.
FAILED_START_LOG = """\
INFO 11-27 10:00:01 [api_server.py:1] vLLM API server version 0.32.0
(APIServer pid=9210) WARNING 11-28 05:25:17 [system_utils.py:255] Found ulimit of 20000 and \
failed to automatically increase with error current limit exceeds maximum limit. This can cause \
fd limit errors like `OSError: [Errno 24] Too many open files`. Consider increasing with ulimit -n
(EngineCore_DP0 pid=4242) ERROR 11-27 10:00:20 [core.py:9] EngineCore failed to start.
(EngineCore_DP0 pid=4242) ERROR 11-27 10:00:20 [core.py:9] Traceback (most recent call last):
(EngineCore_DP0 pid=4242) ERROR 11-27 10:00:20 [core.py:9]   File "cpu_worker.py", line 80
(EngineCore_DP0 pid=4242) ERROR 11-27 10:00:20 [core.py:9]     raise ValueError(
(EngineCore_DP0 pid=4242) ERROR 11-27 10:00:20 [core.py:9] ValueError: Available memory on \
node 0 (9.95/11.84 GiB) on \
startup is less than desired CPU memory utilization (0.92, 10.89 GiB).
Traceback (most recent call last):
  File "vllm/entrypoints/openai/api_server.py", line 2, in <module>
RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}
"""


def test_root_cause_is_the_first_specific_exception_not_the_last_line() -> None:
    from agent import vllm_launch

    cause = vllm_launch.root_cause(FAILED_START_LOG)
    assert cause is not None and cause.startswith("ValueError: Available memory on node 0")
    assert "--kv-cache-gb" in vllm_launch.fix_for(cause)
    only_wrapper = "RuntimeError: Engine core initialization failed. See root cause above."
    assert vllm_launch.root_cause(only_wrapper) == only_wrapper
    assert vllm_launch.root_cause("INFO all fine\n") is None


def test_a_server_that_exits_reports_the_root_cause_line(utta_home: Path) -> None:
    """The start failure names the cause line from the log and its fix, not the last line."""
    log = utta_home / "vllm.log"
    log.write_text(FAILED_START_LOG)
    record = serving.ServerRecord(pid=_dead_pid(), host="127.0.0.1", port=1, base="/m",
                                  log_path=str(log))  # fmt: skip
    with pytest.raises(serving.ServeError) as caught:
        serving.wait_until_ready(record, timeout=5)
    assert "cause: ValueError: Available memory on node 0" in caught.value.message
    assert "--kv-cache-gb" in (caught.value.fix or "")


def test_cpu_sizing_sets_the_kv_cache_space_from_free_memory() -> None:
    from agent import vllm_launch

    auto = vllm_launch.size_memory(cpu=True)
    assert 1 <= int(auto.env["VLLM_CPU_KVCACHE_SPACE"]) <= vllm_launch.CPU_KV_MAX_GB
    assert "free" in auto.summary and auto.args == ()
    fixed = vllm_launch.size_memory(cpu=True, kv_cache_gb=2)
    assert fixed.env == {"VLLM_CPU_KVCACHE_SPACE": "2"}
    gpu = vllm_launch.size_memory(cpu=False, gpu_memory_utilization=0.5)
    assert gpu.args == ("--gpu-memory-utilization", "0.5") and gpu.env == {}
    assert vllm_launch.size_memory(cpu=False, kv_cache_gb=1).args[0] == "--kv-cache-memory-bytes"


def test_a_public_host_without_a_key_is_refused_before_starting(capsys) -> None:
    code = main(["serve", "vllm", "--base", "/m", "--host", "0.0.0.0", "--no-key", "--port", "1"])
    assert code == 1
    err = capsys.readouterr().err
    assert "without a key" in err and "--host 127.0.0.1" in err
    assert not serving.record_path().exists()


def test_the_key_is_stored_owner_only_and_found_for_the_recorded_server(
    utta_home: Path, monkeypatch
) -> None:
    from agent import vllm_launch

    monkeypatch.delenv("VLLM_API_KEY", raising=False)
    key = vllm_launch.new_key()
    path = vllm_launch.write_key(serving.serve_dir(), key)
    assert path.stat().st_mode & 0o777 == 0o600
    record = serving.ServerRecord(pid=1, host="127.0.0.1", port=8011, base="/m", keyed=True)
    serving._write_record(record, None)
    assert serving.server_key("http://127.0.0.1:8011/v1") == key
    assert serving.server_key("http://127.0.0.1:9999") is None  # another server: no stored key
    monkeypatch.setenv("VLLM_API_KEY", "sk-other-server-key-123")
    assert serving.server_key("http://127.0.0.1:9999") == "sk-other-server-key-123"
    from agent.secrets import redact_secrets

    assert key not in redact_secrets(f"the key is {key}", [])
