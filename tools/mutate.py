"""Mutation testing of the core modules with mutmut (``make mutate``; too slow for CI).

Each target mutates a few modules and runs only the fast tests that cover them (``TARGETS``
below is the per-module test map: add the test file here when you add tests for a module).
Every target runs in its own scratch copy under ``build/mutate/<target>/``, so mutmut's
``mutants/`` folder and its result cache never touch the worktree; a rerun only re-tests the
functions that changed since the last one.

    python tools/mutate.py                 # every target
    python tools/mutate.py store offline   # some targets
    python tools/mutate.py --list          # the test map
    python tools/mutate.py store --survivors   # re-test the last survivors after adding tests

Writes ``build/mutate/summary.json`` and prints killed/survived per module; the survivors and
the reason each one survives are kept by hand in docs/mutation-report.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "mutate"
PACKAGES = ["agent", "personas", "transcripts", "trainers", "tui", "tests"]
SOURCE_PACKAGES = ["agent", "personas", "transcripts", "trainers", "tui"]


@dataclass(frozen=True)
class Target:
    mutate: tuple[str, ...]
    tests: tuple[str, ...]
    deselect: tuple[str, ...] = ()
    """Tests that fail on the unmutated code (mutmut needs a green start); say why beside them."""


CHILD_TESTS = (
    "tests/test_child_model.py",
    "tests/test_child_talk.py",
    "tests/test_child_sessions.py",
    "tests/test_properties_reader.py",
    "tests/test_mutation_gaps_child.py",
    "tests/test_mutation_gaps_child_think.py",
    "tests/test_mutation_gaps_child_talk.py",
)

# The per-module test map: the fast tests (no real model, no vLLM, no pty) that cover each module.
TARGETS: dict[str, Target] = {
    "student": Target(
        ("agent/student.py",),
        (
            "tests/test_agent.py",
            "tests/test_transcripts_recorder.py",
            "tests/test_mutation_gaps_agent.py",
        ),
    ),
    "state": Target(
        ("agent/state.py",),
        (
            "tests/test_agent.py",
            "tests/test_child_model.py",
            "tests/test_child_sessions.py",
            "tests/test_mutation_gaps_agent.py",
            "tests/test_mutation_gaps_state.py",
        ),
    ),
    # The child model (agent/child/; probes.py and probe_lines.py are the benchmark's probe
    # sets, not the model), in four targets so each run fits a sitting on two cores.
    "child_reader": Target(("agent/child/reader.py", "agent/child/numbers.py"), CHILD_TESTS),
    "child_think": Target(("agent/child/think.py", "agent/child/registry.py"), CHILD_TESTS),
    "child_voice": Target(("agent/child/voice.py", "agent/child/talk.py"), CHILD_TESTS),
    "child_rules": Target(("agent/child/rules/*",), CHILD_TESTS),
    "offline": Target(
        ("agent/brains/offline.py",),
        (
            "tests/test_agent.py",
            "tests/test_child_sessions.py",
            "tests/test_mutation_gaps_agent.py",
            "tests/test_mutation_gaps_offline.py",
        ),
    ),
    "store": Target(
        ("transcripts/store.py", "transcripts/recorder.py"),
        (
            "tests/test_transcripts.py",
            "tests/test_transcripts_recorder.py",
            "tests/test_mutation_gaps_store.py",
        ),
    ),
    "datasets": Target(
        ("trainers/datasets.py",),
        (
            "tests/test_datasets.py",
            "tests/test_dataset_writers.py",
            "tests/test_properties_split.py",
            "tests/test_mutation_gaps_datasets.py",
        ),
    ),
    "openai_validate": Target(
        ("trainers/openai_validate.py",),
        (
            "tests/test_openai_trainer.py",
            "tests/test_mutation_gaps_trainers.py",
            "tests/test_mutation_gaps_validator.py",
        ),
    ),
    "lora_data": Target(
        ("trainers/lora_data.py",),
        ("tests/test_mutation_gaps_trainers.py", "tests/test_mutation_gaps_lora.py"),
    ),
    "metric": Target(
        ("trainers/metric.py", "trainers/childlike/features.py", "trainers/childlike/scorer.py"),
        ("tests/test_metric.py", "tests/test_childlike.py", "tests/test_mutation_gaps_metric.py"),
    ),
}

STATUS = re.compile(r"^\s*(?P<name>\S+): (?P<status>[a-z ]+?)\s*$")


def _copy_project(target_dir: Path) -> None:
    """A fresh copy of the sources and tests; mutmut's cache (mutants/) is left in place."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in PACKAGES:
        destination = target_dir / package
        if destination.exists():
            shutil.rmtree(destination)
        shutil.copytree(ROOT / package, destination, ignore=ignore)


