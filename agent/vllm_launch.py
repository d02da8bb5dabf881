"""What a vLLM server needs from this machine: memory sizing, its key, and why a start failed.

- **Memory.** vLLM's CPU build reserves ``--gpu-memory-utilization`` (0.92) of *all* memory by
  default and refuses to start when less is free. We give it an explicit KV cache instead
  (``VLLM_CPU_KVCACHE_SPACE``, whole GiB), sized from the memory free now. On a GPU we pass a
  ``--gpu-memory-utilization`` that fits the memory free on it.
- **The key.** ``utta serve vllm`` starts the server with an API key (vLLM's ``VLLM_API_KEY``,
  passed by environment so it never shows in ``ps`` or the log's command line). The key is stored
  with mode 0600 beside the server record; the ``vllm`` brain and the adapter-loading calls send
  it. It is shaped like an ``sk-`` key so :func:`agent.secrets.redact_secrets` hides it anywhere.
- **Root cause.** A failed start ends in a generic traceback ("Engine core initialization
  failed"); the reason is an exception line further up the log. :func:`root_cause` finds it and
  :func:`fix_for` says what to change.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

GIB = 1024**3
KEY_FILE = "vllm.key"
CPU_KV_FRACTION = 0.25
"""Share of the memory free now that the CPU build's KV cache gets by default (the weights and
the engine need the rest)."""
CPU_KV_MAX_GB = 8
GPU_HEADROOM = 0.05
"""Fraction of the GPU left free for other processes when sizing ``--gpu-memory-utilization``."""


# --- memory ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizing:
    """How the server's memory is set: extra arguments, extra environment, and a summary."""

    args: tuple[str, ...]
    env: dict[str, str]
    summary: str


def is_cpu_build() -> bool:
    """Whether the installed vLLM is the CPU build (``vllm-cpu``) or no NVIDIA GPU is visible."""
    try:
        distribution("vllm-cpu")
        return True
    except PackageNotFoundError:
        pass
    return gpu_memory() is None


def available_memory_gb() -> float:
    """Memory the kernel says a new process can use now (``MemAvailable``), in GiB."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024 / GIB
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / GIB


def gpu_memory() -> tuple[float, float] | None:
    """(free, total) GiB of the first NVIDIA GPU, from ``nvidia-smi``; ``None`` without one."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.free,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout  # fmt: skip
        free, total = (float(part) / 1024 for part in out.splitlines()[0].split(","))
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None
    return free, total


def size_memory(
    *,
    kv_cache_gb: float | None = None,
    gpu_memory_utilization: float | None = None,
    cpu: bool | None = None,
) -> Sizing:
    """The memory settings for a server on this machine (see the module docstring).

    ``kv_cache_gb`` fixes the KV cache (on a CPU in whole GiB, at least 1); else it is sized from
    free memory. ``gpu_memory_utilization`` is passed through on a GPU.
    """
    cpu = is_cpu_build() if cpu is None else cpu
    if cpu:
        if kv_cache_gb is None:
            free = available_memory_gb()
            gb = max(1, min(CPU_KV_MAX_GB, int(free * CPU_KV_FRACTION)))
            why = f"{CPU_KV_FRACTION:.0%} of {free:.1f} GiB free"
        else:
            gb, why = max(1, round(kv_cache_gb)), "--kv-cache-gb"
        return Sizing((), {"VLLM_CPU_KVCACHE_SPACE": str(gb)}, f"KV cache {gb} GiB ({why}, CPU)")
    if kv_cache_gb is not None:
        size = str(int(kv_cache_gb * GIB))
        return Sizing(("--kv-cache-memory-bytes", size), {}, f"KV cache {kv_cache_gb:g} GiB (GPU)")
    if gpu_memory_utilization is None:
        found = gpu_memory()
        if found is None:
            return Sizing((), {}, "GPU memory: vLLM's default")
        free, total = found
        gpu_memory_utilization = round(max(0.1, min(0.9, free / total - GPU_HEADROOM)), 2)
        why = f"{free:.1f} of {total:.1f} GiB free"
    else:
        why = "--gpu-memory-utilization"
    return Sizing(
        ("--gpu-memory-utilization", str(gpu_memory_utilization)),
        {},
        f"GPU memory utilization {gpu_memory_utilization} ({why})",
    )


# --- the key --------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_key() -> str:
    return "sk-utta-" + secrets.token_urlsafe(24)


def write_key(folder: Path, key: str) -> Path:
    """Store ``key`` in ``folder/vllm.key``, readable by this user only (0600)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / KEY_FILE
    path.unlink(missing_ok=True)  # a new file gets the mode below, whatever the old one had
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return path


def read_key(folder: Path) -> str | None:
    try:
        return (folder / KEY_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def remove_key(folder: Path) -> None:
    (folder / KEY_FILE).unlink(missing_ok=True)


# --- why a start failed ---------------------------------------------------------------------

_EXCEPTION_LINE = re.compile(
    r"(?P<type>(?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit)):\s*(?P<text>\S.*)"
)
# vLLM's prefixes before a traceback line: "(Worker pid=7) ERROR 11-28 05:26:35 [file.py:9] ".
_LOG_PREFIX = re.compile(
    r"^(?:\(\w+(?: pid=\d+)?\)\s+)?(?:(?:ERROR|CRITICAL)\s+\S+\s+\S+\s+\[[^\]]*\]\s+)?"
)
_WRAPPERS = (
    "Engine core initialization failed",
    "See root cause above",
    "Worker failed",
    "WorkerProc initialization failed",
    "Engine process failed to start",
    "APIServer",
)
_FIXES = (
    (
        re.compile(r"memory.*(less than|not enough)|less than.*memory|Cannot allocate", re.I),
        "lower the KV cache with `--kv-cache-gb 1` (CPU) or `--gpu-memory-utilization 0.5` "
        "(GPU), or free memory used by other processes",
    ),
    (
        re.compile(r"out of memory", re.I),
        "lower `--gpu-memory-utilization`, `--kv-cache-gb` or `--max-model-len`",
    ),
    (
        re.compile(r"max_model_len|max-model-len|maximum (sequence|context) length", re.I),
        "set `--max-model-len` to the base model's context or less",
    ),
    (
        re.compile(r"bfloat16|float16|dtype", re.I),
        "choose a type this machine supports, e.g. `--dtype float32` on a CPU",
    ),
    (
        re.compile(r"address already in use", re.I),
        "choose another `--port`, or stop the server using it",
    ),
    (
        re.compile(
            r"Repository Not Found|not a valid model|does not appear to have|No such file|"
            r"Can't load|not a local folder|config\.json",
            re.I,
        ),
        "check `--base`: a model folder with config.json, or a hub id this machine can download",
    ),
)
_DEFAULT_FIX = "read the log; check --base, --dtype, --max-model-len and free memory"


def root_cause(log_text: str) -> str | None:
    """The first exception line of the log that is not a generic wrapper, else the last one."""
    found = []
    for line in log_text.splitlines():
        # an exception line starts the (unprefixed) line; a warning that quotes one does not
        match = _EXCEPTION_LINE.match(_LOG_PREFIX.sub("", line, count=1))
        if match:
            found.append(f"{match['type'].rsplit('.', 1)[-1]}: {match['text'].strip()}")
    specific = [line for line in found if not any(w in line for w in _WRAPPERS)]
    if specific:
        return specific[0]
    return found[-1] if found else None


def fix_for(cause: str | None) -> str:
    for pattern, fix in _FIXES:
        if cause and pattern.search(cause):
            return fix
    return _DEFAULT_FIX
