"""Chat rows in, token ids and labels out: the LoRA trainer's data half.

Rows are OpenAI chat format, one JSON object a line: ``{"messages": [{"role": "system", ...},
{"role": "user", ...}, {"role": "assistant", ...}, ...]}``, in ``train.jsonl`` and
``validation.jsonl`` beside a ``manifest.json`` (what :mod:`trainers.datasets` writes).

Loss falls on the student's words only: by default on the last reply of each row, since the
dataset builder writes one row per student turn with the earlier dialogue as context (training
on every reply would count early replies once per later turn). Each row is rendered with the
base tokenizer's own chat template; for every reply the prefix up to it (with the generation
prompt) and the text through it are rendered too, which gives the character span of that reply.
Tokens inside a span (the reply and the template's end-of-turn marker, not the newline after it)
keep their ids as labels; every other token (system prompt, teacher turns, role headers) gets
-100. A template whose earlier turns change when later ones are added breaks that prefix rule
and is refused by name rather than masked wrongly. TRL's ``assistant_only_loss`` would need
``{% generation %}`` markers in the template, which most templates (and the test model's) lack.

No token is ever added: a missing pad token becomes the end-of-sequence token, because vLLM
refuses adapters that carry resized embeddings (``modules_to_save``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainers.errors import TrainingError

if TYPE_CHECKING:
    from trainers.datasets import Dataset

IGNORE_INDEX = -100
ROLES = ("system", "user", "assistant")
SPLITS = ("train", "validation")
MANIFEST_FILE = "manifest.json"
DATA_MANIFEST_FILE = "data_manifest.json"

Message = dict[str, str]
Row = list[Message]


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be trained on: where it is and why."""

    split: str
    line: int
    reason: str

    def format(self, folder: Path | str | None = None) -> str:
        where = f"{folder}/{self.split}.jsonl" if folder else f"{self.split}.jsonl"
        return f"{where}:{self.line}: {self.reason}"


class BadRowsError(TrainingError, ValueError):
    """The data has rows that cannot be trained on; ``rows`` lists them all."""

    def __init__(self, rows: Sequence[BadRow], folder: Path | str | None = None) -> None:
        self.rows = list(rows)
        self.folder = folder
        listed = "\n".join(f"  {row.format(folder)}" for row in self.rows)
        super().__init__(
            f"{len(self.rows)} bad row(s) in the training data:\n{listed}\n",
            fix="fix them, or pass --skip-bad (skip_bad=True) to train without them; the data "
            "manifest then lists what was skipped",
        )


@dataclass(frozen=True)
class Unreadable:
    """A JSONL line that did not parse, standing in for its row."""

    reason: str


def row_problem(row: Any) -> str | None:
    """Why ``row`` (a parsed JSONL line) is not a trainable chat row, or ``None`` if it is."""
    if isinstance(row, Unreadable):
        return row.reason
    if not isinstance(row, dict) or not isinstance(row.get("messages"), list):
        return 'expected an object with a "messages" list'
    messages = row["messages"]
    if not messages:
        return '"messages" is empty'
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            return f"messages[{index}] is not an object"
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            return f"messages[{index}].role is {role!r}; expected one of {', '.join(ROLES)}"
        if not isinstance(content, str) or not content.strip():
            return f"messages[{index}].content is empty or not text"
    if not any(m["role"] == "assistant" for m in messages):
        return "no assistant (student) message to learn from"
    return None


