"""The LoRA trainer on the tiny test Llama: reply-only labels, real TRL/PEFT training in full
precision and over 4-bit / 8-bit bitsandbytes layers, adapters the real vLLM server loads, bad
rows, registration and the `utta train lora` command.

Training runs are tiny (a few dozen short rows, a few epochs) and shared per module. Tests marked
``vllm`` use the session's real vLLM server (CPU build); they never skip.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent import serving
from agent.brain import BrainError
from tests.tinymodel import build_tiny_model
from trainers.lineage import LINEAGE_KEYS
from trainers.lora import LoraResult, load_tokenizer, train_lora
from trainers.lora_config import ConfigError, LoraTrainingConfig
from trainers.lora_data import (
    IGNORE_INDEX,
    BadRowsError,
    ChatData,
    TemplateError,
    prepare_tokenizer,
    tokenize_row,
    tokenize_rows,
)
from trainers.lora_register import load_into_server
from transcripts.store import Store
from tui.cli import main

SYSTEM = "You are Maya, a quiet 7-year-old. Answer in a few words."


def persona_rows(count: int, offset: int = 0) -> list[dict[str, Any]]:
    """Repetitive rows in Maya's voice: every reply is "um N?", so the loss must fall."""
    rows = []
    for i in range(count):
        a = (i + offset) % 9 + 1
        rows.append(
            {
                "messages": [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": f"what is {a} + 1?"},
                    {"role": "assistant", "content": f"um {a + 1}?"},
                ]
            }
        )
    return rows


def config(base: Path, out: Path, **overrides: Any) -> LoraTrainingConfig:
    settings: dict[str, Any] = dict(
        base=str(base), persona="maya", output_dir=out, epochs=3, lr=5e-3, batch_size=8,
        samples=2, sample_max_new_tokens=8, early_stopping_patience=0,
    )  # fmt: skip
    return LoraTrainingConfig(**{**settings, **overrides})


