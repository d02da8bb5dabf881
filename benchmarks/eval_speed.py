"""How long `utta eval offline --persona maya` takes, as a user runs it (a fresh process).

    .venv/bin/python benchmarks/eval_speed.py [--runs 3]

Target: under 60 s on the 2-core CPU machine. Each run uses a fresh temporary UTTA_HOME (a new
store), so the time includes creating the database and saving the result in the lineage. Prints
the median and each run; writes benchmarks/results/eval_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--persona", default="maya")
    args = parser.parse_args()
    times = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "UTTA_HOME": home, "PYTHONPATH": str(ROOT)}
            env.pop("UTTA_DB", None)
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "tui.cli", "eval", "offline", "--persona", args.persona],
                cwd=ROOT, env=env, check=True, capture_output=True,
            )  # fmt: skip
            times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(f"utta eval offline --persona {args.persona}: median {median:.1f} s over {args.runs} "
          f"runs ({', '.join(f'{t:.1f}' for t in times)}); target < 60 s")  # fmt: skip
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    result = {"persona": args.persona, "seconds": times, "median": median}
    (out / "eval_speed.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
