"""tools/hand_mutants.py on a tiny project of its own in tmp_path: real copies, real pytest runs
(a few lines of code each), so every verdict the tool can give is seen once."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

VERDICT = re.compile(r"^(\S+)\s+(killed|survived|broken|not green)\s")
TOOL = Path(__file__).resolve().parents[1] / "tools" / "hand_mutants.py"

CALC = """
def add(a, b):
    return a + b


def sign(x):
    return "negative" if x < 0 else "positive"
"""

TESTS = """
from calc import add, sign


def test_add():
    assert add(2, 3) == 5


def test_sign():
    assert sign(-4) == "negative" and sign(4) == "positive"


def test_wrong_on_purpose():
    assert add(1, 1) == 3
"""


def entry(id: str, old: str, new: str, *tests: str) -> str:
    return (
        f"[[mutant]]\nid = {json.dumps(id)}\nweakness = 'w'\nfile = 'calc/__init__.py'\n"
        f"old = {json.dumps(old)}\nnew = {json.dumps(new)}\n"
        f"tests = {json.dumps([f'tests/test_calc.py::{t}' for t in tests])}\n\n"
    )


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hand_mutants", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["hand_mutants"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "calc" / "__init__.py").write_text(CALC)
    (root / "tests" / "test_calc.py").write_text(TESTS)
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    # the tiny project needs none of the installed pytest plugins: faster runs
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return root


def write_data(project: Path, entries: str) -> Path:
    data = project / "mutants.toml"
    data.write_text("copy = ['calc', 'tests', 'pyproject.toml']\n\n" + entries)
    return data


def run(tool: ModuleType, project: Path, entries: str, capsys, *ids: str) -> tuple[int, str]:
    data = write_data(project, entries)
    code = tool.main(["--data", str(data), "--root", str(project), *ids])
    return code, capsys.readouterr().out


def verdicts(output: str) -> dict[str, str]:
    rows = [VERDICT.match(line) for line in output.splitlines()[:-1]]
    return {row[1]: row[2] for row in rows if row}


def test_killed_survived_and_broken_edits_are_reported(tool, project: Path, capsys) -> None:
    entries = (
        entry("add-subtracts", "a + b", "a - b", "test_add", "test_sign")
        + entry("sign-at-zero", "x < 0", "x <= 0", "test_sign")  # no test looks at 0
        + entry("twice", "return", "yield", "test_add")
        + entry("gone", "a * b", "a / b", "test_add")
        + entry("no-compile", "a + b", "a +", "test_add")
        + entry("import-breaks", "def sign", "raise SystemError\ndef sign", "test_sign")
        + entry("not-asked-for", "x < 0", "x > 0", "test_sign")
    )
    ids = ["add-subtracts", "sign-at-zero", "twice", "gone", "no-compile", "import-breaks"]
    code, out = run(tool, project, entries, capsys, *ids)
    assert verdicts(out) == {
        "add-subtracts": "killed",
        "sign-at-zero": "survived",
        "twice": "broken",
        "gone": "broken",
        "no-compile": "broken",
        "import-breaks": "broken",
    }
    assert "by tests/test_calc.py::test_add" in out
    assert "old text found 2 times in calc/__init__.py (must be exactly once)" in out
    assert "old text found 0 times" in out and "does not compile" in out
    assert "breaks import or collection, not behaviour" in out
    assert out.splitlines()[-1] == (
        "hand mutants: 1 killed, 1 survived, 4 broken, 0 not green (of 6)"
    )
    assert code == 1
    # the worktree is never edited; the survivor's copy is kept to look at, the killed one not
    assert (project / "calc" / "__init__.py").read_text() == CALC
    build = project / "build" / "hand_mutants"
    assert "x <= 0" in (build / "sign-at-zero" / "calc" / "__init__.py").read_text()
    assert not (build / "add-subtracts").exists()
    results = json.loads((build / "results.json").read_text())
    assert [r["id"] for r in results] == ids
    assert [r["status"] for r in results][:2] == ["killed", "survived"]


def test_a_renamed_test_and_a_red_baseline_never_count_as_killed(
    tool, project: Path, capsys
) -> None:
    entries = entry("renamed", "a + b", "a - b", "test_add_renamed") + entry(
        "red", "a + b", "a - b", "test_wrong_on_purpose"
    )
    code, out = run(tool, project, entries, capsys)
    assert verdicts(out) == {"renamed": "broken", "red": "not green"}
    assert "a named test is not collected (renamed?)" in out
    assert "fails without the mutant" in out
    assert code == 1


def test_the_list_names_each_weakness_file_and_test(tool, project: Path, capsys) -> None:
    data = write_data(project, entry("add-subtracts", "a + b", "a - b", "test_add"))
    assert tool.main(["--data", str(data), "--list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "add-subtracts: w",
        "  breaks calc/__init__.py",
        "  caught by tests/test_calc.py::test_add",
    ]
    with pytest.raises(SystemExit):
        tool.main(["--data", str(data), "nope"])
    assert "unknown id(s) ['nope']" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no [[mutant]] entries"),
        ("[[mutant]]\nid = 'x'\n", "missing ['file', 'new', 'old', 'tests', 'weakness']"),
        (entry("x", "a", "b", "t").replace("weakness", "why"), "unknown ['why']"),
        (entry("Bad_Id", "a", "b", "t"), "id must be lower-case letters, digits and dashes"),
        (entry("x", "a", "b", "t") * 2, "id 'x' is used twice"),
        (entry("x", "a", "b", "t").replace("tests = [", "tests = [1, "), "tests must be"),
        (entry("x", "", "b", "t"), "old must be a non-empty string"),
        ("copy = 'calc'\n", "`copy` must be a list"),
        ("[[mutant", "cannot be read as TOML"),
    ],
)
def test_a_bad_data_file_is_named_with_the_fix(
    tool, tmp_path: Path, text: str, message: str
) -> None:
    data = tmp_path / "mutants.toml"
    data.write_text(text)
    with pytest.raises(tool.DataError, match=r"mutants\.toml") as error:
        tool.load(data)
    assert message in str(error.value)


@pytest.mark.parametrize("data", ["hand_mutants.toml", "hand_mutants_vllm.toml"])
def test_the_projects_own_entries_all_apply(tool, data: str) -> None:
    """Every entry of tools/hand_mutants*.toml still finds its old text exactly once and compiles
    (the cheap half of `make mutate-hand`; running the mutants is the slow half)."""
    copy, mutants = tool.load(tool.DATA.with_name(data))
    assert {"agent", "tests", "pyproject.toml"} <= set(copy)
    for mutant in mutants:
        assert tool.mutated_text(mutant, tool.ROOT) != (tool.ROOT / mutant.file).read_text()
        for test in mutant.tests:
            assert (tool.ROOT / test.split("::")[0]).is_file(), test
