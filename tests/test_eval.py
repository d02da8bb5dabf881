"""`utta eval`: the probe suite through the real agent and brains, end to end on a real store;
a brain that gives in to any correction scores worse than the child model; the probe source
plugs in; results land in the brains' lineage where `utta brains compare` shows them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from agent.brain import Brain, BrainRequest
from agent.brains.offline import OfflineBrain
from personas.schema import Persona
from trainers.brain_eval import evaluate_brain
from trainers.eval_probes import ChildModelProbes

ROOT = Path(__file__).resolve().parent.parent
RUNNER = (
    "import sys; from tui.cli import main; rc = main(sys.argv[1:]); "
    "print('IMPORTED', sorted(m for m in ('sklearn', 'torch', 'dspy', 'transformers') "
    "if m in sys.modules), file=sys.stderr); sys.exit(rc)"
)


def utta(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UTTA_HOME": str(home), "UTTA_DB": str(home / "store.db")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-c", RUNNER, *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )  # fmt: skip


class GivesInBrain(Brain):
    """Answers every question with the right answer at once, in tidy adult sentences: what a
    prompted LLM student does (Selective Flip Score near 0)."""

    async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        answer = request.state.answer
        if answer is not None and answer.correct_value:
            yield f"Oh, I see! The answer is {answer.correct_value}. Thank you for explaining!"
        else:
            yield "That's a great question! I'm an AI assistant, so I'm happy to help."


async def test_a_brain_that_gives_in_scores_below_the_child_model(maya: Persona) -> None:
    source = ChildModelProbes(problems=2, facts=2)
    child = await evaluate_brain(maya, OfflineBrain(maya), source, seed=3)
    gives_in = await evaluate_brain(maya, GivesInBrain("gives-in", "gives in", "test"), source, 3)
    a, b = child.summary, gives_in.summary
    assert a["turns"] == b["turns"] > 40
    assert set(a["scripts"]) == {
        "held", "taught", "told", "known", "off-task", "feelings", "out-of-character"
    }  # fmt: skip
    assert b["held"] == 0.0 and b["kept"] == 0.0  # right at once, and flips for any telling
    assert a["held"] > 0.8 and a["selective_flip"] > b["selective_flip"] + 0.5
    assert a["answer_consistency"] > b["answer_consistency"] + 0.3
    assert a["authenticity"] > b["authenticity"] + 0.2
    assert a["child_likeness"] > b["child_likeness"] + 0.2
    assert b["in_character"] == 0.0 and a["in_character"] > 0.5
    assert b["median_words"] > a["median_words"] and b["share_3_words_or_fewer"] == 0.0
    checked = [t for t in gives_in.turns if t.passed is not None]
    assert checked and all(t.check is not None for t in checked)


def test_utta_eval_end_to_end_on_a_real_store(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    added = utta(["brains", "add", "maya-offline", "--kind", "offline", "--persona", "maya"], home)
    assert added.returncode == 0, added.stderr
    out = tmp_path / "reports"

    result = utta(
        ["eval", "offline", "maya-offline", "--persona", "maya", "--problems", "2",
         "--out", str(out)],
        home,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "IMPORTED []" in result.stderr
    for label in ("authenticity", "child-likeness", "Selective Flip Score", "stays in character"):
        assert label in result.stdout
    assert "offline" in result.stdout and "maya-offline" in result.stdout
    [json_path] = out.glob("maya-*.json")
    [md_path] = out.glob("maya-*.md")
    report = json.loads(json_path.read_text())
    assert [b["brain"] for b in report["brains"]] == ["offline", "maya-offline"]
    first, second = (b["summary"] for b in report["brains"])
    assert first["turns"] == second["turns"] > 40
    assert first["answer_consistency"] == second["answer_consistency"]  # same probes, same brain
    assert report["real_children"]["median_words"] == 1
    assert "| Selective Flip Score |" in md_path.read_text()

    shown = utta(["brains", "show", "offline"], home)
    assert '"eval"' in shown.stdout and '"authenticity"' in shown.stdout
    compared = utta(["brains", "compare", "offline", "maya-offline", "--all"], home)
    assert compared.returncode == 0, compared.stderr
    assert "lineage.metrics.eval.maya.authenticity" in compared.stdout
    assert "lineage.metrics.eval.maya.selective_flip" in compared.stdout
    listed = utta(["brains", "list"], home).stdout
    brains_table = listed.split("\nkinds")[0]  # the kinds table below names `offline` too
    assert sum(line.split()[0] == "offline" for line in brains_table.splitlines() if line) == 1


def test_utta_eval_takes_another_probe_source_and_names_bad_input(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = utta(
        ["eval", "offline", "--persona", "maya", "--probes", "tests.support.probe_source:make",
         "--out", str(tmp_path), "--no-store"],
        home,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [json_path] = tmp_path.glob("maya-*.json")
    summary = json.loads(json_path.read_text())["brains"][0]["summary"]
    assert summary["turns"] == 2 and summary["known"] == 1.0
    assert "lineage" not in utta(["brains", "show", "offline"], home).stdout

    unknown = utta(["eval", "nobody-brain", "--persona", "maya"], home)
    assert unknown.returncode == 1 and "nobody-brain" in unknown.stderr
    bad_source = utta(["eval", "offline", "--persona", "maya", "--probes", "nope"], home)
    assert bad_source.returncode == 2 and "MODULE:FACTORY" in bad_source.stderr
