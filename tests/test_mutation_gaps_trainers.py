"""Every reason the OpenAI validator gives, its token and cost arithmetic, and the LoRA data's
row checks, multi-reply masking and padding: exact texts and numbers, so a mutant shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.lora_rows import built_tokenizer, trained_text
from trainers.openai_validate import (
    MIN_TRAINING_EXAMPLES,
    CostEstimate,
    FileReport,
    Problem,
    TokenCounter,
    approximate_counter,
    check_line,
    default_epochs,
    estimate_cost,
    format_report,
    price_per_million,
    validate_file,
    write_clean,
)

WORDS = TokenCounter("words", True, lambda text: len(text.split()))


def line(*messages: object) -> str:
    return json.dumps({"messages": list(messages)})


USER = {"role": "user", "content": "What is 52 - 27?"}
REPLY = {"role": "assistant", "content": "35"}


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("", ["empty line (each line must hold one JSON example)"]),
        ("   ", ["empty line (each line must hold one JSON example)"]),
        ("{nope", ["invalid JSON (Expecting property name enclosed in double quotes at column 2)"]),
        ("[1, 2]", ["not a JSON object (got list)"]),
        ('"text"', ["not a JSON object (got string)"]),
        ("3", ["not a JSON object (got number)"]),
        ("null", ["not a JSON object (got null)"]),
        ("true", ["not a JSON object (got boolean)"]),
        ("{}", ['missing "messages"']),
        ('{"messages": []}', ['"messages" must be a non-empty list']),
        ('{"messages": {"role": "user"}}', ['"messages" must be a non-empty list']),
        (line(USER), ["no assistant message"]),
        (line("hello", REPLY), ["message 1 is not a JSON object (got string)"]),
        (
            line(USER, [REPLY]),
            ["message 2 is not a JSON object (got list)", "no assistant message"],
        ),
        (line({"content": "hi"}, REPLY), ["message 1 is missing 'role'"]),
        (line({"role": "user"}, REPLY), ["message 1 is missing 'content'"]),
        (
            line({"role": "teacher", "content": "hi"}, REPLY),
            ["message 1 has unrecognized role 'teacher' (use system, user, assistant)"],
        ),
        (
            line({**USER, "mood": "ok"}, REPLY),
            ["message 1 has unrecognized key 'mood'"],
        ),
        (
            line({"role": "user", "content": 5}, REPLY),
            ["message 1 content is not a string (got number)"],
        ),
        (line({"role": "user", "content": " \n"}, REPLY), ["message 1 content is empty"]),
        (
            line(USER, {**REPLY, "weight": 2}),
            ["message 2 has a weight other than 0 or 1, or on a non-assistant message"],
        ),
        (
            line({**USER, "weight": 1}, REPLY),
            ["message 1 has a weight other than 0 or 1, or on a non-assistant message"],
        ),
    ],
)
def test_every_cookbook_reason_is_given_exactly(text: str, problems: list[str]) -> None:
    messages, found = check_line(text)
    assert found == problems
    assert messages is None


@pytest.mark.parametrize("weight", [0, 1])
def test_weights_0_and_1_on_a_reply_are_fine(weight: int) -> None:
    messages, problems = check_line(line(USER, {**REPLY, "weight": weight}, {**REPLY, "name": "x"}))
    assert problems == []
    assert messages is not None and messages[1]["weight"] == weight


def test_a_message_that_is_not_an_object_is_reported_not_crashed(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(line(USER, REPLY) + "\n" + line(["user", "hi"], REPLY) + "\n\n")
    report = validate_file(path, counter=WORDS, training=False)
    assert [str(p) for p in report.errors] == [
        "train.jsonl:2: message 1 is not a JSON object (got list)",
        "train.jsonl:3: empty line (each line must hold one JSON example)",
    ]
    assert report.good_lines == [1] and report.lines == 3 and not report.ok


def test_tokens_are_counted_as_the_cookbook_does() -> None:
    # 3 to prime + per message 3 + role + content (+ name + 1)
    messages = [USER, {**REPLY, "name": "maya"}]
    assert WORDS.example(messages) == 3 + (3 + 1 + 5) + (3 + 1 + 1 + 1 + 1)
    assert approximate_counter().count("12345") == 2
    assert approximate_counter("why").method == "approximate (4 characters per token): why"
    assert approximate_counter().method == "approximate (4 characters per token)"
    assert not approximate_counter().exact


def test_a_file_report_counts_limits_and_warns(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    long = {"role": "assistant", "content": " ".join(["word"] * 30)}
    path.write_text("\n".join([line(USER, REPLY), line(USER, long), "{bad"]) + "\n")
    report = validate_file(path, max_tokens_per_example=20, counter=WORDS)
    assert report.tokens == [3 + 9 + 5, 3 + 9 + 34]
    assert report.good_lines == [1, 2] and report.examples == 2
    assert report.over_limit == 1
    assert report.billed_tokens_per_epoch == 17 + 20
    assert [str(w) for w in report.warnings] == [
        "train.jsonl:2: 46 tokens, over the 20-token limit (the provider truncates it)",
        f"train.jsonl: only 2 examples; OpenAI needs at least {MIN_TRAINING_EXAMPLES}",
    ]
    assert report.summary() == (
        "train.jsonl: 2 examples, tokens per example min 17 / mean 32 / max 46; "
        "1 over the 20-token limit"
    )
    clean = write_clean(report, tmp_path / "out" / "clean.jsonl")
    assert clean.read_text().splitlines() == path.read_text().splitlines()[:2]


def test_validation_files_are_not_held_to_the_training_minimum(tmp_path: Path) -> None:
    path = tmp_path / "validation.jsonl"
    path.write_text(line(USER, REPLY) + "\n")
    assert validate_file(path, counter=WORDS, training=False).warnings == []
    rows = "".join(line(USER, REPLY) + "\n" for _ in range(MIN_TRAINING_EXAMPLES))
    path.write_text(rows)
    assert validate_file(path, counter=WORDS).warnings == []


def test_empty_and_unreadable_files_are_errors(tmp_path: Path) -> None:
    empty = tmp_path / "train.jsonl"
    empty.write_text("")
    report = validate_file(empty, counter=WORDS)
    assert [str(p) for p in report.errors] == ["train.jsonl: is empty"]
    assert report.summary() == "train.jsonl: no usable examples (0 lines)"
    missing = validate_file(tmp_path / "nope.jsonl", counter=WORDS)
    assert str(missing.errors[0]).startswith("nope.jsonl: cannot be read (")
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    assert "cannot be read" in str(validate_file(binary, counter=WORDS).errors[0])


@pytest.mark.parametrize(
    ("examples", "epochs"),
    [(0, 3), (1, 25), (3, 25), (4, 25), (5, 20), (10, 10), (33, 3), (34, 3), (100, 3),
     (8333, 3), (8334, 2), (25_000, 1), (30_000, 1)],
)  # fmt: skip
def test_default_epochs_follow_the_cookbook(examples: int, epochs: int) -> None:
    assert default_epochs(examples) == epochs


def test_prices_match_the_longest_prefix_and_fine_tunes_cost_as_their_base() -> None:
    assert price_per_million("gpt-4o-mini-2024-07-18") == 3.00
    assert price_per_million("gpt-4o-2024-08-06") == 25.00
    assert price_per_million("ft:gpt-4.1-nano:org::abc") == 1.50
    assert price_per_million("gpt-4.1-mini") == 5.00
    assert price_per_million("llama-3") is None


def test_the_cost_estimate_and_report_text(tmp_path: Path) -> None:
    report = FileReport(tmp_path / "train.jsonl", 100, "words", lines=2)
    report.good_lines, report.tokens = [1, 2], [400_000, 100_000]
    estimate = estimate_cost(report, "gpt-4o-mini")
    assert (estimate.epochs, estimate.epochs_given) == (25, False)
    assert estimate.billed_tokens_per_epoch == 200
    assert estimate.billed_tokens == 5_000 and estimate.cost == pytest.approx(0.015)
    assert estimate.describe() == (
        "estimated billed tokens: 200 × 25 epochs (OpenAI's default) = 5,000\n"
        "estimated cost: $0.01 at $3.00 per 1M tokens (price table read 2026-11-21)"
    )
    given = estimate_cost(report, "mystery", epochs=2, price_override=10.0)
    assert given.describe() == (
        "estimated billed tokens: 200 × 2 epochs = 400\n"
        "estimated cost: $0.00 at $10.00 per 1M tokens (--price-per-million)"
    )
    unknown = CostEstimate("mystery", 2, 2, True, 200, None, "table")
    assert unknown.cost is None and unknown.cost_text() == "an unknown amount"
    assert unknown.describe().endswith(
        "estimated cost: unknown — no price for mystery in the table; pass --price-per-million"
    )
    bad = FileReport(tmp_path / "validation.jsonl", 100, "words")
    bad.errors.append(Problem("validation.jsonl", 4, "no assistant message"))
    assert format_report([report, bad], given).splitlines() == [
        "error: validation.jsonl:4: no assistant message",
        "train.jsonl: 2 examples, tokens per example min 100,000 / mean 250,000 / max 400,000; "
        "2 over the 100-token limit",
        "validation.jsonl: no usable examples (0 lines)",
        "tokens counted with words",
        "estimated billed tokens: 200 × 2 epochs = 400",
        "estimated cost: $0.00 at $10.00 per 1M tokens (--price-per-million)",
    ]


# --- LoRA data -----------------------------------------------------------------------------------

TWO_REPLIES = [
    {"role": "system", "content": "You are Maya."},
    {"role": "user", "content": "what is 52 minus 27?"},
    {"role": "assistant", "content": "um 35?"},
    {"role": "user", "content": "show me how"},
    {"role": "assistant", "content": "7 take away 2 is 5"},
]


@pytest.fixture
def chat_tokenizer():
    return built_tokenizer()


def test_multi_reply_rows_train_on_the_last_reply_only_when_asked(chat_tokenizer) -> None:
    from trainers.lora_data import tokenize_rows

    single = [TWO_REPLIES[:3]]
    last = ["7 take away 2 is 5<|end|>"]
    for last_only, expected in [(True, last), (False, ["um 35?<|end|>", *last])]:
        kept, bad = tokenize_rows(chat_tokenizer, [TWO_REPLIES, *single], 512, last_only=last_only)
        assert bad == []
        assert trained_text(chat_tokenizer, kept[0]) == expected
        assert trained_text(chat_tokenizer, kept[1]) == ["um 35?<|end|>"]


@pytest.mark.parametrize(
    ("train_on", "expected"),
    [
        (None, ["7 take away 2 is 5<|end|>"]),  # the default: the last reply
        ("last", ["7 take away 2 is 5<|end|>"]),
        ("all", ["um 35?<|end|>", "7 take away 2 is 5<|end|>"]),
    ],
)
def test_the_trainer_passes_train_on_to_the_data(
    chat_tokenizer, tmp_path: Path, train_on: str | None, expected: list[str]
) -> None:
    """The config's ``train_on`` decides the labels of both splits (the trainer's tokenizing
    step, run without a model)."""
    from trainers.lora import _tokenize
    from trainers.lora_config import LoraTrainingConfig
    from trainers.lora_data import ChatData

    chosen = {"train_on": train_on} if train_on else {}
    config = LoraTrainingConfig(
        base="tiny", persona="maya", output_dir=tmp_path, max_seq_len=512, **chosen
    )
    data = ChatData.from_rows([{"messages": TWO_REPLIES}], [{"messages": TWO_REPLIES}])
    train, validation = _tokenize(chat_tokenizer, data, config)
    assert [trained_text(chat_tokenizer, row) for row in (*train, *validation)] == [
        expected,
        expected,
    ]


def test_a_row_that_does_not_fit_is_named_by_its_line(chat_tokenizer) -> None:
    """A row is never cut inside a message: one too long even without its earlier exchanges is
    a bad row named by its line in the source file, not a silently truncated one."""
    from trainers.lora_data import tokenize_rows

    kept, bad = tokenize_rows(
        chat_tokenizer, [TWO_REPLIES, TWO_REPLIES], 1, "validation", last_only=True, lines=[4, 9]
    )
    assert kept == []
    assert [(b.split, b.line) for b in bad] == [("validation", 4), ("validation", 9)]
    assert all(b.reason.startswith("too long: ") and "max_seq_len 1" in b.reason for b in bad)
    (whole,), _ = tokenize_rows(chat_tokenizer, [TWO_REPLIES], 512)
    assert whole.trimmed_exchanges == 0


def test_padding_is_never_trained_on_nor_attended_to() -> None:
    from trainers.lora_data import IGNORE_INDEX, pad_batch

    batch = pad_batch(pad_token_id=0)(
        [{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}, {"input_ids": [8], "labels": [8]}]
    )
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["labels"].tolist() == [[IGNORE_INDEX, 6, 7], [8, IGNORE_INDEX, IGNORE_INDEX]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ([], 'expected an object with a "messages" list'),
        ({"messages": "hi"}, 'expected an object with a "messages" list'),
        ({"messages": []}, '"messages" is empty'),
        ({"messages": ["hi"]}, "messages[0] is not an object"),
        ({"messages": [{"role": "teacher", "content": "x"}]},
         "messages[0].role is 'teacher'; expected one of system, user, assistant"),
        ({"messages": [USER, {"role": "assistant", "content": " "}]},
         "messages[1].content is empty or not text"),
        ({"messages": [USER, {"role": "assistant", "content": 3}]},
         "messages[1].content is empty or not text"),
        ({"messages": [USER]}, "no assistant (student) message to learn from"),
        ({"messages": [USER, REPLY]}, None),
    ],
)  # fmt: skip
def test_every_bad_row_reason(row: object, reason: str | None) -> None:
    from trainers.lora_data import row_problem

    assert row_problem(row) == reason


def test_bad_rows_are_listed_by_split_and_line_or_skipped(tmp_path: Path) -> None:
    from trainers.lora_data import BadRow, BadRowsError, ChatData

    good = {"messages": [USER, REPLY]}
    (tmp_path / "train.jsonl").write_text(
        "\n".join([json.dumps(good), "{bad", json.dumps({"messages": []})]) + "\n"
    )
    (tmp_path / "validation.jsonl").write_text(json.dumps({"messages": [USER]}) + "\n")
    with pytest.raises(BadRowsError) as caught:
        ChatData.from_folder(tmp_path)
    assert [(r.split, r.line) for r in caught.value.rows] == [
        ("train", 2), ("train", 3), ("validation", 1)
    ]  # fmt: skip
    assert f'{tmp_path}/train.jsonl:3: "messages" is empty' in str(caught.value)
    data = ChatData.from_folder(tmp_path, skip_bad=True)
    assert data.train == [[USER, REPLY]] and data.validation == []
    assert data.lines == {"train": [1], "validation": []}
    assert BadRow("train", 3, '"messages" is empty') in data.skipped
    assert data.describe()["trained_rows"] == {"train": 1, "validation": 0}
    assert data.content_hash.startswith("sha256:")
    with pytest.raises(BadRowsError, match="no trainable rows"):
        ChatData.from_rows([{"messages": []}], skip_bad=True)
    with pytest.raises(FileNotFoundError, match=r"train\.jsonl is missing"):
        ChatData.from_folder(tmp_path / "nowhere")


# --- boundaries the first mutation run found unchecked --------------------------------------------


def test_limits_are_exclusive_and_the_minimum_warns_from_one_example(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(line(USER, REPLY) + "\n")  # 3 + 9 + 5 = 17 tokens
    at_limit = validate_file(path, max_tokens_per_example=17, counter=WORDS)
    assert at_limit.over_limit == 0
    assert [str(w) for w in at_limit.warnings] == [
        f"train.jsonl: only 1 examples; OpenAI needs at least {MIN_TRAINING_EXAMPLES}"
    ]
    path.write_text("{bad\n")
    assert validate_file(path, counter=WORDS).warnings == []  # no examples: an error, no warning
    assert approximate_counter().exact is False


def test_content_that_is_an_object_is_named_as_one() -> None:
    _, problems = check_line(line({"role": "user", "content": {}}, REPLY))
    assert problems == ["message 1 content is not a string (got object)"]


def test_clean_copies_go_into_new_nested_folders_and_may_be_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(line(USER, REPLY) + "\n{bad\n")
    report = validate_file(path, counter=WORDS, training=False)
    out = tmp_path / "a" / "b" / "clean.jsonl"
    assert write_clean(report, out).read_text() == line(USER, REPLY) + "\n"
    assert write_clean(report, out).read_text() == line(USER, REPLY) + "\n"


def test_the_estimate_names_its_model_and_examples_and_every_files_errors_are_listed(
    tmp_path: Path,
) -> None:
    first = FileReport(tmp_path / "train.jsonl", 100, "words", lines=1)
    first.good_lines, first.tokens = [2], [10]
    first.errors.append(Problem("train.jsonl", 1, "empty line"))
    second = FileReport(tmp_path / "validation.jsonl", 100, "words")
    second.errors.append(Problem("validation.jsonl", 3, "no assistant message"))
    estimate = estimate_cost(first, "gpt-4o")
    assert (estimate.model, estimate.examples) == ("gpt-4o", 1)
    assert format_report([first, second]).splitlines()[:2] == [
        "error: train.jsonl:1: empty line",
        "error: validation.jsonl:3: no assistant message",
    ]


def test_unreadable_lines_are_named_and_reading_goes_on(tmp_path: Path) -> None:
    from trainers.lora_data import BadRowsError, ChatData

    good = json.dumps({"messages": [USER, REPLY]})
    (tmp_path / "train.jsonl").write_text(f"{good}\n\n{{bad\n{good}\n")
    with pytest.raises(BadRowsError) as caught:
        ChatData.from_folder(tmp_path)
    assert [row.format() for row in caught.value.rows] == [
        "train.jsonl:2: blank line",
        "train.jsonl:3: not valid JSON (Expecting property name enclosed in double quotes)",
    ]
    assert caught.value.fix == (
        "fix them, or pass --skip-bad (skip_bad=True) to train without them; the data "
        "manifest then lists what was skipped"
    )
    data = ChatData.from_folder(tmp_path, skip_bad=True)
    assert data.lines["train"] == [1, 4]
    written = json.loads(data.write_manifest(tmp_path / "out" / "run", base="tiny").read_text())
    assert written["base"] == "tiny" and written["trained_rows"] == {"train": 2, "validation": 0}
    assert written["skipped_by_trainer"][0] == {"split": "train", "line": 2, "reason": "blank line"}
    data.write_manifest(tmp_path / "out" / "run")  # the folder may already exist


def test_the_defaults_train_every_reply_of_the_train_split(chat_tokenizer) -> None:
    from trainers.lora_data import reply_spans, tokenize_row, tokenize_rows

    _, spans = reply_spans(chat_tokenizer, TWO_REPLIES)
    assert len(spans) == 2
    assert trained_text(chat_tokenizer, tokenize_row(chat_tokenizer, TWO_REPLIES, 512)) == [
        "um 35?<|end|>",
        "7 take away 2 is 5<|end|>",
    ]
    kept, bad = tokenize_rows(chat_tokenizer, [TWO_REPLIES], 1)
    assert kept == [] and [(b.split, b.line) for b in bad] == [("train", 1)]
    assert bad[0].reason.startswith("too long: ")
    (whole,), _ = tokenize_rows(chat_tokenizer, [TWO_REPLIES], 512)
    (exact,), _ = tokenize_rows(chat_tokenizer, [TWO_REPLIES], len(whole.input_ids))
    assert exact.trimmed_exchanges == 0 and exact == whole


def test_a_template_that_rewrites_earlier_turns_is_refused_with_the_fix(chat_tokenizer) -> None:
    from trainers.lora_data import TemplateError, reply_spans

    original = chat_tokenizer.chat_template
    # Numbers every message by how many there are: a prefix renders differently once extended.
    chat_tokenizer.chat_template = (
        "{% for m in messages %}{{ messages|length }}:{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}>{% endif %}"
    )
    try:
        with pytest.raises(TemplateError) as refused:
            reply_spans(chat_tokenizer, TWO_REPLIES)
    finally:
        chat_tokenizer.chat_template = original
    assert str(refused.value).startswith(
        "the chat template renders earlier turns differently once later ones follow (at message 2)"
    )
    assert refused.value.fix == (
        "use a template whose rendering of a conversation extends its rendering of any prefix of it"
    )


def test_a_tokenizer_needs_a_chat_template_and_pads_with_eos() -> None:
    from types import SimpleNamespace

    from trainers.lora_data import TemplateError, prepare_tokenizer, prompt_and_target

    with pytest.raises(TemplateError, match="has no chat template") as refused:
        prepare_tokenizer(SimpleNamespace(chat_template=None, pad_token=None, eos_token="<e>"))
    assert "chat (instruct) model" in (refused.value.fix or "")
    ready = prepare_tokenizer(SimpleNamespace(chat_template="x", pad_token=None, eos_token="<e>"))
    assert ready.pad_token == "<e>"
    kept = prepare_tokenizer(SimpleNamespace(chat_template="x", pad_token="<p>", eos_token="<e>"))
    assert kept.pad_token == "<p>"
    prompt, target = prompt_and_target(TWO_REPLIES)
    assert prompt == TWO_REPLIES[:4] and target == "7 take away 2 is 5"
    prompt[0]["content"] = "changed"
    assert TWO_REPLIES[0]["content"] == "You are Maya."  # copies, not the row itself
