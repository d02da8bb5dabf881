"""LoRA / QLoRA training of a student brain with TRL's SFTTrainer and PEFT.

From the command line (see ``utta train lora --help``)::

    # CPU, full-precision base, data built from the transcript store
    utta train lora --persona maya --base ./models/tiny --epochs 3
    # CPU or GPU, 4-bit NF4 base (QLoRA), a dataset folder, loaded into the running server
    utta train lora --persona maya --base ./models/llama --data ./datasets/maya \\
        --quantize 4bit --load-into-server
    # one GPU: add --gpu (the trainer otherwise stays on the CPU)

From Python::

    from trainers.lora import train_lora
    from trainers.lora_config import LoraTrainingConfig
    from trainers.lora_data import ChatData

    config = LoraTrainingConfig(base="./models/tiny", persona="maya", output_dir="out/maya-a")
    result = train_lora(config, ChatData.from_folder("datasets/maya"))
    print(result.summary())

The adapter (``adapter_config.json`` + ``adapter_model.safetensors``) is written with
``trainer.save_model`` beside ``training_config.json``, ``data_manifest.json`` and
``training_report.json``, and checked with :func:`agent.serving.check_adapter` so that vLLM will
load it. torch, transformers, peft and trl are imported inside the functions that use them.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from trainers.lora_config import LoraTrainingConfig
from trainers.lora_data import (
    ChatData,
    TokenizedRow,
    pad_batch,
    prepare_tokenizer,
    to_hf_dataset,
    tokenize_rows,
)
from trainers.lora_progress import (
    phase_bars,
    tokenizing,
    without_default_progress,
    write_above_bars,
)
from trainers.lora_result import (
    EpochLosses,
    LoraResult,
    Sample,
    authenticity,
    format_loss,
    greedy_samples,
)

__all__ = ["EpochLosses", "LoraResult", "Sample", "load_base_model", "load_tokenizer", "train_lora"]

REPORT_FILE = "training_report.json"
Log = Callable[[str], None]


# --- loading --------------------------------------------------------------------------------


def load_tokenizer(base: str) -> Any:
    from transformers import AutoTokenizer

    return prepare_tokenizer(AutoTokenizer.from_pretrained(base))


def load_base_model(config: LoraTrainingConfig) -> Any:
    """The frozen base: full precision, or 4-bit NF4 / 8-bit through bitsandbytes (QLoRA)."""
    import torch
    from transformers import AutoModelForCausalLM

    on_cpu = config.use_cpu or not torch.cuda.is_available()
    kwargs: dict[str, Any] = {"dtype": torch.float32}
    if config.quantize:
        from transformers import BitsAndBytesConfig

        if config.quantize == "4bit":
            compute = torch.float32 if on_cpu else torch.bfloat16
            quantization = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=compute
            )
        else:
            quantization = BitsAndBytesConfig(load_in_8bit=True)
        kwargs.update(quantization_config=quantization, device_map="cpu" if on_cpu else "auto")
    model = AutoModelForCausalLM.from_pretrained(config.base, **kwargs)
    if config.quantize:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=config.gradient_checkpointing
        )
    return model


def peft_config(config: LoraTrainingConfig) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=list(config.target_modules),
        bias="none",  # vLLM refuses trained biases
        task_type="CAUSAL_LM",
    )


# --- training -------------------------------------------------------------------------------


def _epoch_reporter(history: list[EpochLosses], epochs: int, log: Log) -> Any:
    """A callback that prints and records one line per epoch (train and validation loss) and
    times the training loop itself, from the first step to the end of the last epoch."""
    from transformers import TrainerCallback

    class EpochReporter(TrainerCallback):
        def __init__(self) -> None:
            self.train_loss: float | None = None
            self.loop_started = self.loop_ended = 0.0

        def on_train_begin(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            self.loop_started = time.perf_counter()

        def on_train_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            self.loop_ended = time.perf_counter()

        def on_log(self, args, state, control, logs=None, **kwargs):  # type: ignore[no-untyped-def]
            if logs and "loss" in logs:  # the epoch's mean loss (logging_strategy="epoch")
                self.train_loss = float(logs["loss"])
                if args.eval_strategy == "no":
                    self._record(state, None)

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):  # type: ignore[no-untyped-def]
            self._record(state, (metrics or {}).get("eval_loss"))

        def _record(self, state: Any, val_loss: float | None) -> None:
            epoch = round(state.epoch or 0)
            if history and history[-1].epoch == epoch:
                return
            history.append(EpochLosses(epoch, self.train_loss, val_loss))
            train, val = format_loss(self.train_loss), format_loss(val_loss)
            log(f"epoch {epoch}/{epochs}  train_loss {train}  val_loss {val}")

        @property
        def loop_s(self) -> float:
            return max(self.loop_ended - self.loop_started, 0.0)

    return EpochReporter()


def _sft_config(config: LoraTrainingConfig, checkpoints: Path, has_validation: bool) -> Any:
    import torch
    from trl import SFTConfig

    on_gpu = not config.use_cpu and torch.cuda.is_available()
    per_epoch = "epoch" if has_validation else "no"
    return SFTConfig(
        output_dir=str(checkpoints),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        learning_rate=config.lr,
        lr_scheduler_type="linear",
        warmup_steps=0,
        logging_strategy="epoch",
        eval_strategy=per_epoch,
        save_strategy=per_epoch,
        save_only_model=True,
        save_total_limit=2,
        load_best_model_at_end=has_validation,
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        max_length=None,  # rows fit max_seq_len when tokenized (whole exchanges left out)
        packing=False,
        gradient_checkpointing=config.gradient_checkpointing,
        use_cpu=config.use_cpu,
        bf16=on_gpu and torch.cuda.is_bf16_supported(),
        seed=config.seed,
        data_seed=config.seed,
        report_to="none",
        dataloader_num_workers=0,
    )


def _trainer_class(config: LoraTrainingConfig) -> type:
    """TRL's SFTTrainer; on the CPU, with the model's own cross-entropy loss and less per-step
    bookkeeping.

    TRL 1.16 computes the loss through a chunked LM-head kernel and logs entropy and top-1
    accuracy every step. That saves memory on large vocabularies on a GPU, but on the CPU it was
    ~40% of a step (measured with benchmarks/train_lora.py), so there the model computes its
    usual loss on the same labels (-100 ignored, mean over reply tokens), without building a KV
    cache it would throw away (TRL's own loss path passes ``use_cache=False`` too).

    The Trainer also walks every module or parameter of the model several times a step: for
    ``model.train()``, for the FLOPs count (``num_parameters``) and for gradient clipping over
    all parameters, frozen ones included. On a small model on the CPU that was ~1 ms of a
    ~40 ms step (cProfile and timings over benchmarks/train_lora.py's runs), so here the
    parameter count is computed once, clipping goes over the trained parameters only (the
    frozen ones have no gradient: same norm, same clipping), and while training (see
    :func:`_lean_steps`) ``model.zero_grad()`` clears those parameters only and ``model.train()``
    is skipped while the model is already in training mode (evaluation switches it off, so the
    first step after an evaluation still switches every module back).
    """
    import torch
    from transformers import Trainer
    from trl import SFTTrainer

    if not (config.use_cpu or not torch.cuda.is_available()):
        return SFTTrainer

    class CpuSFTTrainer(SFTTrainer):
        _parameter_count: int | None = None
        _trained_parameters: list[Any] | None = None

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # type: ignore[no-untyped-def]
            inputs["use_cache"] = False
            return Trainer.compute_loss(
                self, model, inputs, return_outputs=return_outputs,
                num_items_in_batch=num_items_in_batch,
            )  # fmt: skip

        def train(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            with _lean_steps(self.model):
                return super().train(*args, **kwargs)

        def floating_point_ops(self, inputs):  # type: ignore[no-untyped-def]
            if "input_ids" not in inputs:
                return 0
            if self._parameter_count is None:
                self._parameter_count = self.model.num_parameters(exclude_embeddings=True)
            return 6 * inputs["input_ids"].numel() * self._parameter_count

        def _clip_grad_norm(self, model):  # type: ignore[no-untyped-def]
            if self._trained_parameters is None:
                self._trained_parameters = [p for p in model.parameters() if p.requires_grad]
            return self.accelerator.clip_grad_norm_(
                self._trained_parameters, self.args.max_grad_norm
            )

    return CpuSFTTrainer


@contextmanager
def _lean_steps(model: Any) -> Iterator[None]:
    """While training, ``model.train()`` does nothing when the model is already in training mode
    (``train(False)`` and ``eval()`` still switch every module) and ``model.zero_grad()`` clears
    the trained parameters only (the frozen ones never get a gradient)."""
    trained = [p for p in model.parameters() if p.requires_grad]

    def train(mode: bool = True) -> Any:
        return model if mode and model.training else type(model).train(model, mode)

    def zero_grad(set_to_none: bool = True) -> None:
        if not set_to_none:
            type(model).zero_grad(model, set_to_none)
            return
        for param in trained:
            param.grad = None

    model.train, model.zero_grad = train, zero_grad  # shadow nn.Module's for this run only
    try:
        yield
    finally:
        del model.train, model.zero_grad


def _trainable(model: Any) -> dict[str, Any]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def train_lora(
    config: LoraTrainingConfig,
    data: ChatData,
    *,
    log: Log = print,
    progress: bool = True,
) -> LoraResult:
    """Train a LoRA adapter on ``data``, save it to ``config.output_dir``, check it loads in
    vLLM, and report losses, throughput and greedy samples. Raises ``BadRowsError`` when a row
    keeps no reply token within ``max_seq_len`` (unless ``data`` was loaded with skip_bad)."""
    import torch
    from transformers import EarlyStoppingCallback, set_seed

    from agent.serving import check_adapter

    set_seed(config.seed)
    out = Path(config.output_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = load_tokenizer(config.base)
    if config.max_seq_len is None:
        config = dataclasses.replace(config, max_seq_len=base_context(config.base, tokenizer))
    train_rows, val_rows = _tokenize(tokenizer, data, config, progress=progress)
    model = load_base_model(config)

    history: list[EpochLosses] = []
    if progress and log is print:  # epoch lines above the bars, not through them
        log = write_above_bars
    reporter = _epoch_reporter(history, config.epochs, log)
    callbacks = [reporter]
    if val_rows and config.early_stopping_patience:
        callbacks.append(
            EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience)
        )
    checkpoints = Path(tempfile.mkdtemp(prefix="checkpoints-", dir=out))
    try:
        trainer = _trainer_class(config)(
            model=model,
            args=_sft_config(config, checkpoints, bool(val_rows)),
            train_dataset=to_hf_dataset(train_rows),
            eval_dataset=to_hf_dataset(val_rows) if val_rows else None,
            processing_class=tokenizer,
            data_collator=pad_batch(tokenizer.pad_token_id),
            peft_config=peft_config(config),
            callbacks=callbacks,
        )
        without_default_progress(trainer, phase_bars if progress else None)
        _keep_adapter_in_float32(trainer.model, config)
        base_layers = _base_layers(trainer.model)
        before = _trainable(trainer.model)
        started = time.perf_counter()
        trainer.train()
        runtime = time.perf_counter() - started
        after = dict(trainer.model.named_parameters())
        unchanged = [n for n, v in before.items() if torch.equal(v, after[n].detach())]
        epochs_run = trainer.state.epoch or 0.0
        best_val = trainer.state.best_metric if val_rows else None
        trainer.save_model(str(out))
    finally:
        shutil.rmtree(checkpoints, ignore_errors=True)
    check_adapter(out, max_rank=config.max_lora_rank)

    tokens_per_epoch = sum(len(row.input_ids) for row in train_rows)
    result = LoraResult(
        adapter_dir=out,
        config=config,
        history=history,
        best_val_loss=best_val,
        best_epoch=_best_epoch(history),
        train_tokens=round(tokens_per_epoch * epochs_run),
        runtime_s=runtime,
        loop_s=reporter.loop_s or runtime,
        trainable_parameters=sum(v.numel() for v in before.values()),
        unchanged_parameters=unchanged,
        context_trimmed_rows=sum(bool(r.trimmed_exchanges) for r in (*train_rows, *val_rows)),
        data=data.describe(),
        base_layers=base_layers,
        stopped_early=round(epochs_run) < config.epochs,
    )
    sample_rows = data.validation or data.train
    result.samples = greedy_samples(trainer.model, tokenizer, sample_rows, config)
    result.authenticity = authenticity([s.reply for s in result.samples], config.persona)
    config.save(out)
    data.write_manifest(out, context_trimmed_rows=result.context_trimmed_rows)
    (out / REPORT_FILE).write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
    return result


def base_context(base: str, tokenizer: Any) -> int:
    """The base model's context length in tokens: its config's ``max_position_embeddings``,
    else the tokenizer's ``model_max_length``, else 2048."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(base)
    config = getattr(config, "text_config", None) or config
    context = getattr(config, "max_position_embeddings", None)
    if isinstance(context, int) and context > 0:
        return context
    limit = getattr(tokenizer, "model_max_length", None)
    return limit if isinstance(limit, int) and 0 < limit < 10**7 else 2048


def _tokenize(
    tokenizer: Any, data: ChatData, config: LoraTrainingConfig, *, progress: bool = False
) -> tuple[list[TokenizedRow], list[TokenizedRow]]:
    from trainers.lora_data import BadRowsError

    last_only = config.train_on == "last"
    train, bad = tokenize_rows(
        tokenizer, tokenizing(data.train, "train", progress), config.max_seq_len, "train",
        last_only=last_only, lines=data.lines.get("train", ()),
    )  # fmt: skip
    validation, bad_val = tokenize_rows(
        tokenizer, tokenizing(data.validation, "validation", progress), config.max_seq_len,
        "validation",
        last_only=last_only, lines=data.lines.get("validation", ()),
    )  # fmt: skip
    if ((bad or bad_val) and not data.skip_bad) or not train:
        raise BadRowsError([*bad, *bad_val], data.source)
    data.skipped.extend([*bad, *bad_val])
    return train, validation


def _keep_adapter_in_float32(model: Any, config: LoraTrainingConfig) -> None:
    """TRL stores QLoRA adapter weights in bfloat16. On the CPU that is slower than float32 and
    rounds away small AdamW updates (bf16 keeps ~3 significant digits), so keep them float32
    there; the adapter is tiny either way."""
    import torch

    if not (config.quantize and (config.use_cpu or not torch.cuda.is_available())):
        return
    for param in model.parameters():
        if param.requires_grad and param.dtype == torch.bfloat16:
            param.data = param.data.to(torch.float32)


def _base_layers(model: Any) -> dict[str, int]:
    from collections import Counter

    return dict(
        Counter(
            type(module.base_layer).__name__
            for module in model.modules()
            if hasattr(module, "base_layer") and hasattr(module, "lora_A")
        )
    )


def _best_epoch(history: Sequence[EpochLosses]) -> int | None:
    scored = [h for h in history if h.val_loss is not None]
    return min(scored, key=lambda h: h.val_loss).epoch if scored else None  # type: ignore[arg-type,return-value]
