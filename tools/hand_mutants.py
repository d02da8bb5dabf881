"""Hand-made mutants: one behaviour-level break per known weakness, and the tests that catch it.

mutmut (tools/mutate.py) makes small syntactic mutants by the thousand; the weaknesses of issue 13
were found with hand-made ones (drop the store's own redaction, skip a withdraw, train on padding).
Each entry of ``tools/hand_mutants.toml`` names the weakness, a source file, an exact ``old`` text
(found exactly once in the file), the ``new`` text that breaks it, and the tests that must fail.

For each entry the project is copied to ``build/hand_mutants/<id>/`` (the worktree is never
edited), the edit is applied there and only the named tests run, with ``PYTHONPATH`` at the copy so
it wins over the editable install. Verdicts:

- killed: a named test failed on the mutant;
- survived: every named test passed on the mutant (a missing test: write it);
- broken: the old text is not there exactly once, the edit does not compile, a named test is not
  collected (renamed or deleted), or the mutant breaks collection rather than behaviour;
- not green: the named tests do not all pass on the unmutated copy, so they prove nothing.

    python tools/hand_mutants.py              # every entry
    python tools/hand_mutants.py ID [ID ...]  # some entries
    python tools/hand_mutants.py --list       # what each entry breaks and which tests catch it

Prints a table and a summary line, writes ``build/hand_mutants/results.json``, and exits 1 unless
every selected mutant is killed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).with_name("hand_mutants.toml")
BUILD = ROOT / "build" / "hand_mutants"
# What a test run needs: the packages, the tests, and pyproject.toml for pytest's settings.
DEFAULT_COPY = ("agent", "personas", "transcripts", "trainers", "tui", "tests", "pyproject.toml")
BASELINE = "_baseline"  # ids are lower-case words and dashes, so this name is never an entry's
PYTEST = ["-m", "pytest", "-q", "-p", "no:cacheprovider"]
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_FIELDS = {"id", "weakness", "file", "old", "new", "tests"}
# pytest's exit codes (pytest.ExitCode): 1 tests failed, 2 interrupted (a collection error),
# 3 internal error, 4 usage error (a node id that is not found), 5 no tests collected.
_FAILED, _NOT_FOUND, _NONE_COLLECTED = 1, 4, 5
_COLLECTION_ERROR = re.compile(r"^_+ ERROR collecting ", re.MULTILINE)
# "FAILED tests/x.py::test_y[case] - why": the test, without its parameters (they may hold spaces)
_FAILED_LINE = re.compile(r"^(?:FAILED|ERROR) (\S+?\.py::[^\s\[]+)", re.MULTILINE)


class DataError(ValueError):
    """The data file is not as this tool expects; the message names the file, entry and fix."""


@dataclass(frozen=True)
class Mutant:
    id: str
    weakness: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]


@dataclass
class Verdict:
    id: str
    weakness: str
    status: str  # killed, survived, broken, not green
    detail: str
    tests: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Config:
    root: Path
    build: Path
    copy: tuple[str, ...]
    timeout: float


def load(path: Path) -> tuple[tuple[str, ...], list[Mutant]]:
    """The paths to copy and the entries of the data file at ``path``."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise DataError(f"{path}: cannot be read as TOML ({error})") from None
    copy = data.get("copy", list(DEFAULT_COPY))
    if not isinstance(copy, list) or not all(isinstance(p, str) and p for p in copy):
        raise DataError(f"{path}: `copy` must be a list of paths relative to the project root")
    mutants: list[Mutant] = []
    seen: set[str] = set()
    for number, entry in enumerate(data.get("mutant", []), start=1):
        where = f"{path}: [[mutant]] #{number}" + (f" ({entry['id']})" if "id" in entry else "")
        missing = sorted(_FIELDS - entry.keys())
        unknown = sorted(entry.keys() - _FIELDS)
        if missing or unknown:
            raise DataError(
                f"{where}: missing {missing or 'nothing'}, unknown {unknown or 'nothing'}; "
                f"an entry has exactly {', '.join(sorted(_FIELDS))}"
            )
        if not isinstance(entry["id"], str) or not _ID.match(entry["id"]):
            raise DataError(f"{where}: id must be lower-case letters, digits and dashes")
        if entry["id"] in seen:
            raise DataError(f"{where}: id {entry['id']!r} is used twice; give each entry its own")
        seen.add(entry["id"])
        tests = entry["tests"]
        if not isinstance(tests, list) or not tests or not all(isinstance(t, str) for t in tests):
            raise DataError(f"{where}: tests must be a non-empty list of pytest node ids")
        for key in ("weakness", "file", "old", "new"):
            if not isinstance(entry[key], str) or (key != "new" and not entry[key].strip()):
                raise DataError(f"{where}: {key} must be a non-empty string")
        mutants.append(Mutant(**{**entry, "tests": tuple(tests)}))
    if not mutants:
        raise DataError(f"{path}: no [[mutant]] entries")
    return tuple(copy), mutants


