"""`utta serve vllm --base MODEL [--adapter NAME=PATH ...] | status | stop` — a local vLLM server.

The server keeps running in the background after `utta serve vllm` returns; it is recorded in
the user directory so that `utta serve status`, `utta serve stop` and the ``vllm`` brain find it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui.commands import CommandError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("serve", help="run a local vLLM server for fine-tuned brains")
    sub = parser.add_subparsers(dest="serve_command", metavar="ACTION", required=True)
    vllm = sub.add_parser(
        "vllm",
        help="start a vLLM server in the background (LoRA adapters on)",
        description="Start vLLM's OpenAI-compatible server in the background and wait until it "
        "answers. It keeps running after this command returns; stop it with `utta serve stop`.",
    )
    vllm.add_argument("--base", required=True, metavar="PATH_OR_ID", help="base model")
    vllm.add_argument(
        "--adapter",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="LoRA adapter to load at start (repeatable)",
    )
    vllm.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    vllm.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1); any other needs the key (no --no-key)",
    )
    vllm.add_argument("--max-lora-rank", type=int, default=8, help="largest adapter rank (8)")
    vllm.add_argument("--max-loras", type=int, default=2, help="adapters per batch (2)")
    vllm.add_argument(
        "--dtype", help="weight type, e.g. float32 on a CPU without bfloat16 (default: vLLM's)"
    )
    vllm.add_argument(
        "--max-model-len",
        type=int,
        help="longest prompt + reply in tokens (default: the base model's context)",
    )
    vllm.add_argument(
        "--kv-cache-gb",
        type=float,
        metavar="GB",
        help="KV cache size; default on a CPU: a quarter of the memory free now (1-8 GiB, "
        "whole GiB), on a GPU: from --gpu-memory-utilization",
    )
    vllm.add_argument(
        "--gpu-memory-utilization",
        type=float,
        metavar="F",
        help="GPU only: fraction of GPU memory vLLM may use (default: what is free, at most 0.9)",
    )
    vllm.add_argument(
        "--no-key",
        action="store_true",
        help="start without an API key (loopback --host only); by default a new key is "
        "stored 0600 in the data directory and the vllm brains send it",
    )
    vllm.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait for readiness (600)"
    )
    vllm.add_argument(
        "--detach", action="store_true", help="return at once, without waiting for readiness"
    )
    vllm.add_argument(
        "--vllm-arg", action="append", default=[], metavar="ARG",
        help="pass ARG to vLLM as is (repeatable), e.g. --vllm-arg=--tensor-parallel-size=2 "
        "--vllm-arg=--max-cpu-loras=16",
    )  # fmt: skip
    vllm.set_defaults(handler=serve_vllm)
    sub.add_parser("status", help="is the recorded server running and answering?").set_defaults(
        handler=serve_status
    )
    sub.add_parser("stop", help="stop the recorded server").set_defaults(handler=serve_stop)


def parse_adapters(items: list[str]) -> dict[str, Path]:
    adapters: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise CommandError(f"--adapter {item!r}: expected NAME=PATH, e.g. maya-v1=./adapter")
        if name in adapters:
            raise CommandError(f"--adapter: the name {name!r} is given twice")
        adapters[name.strip()] = Path(path.strip()).expanduser()
    return adapters


class _Progress:
    """One updating line on a terminal; a line every 15 s otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last_print = -15.0

    def __call__(self, elapsed: float, log_line: str) -> None:
        if self.tty:
            width = 100
            line = f"starting vLLM… {elapsed:4.0f} s  {log_line.strip()}"[:width]
            print(f"\r{line:<{width}}", end="", file=sys.stderr, flush=True)
        elif elapsed - self.last_print >= 15:
            self.last_print = elapsed
            print(f"starting vLLM… {elapsed:.0f} s", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.tty:
            print("\r" + " " * 100 + "\r", end="", file=sys.stderr, flush=True)


def serve_vllm(args: argparse.Namespace) -> int:
    from agent import serving
    from agent.brain import BrainError

    adapters = parse_adapters(args.adapter)
    progress = _Progress()
    try:
        record = serving.start(
            args.base,
            adapters,
            host=args.host,
            port=args.port,
            max_lora_rank=args.max_lora_rank,
            max_loras=args.max_loras,
            dtype=args.dtype,
            max_model_len=args.max_model_len,
            extra_args=args.vllm_arg,
            kv_cache_gb=args.kv_cache_gb,
            gpu_memory_utilization=args.gpu_memory_utilization,
            key=not args.no_key,
            wait=not args.detach,
            timeout=args.timeout,
            progress=progress,
        )
    except serving.ServeError as error:  # its message names the root cause from the log
        progress.done()
        fix = f"\n  fix: {error.fix}" if error.fix else ""
        raise CommandError(f"{error.message}{fix}") from None
    except BrainError as error:
        progress.done()
        raise CommandError(str(error)) from None
    progress.done()
    state = "starting" if args.detach else "ready"
    print(f"vLLM {state} at {record.base_url}/v1 (pid {record.pid})")
    print(f"  base model: {record.base}")
    for name, path in record.adapters.items():
        print(f"  adapter:    {name} = {path}")
    print(f"  memory:     {record.sizing}")
    print(f"  log:        {record.log_path}")
    if record.keyed:
        print(f"  key:        {serving.serve_dir() / 'vllm.key'} (sent by the vllm brains)")
    print("use it with the `vllm` brain; stop it with `utta serve stop`")
    return 0


def serve_status(args: argparse.Namespace) -> int:
    from agent import serving

    state = serving.status()
    record = state.record
    if record is None or not state.running:
        print(state.detail if record else "no vLLM server is running")
        print("start one with `utta serve vllm --base MODEL`")
        return 1
    print(f"vLLM at {record.base_url}/v1 (pid {record.pid}): {state.detail}")
    print(f"  base model: {record.base}")
    if state.answering:
        for name in state.models:
            if name != record.model:
                print(f"  adapter:    {name}")
    print(f"  log:        {record.log_path}")
    return 0 if state.answering else 1


def serve_stop(args: argparse.Namespace) -> int:
    from agent import serving

    state = serving.status(timeout=1.0)
    if state.record is None:
        print("no vLLM server is recorded; nothing to stop")
        return 0
    if not state.running:
        print(state.detail)
        return 0
    record = serving.stop() or state.record
    print(f"stopped the vLLM server at {record.base_url} (pid {record.pid})")
    return 0
