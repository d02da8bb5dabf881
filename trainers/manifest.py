"""Writing a dataset to a folder: the row files in one of three formats, and ``manifest.json``.

=========  =====================================================================================
format     files
=========  =====================================================================================
openai     ``train.jsonl``, ``validation.jsonl``: ``{"messages": [...]}`` and nothing else (OpenAI
           fine-tuning rejects unknown keys)
hf         the same rows, plus ``README.md`` (YAML ``configs`` and ``dataset_info``, so
           ``datasets.load_dataset(folder)`` works) and ``dataset_info.json`` (features and
           split sizes). :func:`load_hf` loads the folder. ``layout="prompt_completion"`` writes
           ``{"prompt": [...], "completion": [last assistant message]}`` instead, for trainers
           that mask the prompt out of the loss
dspy       ``train.jsonl``, ``validation.jsonl``: ``{persona, student_state, history,
           teacher_message, student_reply}``, ``history`` being the earlier exchanges as
           ``[{"teacher_message", "student_reply"}]`` (what ``dspy.History(messages=...)`` takes)
=========  =====================================================================================

Every format writes ``manifest.json``: the dataset's manifest plus ``format``, ``layout`` and
``files`` (rows and sha256 of each file written). ``content_hash`` is the sha256 of the canonical
JSON of the chat rows, the same whatever the format, so it names the data, not the file layout.
A writer refuses a dataset whose bad rows were not accepted (:class:`trainers.datasets.BadRows`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from trainers.datasets import Dataset

INTERNAL_KEYS = ("session_id", "turn_idx", "student_state", "target_source")
"""Row fields kept for building and reporting, never written to a training file."""
SPLITS = ("train", "validation")
HF_LAYOUTS = ("messages", "prompt_completion")


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def public_row(row: dict[str, Any]) -> dict[str, Any]:
    """The row as a training file holds it: without :data:`INTERNAL_KEYS`."""
    return {key: value for key, value in row.items() if key not in INTERNAL_KEYS}


def content_hash(train: Iterable[dict[str, Any]], validation: Iterable[dict[str, Any]]) -> str:
    """sha256 over the canonical JSON (sorted keys, no spaces) of both splits' public rows."""
    data = {
        "train": [public_row(row) for row in train],
        "validation": [public_row(row) for row in validation],
    }
    return hashlib.sha256(_canonical(data).encode("utf-8")).hexdigest()


def _dialogue(row: dict[str, Any]) -> tuple[str, list[dict[str, str]], str, str]:
    """(system, earlier exchanges, teacher message, student reply) of a chat row."""
    messages = row["messages"]
    history = [
        {"teacher_message": user["content"], "student_reply": assistant["content"]}
        for user, assistant in zip(messages[1:-2:2], messages[2:-2:2], strict=True)
    ]
    return messages[0]["content"], history, messages[-2]["content"], messages[-1]["content"]


def openai_row(row: dict[str, Any], dataset: Dataset | None = None) -> dict[str, Any]:
    return {"messages": row["messages"]}


def prompt_completion_row(row: dict[str, Any], dataset: Dataset | None = None) -> dict[str, Any]:
    return {"prompt": row["messages"][:-1], "completion": row["messages"][-1:]}


def dspy_row(row: dict[str, Any], dataset: Dataset) -> dict[str, Any]:
    _, history, teacher, reply = _dialogue(row)
    return {
        "persona": dataset.persona_prompt,
        "student_state": row.get("student_state", ""),
        "history": history,
        "teacher_message": teacher,
        "student_reply": reply,
    }