def mutated_text(mutant: Mutant, root: Path) -> str:
    """The file's text with the mutant's edit applied; :class:`ValueError` says why it cannot be."""
    source = root / mutant.file
    if not source.is_file():
        raise ValueError(f"{mutant.file} does not exist")
    text = source.read_text("utf-8")
    count = text.count(mutant.old)
    if count != 1:
        raise ValueError(
            f"old text found {count} times in {mutant.file} (must be exactly once): "
            "the code changed; update the entry"
        )
    if mutant.new == mutant.old:
        raise ValueError("new text is the old text: the entry mutates nothing")
    changed = text.replace(mutant.old, mutant.new)
    if source.suffix == ".py":
        try:
            compile(changed, mutant.file, "exec")
        except SyntaxError as error:
            raise ValueError(f"the mutated {mutant.file} does not compile ({error})") from None
    return changed


def _copy_project(config: Config, destination: Path) -> None:
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in config.copy:
        source = config.root / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        elif source.is_file():
            shutil.copy2(source, destination / name)


def _env(copy: Path) -> dict[str, str]:
    # The copy alone on the path: it must win over the editable install of the worktree.
    return {**os.environ, "PYTHONPATH": str(copy)}


def _pytest(
    copy: Path, tests: Sequence[str], timeout: float, *, stop_first: bool
) -> tuple[int, str]:
    """pytest's exit code and output for ``tests`` run in ``copy`` (124 on timeout)."""
    command = [sys.executable, *PYTEST, *(["-x"] if stop_first else []), *tests]
    try:
        done = subprocess.run(
            command, cwd=copy, env=_env(copy), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return 124, f"timed out after {timeout:g} s"
    return done.returncode, done.stdout + done.stderr


def _tail(output: str, lines: int = 3) -> str:
    return " | ".join(line.strip() for line in output.strip().splitlines()[-lines:])


def _check_copy_wins(copy: Path, files: set[str]) -> None:
    """Each mutated module must import from the copy, not from the installed worktree."""
    modules = sorted(
        f.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for f in files
        if f.endswith(".py")
    )
    if not modules:
        return
    script = (
        "import importlib.util, json, sys\n"
        "print(json.dumps({m: importlib.util.find_spec(m).origin for m in sys.argv[1:]}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *modules],
        cwd=copy, env=_env(copy), capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"cannot locate {modules} in the copy: {_tail(done.stderr)}")
    origins = json.loads(done.stdout)
    elsewhere = {m: o for m, o in origins.items() if not Path(o).resolve().is_relative_to(copy)}
    if elsewhere:
        raise RuntimeError(
            f"these modules import from outside the scratch copy {copy}: {elsewhere}; "
            "a mutant there would change nothing"
        )


def _baseline(config: Config, mutants: list[Mutant]) -> dict[str, Verdict]:
    """Verdicts for entries whose tests are not green (or not found) on the unmutated copy."""
    copy = config.build / BASELINE
    _copy_project(config, copy)
    _check_copy_wins(copy, {m.file for m in mutants})
    every = list(dict.fromkeys(t for m in mutants for t in m.tests))
    code, _ = _pytest(copy, every, config.timeout * 2, stop_first=False)
    if code == 0:
        return {}
    failed: dict[str, Verdict] = {}
    for mutant in mutants:  # find out which entries are not green
        code, output = _pytest(copy, mutant.tests, config.timeout, stop_first=False)
        if _not_collected(code, output):
            failed[mutant.id] = _verdict(
                mutant, "broken", f"a named test is not collected (renamed?): {_tail(output, 2)}"
            )
        elif code != 0:
            failed[mutant.id] = _verdict(
                mutant, "not green", f"fails without the mutant (exit {code}): {_tail(output)}"
            )
    return failed


def _not_collected(code: int, output: str) -> bool:
    """A named test is missing (pytest also exits 4 when the test's module fails to import:
    that is a collection error, not a missing test)."""
    return code in (_NOT_FOUND, _NONE_COLLECTED) and not _COLLECTION_ERROR.search(output)


def _verdict(mutant: Mutant, status: str, detail: str) -> Verdict:
    return Verdict(mutant.id, mutant.weakness, status, detail, list(mutant.tests))


def run_mutant(config: Config, mutant: Mutant, changed: str, *, keep: bool) -> Verdict:
    copy = config.build / mutant.id
    _copy_project(config, copy)
    (copy / mutant.file).write_text(changed, "utf-8")
    code, output = _pytest(copy, mutant.tests, config.timeout, stop_first=True)
    if code == _FAILED or code == 124:
        failing = _FAILED_LINE.findall(output)
        verdict = _verdict(mutant, "killed", f"by {failing[0]}" if failing else _tail(output, 1))
    elif code == 0:
        verdict = _verdict(mutant, "survived", "every named test passed on the mutant")
    elif _not_collected(code, output):
        verdict = _verdict(mutant, "broken", f"a named test is not collected: {_tail(output, 2)}")
    else:
        verdict = _verdict(
            mutant,
            "broken",
            f"pytest exit {code}: the mutant breaks import or collection, not behaviour: "
            + _tail(output),
        )
    if verdict.status == "killed" and not keep:
        shutil.rmtree(copy, ignore_errors=True)
    return verdict


def run(config: Config, mutants: list[Mutant], *, keep: bool = False) -> list[Verdict]:
    verdicts: dict[str, Verdict] = {}
    edits: dict[str, str] = {}
    for mutant in mutants:
        try:
            edits[mutant.id] = mutated_text(mutant, config.root)
        except ValueError as error:
            verdicts[mutant.id] = _verdict(mutant, "broken", str(error))
    runnable = [m for m in mutants if m.id in edits]
    if runnable:
        config.build.mkdir(parents=True, exist_ok=True)
        verdicts.update(_baseline(config, runnable))
    for mutant in runnable:
        if mutant.id not in verdicts:
            verdicts[mutant.id] = run_mutant(config, mutant, edits[mutant.id], keep=keep)
            print(f"  {mutant.id}: {verdicts[mutant.id].status}", file=sys.stderr, flush=True)
    return [verdicts[m.id] for m in mutants]


def table(verdicts: Sequence[Verdict], *, markdown: bool = False) -> str:
    if markdown:
        rows = ["| mutant | weakness | verdict | detail |", "|---|---|---|---|"]
        rows += [
            f"| `{v.id}` | {v.weakness} | {v.status} | {v.detail.replace('|', '/')} |"
            for v in verdicts
        ]
        return "\n".join(rows)
    width = max(len(v.id) for v in verdicts)
    return "\n".join(f"{v.id:<{width}}  {v.status:<9}  {v.detail}" for v in verdicts)


def summary(verdicts: Sequence[Verdict]) -> str:
    counts = {s: sum(v.status == s for v in verdicts) for s in ("killed", "survived", "broken")}
    counts["not green"] = sum(v.status == "not green" for v in verdicts)
    parts = ", ".join(f"{n} {status}" for status, n in counts.items())
    return f"hand mutants: {parts} (of {len(verdicts)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", help="entries to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the entries and stop")
    parser.add_argument("--data", type=Path, default=DATA, help="the entries (TOML)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project to copy")
    parser.add_argument("--build", type=Path, default=None, help="scratch folder")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per test run")
    parser.add_argument("--keep", action="store_true", help="keep the copies of killed mutants")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    try:
        copy, mutants = load(args.data)
    except DataError as error:
        parser.error(str(error))
    known = {m.id for m in mutants}
    unknown = [i for i in args.ids if i not in known]
    if unknown:
        parser.error(f"unknown id(s) {unknown}; `--list` shows the {len(known)} entries")
    selected = [m for m in mutants if not args.ids or m.id in args.ids]
    if args.list:
        for mutant in selected:
            print(f"{mutant.id}: {mutant.weakness}\n  breaks {mutant.file}")
            print("".join(f"  caught by {test}\n" for test in mutant.tests), end="")
        return 0
    root = args.root.resolve()
    build = (args.build or root / "build" / "hand_mutants").resolve()
    config = Config(root, build, copy, args.timeout)
    try:
        verdicts = run(config, selected, keep=args.keep)
    except RuntimeError as error:  # the copy does not shadow the installed project
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(table(verdicts, markdown=args.markdown))
    print(summary(verdicts))
    build.mkdir(parents=True, exist_ok=True)
    results = [asdict(v) for v in verdicts]
    (build / "results.json").write_text(json.dumps(results, indent=1) + "\n", "utf-8")
    return 0 if all(v.status == "killed" for v in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
