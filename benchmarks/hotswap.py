"""Hot-swap cost: a swap plus the next reply, against a plain reply, on one vLLM server.

    .venv/bin/python benchmarks/hotswap.py [--rounds 15]

Two vLLM brains (adapters ``a`` and ``b`` of a tiny Llama on a real CPU vLLM server) answer for
one StudentAgent. A plain turn is ``agent.reply``; a swap turn is ``agent.swap`` (its health check
included) followed by ``agent.reply``, alternating a→b→a. Adapter b's first load at runtime is
reported separately. Greedy decoding with a fixed token budget keeps replies comparable. Target:
swap + reply ≤ 1.5× a plain reply (median). Writes benchmarks/results/hotswap.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

from _server import ROOT, served_tiny_model, zoe

MESSAGES = ["what is 3 plus 2?", "count on from 3 please", "how did you get that?"]


async def measure(rounds: int, served) -> dict[str, float]:
    from agent.brains.vllm_brain import VllmBrain
    from agent.student import StudentAgent

    persona = zoe()
    common = {
        "server_url": served.base_url,
        "base": served.base,
        "temperature": 0.0,
        "max_tokens": 16,
    }
    brain_a = VllmBrain(name="a", adapter="a", **common)
    brain_b = VllmBrain(name="b", adapter="b", adapter_path=str(served.adapter_b_path), **common)
    agent = StudentAgent(persona, brain_a)
    await agent.reply("hi")  # warm the connection and the server

    started = time.perf_counter()
    await agent.swap(brain_b)  # b is not on the server yet: loaded at runtime here
    first_load = time.perf_counter() - started
    await agent.reply("hi again")
    await agent.swap(brain_a)

    plain, swapped = [], []
    for i in range(rounds):
        message = MESSAGES[i % len(MESSAGES)]
        agent.memory = type(agent.memory)()  # same prompt size every round
        started = time.perf_counter()
        await agent.reply(message)
        plain.append(time.perf_counter() - started)

        agent.memory = type(agent.memory)()
        other = brain_b if agent.brain is brain_a else brain_a
        started = time.perf_counter()
        await agent.swap(other)
        await agent.reply(message)
        swapped.append(time.perf_counter() - started)
    for brain in (brain_a, brain_b):
        await brain.aclose()
    return {
        "plain reply median (s)": statistics.median(plain),
        "swap + reply median (s)": statistics.median(swapped),
        "ratio": statistics.median(swapped) / statistics.median(plain),
        "first runtime adapter load + health (s)": first_load,
        "rounds": rounds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with served_tiny_model() as served:
        results = asyncio.run(measure(args.rounds, served))
    for name, value in results.items():
        print(f"{name:<42} {value:.4f}" if isinstance(value, float) else f"{name:<42} {value}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "hotswap.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
