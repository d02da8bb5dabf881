"""The agent's own cost per turn, without a model: a brain that streams a fixed reply.

    .venv/bin/python benchmarks/agent_turn.py [--turns 200] [--runs 2] [--profile]

Each turn is ``StudentAgent.reply``: state update, memory window, key redaction and the two
transcript commits (teacher message, student reply) on a real SQLite file, in worker threads as
in the chat. Runs alternate the store's transcript sync setting (NORMAL) with FULL (an fsync per
commit, as before), so a loaded disk shows what each costs. ``--profile`` prints a cProfile of
the NORMAL turns. Writes benchmarks/results/agent_turn.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from _server import ROOT, zoe

MESSAGE = "what is 3 plus 2?"


async def measure(turns: int, db: Path, sync: str, profiler=None) -> list[float]:
    from agent.brain import Brain, BrainRequest, Usage
    from agent.memory import ConversationMemory
    from agent.state import StudentState
    from agent.student import StudentAgent
    from transcripts.recorder import SessionRecorder
    from transcripts.store import Store

    class FixedBrain(Brain):
        async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
            for part in ("i ", "think ", "its ", "5"):
                yield part
            self.usage = Usage(prompt_tokens=10, completion_tokens=4)

    persona = zoe()
    store = Store(db)
    store.db.execute(f"PRAGMA synchronous = {sync}")
    brain = FixedBrain(id="fixed", name="fixed", description="a fixed reply")
    agent = StudentAgent(persona, brain, recorder=SessionRecorder.start(store, "zoe", "b", "x"))
    times = []
    for _ in range(turns):
        agent.memory = ConversationMemory()
        agent.state = StudentState.initial(persona)
        if profiler is not None:
            profiler.enable()
        started = time.perf_counter()
        await agent.reply(MESSAGE)
        times.append(time.perf_counter() - started)
        if profiler is not None:
            profiler.disable()
    store.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    results: dict[str, list[dict[str, float]]] = {"FULL": [], "NORMAL": []}
    with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks") as tmp:  # the project's disk
        for run in range(args.runs):
            for sync in ("FULL", "NORMAL"):
                db = Path(tmp) / f"agent-{run}-{sync}.db"
                chosen = profiler if sync == "NORMAL" else None
                times = asyncio.run(measure(args.turns, db, sync, chosen))
                deciles = statistics.quantiles(times, n=10)
                row = {
                    "median (ms)": statistics.median(times) * 1000,
                    "p10 (ms)": deciles[0] * 1000,
                    "p90 (ms)": deciles[8] * 1000,
                }
                results[sync].append(row)
                print(f"{sync:<7}" + "  ".join(f"{k} {v:.2f}" for k, v in row.items()))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "agent_turn.json").write_text(json.dumps(results, indent=2) + "\n")
    if profiler is not None:
        import pstats

        pstats.Stats(profiler).sort_stats("cumulative").print_stats(20)


if __name__ == "__main__":
    main()
