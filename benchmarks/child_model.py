"""Benchmark of the child model on the offline brain: do wrong answers follow from the wrong idea,
on any numbers, and change only when the child is taught well?

    .venv/bin/python benchmarks/child_model.py [--problems 50] [--seed 7]

For every shipped misconception, ``--problems`` generated problems, each in fresh sessions
through ``StudentAgent`` (agent/child/probes.py makes them):
(a) held: the rule's answer is in the reply (and the right one is not);
(b) after ``moves_needed`` teaching lines in other words (no cue words), a NEW problem of the
    same kind gets the correct answer;
(c) after three telling or chit-chat lines that contain cue words, the same problem still gets
    the wrong answer;
(d) known facts (add and subtract within 20) are right.
Selective Flip Score = rate(b) - flip rate after (c). Writes benchmarks/results/child_model.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _says(reply: str, answer: str, other: str) -> bool:
    from agent.child.probes import reply_says

    return reply_says(reply, answer) and (answer == other or not reply_says(reply, other))


async def run_misconception(persona, misconception, problems: int, rng: random.Random) -> dict:
    from agent.brains.offline import OfflineBrain
    from agent.child.probes import lines_for, probe_set
    from agent.student import StudentAgent

    probes = probe_set(persona, misconception.id, rng, problems + 1)
    hits = {"a": 0, "b": 0, "c": 0}
    failures: list[dict] = []
    for index, problem in enumerate(probes.questions[:problems]):
        transfer = probes.questions[index + 1]
        teach, tell, chitchat = lines_for(persona, misconception, problem, rng)

        agent = StudentAgent(persona, OfflineBrain(persona))
        reply = await agent.reply(problem.question)
        ok = _says(reply, problem.held_answer, problem.correct_answer)
        hits["a"] += ok
        if not ok:
            failures.append({"check": "a", "question": problem.question, "reply": reply})

        agent = StudentAgent(persona, OfflineBrain(persona))
        await agent.reply(problem.question)
        for line in teach[: misconception.moves_needed]:
            await agent.reply(line)
        reply = await agent.reply(transfer.question)
        ok = _says(reply, transfer.correct_answer, transfer.held_answer)
        hits["b"] += ok
        if not ok:
            failures.append(
                {
                    "check": "b",
                    "teach": teach[: misconception.moves_needed],
                    "question": transfer.question,
                    "reply": reply,
                    "state": agent.state.to_dict()["misconceptions"],
                }
            )

        agent = StudentAgent(persona, OfflineBrain(persona))
        await agent.reply(problem.question)
        mixed = [rng.choice(tell), rng.choice(chitchat), rng.choice(tell + chitchat)]
        for line in mixed:
            await agent.reply(line)
        reply = await agent.reply(problem.question)
        ok = _says(reply, problem.held_answer, problem.correct_answer)
        hits["c"] += ok
        if not ok:
            failures.append({"check": "c", "lines": mixed, "reply": reply})
    return {"n": problems, **{k: v / problems for k, v in hits.items()}, "failures": failures[:5]}


async def known_facts(persona, problems: int, rng: random.Random) -> float:
    from agent.brains.offline import OfflineBrain
    from agent.child.probes import reply_says
    from agent.student import StudentAgent

    right = 0
    for _ in range(problems):
        a, b = rng.randint(1, 10), rng.randint(1, 10)
        if rng.random() < 0.5:
            question, answer = rng.choice([f"What is {a} + {b}?", f"What's {a} plus {b}?"]), a + b
        else:
            big = a + b
            question, answer = rng.choice([f"What is {big} - {b}?", f"{big} take away {b}?"]), a
        agent = StudentAgent(persona, OfflineBrain(persona))
        right += reply_says(await agent.reply(question), str(answer))
    return right / problems


def labeled_lines() -> set[str]:
    """The move recognizer's labeled teacher lines: no probe line may be one of them."""
    path = ROOT / "agent" / "moves" / "data" / "moves.jsonl"
    if not path.exists():
        return set()
    lines = (json.loads(row) for row in path.read_text(encoding="utf-8").splitlines() if row)
    return {_key(line["text"]) for line in lines}


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def probe_lines_in_labeled_set(rng: random.Random) -> int:
    from agent.child.probes import lines_for, probe_set
    from personas.loader import PersonaLibrary

    labeled = labeled_lines()
    found = 0
    for persona in PersonaLibrary().list():
        for m in persona.misconceptions:
            for problem in probe_set(persona, m.id, rng, 10).questions:
                teach, tell, chitchat = lines_for(persona, m, problem, rng)
                found += sum(_key(line) in labeled for line in teach + tell + chitchat)
    return found


async def main_async(problems: int, seed: int) -> dict:
    from personas.loader import PersonaLibrary

    rng = random.Random(seed)
    library = PersonaLibrary()
    results: dict = {
        "problems_per_misconception": problems,
        "seed": seed,
        "probe_lines_in_recognizer_labeled_set": probe_lines_in_labeled_set(random.Random(seed)),
        "personas": {},
    }
    totals = {"a": [], "b": [], "c": [], "d": []}
    for persona in library.list():
        entry: dict = {"misconceptions": {}}
        for m in persona.misconceptions:
            scores = await run_misconception(persona, m, problems, rng)
            entry["misconceptions"][m.id] = scores
            for key in "abc":
                totals[key].append(scores[key])
        entry["d"] = await known_facts(persona, problems, rng)
        totals["d"].append(entry["d"])
        for key in "abc":
            values = [s[key] for s in entry["misconceptions"].values()]
            entry[key] = sum(values) / len(values)
        entry["sfs"] = entry["b"] - (1 - entry["c"])
        results["personas"][persona.id] = entry
    overall = {key: sum(v) / len(v) for key, v in totals.items()}
    overall["sfs"] = overall["b"] - (1 - overall["c"])
    results["overall"] = overall
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    results = asyncio.run(main_async(args.problems, args.seed))
    print(
        f"{'persona':<8} {'misconception':<24} {'(a) held':>9} {'(b) taught':>10} "
        f"{'(c) kept':>9} {'SFS':>6}"
    )
    for persona_id, entry in results["personas"].items():
        for m_id, s in entry["misconceptions"].items():
            sfs = s["b"] - (1 - s["c"])
            print(
                f"{persona_id:<8} {m_id:<24} {s['a']:>9.2f} {s['b']:>10.2f} {s['c']:>9.2f} "
                f"{sfs:>6.2f}"
            )
        print(f"{persona_id:<8} {'(d) known facts':<24} {entry['d']:>9.2f}")
    print(
        "probe lines found in the recognizer's labeled set: "
        f"{results['probe_lines_in_recognizer_labeled_set']}"
    )
    o = results["overall"]
    print(
        f"overall: (a) {o['a']:.3f} (b) {o['b']:.3f} (c) {o['c']:.3f} (d) {o['d']:.3f} "
        f"SFS {o['sfs']:.3f}"
    )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "child_model.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
