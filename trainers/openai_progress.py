"""Progress bars for an OpenAI(-compatible) fine-tuning run, with tqdm like the LoRA trainer's:
the bytes of each uploaded file, and the job's training steps as its ``metrics`` events report
them. Status lines and event messages are written above the bars, never through them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def reading_with_bar(path: Path, enabled: bool) -> Iterator[IO[bytes]]:
    """``path`` opened for reading; when ``enabled``, every read advances an "uploading NAME"
    bar (the HTTP client reads the file as it sends it)."""
    with path.open("rb") as handle:
        if not enabled:
            yield handle
            return
        from tqdm.auto import tqdm
        from tqdm.utils import CallbackIOWrapper

        size = path.stat().st_size
        with tqdm(
            total=size, desc=f"uploading {path.name}", unit="B", unit_scale=True,
            unit_divisor=1024, leave=False,
        ) as bar:  # fmt: skip
            yield CallbackIOWrapper(bar.update, handle, "read")  # type: ignore[misc]


class StepBar:
    """A "training" bar over the job's steps, moved by each ``metrics`` event's ``step`` and
    ``total_steps`` (OpenAI's event data), with the latest training loss as its postfix."""

    def __init__(self, enabled: bool, out: Callable[[str], None]) -> None:
        self.enabled = enabled
        self._out = out
        self.bar: Any = None

    def advance(self, data: dict[str, Any]) -> None:
        step, total = data.get("step"), data.get("total_steps")
        if not self.enabled or not isinstance(step, int):
            return
        if self.bar is None:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=total if isinstance(total, int) else None, desc="training", unit="step"
            )
        self.bar.update(max(0, step - self.bar.n))
        loss = data.get("train_loss")
        if isinstance(loss, int | float):
            self.bar.set_postfix(loss=f"{loss:.3f}")

    def write(self, line: str) -> None:
        """``line`` above the bar while one is shown, else through the watcher's output."""
        if self.bar is None:
            self._out(line)
            return
        from tqdm.auto import tqdm

        tqdm.write(line)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
