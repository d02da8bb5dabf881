"""One lineage shape for every trainer, so `utta brains compare` lines the fields up."""

from __future__ import annotations

from trainers.lineage import DATASET_KEYS, LINEAGE_KEYS, build_lineage, dataset_lineage
from transcripts.store import Store
from tui.cli import main


def test_dataset_part_comes_from_the_manifest_unless_given() -> None:
    manifest = {
        "content_hash": "abc",
        "splits": {"train": {"rows": 6}, "validation": {"rows": 2}},
        "skipped": [{"session_id": 3, "turn_idx": None, "reason": "two teacher turns"}],
    }
    assert dataset_lineage(manifest) == {
        "content_hash": "abc",
        "source": None,
        "rows": {"train": 6, "validation": 2},
        "skipped": manifest["skipped"],
        "skipped_by_trainer": [],
    }
    bad = {"split": "train", "line": 4, "reason": "no assistant message"}
    given = dataset_lineage(
        manifest, content_hash="def", source="/data", rows={"train": 5}, skipped_by_trainer=[bad]
    )
    assert given["content_hash"] == "def" and given["source"] == "/data"
    assert given["rows"] == {"train": 5, "validation": 0}
    assert given["skipped_by_trainer"] == [bad]


def test_every_lineage_has_the_same_keys_and_a_full_dataset_part() -> None:
    lineage = build_lineage(
        method="openai-fine-tuning",
        persona="maya",
        base="gpt-4o-mini",
        dataset={"content_hash": "abc"},
        hyperparameters={"n_epochs": 2},
        metrics={},
    )
    assert list(lineage) == list(LINEAGE_KEYS)
    assert list(lineage["dataset"]) == list(DATASET_KEYS)
    assert lineage["dataset"]["content_hash"] == "abc" and lineage["extra"] == {}
    assert lineage["created_at"].endswith("+00:00")


def test_compare_lines_up_two_trainers_lineages(capsys) -> None:
    common = {"persona": "maya", "dataset": dataset_lineage({"content_hash": "abc"})}
    lora = build_lineage(
        method="lora", base="tiny", hyperparameters={"rank": 8}, metrics={}, **common
    )
    dspy = build_lineage(
        method="dspy-bootstrap", base={"kind": "vllm"}, hyperparameters={}, metrics={}, **common
    )
    store = Store()
    store.save_brain("a", "vllm", {"adapter": "a"}, "maya", lora)
    store.save_brain("b", "dspy", {"lm": {}}, "maya", dspy)
    assert main(["brains", "compare", "a", "b"]) == 0
    compared = capsys.readouterr().out
    assert "lineage.method" in compared and "lineage.hyperparameters.rank" in compared
    assert "lineage.dataset.content_hash" not in compared  # the same data, so not a difference
