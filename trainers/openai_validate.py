"""Check chat-format JSONL before paying to fine-tune on it, the way OpenAI's data-preparation
cookbook does, and estimate what the job will cost.

Every line must be a JSON object with a ``messages`` list; every message needs a ``role`` (system,
user or assistant) and non-empty string ``content`` and no other keys than ``name`` and
``weight``; every example needs an assistant message. Problems carry the file and line::

    train.jsonl:7: message 2 has unrecognized role 'teacher'

Tokens are counted with tiktoken's ``o200k_base`` encoding (the gpt-4o / gpt-4.1 family) when
tiktoken can load it; otherwise (no network to fetch the encoding, say) with an approximation of
4 characters per token, and the report says which. Billed tokens are
``sum(min(limit, tokens)) × epochs`` over the training file; the price table below is the one place
prices live. Run it alone: ``utta train openai --persona maya --model M --data DIR`` stops at the
confirmation prompt after printing this report.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

ROLES = ("system", "user", "assistant")
MESSAGE_KEYS = frozenset({"role", "content", "name", "weight"})
DEFAULT_MAX_TOKENS_PER_EXAMPLE = 65_536
"""OpenAI's training context for gpt-4o-mini (longer examples are truncated); set per model with
``--max-tokens-per-example``."""
MIN_TRAINING_EXAMPLES = 10
"""OpenAI refuses a training file with fewer examples."""

# Training prices in US dollars per 1M billed tokens, matched by the longest model-name prefix.
# Read on 2026-11-21 from secondary sources quoting OpenAI's pricing page (https://openai.com/api/
# pricing), which could not be opened from here: check it, and pass --price-per-million when it
# differs. gpt-4o and gpt-4o-mini agreed across two sources; the gpt-4.1 rows are OpenAI's 2025
# list prices, not re-confirmed.
PRICES_READ_ON = "2026-11-21"
TRAINING_PRICE_PER_MILLION: dict[str, float] = {
    "gpt-4o-mini": 3.00,
    "gpt-4o": 25.00,
    "gpt-4.1-nano": 1.50,
    "gpt-4.1-mini": 5.00,
    "gpt-4.1": 25.00,
}

# The cookbook's rule for the number of epochs OpenAI picks when none is given.
_TARGET_EPOCHS, _MIN_EPOCHS, _MAX_EPOCHS = 3, 1, 25
_MIN_TARGET_EXAMPLES, _MAX_TARGET_EXAMPLES = 100, 25_000

# --- token counting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenCounter:
    """Counts a text's tokens; ``method`` says how, ``exact`` whether it is a real tokenizer."""

    method: str
    exact: bool
    count: Callable[[str], int]

    def example(self, messages: list[dict[str, Any]]) -> int:
        """Tokens in one chat example, as the cookbook counts them: 3 per message for the chat
        format, the role, content and name texts, 1 more for a name, 3 to prime the reply."""
        total = 3
        for message in messages:
            total += 3
            for key in ("role", "content", "name"):
                value = message.get(key)
                if isinstance(value, str):
                    total += self.count(value) + (1 if key == "name" else 0)
        return total


def approximate_counter(reason: str = "") -> TokenCounter:
    method = "approximate (4 characters per token)"
    return TokenCounter(
        method=f"{method}: {reason}" if reason else method,
        exact=False,
        count=lambda text: math.ceil(len(text) / 4),
    )


@lru_cache(maxsize=1)
def token_counter(timeout: float = 10.0) -> TokenCounter:
    """tiktoken's ``o200k_base`` counter when it loads within ``timeout`` seconds (it downloads the
    encoding once, then caches it); otherwise the 4-characters-per-token approximation.
    ``UTTA_TOKEN_COUNT=approximate`` skips tiktoken."""
    if os.environ.get("UTTA_TOKEN_COUNT", "").lower().startswith("approx"):
        return approximate_counter("UTTA_TOKEN_COUNT=approximate")
    result: dict[str, Any] = {}

    def load() -> None:
        try:
            import tiktoken

            result["encoding"] = tiktoken.get_encoding("o200k_base")
        except Exception as error:  # no tiktoken, or no network to fetch the encoding
            result["error"] = error

    # tiktoken's first download has no timeout of its own; never let it hang the command.
    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    loader.join(timeout)
    encoding = result.get("encoding")
    if encoding is None:
        error = result.get("error")
        why = "tiktoken is not installed" if isinstance(error, ImportError) else (
            "tiktoken could not load o200k_base"
            + (f" ({type(error).__name__})" if error else f" within {timeout:g} s")
        )  # fmt: skip
        return approximate_counter(why)
    return TokenCounter(
        "tiktoken o200k_base", True, lambda text: len(encoding.encode(text, disallowed_special=()))
    )