def _write(
    dataset: Dataset,
    out_dir: Path | str,
    fmt: str,
    convert: Callable[[dict[str, Any], Dataset], dict[str, Any]],
    extra: dict[str, Any] | None = None,
) -> Path:
    from trainers.datasets import BadRows

    if not dataset.bad_rows_accepted:
        raise BadRows(dataset.problems)
    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, Any]] = {}
    for split in SPLITS:
        rows = getattr(dataset, split)
        text = "".join(_canonical_line(convert(row, dataset)) for row in rows)
        name = f"{split}.jsonl"
        (out / name).write_text(text, encoding="utf-8")
        files[name] = {"rows": len(rows), "sha256": hashlib.sha256(text.encode()).hexdigest()}
    manifest = {**dataset.manifest, "format": fmt, **(extra or {}), "files": files}
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return out


def _canonical_line(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False) + "\n"


def write_openai(dataset: Dataset, out_dir: Path | str) -> Path:
    """``train.jsonl``, ``validation.jsonl`` (``messages`` only) and ``manifest.json``."""
    return _write(dataset, out_dir, "openai", openai_row)


def write_dspy(dataset: Dataset, out_dir: Path | str) -> Path:
    """DSPy example rows (see the module docstring) and ``manifest.json``."""
    return _write(dataset, out_dir, "dspy", dspy_row)


def write_hf(dataset: Dataset, out_dir: Path | str, *, layout: str = "messages") -> Path:
    """Chat rows loadable by the ``datasets`` library, with their features declared."""
    if layout not in HF_LAYOUTS:
        raise ValueError(f"layout is one of {', '.join(HF_LAYOUTS)}, not {layout!r}")
    convert = openai_row if layout == "messages" else prompt_completion_row
    out = _write(dataset, out_dir, "hf", convert, {"layout": layout})
    message_list = {"feature": {"role": _STRING, "content": _STRING}, "_type": "List"}
    columns = ["messages"] if layout == "messages" else ["prompt", "completion"]
    sizes = {split: len(getattr(dataset, split)) for split in SPLITS}
    info = {
        "description": f"utta chat rows for persona {dataset.manifest.get('persona_id')}",
        "features": {column: message_list for column in columns},
        "splits": {
            split: {"name": split, "num_examples": n, "num_bytes": 0} for split, n in sizes.items()
        },
    }
    (out / "dataset_info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    (out / "README.md").write_text(_dataset_card(dataset, columns, sizes), encoding="utf-8")
    return out


_STRING = {"dtype": "string", "_type": "Value"}


def _dataset_card(dataset: Dataset, columns: list[str], sizes: dict[str, int]) -> str:
    """A README whose YAML header tells ``datasets.load_dataset(folder)`` files and features."""
    used = [split for split in SPLITS if sizes[split]] or ["train"]
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split in used:
        lines += [f"  - split: {split}", f"    path: {split}.jsonl"]
    lines += ["dataset_info:", "  features:"]
    for column in columns:
        lines += [
            f"  - name: {column}",
            "    list:",
            "    - name: role",
            "      dtype: string",
            "    - name: content",
            "      dtype: string",
        ]
    lines.append("  splits:")
    for split in used:
        lines += [f"  - name: {split}", f"    num_examples: {sizes[split]}"]
    manifest = dataset.manifest
    lines += [
        "---",
        "",
        f"# utta training rows: persona {manifest.get('persona_id')}",
        "",
        f"{sizes['train']} train and {sizes['validation']} validation rows from sessions "
        f"{manifest.get('source_session_ids')}; content hash `{manifest.get('content_hash')}`.",
        "See manifest.json for the selection, dropped rows and scrub counts.",
        "",
    ]
    return "\n".join(lines)


def load_hf(out_dir: Path | str) -> Any:
    """The folder :func:`write_hf` wrote, as a ``datasets.DatasetDict`` with its declared
    features (splits with no rows are left out). Imports ``datasets`` when called."""
    import datasets

    out = Path(out_dir)
    info = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    features = datasets.Features.from_dict(info["features"])
    files = {
        split: str(out / f"{split}.jsonl")
        for split in SPLITS
        if info["splits"].get(split, {}).get("num_examples")
    }
    if not files:
        raise ValueError(f"{out} holds no rows to load")
    return datasets.load_dataset("json", data_files=files, features=features)
