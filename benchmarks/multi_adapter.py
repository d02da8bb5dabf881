"""Many adapters at once: 8 concurrent sessions over 4 LoRA adapters against 8 on the base model.

    .venv/bin/python benchmarks/multi_adapter.py [--rounds 6] [--sessions 8] [--adapters 4]

One real vLLM server (the CPU build here; a tiny Llama from tests/tinymodel.py and four PEFT
adapters made on it) serves both sides, started with ``--max-loras`` equal to the adapter count
so every adapter fits in one batch. A round sends ``--sessions`` streamed chat requests at once,
either all to the base model or spread evenly over the adapters, with the same prompts and the
same token budget (greedy, ``ignore_eos``, so every reply is exactly ``--max-tokens`` long).
Rounds alternate base / adapters so a change in machine load hits both alike.

Prints tokens/s for both (completion tokens of a round / its wall time, median over rounds), the
ratio adapters/base (target >= 0.8) and time-to-first-token percentiles. Writes
benchmarks/results/multi_adapter.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _server import ROOT, _free_port

PROMPTS = [
    "what is 52 minus 27?",
    "can you show me how you got that?",
    "how many tens and ones are in 52?",
    "what could we do with one of the tens?",
    "do you like horses?",
    "count by tens for me please",
    "which is bigger, 98 or 102?",
    "what goes in the blank: 3 + 4 = __ + 2?",
]


async def one_request(client, model: str, prompt: str, max_tokens: int) -> tuple[float, int]:
    """(time to first token, completion tokens) of one streamed reply."""
    started = time.perf_counter()
    first = None
    tokens = 0
    stream = await client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": prompt}],
        max_tokens=max_tokens,
        temperature=0.0,
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"ignore_eos": True, "min_tokens": max_tokens},
    )
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - started
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
    return (first if first is not None else time.perf_counter() - started), tokens


async def one_round(client, models: list[str], max_tokens: int) -> tuple[float, list[float]]:
    """Send one request per model at once; (tokens/s of the round, TTFTs)."""
    started = time.perf_counter()
    results = await asyncio.gather(
        *(
            one_request(client, model, PROMPTS[i % len(PROMPTS)], max_tokens)
            for i, model in enumerate(models)
        )
    )
    wall = time.perf_counter() - started
    return sum(tokens for _, tokens in results) / wall, [ttft for ttft, _ in results]


def percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49], "p90": cuts[89], "p99": cuts[98]}


async def measure(base_url: str, base: str, adapters: list[str], args) -> dict:
    import openai

    client = openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0)
    base_models = [base] * args.sessions
    adapter_models = [adapters[i % len(adapters)] for i in range(args.sessions)]
    await one_round(client, base_models, args.max_tokens)  # warm-up: graphs, adapters loaded
    await one_round(client, adapter_models, args.max_tokens)
    rates: dict[str, list[float]] = {"base": [], "adapters": []}
    ttfts: dict[str, list[float]] = {"base": [], "adapters": []}
    for _ in range(args.rounds):
        for side, models in (("base", base_models), ("adapters", adapter_models)):
            rate, firsts = await one_round(client, models, args.max_tokens)
            rates[side].append(rate)
            ttfts[side] += firsts
    await client.close()
    base_rate = statistics.median(rates["base"])
    adapter_rate = statistics.median(rates["adapters"])
    return {
        "machine": f"{platform.node()} ({platform.machine()}, {_cpus()} CPUs), vLLM CPU build",
        "sessions": args.sessions,
        "adapters": len(adapters),
        "max_tokens": args.max_tokens,
        "rounds": args.rounds,
        "base tokens/s (median)": base_rate,
        "adapters tokens/s (median)": adapter_rate,
        "ratio adapters/base": adapter_rate / base_rate,
        "base tokens/s per round": rates["base"],
        "adapters tokens/s per round": rates["adapters"],
        "base TTFT s": percentiles(ttfts["base"]),
        "adapters TTFT s": percentiles(ttfts["adapters"]),
    }


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--adapters", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=32)
    args = parser.parse_args()

    from agent import serving
    from tests.tinymodel import build_tiny_model, make_lora_adapter

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = build_tiny_model(work / "base")
        adapters = {
            f"adapter-{i}": make_lora_adapter(base, work / f"adapter-{i}", seed=i + 1)
            for i in range(args.adapters)
        }
        home = work / "home"
        print("starting vLLM (CPU build)…", file=sys.stderr)
        record = serving.start(
            base=str(base),
            adapters=adapters,
            port=_free_port(),
            max_lora_rank=8,
            max_loras=args.adapters,  # every adapter in one batch
            dtype="float32",
            max_model_len=512,
            extra_env={"VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1"},
            home=home,
            timeout=600,
        )
        try:
            results = asyncio.run(measure(record.base_url, record.model, list(adapters), args))
        finally:
            serving.stop(home=home)
    for name, value in results.items():
        if isinstance(value, float):
            print(f"{name:<30} {value:.3f}")
        elif isinstance(value, dict):
            print(f"{name:<30} " + "  ".join(f"{k} {v:.3f}" for k, v in value.items()))
        elif isinstance(value, list):
            print(f"{name:<30} " + " ".join(f"{v:.1f}" for v in value))
        else:
            print(f"{name:<30} {value}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "multi_adapter.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