# --- checking a file --------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


@dataclass
class FileReport:
    """What :func:`validate_file` found in one JSONL file."""

    path: Path
    max_tokens_per_example: int
    counter_method: str
    lines: int = 0
    good_lines: list[int] = field(default_factory=list)
    """Line numbers (1-based) of the examples without errors."""
    tokens: list[int] = field(default_factory=list)
    """Tokens per good example, in file order."""
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def examples(self) -> int:
        return len(self.good_lines)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def over_limit(self) -> int:
        return sum(1 for n in self.tokens if n > self.max_tokens_per_example)

    @property
    def billed_tokens_per_epoch(self) -> int:
        return sum(min(self.max_tokens_per_example, n) for n in self.tokens)

    def summary(self) -> str:
        if not self.tokens:
            return f"{self.name}: no usable examples ({self.lines} lines)"
        mean = statistics.fmean(self.tokens)
        text = (
            f"{self.name}: {self.examples} examples, tokens per example "
            f"min {min(self.tokens):,} / mean {mean:,.0f} / max {max(self.tokens):,}"
        )
        if self.over_limit:
            text += f"; {self.over_limit} over the {self.max_tokens_per_example:,}-token limit"
        return text


def validate_file(
    path: Path | str,
    *,
    max_tokens_per_example: int = DEFAULT_MAX_TOKENS_PER_EXAMPLE,
    counter: TokenCounter | None = None,
    training: bool = True,
) -> FileReport:
    """Check every line of the chat-format JSONL file at ``path``; count tokens of the good ones."""
    path = Path(path)
    counter = counter or token_counter()
    report = FileReport(path, max_tokens_per_example, counter.method)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        report.errors.append(Problem(path.name, None, f"cannot be read ({error})"))
        return report
    lines = text.splitlines()
    report.lines = len(lines)
    for number, line in enumerate(lines, start=1):
        messages, problems = check_line(line)
        if problems:
            report.errors += [Problem(path.name, number, p) for p in problems]
            continue
        assert messages is not None
        tokens = counter.example(messages)
        report.good_lines.append(number)
        report.tokens.append(tokens)
        if tokens > max_tokens_per_example:
            report.warnings.append(
                Problem(
                    path.name,
                    number,
                    f"{tokens:,} tokens, over the {max_tokens_per_example:,}-token limit "
                    "(the provider truncates it)",
                )
            )
    if not lines:
        report.errors.append(Problem(path.name, None, "is empty"))
    elif training and 0 < report.examples < MIN_TRAINING_EXAMPLES:
        report.warnings.append(
            Problem(
                path.name,
                None,
                f"only {report.examples} examples; OpenAI needs at least {MIN_TRAINING_EXAMPLES}",
            )
        )
    return report


def check_line(line: str) -> tuple[list[dict[str, Any]] | None, list[str]]:
    """The example's messages, or the cookbook's complaints about this line."""
    if not line.strip():
        return None, ["empty line (each line must hold one JSON example)"]
    try:
        example = json.loads(line)
    except json.JSONDecodeError as error:
        return None, [f"invalid JSON ({error.msg} at column {error.colno})"]
    if not isinstance(example, dict):
        return None, [f"not a JSON object (got {_json_type(example)})"]
    if "messages" not in example:
        return None, ['missing "messages"']
    messages = example["messages"]
    if not isinstance(messages, list) or not messages:
        return None, ['"messages" must be a non-empty list']
    problems: list[str] = []
    for index, message in enumerate(messages, start=1):
        problems += [f"message {index} {p}" for p in _check_message(message)]
    if not any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages):
        problems.append("no assistant message")
    return (None if problems else messages), problems


