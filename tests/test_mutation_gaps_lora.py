"""The LoRA trainer's data half on its own: rows from a built dataset, the manifest written
beside an adapter, trimming a long conversation, templates that cannot be masked, and the tokens
a real chat tokenizer would add on its own. The test tokenizer is the tiny one from
tests/tinymodel.py (trained here, offline)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.support.lora_rows import built_tokenizer, trained_text
from trainers.datasets import Dataset, RowProblem
from trainers.lora_data import (
    DATA_MANIFEST_FILE,
    BadRow,
    BadRowsError,
    ChatData,
    RowTooLong,
    TemplateError,
    prepare_tokenizer,
    reply_spans,
    to_hf_dataset,
    tokenize_row,
    tokenize_rows,
)

SYSTEM = {"role": "system", "content": "You are Maya."}
USER = {"role": "user", "content": "what is 52 minus 27?"}
REPLY = {"role": "assistant", "content": "um 35?"}
ROW = [SYSTEM, USER, REPLY]
THREE_EXCHANGES = [
    SYSTEM,
    {"role": "user", "content": "what is 52 minus 27?"},
    {"role": "assistant", "content": "um 35?"},
    {"role": "user", "content": "show me how"},
    {"role": "assistant", "content": "7 take away 2 is 5"},
    {"role": "user", "content": "can you take 7 ones away from 2 ones?"},
    {"role": "assistant", "content": "no. you cant"},
]


@pytest.fixture
def tokenizer():
    return built_tokenizer()


# --- rows from a dataset the builder made ---------------------------------------------------------


def _dataset(problems: list[RowProblem]) -> Dataset:
    train = [{"messages": ROW, "session_id": 3}, {"messages": THREE_EXCHANGES, "session_id": 4}]
    validation = [{"messages": ROW, "session_id": 5}]
    return Dataset(
        train, validation, {"persona_id": "maya", "content_hash": "sha256:abc"}, problems
    )


def test_a_built_dataset_becomes_chat_data_with_its_manifest() -> None:
    data = ChatData.from_dataset(_dataset([]))
    assert data.train == [ROW, THREE_EXCHANGES] and data.validation == [ROW]
    assert data.manifest == {"persona_id": "maya", "content_hash": "sha256:abc"}
    assert data.content_hash == "sha256:abc" and data.source is None
    assert data.lines == {"train": [1, 2], "validation": [1]}
    assert data.skipped == [] and data.skip_bad is False


def test_a_built_dataset_with_bad_turns_is_refused_unless_skipping() -> None:
    from trainers.datasets import BadRows

    problem = RowProblem(7, 2, "student turn has no teacher turn before it")
    with pytest.raises(BadRows, match="session 7 turn 2"):
        ChatData.from_dataset(_dataset([problem]))
    data = ChatData.from_dataset(_dataset([problem]), skip_bad=True)
    assert data.skip_bad is True
    assert data.manifest["skipped"] == [problem.to_dict()]
    assert data.describe()["skipped"] == [problem.to_dict()]


def test_a_built_dataset_with_a_row_this_trainer_refuses_names_it() -> None:
    dataset = _dataset([])
    dataset.train.append({"messages": [USER]})
    with pytest.raises(BadRowsError) as refused:
        ChatData.from_dataset(dataset)
    assert refused.value.rows == [
        BadRow("train", 3, "no assistant (student) message to learn from")
    ]
    kept = ChatData.from_dataset(dataset, skip_bad=True)
    assert kept.skipped == refused.value.rows and len(kept.train) == 2


def test_tokenized_rows_become_the_columns_trl_reads(tokenizer) -> None:
    rows, _ = tokenize_rows(tokenizer, [ROW, THREE_EXCHANGES], 512)
    dataset = to_hf_dataset(rows)
    assert dataset.column_names == ["input_ids", "labels"]
    assert dataset["input_ids"] == [r.input_ids for r in rows]
    assert dataset["labels"] == [r.labels for r in rows]


# --- what the manifest says ----------------------------------------------------------------------


def test_the_manifest_says_what_was_trained_on_and_what_was_skipped(tmp_path: Path) -> None:
    rows = [{"messages": ROW}, {"messages": []}, {"messages": THREE_EXCHANGES}]
    data = ChatData.from_rows(
        rows, [{"messages": ROW}], manifest={"persona_id": "maya"}, source="data", skip_bad=True
    )
    described = data.describe()
    assert described == {
        "persona_id": "maya",
        "content_hash": data.content_hash,
        "source": "data",
        "trained_rows": {"train": 2, "validation": 1},
        "skipped_by_trainer": [{"split": "train", "line": 2, "reason": '"messages" is empty'}],
    }
    written = data.write_manifest(tmp_path / "adapter", epochs=3)
    assert written == tmp_path / "adapter" / DATA_MANIFEST_FILE
    # indented for a person reading it beside the adapter
    assert written.read_text("utf-8") == json.dumps({**described, "epochs": 3}, indent=2)


def test_the_content_hash_is_of_the_rows_as_trained_and_their_split() -> None:
    data = ChatData.from_rows([{"messages": ROW}], [{"messages": THREE_EXCHANGES}])
    digest = hashlib.sha256()
    digest.update(b"train" + json.dumps(ROW, sort_keys=True).encode() + b"\n")
    digest.update(b"validation" + json.dumps(THREE_EXCHANGES, sort_keys=True).encode() + b"\n")
    assert data.content_hash == f"sha256:{digest.hexdigest()}"
    swapped = ChatData.from_rows([{"messages": THREE_EXCHANGES}], [{"messages": ROW}])
    assert swapped.content_hash != data.content_hash
    given = ChatData.from_rows([{"messages": ROW}], manifest={"content_hash": "sha256:given"})
    assert given.content_hash == "sha256:given"


def test_the_rows_are_copies_and_the_manifest_is_not_shared() -> None:
    manifest = {"persona_id": "maya"}
    message = dict(REPLY)
    data = ChatData.from_rows([{"messages": [USER, message]}], manifest=manifest)
    message["content"] = "changed"
    data.manifest["extra"] = 1
    assert data.train == [[USER, REPLY]] and manifest == {"persona_id": "maya"}


def test_bad_rows_name_their_folder_file_and_line() -> None:
    rows = [{"messages": ROW}, {"messages": [USER]}]
    with pytest.raises(BadRowsError) as refused:
        ChatData.from_rows(rows, [{"messages": []}], source="/data/maya")
    error = refused.value
    assert error.folder == "/data/maya"
    assert str(error) == (
        "2 bad row(s) in the training data:\n"
        "  /data/maya/train.jsonl:2: no assistant (student) message to learn from\n"
        '  /data/maya/validation.jsonl:1: "messages" is empty\n'
        " — fix them, or pass --skip-bad (skip_bad=True) to train without them; the data "
        "manifest then lists what was skipped"
    )


# --- tokenizing ----------------------------------------------------------------------------------


def test_tokenize_rows_by_default_trains_every_reply(tokenizer) -> None:
    (row,), bad = tokenize_rows(tokenizer, [THREE_EXCHANGES], 512)
    assert bad == []
    assert trained_text(tokenizer, row) == [
        "um 35?<|end|>",
        "7 take away 2 is 5<|end|>",
        "no. you cant<|end|>",
    ]


def test_a_long_row_leaves_out_its_oldest_exchanges_but_keeps_the_system_prompt(
    tokenizer,
) -> None:
    whole = tokenize_row(tokenizer, THREE_EXCHANGES, 512)
    last_two = [SYSTEM, *THREE_EXCHANGES[3:]]
    last_one = [SYSTEM, *THREE_EXCHANGES[5:]]
    for kept, expected_trim in ((last_two, 1), (last_one, 2)):
        fits = len(tokenize_row(tokenizer, kept, 512).input_ids)
        row = tokenize_row(tokenizer, THREE_EXCHANGES, fits, last_only=True)
        assert row.trimmed_exchanges == expected_trim
        text = tokenizer.decode(row.input_ids)
        assert text.startswith("<|begin|><|system|>\nYou are Maya.<|end|>")
        assert "what is 52 minus 27?" not in text
        assert trained_text(tokenizer, row) == ["no. you cant<|end|>"]
    assert whole.trimmed_exchanges == 0


def test_a_row_too_long_even_alone_says_by_how_much(tokenizer) -> None:
    last_exchange = len(tokenize_row(tokenizer, [SYSTEM, *THREE_EXCHANGES[5:]], 512).input_ids)
    prompt = len(tokenizer(tokenizer.apply_chat_template([SYSTEM], tokenize=False),
                           add_special_tokens=False)["input_ids"])  # fmt: skip
    with pytest.raises(RowTooLong) as refused:
        tokenize_row(tokenizer, THREE_EXCHANGES, 5)
    assert str(refused.value) == (
        f"{last_exchange} tokens, over max_seq_len 5 even without earlier exchanges "
        f"(the system prompt alone is {prompt} tokens)"
    )
    with pytest.raises(RowTooLong, match=r"the system prompt alone is 0 tokens"):
        tokenize_row(tokenizer, [USER, REPLY], 3)


def test_a_template_whose_generation_prompt_differs_from_its_replies_is_refused(
    tokenizer,
) -> None:
    """The prefix with the generation prompt must be where the rendered reply starts; a template
    that opens replies one way and renders them another cannot be masked."""
    original = tokenizer.chat_template
    tokenizer.chat_template = (
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}student: {% endif %}"
    )
    try:
        with pytest.raises(TemplateError, match=r"\(at message 2\)"):
            reply_spans(tokenizer, ROW)
    finally:
        tokenizer.chat_template = original


def test_a_tokenizer_that_adds_its_own_bos_is_not_given_a_second_one(tmp_path: Path) -> None:
    """Llama-style tokenizers prepend BOS on their own; the chat template already starts with
    it, so the row must hold exactly one (the template's)."""
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    from tests.tinymodel import BOS

    built_tokenizer().save_pretrained(tmp_path)
    adds_bos = PreTrainedTokenizerFast.from_pretrained(tmp_path)
    bos_id = adds_bos.convert_tokens_to_ids(BOS)
    adds_bos.backend_tokenizer.post_processor = TemplateProcessing(
        single=f"{BOS} $A", special_tokens=[(BOS, bos_id)]
    )
    assert adds_bos("hi")["input_ids"][0] == bos_id  # it does add one by default
    row = tokenize_row(adds_bos, ROW, 512)
    assert row.input_ids.count(bos_id) == 1 and row.input_ids[0] == bos_id
    assert trained_text(adds_bos, row) == ["um 35?<|end|>"]


def test_a_tokenizer_without_a_chat_template_is_refused_with_the_fix() -> None:
    from types import SimpleNamespace

    with pytest.raises(TemplateError) as refused:
        prepare_tokenizer(SimpleNamespace(chat_template="", pad_token=None, eos_token="<e>"))
    assert str(refused.value).startswith("the base model's tokenizer has no chat template")
    assert refused.value.fix == (
        "train from a chat (instruct) model, or save its tokenizer with `chat_template`"
    )
    with pytest.raises(TemplateError):
        prepare_tokenizer(SimpleNamespace(pad_token=None, eos_token="<e>"))


def test_a_data_folder_is_read_with_its_manifest_and_a_home_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train.jsonl").write_text(json.dumps({"messages": ROW}) + "\n", "utf-8")
    (folder / "validation.jsonl").write_text(
        json.dumps({"messages": THREE_EXCHANGES}) + "\n", "utf-8"
    )
    (folder / "manifest.json").write_text(json.dumps({"persona_id": "maya"}), "utf-8")
    with pytest.raises(FileNotFoundError) as missing:
        ChatData.from_folder("~/elsewhere")
    assert str(missing.value) == (
        f"{tmp_path}/elsewhere/train.jsonl is missing; give --data a folder written by the "
        "dataset builder (train.jsonl, validation.jsonl, manifest.json)"
    )
    data = ChatData.from_folder("~/data")
    assert data.source == str(folder)
    assert data.train == [ROW] and data.validation == [THREE_EXCHANGES]
    assert data.manifest == {"persona_id": "maya"}
    assert data.describe()["source"] == str(folder)
    (folder / "train.jsonl").write_text(json.dumps({"messages": []}) + "\n", "utf-8")
    with pytest.raises(BadRowsError) as refused:
        ChatData.from_folder("~/data", skip_bad=True)
    assert f"{folder}/train.jsonl:0: no trainable rows" in str(refused.value)


def test_a_row_whose_reply_the_template_never_renders_is_a_bad_row_by_its_line(
    tokenizer,
) -> None:
    """A template that leaves replies out leaves nothing to learn: each row is named by its
    split and source line rather than trained with every label masked."""
    original = tokenizer.chat_template
    tokenizer.chat_template = (
        "{% for m in messages %}{% if m['role'] != 'assistant' %}{{ m['content'] }}\n"
        "{% endif %}{% endfor %}"
    )
    try:
        kept, bad = tokenize_rows(tokenizer, [ROW, ROW], 512, "validation", lines=[3, 8])
    finally:
        tokenizer.chat_template = original
    assert kept == []
    assert bad == [
        BadRow("validation", 3, "no reply token within max_seq_len 512"),
        BadRow("validation", 8, "no reply token within max_seq_len 512"),
    ]


def test_a_reply_with_no_teacher_message_before_it_that_does_not_fit_is_named(tokenizer) -> None:
    """[system, reply] is a valid row; too long, it is a bad row like any other, not a crash."""
    kept, bad = tokenize_rows(tokenizer, [[SYSTEM, REPLY]], 3, lines=[5])
    assert kept == [] and [(b.split, b.line) for b in bad] == [("train", 5)]
    assert bad[0].reason.startswith("too long: ") and "over max_seq_len 3" in bad[0].reason
