"""One progress bar per phase of a LoRA run (tokenizing, training steps, evaluation), with tqdm.

Replaces transformers' own progress callback, which also prints every log dict (``{'loss': ...}``)
through its bar. Epoch summaries are written above the bars with ``tqdm.write``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def tokenizing(rows: Sequence[T], split: str, enabled: bool) -> Sequence[T]:
    """``rows`` with a "tokenizing <split>" bar when ``enabled``."""
    if not enabled or not rows:
        return rows
    from tqdm.auto import tqdm

    return tqdm(rows, desc=f"tokenizing {split}", unit="row", leave=False)  # type: ignore[return-value]


def write_above_bars(line: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(line)


def phase_bars() -> Any:
    """A ``TrainerCallback`` showing a "training" bar over all steps (loss as its postfix) and an
    "evaluating" bar per evaluation."""
    from tqdm.auto import tqdm
    from transformers import TrainerCallback

    class PhaseBars(TrainerCallback):
        def __init__(self) -> None:
            self.training: Any = None
            self.evaluating: Any = None

        def on_train_begin(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            self.training = tqdm(total=state.max_steps, desc="training", unit="step")

        def on_step_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            if self.training is not None:
                self.training.update(state.global_step - self.training.n)

        def on_log(self, args, state, control, logs=None, **kwargs):  # type: ignore[no-untyped-def]
            if self.training is not None and logs and "loss" in logs:
                self.training.set_postfix(epoch=round(state.epoch or 0), loss=f"{logs['loss']:.3f}")

        def on_prediction_step(self, args, state, control, eval_dataloader=None, **kwargs):  # type: ignore[no-untyped-def]
            if self.evaluating is None:
                total = len(eval_dataloader) if eval_dataloader is not None else None
                self.evaluating = tqdm(total=total, desc="evaluating", unit="batch", leave=False)
            self.evaluating.update(1)

        def on_evaluate(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            if self.evaluating is not None:
                self.evaluating.close()
                self.evaluating = None

        def on_train_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            if self.training is not None:
                self.training.close()
                self.training = None

    return PhaseBars()


def without_default_progress(trainer: Any, bars: Callable[[], Any] | None) -> None:
    """Remove transformers' progress and printer callbacks; add ``bars()`` when given."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(ProgressCallback)
    trainer.remove_callback(PrinterCallback)
    if bars is not None:
        trainer.add_callback(bars())
