"""How long the debrief of a 60-turn session takes to appear.

    .venv/bin/python benchmarks/debrief.py [--runs 7]

Builds a 60-turn Maya session through the real agent (offline brain) in a temporary SQLite store,
then measures, each in a fresh process so nothing is cached:
- cold: `debrief_session` from the store, including loading the embedding and the talk-move head;
- screen: pressing Ctrl+R in the real chat app (headless Pilot) until the debrief screen is
  mounted, on that resumed 60-turn session, once the chat has loaded the debrief's model in the
  background (as it does when a session opens);
and, in this process, the warm median of `debrief_session` (models already loaded).
Writes benchmarks/results/debrief.json. Target: under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LINES = [
    "What is 52 - 27?",
    "How did you get that?",
    "You have to borrow. The answer is 25.",
    "Are you sure?",
    "So you think it's 35?",
    "Let's use base-ten blocks. Make 52 with ten-sticks and cubes.",
    "Can you check by adding 27 back?",
    "Great job, you kept trying!",
    "What does the 5 in 52 mean? It means 50.",
    "Do you like horses?",
    "Count up from 27 to 52 on a number line.",
    "What is 5 + 3 = __ + 2?",
]

COLD = """
import sys, time
sys.path.insert(0, {root!r})
started = time.perf_counter()
from transcripts.store import Store
from trainers.debrief.compute import debrief_session
from trainers.debrief.render import markdown
store = Store({db!r})
opened = time.perf_counter()
markdown(debrief_session(store, {sid}))
print(time.perf_counter() - opened, opened - started)
"""

SCREEN = """
import asyncio, sys, time
sys.path.insert(0, {root!r})
from transcripts.store import Store
from tui.app import UttaApp
from tui.debrief_screen import DebriefScreen

async def main():
    app = UttaApp(store=lambda: Store({db!r}), trainee="bench", resume={sid})
    async with app.run_test(size=(120, 50)) as pilot:
        while app.chat is None or app.chat.practice is None:
            await pilot.pause(0.01)
        for worker in list(app.chat.workers):  # the chat loads the debrief's model meanwhile
            await worker.wait()
        started = time.perf_counter()
        await pilot.press("ctrl+r")
        while not isinstance(app.screen, DebriefScreen):
            await pilot.pause(0.005)
        await pilot.pause()
        print(time.perf_counter() - started)

asyncio.run(main())
"""


def build_session(db: Path, turns: int) -> int:
    from personas.loader import PersonaLibrary
    from transcripts.store import Store
    from tui.practice import start_practice

    store = Store(db)
    practice = start_practice(PersonaLibrary().get("maya"), None, store, "bench")
    practice.ensure_session()

    async def teach() -> None:
        for i in range(turns):
            await practice.agent.reply(LINES[i % len(LINES)])

    asyncio.run(teach())
    practice.end()
    return practice.session_id


def in_fresh_process(template: str, db: Path, session_id: int) -> list[float]:
    code = template.format(root=str(ROOT), db=str(db), sid=session_id)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return [float(x) for x in out.stdout.split()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--turns", type=int, default=60)
    args = parser.parse_args()
    from trainers.debrief.compute import debrief_session
    from transcripts.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        session_id = build_session(db, args.turns)
        cold = [in_fresh_process(COLD, db, session_id)[0] for _ in range(args.runs)]
        screen = [in_fresh_process(SCREEN, db, session_id)[0] for _ in range(args.runs)]
        store = Store(db)
        debrief_session(store, session_id)  # load the models once
        warm = []
        for _ in range(args.runs):
            started = time.perf_counter()
            debrief_session(store, session_id)
            warm.append(time.perf_counter() - started)
    results = {
        "turns": args.turns,
        "runs": args.runs,
        "cold_debrief_s_median": round(statistics.median(cold), 3),
        "cold_debrief_s_max": round(max(cold), 3),
        "screen_after_ctrl_r_s_median": round(statistics.median(screen), 3),
        "screen_after_ctrl_r_s_max": round(max(screen), 3),
        "warm_debrief_s_median": round(statistics.median(warm), 3),
        "target_s": 1.0,
    }
    for name, value in results.items():
        print(f"{name}: {value}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "debrief.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
