"""Throughput of the LoRA trainer against a minimal hand-written PEFT training loop.

    .venv/bin/python benchmarks/train_lora.py [--scenario short|persona|all] [--rows 96]
        [--epochs 3] [--runs 5] [--warmup 1] [--threads N]

Both train the same tiny Llama (tests/tinymodel.py) with the same LoRA (r=8, q/k/v/o_proj),
the same tokenized rows (reply-only labels), batch size, learning rate and number of steps:

- trainer: ``trainers.lora.train_lora`` (TRL SFTTrainer + PEFT, no validation split, no samples);
  its clock runs over the training loop, from the Trainer's ``on_train_begin`` to
  ``on_train_end`` (``LoraResult.loop_s``); the setup before it (accelerate, a ``gc.collect``)
  is reported separately as ``trainer setup s``.
- plain loop: ``peft.get_peft_model`` + ``torch.optim.AdamW(fused=True)`` (the Trainer's default
  optimizer) over a shuffled DataLoader with right padding, gradient clipping at 1.0 and a linear
  schedule; its clock runs from building the optimizer to the last step.

Tokens/s counts prompt and reply tokens (no padding) passed through the model. Each scenario
starts with an untimed warm-up round of both sides (``--warmup``): the first run in a process, or
on new row lengths, pays one-off costs (allocator growth, oneDNN kernels for new shapes), and
without it that run was always the trainer's. Runs then alternate between the two and the
median per side is reported, with the ratio trainer/plain (target ≥ 0.9),
for two kinds of rows: ``short`` (~120 tokens, where the Trainer's fixed cost per step shows
most) and ``persona`` (rows as the dataset builder writes them, with the persona's full system
prompt, cut to 512 tokens). Writes benchmarks/results/train_lora.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHORT_SYSTEM = (
    "You are Maya, a 7-year-old in grade 2. Maya is a quiet, careful second-grader working on "
    "two-digit numbers. She hates getting things wrong, so she answers in as few words as she can."
)
SCENARIOS = {
    "short": "a two-sentence system prompt: ~120-token rows, where per-step overhead shows most",
    "persona": "Maya's full system prompt and state, as trainers.datasets writes rows: cut to "
    "the 512-token max_seq_len",
}


def chat_rows(count: int, scenario: str) -> list[dict[str, Any]]:
    """Persona-like rows: the shipped Maya examples, one teacher line and one reply each."""
    from agent.paths import persona_library
    from agent.state import StudentState

    maya = persona_library().get("maya")
    system = SHORT_SYSTEM
    if scenario == "persona":
        system = maya.system_prompt() + "\n" + StudentState.initial(maya).describe(maya)
    examples = maya.examples
    return [
        {
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": examples[i % len(examples)].teacher},
                {"role": "assistant", "content": examples[i % len(examples)].student},
            ]
        }
        for i in range(count)
    ]


SETUP: list[float] = []


def run_trainer(config: Any, data: Any) -> tuple[float, int]:
    from trainers.lora import train_lora

    result = train_lora(config, data, log=lambda _line: None, progress=False)
    SETUP.append(result.runtime_s - result.loop_s)
    return result.tokens_per_s, result.train_tokens


def run_plain_loop(config: Any, data: Any) -> tuple[float, int]:
    import torch
    from peft import get_peft_model
    from torch.utils.data import DataLoader
    from transformers import AutoModelForCausalLM, get_linear_schedule_with_warmup

    from trainers.lora import load_tokenizer, peft_config
    from trainers.lora_data import IGNORE_INDEX, tokenize_rows

    torch.manual_seed(config.seed)
    tokenizer = load_tokenizer(config.base)
    rows, _ = tokenize_rows(
        tokenizer, data.train, config.max_seq_len, last_only=config.train_on == "last"
    )
    model = AutoModelForCausalLM.from_pretrained(config.base, dtype=torch.float32)
    model = get_peft_model(model, peft_config(config))
    model.train()

    def collate(batch: list[Any]) -> dict[str, torch.Tensor]:
        width = max(len(r.input_ids) for r in batch)
        pad = tokenizer.pad_token_id
        ids = [r.input_ids + [pad] * (width - len(r.input_ids)) for r in batch]
        labels = [r.labels + [IGNORE_INDEX] * (width - len(r.labels)) for r in batch]
        mask = [[1] * len(r.input_ids) + [0] * (width - len(r.input_ids)) for r in batch]
        return {
            "input_ids": torch.tensor(ids),
            "labels": torch.tensor(labels),
            "attention_mask": torch.tensor(mask),
        }

    loader = DataLoader(rows, batch_size=config.batch_size, shuffle=True, collate_fn=collate)
    started = time.perf_counter()
    params = [p for p in model.parameters() if p.requires_grad]
    # The Trainer's default optimizer is fused AdamW (optim="adamw_torch_fused"): use the same.
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0, fused=True)
    steps = len(loader) * config.epochs
    schedule = get_linear_schedule_with_warmup(optimizer, 0, steps)
    for _ in range(config.epochs):
        for batch in loader:
            loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)  # the Trainer's default max_grad_norm
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
    elapsed = time.perf_counter() - started
    tokens = sum(len(r.input_ids) for r in rows) * config.epochs
    return tokens / elapsed, tokens


def bench(base: Path, tmp: Path, scenario: str, args: argparse.Namespace) -> dict[str, Any]:
    from trainers.lora_config import LoraTrainingConfig
    from trainers.lora_data import ChatData

    data = ChatData.from_rows(chat_rows(args.rows, scenario))
    trainer_rates: list[float] = []
    plain_rates: list[float] = []

    def config(run: int | str) -> LoraTrainingConfig:
        return LoraTrainingConfig(
            base=str(base), persona="maya", output_dir=tmp / f"{scenario}-{run}",
            epochs=args.epochs, batch_size=args.batch_size, lr=2e-3, dropout=0.0,
            samples=0, early_stopping_patience=0,
        )  # fmt: skip

    sides = [("plain", run_plain_loop), ("trainer", run_trainer)]
    for warmup in range(args.warmup):  # untimed: the first run of each side pays one-off costs
        for _name, run_side in sides:
            run_side(config(f"warmup-{warmup}"), data)
    SETUP.clear()
    for run in range(args.runs):
        for name, run_side in sides if run % 2 else reversed(sides):
            rate, tokens = run_side(config(run), data)
            (trainer_rates if name == "trainer" else plain_rates).append(rate)
            print(f"{scenario} run {run + 1} {name:<8} {rate:10,.0f} tokens/s ({tokens:,} tokens)")
    trainer, plain = statistics.median(trainer_rates), statistics.median(plain_rates)
    print(f"{scenario}: trainer {trainer:,.0f} / plain loop {plain:,.0f} tokens/s = "
          f"{trainer / plain:.3f} (target >= 0.9)")  # fmt: skip
    return {
        "rows": SCENARIOS[scenario],
        "trainer tokens/s": round(trainer, 1),
        "plain loop tokens/s": round(plain, 1),
        "ratio trainer/plain": round(trainer / plain, 3),
        "trainer setup s (median, outside the clock)": round(statistics.median(SETUP), 3),
        "trainer runs tokens/s": [round(r, 1) for r in trainer_rates],
        "plain runs tokens/s": [round(r, 1) for r in plain_rates],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--warmup", type=int, default=1, help="untimed rounds of both sides first, per scenario"
    )
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    args = parser.parse_args()

    import os

    import torch

    from tests.tinymodel import build_tiny_model

    if args.threads:
        torch.set_num_threads(args.threads)
    scenarios = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    with tempfile.TemporaryDirectory() as tmp:
        base = build_tiny_model(Path(tmp) / "base")
        results: dict[str, Any] = {name: bench(base, Path(tmp), name, args) for name in scenarios}
    results.update(
        {
            "target ratio": 0.9,
            "rows per run": args.rows,
            "epochs": args.epochs,
            "batch size": args.batch_size,
            "runs (median reported)": args.runs,
            "untimed warm-up rounds per scenario": args.warmup,
            "torch threads": torch.get_num_threads(),
            "load average (1 min) at the end": round(os.getloadavg()[0], 2),
            "model": "tests/tinymodel.py tiny Llama (hidden 128, 2 layers), LoRA r=8 q/k/v/o, CPU",
        }
    )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "train_lora.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
