"""The child-likeness model: trained on some sessions it separates real children from LLM text on
sessions it never saw, its probabilities are calibrated, the shipped model file is small,
versioned, matches its data manifest and scores without numpy, scikit-learn or torch."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from trainers.childlike.dataset import DATA, MANIFEST, load_rows, manifest
from trainers.childlike.evaluate import matched_auc, roc_auc
from trainers.childlike.features import featurize, words_of
from trainers.childlike.scorer import (
    FEATURE_VERSION,
    MODEL_PATH,
    ModelFileError,
    child_likeness,
    load_model,
)

ROOT = Path(__file__).resolve().parent.parent


def held_out(group: str) -> bool:
    """A fixed fifth of the groups (sessions, problems, families, persona topics)."""
    return zlib.crc32(group.encode()) % 5 == 0


def test_scorer_on_held_out_sessions_is_accurate_and_calibrated() -> None:
    from trainers.childlike.train import fit, length_weights, out_of_fold, platt

    rows = load_rows()
    train = [r for r in rows if not held_out(r.group)]
    test = [r for r in rows if held_out(r.group)]
    assert {r.label for r in test} == {0, 1} and len(test) > 200
    labels = [r.label for r in train]
    model = fit(
        [featurize(r.text) for r in train], labels, weights=length_weights(
            [r.text for r in train], labels
        ),
    )  # fmt: skip
    a, b = platt(out_of_fold(train, frozenset()), labels)
    scores = [model.decision(featurize(r.text)) for r in test]
    truth = [r.label for r in test]
    lengths = [len(words_of(r.text)) for r in test]

    auc = roc_auc(scores, truth)
    matched, pairs = matched_auc(scores, truth, lengths)
    word_count = roc_auc([-n for n in lengths], truth)
    assert auc >= 0.93 and auc > word_count + 0.01, (auc, word_count)
    assert matched >= 0.8 and pairs > 500, matched

    # calibration: in each probability band with enough rows, the share of real children is
    # near the band's mean probability; and probabilities are not piled at the ends
    import math

    probabilities = [1 / (1 + math.exp(-(a * s + b))) for s in scores]
    for low in (0.0, 0.2, 0.4, 0.6, 0.8):
        band = [(p, y) for p, y in zip(probabilities, truth, strict=True) if low <= p < low + 0.2]
        if len(band) >= 30:
            mean_p = sum(p for p, _ in band) / len(band)
            share = sum(y for _, y in band) / len(band)
            assert abs(mean_p - share) < 0.2, (low, mean_p, share, len(band))
    assert sum(p > 0.999 for p in probabilities) / len(probabilities) < 0.2
    assert sum(0.1 < p < 0.9 for p in probabilities) / len(probabilities) > 0.1


def test_no_grade_two_turn_is_in_the_training_data() -> None:
    """Grade-2 sessions are held out to evaluate the project."""
    for line in (DATA / "real_child_turns.jsonl").read_text().splitlines():
        row = json.loads(line)
        assert str(row["grade"]) != "2" and not str(row["topic"]).startswith("2.")


def test_model_file_is_small_versioned_and_matches_the_manifest() -> None:
    data = json.loads(MODEL_PATH.read_text())
    assert MODEL_PATH.stat().st_size < 300_000
    assert data["format"] == "utta-childlike" and data["feature_version"] == FEATURE_VERSION
    assert data["trained_on"]["content_hash"] == manifest()["content_hash"]
    assert json.loads(MANIFEST.read_text())["content_hash"] == manifest()["content_hash"]
    sources = data["trained_on"]["sources"]
    assert sources["bridge"]["label"] == 1 and "MIT" in sources["bridge"]["license"]
    assert "CC BY-SA 4.0" in sources["mathdial"]["license"]
    assert (DATA / "NOTICE-mathdial.txt").exists() and (DATA / "LICENSE-bridge.txt").exists()


def test_scoring_imports_no_numpy_sklearn_or_torch() -> None:
    code = (
        "import sys; from trainers.childlike import child_likeness; child_likeness('ok'); "
        "from trainers.metric import score_reply; from personas.loader import PersonaLibrary; "
        "score_reply('35', PersonaLibrary().get('maya')); "
        "print([m for m in ('numpy', 'sklearn', 'scipy', 'torch') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_child_typing_scores_above_llm_typing() -> None:
    assert child_likeness("yes") > 0.9 and child_likeness("Yes!") < 0.5
    assert child_likeness("i dont no") > child_likeness("I don't know.")
    assert child_likeness("Ooh! I think it's 25 because I took away the tens first!") < 0.05
    assert 0.0 <= child_likeness("") <= 1.0


def test_a_broken_model_file_names_the_file_and_the_fix(tmp_path: Path) -> None:
    broken = tmp_path / "model.json"
    broken.write_text("{not json")
    with pytest.raises(ModelFileError, match=r"model\.json.*trainers\.childlike\.train"):
        load_model(broken)
    broken.write_text(json.dumps({"format": "utta-childlike", "feature_version": 999}))
    with pytest.raises(ModelFileError, match="feature_version 999"):
        load_model(broken)
