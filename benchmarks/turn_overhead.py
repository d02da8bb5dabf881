"""What the agent adds to a turn: StudentAgent.reply vs a direct openai-client call.

    .venv/bin/python benchmarks/turn_overhead.py [--rounds 60] [--runs 5] [--profile]

Both stream the same messages (the agent's own request, built once) from the same real vLLM
server with the same sampling (greedy, fixed token budget); the agent also updates the student
state and memory and commits both turns to a real SQLite transcript. Calls are interleaved, in
alternating order, so drift hits both alike. Target: ≤ 5 % overhead (median). ``--runs`` repeats
the measurement on the same server and reports the spread of the paired medians over runs;
``--profile`` writes a cProfile of the agent's turns to benchmarks/results/turn_overhead.prof
(the agent's own work, not the server's). Writes benchmarks/results/turn_overhead.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from _server import ROOT, served_tiny_model, zoe

MESSAGE = "what is 3 plus 2?"
MAX_TOKENS = 32


async def measure(
    rounds: int, served, db: Path, profiler=None, sqlite_sync: str | None = None
) -> dict[str, float]:
    from openai import AsyncOpenAI

    from agent.brain import BrainRequest
    from agent.brains.vllm_brain import VllmBrain
    from agent.memory import ConversationMemory
    from agent.state import StudentState
    from agent.student import StudentAgent
    from transcripts.recorder import SessionRecorder
    from transcripts.store import Store

    persona = zoe()
    brain = VllmBrain(
        name="a",
        adapter="a",
        server_url=served.base_url,
        base=served.base,
        temperature=0.0,
        max_tokens=MAX_TOKENS,
    )
    store = Store(db)
    if sqlite_sync:  # compare with the store's own setting (NORMAL), e.g. FULL as before
        store.db.execute(f"PRAGMA synchronous = {sqlite_sync}")
    agent = StudentAgent(persona, brain, recorder=SessionRecorder.start(store, "zoe", "b", "a"))
    state = StudentState.initial(persona).after_teacher(persona, MESSAGE)
    messages = BrainRequest(persona, state, [], MESSAGE).as_chat_messages()
    client = AsyncOpenAI(base_url=served.base_url + "/v1", api_key="sk-local-placeholder")

    async def direct() -> str:
        stream = await client.chat.completions.create(
            model="a",
            messages=messages,
            stream=True,
            temperature=0.0,
            max_tokens=MAX_TOKENS,
            stream_options={"include_usage": True},
        )
        parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        return "".join(parts)

    async def through_agent() -> str:
        agent.memory = ConversationMemory()  # the same prompt every round
        agent.state = StudentState.initial(persona)
        if profiler is None:
            return await agent.reply(MESSAGE)
        profiler.enable()
        try:
            return await agent.reply(MESSAGE)
        finally:
            profiler.disable()

    for _ in range(3):  # warm-up
        await direct()
        await through_agent()
    agent_times, direct_times = [], []
    for round_ in range(rounds):
        # Alternate which goes first, so neither always meets a just-warmed server.
        order = (direct, through_agent) if round_ % 2 == 0 else (through_agent, direct)
        for call in order:
            started = time.perf_counter()
            reply = await call()
            elapsed = time.perf_counter() - started
            if call is direct:
                direct_times.append(elapsed)
                direct_reply = reply
            else:
                agent_times.append(elapsed)
                agent_reply = reply
    assert agent_reply.strip() == direct_reply.strip(), (agent_reply, direct_reply)
    await brain.aclose()
    await client.close()
    median_agent, median_direct = statistics.median(agent_times), statistics.median(direct_times)
    paired = [a / d - 1 for a, d in zip(agent_times, direct_times, strict=True)]
    return {
        "direct openai call median (s)": median_direct,
        "agent turn median (s)": median_agent,
        "overhead of medians (%)": (median_agent / median_direct - 1) * 100,
        "median paired overhead (%)": statistics.median(paired) * 100,
        "rounds": rounds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--runs", type=int, default=1, help="repeat, for the spread over runs")
    parser.add_argument("--profile", action="store_true", help="cProfile the agent's turns")
    parser.add_argument(
        "--sqlite-sync",
        choices=["NORMAL", "FULL"],
        action="append",
        default=[],
        help="run with this transcript sync setting (repeat to compare; default: the store's)",
    )
    args = parser.parse_args()
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    runs = []
    with served_tiny_model() as served, tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            for sync in args.sqlite_sync or [None]:
                db = Path(tmp) / f"bench-{run}-{sync}.db"
                result = asyncio.run(measure(args.rounds, served, db, profiler, sync))
                runs.append({"sqlite sync": sync or "store default", **result})
                for name, value in runs[-1].items():
                    shown = f"{value:.4f}" if isinstance(value, float) else value
                    print(f"{name:<32} {shown}")
                print()
    results: dict = dict(runs[0]) if len(runs) == 1 else {"runs": runs}
    if len(runs) > 1:
        for sync in sorted({r["sqlite sync"] for r in runs}):
            mine = [r for r in runs if r["sqlite sync"] == sync]
            for key in ("median paired overhead (%)", "overhead of medians (%)"):
                values = [r[key] for r in mine]
                spread = {
                    "median": statistics.median(values),
                    "min": min(values),
                    "max": max(values),
                }
                results[f"{key} over {len(mine)} runs, sync {sync}"] = spread
                print(
                    f"sync {sync:<13} {key:<28} median {spread['median']:+.2f}  "
                    f"range {spread['min']:+.2f} .. {spread['max']:+.2f}"
                )
    if profiler is not None:
        import pstats

        profiler.dump_stats(out / "turn_overhead.prof")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    (out / "turn_overhead.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
