"""utta's log: a rotating file in the data directory, keys redacted; ``--verbose`` adds stderr.

Nothing is set up at import time; the command line calls :func:`setup_logging` once. Modules log
through ``logging.getLogger(__name__)``; every caught exception is logged with its traceback, so
what a toast summarised can be read in full afterwards.
"""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from agent.paths import log_path
from agent.secrets import redact_secrets

LOG_BYTES = 1_000_000
LOG_BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that log every request at INFO: only their warnings, unless --verbose.
CHATTY = ("httpx", "httpcore", "urllib3", "asyncio", "markdown_it", "filelock")


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes key values and key-shaped strings (tracebacks included)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_secrets(super().format(record))


class LazyRotatingFileHandler(RotatingFileHandler):
    """Creates the log's folder on the first record, so a command that logs nothing creates
    nothing; a log that cannot be written is skipped rather than breaking the command."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, delay=True)

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def handleError(self, record: logging.LogRecord) -> None:
        pass  # printing "--- Logging error ---" over a running chat would be worse


def setup_logging(*, verbose: bool = False) -> Path:
    """Log to :func:`~agent.paths.log_path` (INFO and up; DEBUG with ``verbose``, which also
    prints to stderr). Safe to call again: it replaces the handlers it added. Returns the path."""
    path = log_path()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "utta", False)]:
        root.removeHandler(handler)
        handler.close()
    formatter = RedactingFormatter(FORMAT)
    handlers: list[logging.Handler] = [LazyRotatingFileHandler(path)]
    if verbose:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.utta = True  # type: ignore[attr-defined]
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)
    return path