def _check_message(message: Any) -> list[str]:
    if not isinstance(message, dict):
        return [f"is not a JSON object (got {_json_type(message)})"]
    problems = [f"is missing {key!r}" for key in ("role", "content") if key not in message]
    role = message.get("role")
    if "role" in message and role not in ROLES:
        problems.append(f"has unrecognized role {role!r} (use {', '.join(ROLES)})")
    problems += [f"has unrecognized key {key!r}" for key in message if key not in MESSAGE_KEYS]
    if "content" in message:
        content = message["content"]
        if not isinstance(content, str):
            problems.append(f"content is not a string (got {_json_type(content)})")
        elif not content.strip():
            problems.append("content is empty")
    if "weight" in message and (message["weight"] not in (0, 1) or role != "assistant"):
        problems.append("has a weight other than 0 or 1, or on a non-assistant message")
    return problems


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def write_clean(report: FileReport, out: Path) -> Path:
    """Copy only the good lines of ``report``'s file to ``out`` (for ``--skip-bad``)."""
    keep = set(report.good_lines)
    lines = report.path.read_text(encoding="utf-8").splitlines()
    out.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{line}\n" for n, line in enumerate(lines, start=1) if n in keep)
    out.write_text(body, encoding="utf-8")
    return out


# --- cost -------------------------------------------------------------------------------------


def default_epochs(examples: int) -> int:
    """The epochs OpenAI picks when none is given (the cookbook's rule)."""
    if examples <= 0:
        return _TARGET_EPOCHS
    if examples * _TARGET_EPOCHS < _MIN_TARGET_EXAMPLES:
        return min(_MAX_EPOCHS, _MIN_TARGET_EXAMPLES // examples)
    if examples * _TARGET_EPOCHS > _MAX_TARGET_EXAMPLES:
        return max(_MIN_EPOCHS, _MAX_TARGET_EXAMPLES // examples)
    return _TARGET_EPOCHS


def price_per_million(model: str) -> float | None:
    """The table's training price for ``model`` (a fine-tune ``ft:BASE:...`` costs as BASE).

    The table's names hold no colon, so matching the start of ``BASE:...`` is matching BASE."""
    base = model.removeprefix("ft:")
    matches = [prefix for prefix in TRAINING_PRICE_PER_MILLION if base.startswith(prefix)]
    return TRAINING_PRICE_PER_MILLION[max(matches, key=len)] if matches else None


@dataclass(frozen=True)
class CostEstimate:
    model: str
    examples: int
    epochs: int
    epochs_given: bool
    billed_tokens_per_epoch: int
    price_per_million: float | None
    price_source: str

    @property
    def billed_tokens(self) -> int:
        return self.billed_tokens_per_epoch * self.epochs

    @property
    def cost(self) -> float | None:
        if self.price_per_million is None:
            return None
        return self.billed_tokens / 1_000_000 * self.price_per_million

    def cost_text(self) -> str:
        return "an unknown amount" if self.cost is None else f"${self.cost:,.2f}"

    def describe(self) -> str:
        epochs = f"{self.epochs} epochs" + ("" if self.epochs_given else " (OpenAI's default)")
        line = (
            f"estimated billed tokens: {self.billed_tokens_per_epoch:,} × {epochs} = "
            f"{self.billed_tokens:,}"
        )
        if self.price_per_million is None:
            return (
                f"{line}\nestimated cost: unknown — no price for {self.model} in the table; "
                "pass --price-per-million"
            )
        return (
            f"{line}\nestimated cost: {self.cost_text()} at ${self.price_per_million:,.2f} per 1M "
            f"tokens ({self.price_source})"
        )


def estimate_cost(
    training: FileReport,
    model: str,
    *,
    epochs: int | None = None,
    price_override: float | None = None,
) -> CostEstimate:
    if price_override is not None:
        price, source = price_override, "--price-per-million"
    else:
        price, source = price_per_million(model), f"price table read {PRICES_READ_ON}"
    return CostEstimate(
        model=model,
        examples=training.examples,
        epochs=epochs if epochs is not None else default_epochs(training.examples),
        epochs_given=epochs is not None,
        billed_tokens_per_epoch=training.billed_tokens_per_epoch,
        price_per_million=price,
        price_source=source,
    )


def format_report(reports: Iterable[FileReport], estimate: CostEstimate | None = None) -> str:
    """The errors, warnings and token summary of each file, then the cost estimate."""
    reports = list(reports)
    out: list[str] = []
    for report in reports:
        out += [f"error: {problem}" for problem in report.errors]
        out += [f"warning: {problem}" for problem in report.warnings]
    out += [report.summary() for report in reports]
    if reports:
        out.append(f"tokens counted with {reports[0].counter_method}")
    if estimate is not None:
        out.append(estimate.describe())
    return "\n".join(out)