@dataclass
class ChatData:
    """Train and validation rows with the manifest that describes them."""

    train: list[Row]
    validation: list[Row]
    manifest: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    skipped: list[BadRow] = field(default_factory=list)
    skip_bad: bool = False
    """Whether rows found bad later (e.g. no reply token left within max_seq_len) are skipped
    and recorded rather than stopping training."""
    lines: dict[str, list[int]] = field(default_factory=dict)
    """Each kept row's line in its source file, per split, so later problems name the right line."""

    @classmethod
    def from_rows(
        cls,
        train: Iterable[Any],
        validation: Iterable[Any] = (),
        *,
        manifest: dict[str, Any] | None = None,
        source: str | None = None,
        skip_bad: bool = False,
    ) -> ChatData:
        """Check every row; raise :class:`BadRowsError` listing the bad ones unless
        ``skip_bad``, in which case they are dropped and recorded in :attr:`skipped`."""
        kept: dict[str, list[Row]] = {split: [] for split in SPLITS}
        lines: dict[str, list[int]] = {split: [] for split in SPLITS}
        bad: list[BadRow] = []
        for split, rows in zip(SPLITS, (train, validation), strict=True):
            for line, row in enumerate(rows, start=1):
                problem = row_problem(row)
                if problem:
                    bad.append(BadRow(split, line, problem))
                else:
                    kept[split].append([dict(m) for m in row["messages"]])
                    lines[split].append(line)
        if bad and not skip_bad:
            raise BadRowsError(bad, source)
        if not kept["train"]:
            raise BadRowsError([BadRow("train", 0, "no trainable rows")], source)
        return cls(
            kept["train"], kept["validation"], dict(manifest or {}), source, bad, skip_bad, lines
        )

    @classmethod
    def from_folder(cls, folder: Path | str, *, skip_bad: bool = False) -> ChatData:
        """Read ``train.jsonl``, ``validation.jsonl`` (optional) and ``manifest.json``."""
        folder = Path(folder).expanduser()
        train_file = folder / "train.jsonl"
        if not train_file.is_file():
            raise FileNotFoundError(
                f"{train_file} is missing; give --data a folder written by the dataset builder "
                "(train.jsonl, validation.jsonl, manifest.json)"
            )
        parsed = {split: _read_jsonl(folder / f"{split}.jsonl") for split in SPLITS}
        manifest_file = folder / MANIFEST_FILE
        manifest = json.loads(manifest_file.read_text("utf-8")) if manifest_file.is_file() else {}
        return cls.from_rows(
            parsed["train"],
            parsed["validation"],
            manifest=manifest,
            source=str(folder),
            skip_bad=skip_bad,
        )

    @classmethod
    def from_dataset(cls, dataset: Dataset, *, skip_bad: bool = False) -> ChatData:
        """From a :class:`trainers.datasets.Dataset` built in memory (no source folder): its own
        checks run first, then ours."""
        dataset.raise_if_bad(skip_bad)
        return cls.from_rows(
            dataset.train, dataset.validation, manifest=dataset.manifest, skip_bad=skip_bad
        )

    @property
    def content_hash(self) -> str:
        """The manifest's ``content_hash``, else a SHA-256 of the rows as trained."""
        given = self.manifest.get("content_hash")
        if given:
            return str(given)
        digest = hashlib.sha256()
        for split, rows in (("train", self.train), ("validation", self.validation)):
            for row in rows:
                digest.update(split.encode() + json.dumps(row, sort_keys=True).encode() + b"\n")
        return f"sha256:{digest.hexdigest()}"

    def describe(self) -> dict[str, Any]:
        """What was trained on: the source manifest plus the rows this trainer kept or skipped."""
        return {
            **self.manifest,
            "content_hash": self.content_hash,
            "source": self.source,
            "trained_rows": {"train": len(self.train), "validation": len(self.validation)},
            "skipped_by_trainer": [asdict(row) for row in self.skipped],
        }

    def write_manifest(self, folder: Path, **extra: Any) -> Path:
        path = Path(folder) / DATA_MANIFEST_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**self.describe(), **extra}, indent=2), encoding="utf-8")
        return path


def _read_jsonl(path: Path) -> list[Any]:
    """Parsed lines of ``path`` (a missing file is empty); an unparseable line becomes an
    :class:`Unreadable` that :func:`row_problem` reports with its line number."""
    if not path.is_file():
        return []
    rows: list[Any] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            rows.append(Unreadable("blank line"))
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as error:
            rows.append(Unreadable(f"not valid JSON ({error.msg})"))
    return rows


# --- tokenizing -----------------------------------------------------------------------------


class TemplateError(TrainingError, ValueError):
    """The tokenizer's chat template cannot be used to mask replies."""


@dataclass(frozen=True)
class TokenizedRow:
    input_ids: list[int]
    labels: list[int]
    trimmed_exchanges: int = 0
    """Earlier exchanges of the conversation left out so the row fits (as the agent's memory
    window leaves them out when serving); the system prompt and the reply are never cut."""

    @property
    def trained_tokens(self) -> int:
        return sum(label != IGNORE_INDEX for label in self.labels)


def prepare_tokenizer(tokenizer: Any) -> Any:
    """Check the tokenizer has a chat template; reuse EOS as padding if it has no pad token."""
    if not getattr(tokenizer, "chat_template", None):
        raise TemplateError(
            "the base model's tokenizer has no chat template",
            fix="train from a chat (instruct) model, or save its tokenizer with `chat_template`",
        )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token  # never add a token: vLLM would refuse it
    return tokenizer


