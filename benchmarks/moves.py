"""Move recognizer: load time in a fresh process, and per-call latency once loaded.

    .venv/bin/python benchmarks/moves.py [--runs 5] [--calls 2000]

Load: a new Python process that already has numpy imports agent.moves and classifies one line
(tokenizers, safetensors, the static embedding, the head). Calls: the labeled
lines classified one at a time, median and p95. Targets: load well under 0.5 s, < 5 ms a call.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# numpy is imported first: the offline brain already has it (rank-bm25), so it is not ours.
LOAD = (
    "import numpy, time; t = time.perf_counter()\n"
    "from agent.moves import classify_move\n"
    "classify_move('count up from 27')\n"
    "print(time.perf_counter() - t)\n"
)


def load_seconds(runs: int) -> float:
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", LOAD], capture_output=True, text=True, cwd=ROOT, check=True
        )
        times.append(float(out.stdout.strip()))
    return statistics.median(times)


def call_latencies(calls: int) -> list[float]:
    from agent.moves import classify_move
    from agent.moves.labels import LABEL_SETS, load_examples

    texts = [e.text for e in load_examples(LABEL_SETS["moves"])]
    classify_move(texts[0])
    times = []
    for i in range(calls):
        start = time.perf_counter()
        classify_move(texts[i % len(texts)])
        times.append(time.perf_counter() - start)
    return sorted(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    load = load_seconds(args.runs)
    times = call_latencies(args.calls)
    median = statistics.median(times) * 1000
    p95 = times[int(0.95 * (len(times) - 1))] * 1000
    print(f"load (import + first call, median of {args.runs} processes): {load:.3f} s")
    print(f"classify_move: median {median:.2f} ms, p95 {p95:.2f} ms over {args.calls} calls")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