def write_jsonl(path: Path, lines: list[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A UTTA_HOME for module-scoped training runs (the autouse one is per test)."""
    home = tmp_path_factory.mktemp("lora-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UTTA_HOME", str(home))
        yield home


@pytest.fixture(scope="module")
def trained(
    tiny_base: Path, tmp_path_factory: pytest.TempPathFactory, isolated_home: Path
) -> tuple[LoraResult, list[str]]:
    """One full-precision run: 36 train rows, 9 validation rows, 3 epochs."""
    lines: list[str] = []
    data = ChatData.from_rows(persona_rows(36), persona_rows(9, offset=4))
    out = tmp_path_factory.mktemp("lora") / "adapter"
    return train_lora(config(tiny_base, out), data, log=lines.append, progress=False), lines


@pytest.fixture(scope="module")
def qlora(
    tiny_base: Path, tmp_path_factory: pytest.TempPathFactory, isolated_home: Path
) -> Callable[[str], LoraResult]:
    """QLoRA runs, trained on first use and shared: ``qlora("4bit")``, ``qlora("8bit")``."""
    runs: dict[str, LoraResult] = {}
    data = ChatData.from_rows(persona_rows(16), persona_rows(4, offset=2))

    def run(quantize: str) -> LoraResult:
        if quantize not in runs:
            out = tmp_path_factory.mktemp(f"qlora-{quantize}") / "adapter"
            cfg = config(tiny_base, out, quantize=quantize, epochs=2)
            runs[quantize] = train_lora(cfg, data, log=lambda _: None, progress=False)
        return runs[quantize]

    return run


# --- labels ---------------------------------------------------------------------------------

DIALOGUE = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": "what is 52 minus 27?"},
    {"role": "assistant", "content": "um 35?"},
    {"role": "user", "content": "can you show me how you got that?"},
    {"role": "assistant", "content": "7 take away 2 is 5"},
]


def labelled_spans(tokenizer: Any, ids: list[int], labels: list[int]) -> list[str]:
    """The decoded runs of consecutive tokens that carry a label."""
    spans: list[list[int]] = []
    previous = False
    for token, label in zip(ids, labels, strict=True):
        trained = label != IGNORE_INDEX
        if trained:
            assert label == token  # a label is the token itself, never shifted or replaced
            if not previous:
                spans.append([])
            spans[-1].append(token)
        previous = trained
    return [tokenizer.decode(span) for span in spans]


def test_labels_cover_the_student_replies_and_nothing_else(tiny_base: Path) -> None:
    tokenizer = load_tokenizer(str(tiny_base))
    row = tokenize_row(tokenizer, DIALOGUE, 512)
    text = tokenizer.decode(row.input_ids)
    assert text == tokenizer.apply_chat_template(DIALOGUE, tokenize=False)
    # Every reply token (and the end-of-turn marker) is learned; nothing else is.
    assert labelled_spans(tokenizer, row.input_ids, row.labels) == [
        "um 35?<|end|>",
        "7 take away 2 is 5<|end|>",
    ]
    masked = tokenizer.decode(
        [t for t, lab in zip(row.input_ids, row.labels, strict=True) if lab == -100]
    )
    for message in DIALOGUE:
        if message["role"] != "assistant":
            assert message["content"] in masked
    assert "<|system|>" in masked and "<|user|>" in masked and "<|assistant|>" in masked
    assert "35" not in masked and "take away" not in masked


def test_only_the_last_reply_is_learned_when_asked(tiny_base: Path) -> None:
    tokenizer = load_tokenizer(str(tiny_base))
    row = tokenize_row(tokenizer, DIALOGUE, 512, last_only=True)
    assert labelled_spans(tokenizer, row.input_ids, row.labels) == ["7 take away 2 is 5<|end|>"]


def test_a_row_too_long_to_fit_stops_training_unless_skipped(
    tiny_base: Path, tmp_path: Path
) -> None:
    ends_with_teacher = {"messages": [*DIALOGUE, {"role": "user", "content": "word " * 40}]}
    rows = [*persona_rows(4), ends_with_teacher]
    cfg = config(tiny_base, tmp_path / "out", max_seq_len=64, epochs=1, samples=0)
    with pytest.raises(BadRowsError, match=r"train\.jsonl:5: too long: \d+ tokens, over max_seq"):
        train_lora(cfg, ChatData.from_rows(rows), progress=False)
    malformed = {"messages": []}  # dropped first, so later problems must keep file lines
    data = ChatData.from_rows([malformed, *rows], skip_bad=True)
    result = train_lora(cfg, data, progress=False)
    assert [s["line"] for s in result.data["skipped_by_trainer"]] == [1, 6]
    assert result.data["skipped_by_trainer"][1]["reason"].startswith("too long: ")


def test_a_long_row_leaves_out_whole_early_exchanges_never_part_of_its_prompt(
    tiny_base: Path,
) -> None:
    tokenizer = load_tokenizer(str(tiny_base))
    full = tokenize_row(tokenizer, DIALOGUE, 10_000, last_only=True)
    without_first = [DIALOGUE[0], *DIALOGUE[3:]]
    fits = len(tokenize_row(tokenizer, without_first, 10_000).input_ids)
    assert fits < len(full.input_ids)
    row = tokenize_row(tokenizer, DIALOGUE, fits, last_only=True)
    assert row.trimmed_exchanges == 1
    assert row.input_ids == tokenize_row(tokenizer, without_first, fits, last_only=True).input_ids
    assert tokenizer.decode(row.input_ids).count(SYSTEM) == 1  # the system prompt is whole
    assert labelled_spans(tokenizer, row.input_ids, row.labels) == ["7 take away 2 is 5<|end|>"]


def test_a_row_whose_prompt_alone_is_too_long_is_a_listed_bad_row(tiny_base: Path) -> None:
    tokenizer = load_tokenizer(str(tiny_base))
    kept, bad = tokenize_rows(tokenizer, [DIALOGUE, DIALOGUE], 8, lines=[3, 7])
    assert kept == [] and [row.line for row in bad] == [3, 7]
    assert "too long" in bad[0].reason and "system prompt alone is" in bad[0].reason


def test_a_template_that_rewrites_earlier_turns_is_refused(tiny_base: Path) -> None:
    tokenizer = load_tokenizer(str(tiny_base))
    tokenizer.chat_template = (
        "{{ messages | length }}{% for m in messages %}{{ m['content'] }}<|end|>{% endfor %}"
    )
    with pytest.raises(TemplateError, match="renders earlier turns differently"):
        tokenize_row(tokenizer, DIALOGUE, 512)


def test_a_tokenizer_without_pad_reuses_eos_and_adds_no_token(tiny_base: Path) -> None:
    tokenizer = load_tokenizer(str(tiny_base))
    size = len(tokenizer)
    tokenizer.pad_token = None
    prepare_tokenizer(tokenizer)
    assert tokenizer.pad_token == tokenizer.eos_token and len(tokenizer) == size
    tokenizer.chat_template = None
    with pytest.raises(TemplateError, match="no chat template"):
        prepare_tokenizer(tokenizer)


# --- full-precision training ----------------------------------------------------------------


def test_every_lora_parameter_moves_and_validation_loss_falls(trained) -> None:
    result, lines = trained
    assert result.trainable_parameters > 0
    assert result.unchanged_parameters == []
    # lora_B starts at zero: every B matrix saved must be non-zero now.
    from safetensors.torch import load_file

    weights = load_file(result.adapter_dir / "adapter_model.safetensors")
    b_matrices = [name for name in weights if "lora_B" in name]
    assert len(b_matrices) == 8  # 2 layers x q/k/v/o
    assert all(weights[name].abs().sum() > 0 for name in b_matrices)
    assert sum(w.numel() for w in weights.values()) == result.trainable_parameters

    val = [h.val_loss for h in result.history]
    assert len(val) == 3 and all(v is not None and math.isfinite(v) for v in val)
    assert val[-1] < val[0]
    assert result.best_val_loss == pytest.approx(min(val))  # type: ignore[type-var]
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert all("train_loss" in line and "val_loss" in line for line in lines)
    assert result.tokens_per_s > 0 and result.train_tokens > 0
    assert result.base_layers == {"Linear": 8}


def test_the_adapter_folder_says_how_it_was_made(trained) -> None:
    result, _ = trained
    folder = result.adapter_dir
    config_ = serving.check_adapter(folder, max_rank=8)
    assert config_["r"] == 8 and not config_.get("modules_to_save")
    assert set(config_["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj"}
    assert LoraTrainingConfig.load(folder) == result.config
    manifest = json.loads((folder / "data_manifest.json").read_text())
    assert manifest["content_hash"].startswith("sha256:")
    assert manifest["trained_rows"] == {"train": 36, "validation": 9}
    report = json.loads((folder / "training_report.json").read_text())
    assert report["method"] == "lora"
    assert report["metrics"]["val_loss"] == [h.val_loss for h in result.history]
    assert len(result.samples) == 2 and result.samples[0].target.startswith("um ")
    # The authenticity of the greedy samples the adapter wrote (not of their targets), scored
    # here with the public metric; the report carries the same number.
    from personas.loader import PersonaLibrary
    from trainers.metric import mean_authenticity

    persona = PersonaLibrary().get(result.config.persona)
    assert result.authenticity == mean_authenticity([s.reply for s in result.samples], persona)
    assert report["metrics"]["authenticity"] == result.authenticity
    assert not any(path.name.startswith("checkpoints-") for path in folder.iterdir())


def test_training_stops_early_and_keeps_the_best_epoch(tiny_base: Path, tmp_path: Path) -> None:
    """Validation replies the training rows contradict: once the model learns "um N?", the
    validation loss rises, training stops after ``patience`` epochs without a new best, and
    the best epoch's adapter is the one saved."""
    contradicted = [
        {"messages": [*row["messages"][:2], {"role": "assistant", "content": "no. you cant"}]}
        for row in persona_rows(4)
    ]
    data = ChatData.from_rows(persona_rows(16), contradicted)
    cfg = config(tiny_base, tmp_path / "out", epochs=12, lr=5e-2, early_stopping_patience=1)
    result = train_lora(cfg, data, log=lambda _: None, progress=False)
    val = [h.val_loss for h in result.history]
    assert result.stopped_early and len(val) < 12
    assert result.best_val_loss == pytest.approx(min(val))  # type: ignore[type-var]
    assert result.best_epoch == val.index(min(val)) + 1 and result.best_epoch < len(val)


# --- QLoRA ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("quantize", "layer"), [("4bit", "Linear4bit"), ("8bit", "Linear8bitLt")])
def test_qlora_trains_over_quantized_layers(qlora, quantize: str, layer: str) -> None:
    result = qlora(quantize)
    assert result.method == f"qlora-{quantize}"
    assert result.base_layers == {layer: 8}
    assert result.unchanged_parameters == []
    losses = [h.train_loss for h in result.history]
    assert len(losses) == 2 and all(loss is not None and math.isfinite(loss) for loss in losses)
    val = [h.val_loss for h in result.history]
    assert val[-1] < val[0]  # learning happens over the quantized base too
    serving.check_adapter(result.adapter_dir, max_rank=8)


@pytest.mark.vllm
def test_a_4bit_adapter_loads_into_the_running_vllm_server(qlora, vllm_server) -> None:
    import httpx

    result = qlora("4bit")
    serving.check_adapter(result.adapter_dir, max_rank=8)
    serving.load_adapter(vllm_server.base_url, "maya-qlora-4bit", result.adapter_dir)
    try:
        entries = {e["id"]: e for e in serving.model_entries(vllm_server.base_url)}
        assert entries["maya-qlora-4bit"]["parent"] == vllm_server.model
        response = httpx.post(
            f"{vllm_server.base_url}/v1/completions",
            json={"model": "maya-qlora-4bit", "prompt": "what is 3 + 1?", "max_tokens": 4},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        assert response.json()["model"] == "maya-qlora-4bit"
    finally:
        serving.unload_adapter(vllm_server.base_url, "maya-qlora-4bit")


# --- data problems, configuration -----------------------------------------------------------


def bad_folder(root: Path) -> Path:
    good = persona_rows(10)
    write_jsonl(
        root / "train.jsonl",
        [
            good[0],
            {"messages": []},
            "this is not json",
            good[1],
            {"messages": [{"role": "user", "content": "hi"}]},
            {"messages": [{"role": "teacher", "content": "hi"}]},
            *good[2:8],
        ],
    )
    write_jsonl(root / "validation.jsonl", [*good[8:], {"messages": [{"role": "assistant"}]}])
    (root / "manifest.json").write_text(json.dumps({"content_hash": "abc123"}))
    return root


def test_bad_rows_are_listed_with_file_line_and_reason(tmp_path: Path) -> None:
    folder = bad_folder(tmp_path / "data")
    with pytest.raises(BadRowsError) as caught:
        ChatData.from_folder(folder)
    message = str(caught.value)
    assert f'{folder}/train.jsonl:2: "messages" is empty' in message
    assert "train.jsonl:3: not valid JSON" in message
    assert "train.jsonl:5: no assistant (student) message" in message
    assert "train.jsonl:6: messages[0].role is 'teacher'" in message
    assert "validation.jsonl:3: messages[0].content is empty" in message
    assert "--skip-bad" in message
    data = ChatData.from_folder(folder, skip_bad=True)
    assert (len(data.train), len(data.validation), len(data.skipped)) == (8, 2, 5)
    assert data.content_hash == "abc123"


def test_a_rank_above_the_server_limit_is_refused_with_the_fix(tmp_path: Path, capsys) -> None:
    with pytest.raises(ConfigError, match="max-lora-rank 8"):
        config(tmp_path, tmp_path, rank=16)
    with pytest.raises(ConfigError, match="dropout"):
        config(tmp_path, tmp_path, dropout=1.5)
    code = main(["train", "lora", "--persona", "maya", "--base", str(tmp_path), "--rank", "16"])
    assert code == 2
    assert "utta serve vllm --max-lora-rank 16" in capsys.readouterr().err


def test_loading_into_a_server_that_is_not_running_says_how_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(BrainError, match="no vLLM server is running") as caught:
        load_into_server(tmp_path, "maya-x", base="/models/tiny")
    assert "utta serve vllm --base /models/tiny" in str(caught.value)


# --- the command ----------------------------------------------------------------------------


def test_cli_stops_on_bad_rows_then_trains_without_them_and_registers_the_brain(
    tiny_base: Path, tmp_path: Path, utta_home: Path, capsys
) -> None:
    folder = bad_folder(tmp_path / "data")
    argv = [
        "train", "lora", "--persona", "maya", "--base", str(tiny_base), "--data", str(folder),
        "--epochs", "1", "--batch-size", "4", "--name", "maya-cli", "--quiet",
    ]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "5 bad row(s)" in err and "train.jsonl:3: not valid JSON" in err
    assert Store().brains() == []

    assert main([*argv, "--skip-bad"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/1" in out and "registered brain 'maya-cli' (local, lora)" in out
    adapter = utta_home / "brains" / "maya-cli"
    serving.check_adapter(adapter)
    manifest = json.loads((adapter / "data_manifest.json").read_text())
    assert [(s["split"], s["line"]) for s in manifest["skipped_by_trainer"]] == [
        ("train", 2), ("train", 3), ("train", 5), ("train", 6), ("validation", 3),
    ]  # fmt: skip

    brain = Store().brain("maya-cli")
    assert brain.kind == "local" and brain.persona_id == "maya"
    assert brain.spec == {
        "base": str(tiny_base), "adapters": {"maya-cli": str(adapter.resolve())},
        "adapter": "maya-cli",
    }  # fmt: skip
    lineage = brain.lineage
    assert set(lineage) == set(LINEAGE_KEYS)  # the shape every trainer's lineage has
    assert lineage["method"] == "lora" and lineage["persona"] == "maya"
    assert lineage["base"] == str(tiny_base) and lineage["extra"]["adapter_dir"]
    assert lineage["dataset"]["content_hash"] == "abc123"
    assert len(lineage["dataset"]["skipped_by_trainer"]) == 5
    assert lineage["hyperparameters"]["epochs"] == 1 and lineage["hyperparameters"]["rank"] == 8
    assert len(lineage["metrics"]["val_loss"]) == 1 and lineage["metrics"]["tokens_per_s"] > 0
    assert lineage["created_at"]


def record_sessions(store: Store, *, broken: bool) -> None:
    """Three logged maya sessions; with ``broken``, one has two teacher turns in a row."""
    for n in range(3):
        session = store.start_session("maya", "trainee-a", "offline")
        for a in range(3):
            store.add_turn(session, "teacher", f"what is {a + n} + 1?")
            store.add_turn(session, "student", f"um {a + n + 1}?")
        if broken and n == 1:
            store.add_turn(session, "teacher", "are you sure?")
            store.add_turn(session, "teacher", "think again")
            store.add_turn(session, "student", "ok")


def test_cli_builds_the_dataset_from_the_store(tiny_base: Path, utta_home: Path, capsys) -> None:
    record_sessions(Store(), broken=True)
    argv = [
        "train", "lora", "--persona", "maya", "--base", str(tiny_base), "--epochs", "1",
        "--quiet",
    ]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "teacher message has no student reply" in err and "--skip-bad" in err

    assert main([*argv, "--skip-bad"]) == 0
    (brain,) = Store().brains()
    assert brain.name.startswith("maya-lora-") and brain.kind == "local"
    adapter = utta_home / "brains" / brain.name
    assert (adapter / "data" / "train.jsonl").is_file()  # the exported dataset, to open
    manifest = json.loads((adapter / "data_manifest.json").read_text())
    assert [s["reason"] for s in manifest["skipped"]] == [
        "teacher message has no student reply (two teacher turns in a row)"
    ]
    # max_seq_len defaults to the base's context, which the compact persona prompt fits
    context = json.loads((tiny_base / "config.json").read_text())["max_position_embeddings"]
    assert json.loads((adapter / "training_config.json").read_text())["max_seq_len"] == context
    assert "context_trimmed_rows" in manifest and "truncated_rows" not in manifest
    assert brain.lineage["dataset"]["content_hash"] == manifest["content_hash"]


def test_rows_too_long_for_max_seq_len_are_refused_listed_and_nothing_registered(
    tiny_base: Path, capsys
) -> None:
    record_sessions(Store(), broken=False)
    argv = ["train", "lora", "--persona", "maya", "--base", str(tiny_base), "--epochs", "1",
            "--max-seq-len", "96", "--quiet", "--targets", "all", "--no-examples"]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    too_long = [line for line in err.splitlines() if "too long" in line]
    assert len(too_long) == 9  # every row, each named by file and line
    assert "train.jsonl:1:" in err and "system prompt alone is" in err and "--skip-bad" in err
    assert Store().brains() == []


def test_train_lora_shows_a_bar_per_phase_and_keeps_library_noise_in_the_log(
    tmp_path: Path, utta_home: Path, capsys
) -> None:
    # Maya's prompt with the child model's state runs past 512 tokens in the tiny tokenizer.
    base = build_tiny_model(tmp_path / "base", context=2048)
    record_sessions(Store(), broken=False)
    argv = ["train", "lora", "--persona", "maya", "--base", str(base), "--epochs", "1",
            "--targets", "all", "--no-examples"]  # fmt: skip
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "tokenizing train" in err and "training" in err
    assert "{'loss'" not in out + err and "{'eval_loss'" not in out + err  # no raw trainer dicts
    assert "warn" not in err.lower()
    log = utta_home / "logs" / "train.log"
    assert f"library messages: {log}" in out and log.is_file()


@pytest.mark.vllm
def test_load_into_a_server_on_another_base_is_refused_before_training(
    vllm_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("UTTA_HOME", str(vllm_server.record_home))  # where the server is recorded
    monkeypatch.setenv("UTTA_DB", str(tmp_path / "utta.db"))
    record_sessions(Store(), broken=False)
    other = tmp_path / "another-base"
    out = tmp_path / "adapter"
    argv = ["train", "lora", "--persona", "maya", "--base", str(other), "--load-into-server",
            "--name", "maya-elsewhere", "--out", str(out), "--quiet"]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"serves {vllm_server.model}, not --base {other} (checked before training)" in err
    assert "utta serve stop && utta serve vllm --base" in err
    assert Store().brains() == [] and not out.exists()  # nothing trained, nothing registered