def render(tokenizer: Any, messages: Sequence[Message], *, generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(
        list(messages), tokenize=False, add_generation_prompt=generation_prompt
    )


def reply_spans(
    tokenizer: Any, messages: Sequence[Message], *, last_only: bool = False
) -> tuple[str, list[tuple[int, int]]]:
    """The rendered row and the character span of each assistant reply in it (of the last one
    only with ``last_only``).

    A span runs from the end of the generation prompt to the end of the reply's turn, trailing
    whitespace excluded, so the end-of-turn token is learned but the template's newline is not.
    """
    text = render(tokenizer, messages)
    spans: list[tuple[int, int]] = []
    replies = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    for index in replies[-1:] if last_only else replies:
        prefix = render(tokenizer, messages[:index], generation_prompt=True)
        through = render(tokenizer, messages[: index + 1])
        if not (through.startswith(prefix) and text.startswith(through)):
            raise TemplateError(
                "the chat template renders earlier turns differently once later ones follow "
                f"(at message {index}), so replies cannot be located to mask the prompt",
                fix="use a template whose rendering of a conversation extends its rendering of "
                "any prefix of it",
            )
        end = len(through.rstrip())
        if end > len(prefix):
            spans.append((len(prefix), end))
    return text, spans


class RowTooLong(ValueError):
    """Even the system prompt and the last exchange alone are longer than ``max_seq_len``."""


def _encode(
    tokenizer: Any, messages: Sequence[Message], last_only: bool
) -> tuple[list[int], list[int]]:
    text, spans = reply_spans(tokenizer, messages, last_only=last_only)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids: list[int] = list(encoded["input_ids"])
    offsets = encoded["offset_mapping"]
    labels = [
        token if start < end and any(s <= start and end <= e for s, e in spans) else IGNORE_INDEX
        for token, (start, end) in zip(ids, offsets, strict=True)
    ]
    return ids, labels


def tokenize_row(
    tokenizer: Any, messages: Sequence[Message], max_seq_len: int, *, last_only: bool = False
) -> TokenizedRow:
    """Token ids and labels (-100 outside the replies, or outside the last reply with
    ``last_only``), at most ``max_seq_len`` tokens.

    Nothing is cut inside a message. A row that is too long leaves out its oldest exchanges
    (teacher message + reply, after the system prompt) until it fits; when the system prompt
    and the last exchange alone do not fit, :class:`RowTooLong` says by how much.
    """
    messages = list(messages)
    head = 1 if messages and messages[0]["role"] == "system" else 0
    trimmed = 0
    while True:
        ids, labels = _encode(tokenizer, messages, last_only)
        if len(ids) <= max_seq_len:
            return TokenizedRow(ids, labels, trimmed)
        rest = messages[head:]
        # keep the last exchange (the reply to learn and the teacher message before it)
        replies = [i for i, m in enumerate(rest) if m["role"] == "assistant"]
        last_user = max(
            (i for i, m in enumerate(rest[: replies[-1]]) if m["role"] == "user"), default=0
        ) if replies else 0  # fmt: skip
        if last_user == 0:
            prompt = len(_encode(tokenizer, messages[:head], False)[0]) if head else 0
            raise RowTooLong(
                f"{len(ids)} tokens, over max_seq_len {max_seq_len} even without earlier "
                f"exchanges (the system prompt alone is {prompt} tokens)"
            )
        cut = next((i for i in range(1, last_user + 1) if rest[i]["role"] == "user"), last_user)
        messages = [*messages[:head], *rest[cut:]]
        trimmed += 1


def tokenize_rows(
    tokenizer: Any,
    rows: Sequence[Row],
    max_seq_len: int,
    split: str = "train",
    *,
    last_only: bool = False,
    lines: Sequence[int] = (),
) -> tuple[list[TokenizedRow], list[BadRow]]:
    """Tokenized rows, and the rows left with no reply token to learn from (named by ``lines``,
    each row's line in its source file, else by position)."""
    kept: list[TokenizedRow] = []
    bad: list[BadRow] = []
    numbers = list(lines) or list(range(1, len(rows) + 1))
    for line, messages in zip(numbers, rows, strict=True):
        try:
            row = tokenize_row(tokenizer, messages, max_seq_len, last_only=last_only)
        except RowTooLong as error:
            bad.append(BadRow(split, line, f"too long: {error}"))
            continue
        if row.trained_tokens:
            kept.append(row)
        else:
            bad.append(BadRow(split, line, f"no reply token within max_seq_len {max_seq_len}"))
    return kept, bad


def to_hf_dataset(rows: Sequence[TokenizedRow]) -> Any:
    """A ``datasets.Dataset`` with ``input_ids`` and ``labels``, which TRL uses as is."""
    from datasets import Dataset

    return Dataset.from_dict(
        {"input_ids": [r.input_ids for r in rows], "labels": [r.labels for r in rows]}
    )


def pad_batch(pad_token_id: int) -> Callable[[Sequence[dict[str, Any]]], dict[str, Any]]:
    """A collator that right-pads ``input_ids`` (with ``pad_token_id``) and ``labels`` (with
    -100) to the longest row of the batch and adds the attention mask: what TRL's default
    collator returns, built with one tensor per field instead of two per row."""

    def collate(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        import torch

        width = max(len(row["input_ids"]) for row in rows)
        ids, labels, mask = [], [], []
        for row in rows:
            fill = width - len(row["input_ids"])
            ids.append([*row["input_ids"], *[pad_token_id] * fill])
            labels.append([*row["labels"], *[IGNORE_INDEX] * fill])
            mask.append([1] * (width - fill) + [0] * fill)
        return {
            "input_ids": torch.tensor(ids),
            "labels": torch.tensor(labels),
            "attention_mask": torch.tensor(mask),
        }

    return collate


def prompt_and_target(messages: Sequence[Message]) -> tuple[Row, str]:
    """The messages before the last reply, and that reply (for greedy samples)."""
    last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    return [dict(m) for m in messages[:last]], messages[last]["content"]