def _write_config(target_dir: Path, target: Target) -> None:
    """The project's pyproject.toml (tests read its entry points) plus a [tool.mutmut] table."""
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    # mutmut names the tests to run; the project's testpaths would add the whole suite.
    text = re.sub(r"(?m)^testpaths = .*\n", "", text)
    tests = [t for t in target.tests if (ROOT / t).exists()]
    lines = [
        "",
        "[tool.mutmut]",
        f"source_paths = {json.dumps(SOURCE_PACKAGES)}",
        f"only_mutate = {json.dumps(list(target.mutate))}",
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
        "pytest_add_cli_args = "
        + json.dumps(
            ["-q", "-p", "no:cacheprovider", "-m", "not vllm and not slow"]
            + [arg for test in target.deselect for arg in ("--deselect", test)]
        ),
        "mutate_only_covered_lines = false",
        "",
    ]
    (target_dir / "pyproject.toml").write_text(text + "\n".join(lines), "utf-8")


def run_target(
    name: str, target: Target, max_children: int, *, survivors_only: bool = False
) -> None:
    target_dir = BUILD / name
    retest = [target_dir / "survivors.txt", target_dir / "untested.txt"]
    names = [
        mutant
        for listing in retest
        if survivors_only and listing.exists()
        for mutant in listing.read_text("utf-8").split()
    ]
    target_dir.mkdir(parents=True, exist_ok=True)
    _copy_project(target_dir)
    _write_config(target_dir, target)
    # The copy must win over the editable install of the worktree the venv points at.
    env = {**os.environ, "PYTHONPATH": str(target_dir)}
    mutmut = [sys.executable, "-m", "mutmut"]
    subprocess.run(
        [*mutmut, "run", "--max-children", str(max_children), *names],
        cwd=target_dir,
        env=env,
        check=False,
    )
    listing = subprocess.run(
        [*mutmut, "results", "--all", "true"],
        cwd=target_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    statuses: dict[str, str] = {}
    for line in listing.splitlines():
        match = STATUS.match(line)
        if match and match["status"] != "not checked":
            statuses[match["name"]] = match["status"]
    if survivors_only:
        # Only the re-tested mutants were run; every other one keeps its earlier verdict.
        statuses = {**_load_statuses(target_dir), **statuses}
    (target_dir / "statuses.json").write_text(json.dumps(statuses, indent=1), "utf-8")
    for file_name, wanted in (("survivors.txt", "survived"), ("untested.txt", "no tests")):
        listed = sorted(m for m, status in statuses.items() if status == wanted)
        (target_dir / file_name).write_text("".join(f"{m}\n" for m in listed), "utf-8")


def _load_statuses(target_dir: Path) -> dict[str, str]:
    path = target_dir / "statuses.json"
    return json.loads(path.read_text("utf-8")) if path.exists() else {}


def score(counts: dict[str, int]) -> tuple[int, int]:
    """Killed (timeouts count as killed, as mutmut does) and tested (skipped/no tests excluded)."""
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    tested = killed + counts.get("survived", 0) + counts.get("suspicious", 0)
    return killed, tested


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help=f"some of: {', '.join(TARGETS)}")
    parser.add_argument("--list", action="store_true", help="print the test map and stop")
    parser.add_argument("--max-children", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    parser.add_argument("--report", action="store_true", help="only print the kept results")
    parser.add_argument(
        "--survivors",
        action="store_true",
        help="re-test only the last run's survivors (after adding tests for them)",
    )
    args = parser.parse_args(argv)
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {unknown}; choose from {', '.join(TARGETS)}")
    if args.list:
        for name, target in TARGETS.items():
            print(f"{name}: mutate {', '.join(target.mutate)}; tests {', '.join(target.tests)}")
        return 0
    if not args.report:
        for name in args.targets or list(TARGETS):
            run_target(name, TARGETS[name], args.max_children, survivors_only=args.survivors)
    # The summary is rebuilt from every target's kept verdicts (runs may be done one by one).
    summary: dict[str, dict[str, dict[str, int]]] = {}
    for name in TARGETS:
        for mutant, status in _load_statuses(BUILD / name).items():
            counts = summary.setdefault(name, {}).setdefault(mutant.split(".x")[0], {})
            counts[status] = counts.get(status, 0) + 1
    BUILD.mkdir(parents=True, exist_ok=True)
    summary_path = BUILD / "summary.json"
    summary_path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", "utf-8")
    total_killed = total_tested = 0
    for name, modules in sorted(summary.items()):
        for module, counts in sorted(modules.items()):
            killed, tested = score(counts)
            total_killed += killed
            total_tested += tested
            pct = 100 * killed / tested if tested else 0.0
            print(f"{name:16} {module:40} {killed:4}/{tested:<4} {pct:5.1f} %  {counts}")
    if total_tested:
        print(f"overall {total_killed}/{total_tested} = {100 * total_killed / total_tested:.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
