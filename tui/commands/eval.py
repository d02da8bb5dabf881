"""`utta eval BRAIN... --persona P`: the probe suite against each brain, side by side.

Prints a table (rich), writes JSON and Markdown (default: ``$UTTA_HOME/evals/``), and stores each
brain's summary in its lineage (``lineage.metrics.eval.<persona>``) so `utta brains compare`
shows it; a built-in brain kind (``offline``) is saved as a brain of that name to carry it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui.commands import CommandError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "eval",
        help="probe brains as the persona: authenticity, answers, flips, length, latency",
        description="Run the probe suite (each misconception held, taught and told; known "
        "facts; off-task, feelings and out-of-character moments) through the agent against "
        "each brain, score the replies and compare them side by side.",
    )
    parser.add_argument("brains", nargs="+", metavar="BRAIN", help="saved brain names or kinds")
    parser.add_argument("--persona", required=True, metavar="ID|FILE", help="who the child is")
    parser.add_argument("--seed", type=int, default=7, help="probe problems' seed (default 7)")
    parser.add_argument(
        "--problems", type=int, default=3, help="problems per misconception (default 3)"
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="where the JSON and Markdown go")
    parser.add_argument(
        "--probes", metavar="MODULE:FACTORY", help="another probe source (default: child model)"
    )
    parser.add_argument(
        "--no-store", action="store_true", help="do not save the results in the brains' lineage"
    )
    parser.set_defaults(handler=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    from agent.brain import BrainError
    from trainers.brain_eval import evaluate_brain
    from trainers.eval_probes import ChildModelProbes, load_source
    from transcripts.store import Store, UnknownBrain
    from tui.commands.persona_arg import resolve_persona
    from tui.practice import build_brain

    persona = resolve_persona(args.persona)
    if args.problems < 1:
        raise CommandError("--problems must be at least 1", code=2)
    try:
        source = ChildModelProbes(args.problems) if not args.probes else load_source(args.probes)
    except ValueError as error:
        raise CommandError(str(error), code=2) from None
    reports = []
    with Store() as store:
        for name in args.brains:
            try:
                brain = build_brain(name, store, persona)
            except UnknownBrain as error:
                raise CommandError(f"{error} — name a saved brain or a brain kind") from None
            except (BrainError, ValueError, TypeError) as error:
                raise CommandError(f"brain '{name}' cannot be built: {error}") from None
            try:
                report = asyncio.run(_evaluate(evaluate_brain, persona, brain, source, args.seed))
            except BrainError as error:
                raise CommandError(f"brain '{name}' failed during the probes: {error}") from None
            report.brain = name
            reports.append(report)
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        json_path, md_path = _write(args, persona.id, reports, created, source)
        if not args.no_store:
            for report in reports:
                _store_in_lineage(
                    store, report.brain, persona.id, report.summary, created, json_path
                )
    _print_table(persona.id, reports, args.seed)
    print(f"wrote {json_path} and {md_path}")
    skipped = getattr(source, "skipped", [])
    if skipped:
        print(f"no probe generator for: {', '.join(sorted(set(skipped)))}")
    return 0


async def _evaluate(evaluate_brain, persona, brain, source, seed):
    try:
        return await evaluate_brain(persona, brain, source, seed)
    finally:
        await brain.aclose()


def _write(args, persona_id, reports, created, source) -> tuple[Path, Path]:
    from agent.paths import data_dir
    from trainers.brain_eval import REAL_CHILDREN, markdown

    out = args.out or data_dir() / "evals"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CommandError(f"cannot create {out}: {error.strerror}; pass --out DIR") from None
    stem = f"{persona_id}-{created.replace(':', '').replace('-', '')}"
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    document = {
        "persona": persona_id,
        "seed": args.seed,
        "created_at": created,
        "probe_source": type(source).__name__,
        "real_children": REAL_CHILDREN,
        "brains": [r.to_dict() for r in reports],
    }
    json_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    md_path.write_text(markdown(persona_id, reports, args.seed), "utf-8")
    return json_path, md_path


def _store_in_lineage(
    store, name: str, persona_id: str, summary: dict[str, Any], created: str, path: Path
) -> None:
    from transcripts.store import UnknownBrain

    result = {
        **{k: v for k, v in summary.items() if not isinstance(v, dict)},
        "created_at": created,
        "report": str(path),
    }
    try:
        row = store.brain(name)
        kind, spec, owner, lineage = row.kind, row.spec, row.persona_id, dict(row.lineage or {})
    except UnknownBrain:  # a built-in kind such as offline: saved under its own name
        kind, spec, owner, lineage = name, {}, None, {"method": "built-in"}
    metrics = dict(lineage.get("metrics") or {})
    evals = dict(metrics.get("eval") or {})
    evals[persona_id] = result
    metrics["eval"] = evals
    lineage["metrics"] = metrics
    store.save_brain(name, kind, spec, persona_id=owner, lineage=lineage)


def _print_table(persona_id: str, reports, seed: int) -> None:
    from rich.console import Console
    from rich.table import Table

    from trainers.brain_eval import ROWS, cell

    table = Table(title=f"utta eval — {persona_id} (seed {seed})")
    table.add_column("metric")
    for report in reports:
        table.add_column(report.brain, justify="right")
    table.add_column("real children", justify="right", style="dim")
    for key, label, real in ROWS:
        table.add_row(label, *(cell(r.summary.get(key)) for r in reports), real or "—")
    Console().print(table)
