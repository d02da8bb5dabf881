"""Quiet, clear output on long training runs: library messages go to a log file, not the screen.

transformers, TRL, PEFT, datasets, DSPy and LiteLLM log warnings (and Python ``warnings``)
straight to the terminal, where they break progress bars apart. Inside :func:`library_output`
every one of them goes to ``$UTTA_HOME/logs/train.log`` instead; with ``verbose`` they are also
printed. The trainers' own lines and progress bars are unaffected.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LIBRARY_LOGGERS = (
    "transformers", "trl", "peft", "datasets", "accelerate", "bitsandbytes", "torch",
    "dspy", "litellm", "LiteLLM", "httpx", "httpcore", "openai", "optuna", "py.warnings",
)  # fmt: skip


def train_log_path() -> Path:
    from agent.paths import data_dir

    return data_dir() / "logs" / "train.log"


@contextmanager
def library_output(log_file: Path | None = None, *, verbose: bool = False) -> Iterator[Path]:
    """Send library logging and Python warnings to ``log_file`` (and stderr when ``verbose``)
    for the duration; yields the file's path."""
    path = log_file or train_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    saved_root_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    echo = logging.StreamHandler(sys.stderr) if verbose else None
    if echo is not None:
        echo.setLevel(logging.WARNING)
        root.addHandler(echo)
    saved = {}
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = (list(logger.handlers), logger.propagate, logger.level)
        logger.handlers = []  # their own stderr handlers (transformers', dspy's) go quiet
        logger.propagate = True
        if logger.level == logging.NOTSET or logger.level > logging.WARNING:
            logger.setLevel(logging.WARNING)
    logging.captureWarnings(True)
    transformers_logging = _transformers_logging()
    if transformers_logging is not None:
        transformers_logging.disable_default_handler()
        transformers_logging.enable_propagation()
    try:
        yield path
    finally:
        logging.captureWarnings(False)
        if transformers_logging is not None:
            transformers_logging.disable_propagation()
            transformers_logging.enable_default_handler()
        for name, (handlers, propagate, level) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers, logger.propagate = handlers, propagate
            logger.setLevel(level)
        root.removeHandler(handler)
        if echo is not None:
            root.removeHandler(echo)
        root.setLevel(saved_root_level)
        handler.close()


def _transformers_logging():
    """transformers' logging module if transformers is installed (imported lazily, it is big)."""
    from importlib.util import find_spec

    if find_spec("transformers") is None:
        return None
    from transformers.utils import logging as transformers_logging

    return transformers_logging
