"""utta's log file: where it is, what goes in (tracebacks, no keys), and --verbose."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.logs import setup_logging
from tui.cli import main


@pytest.fixture
def restore_logging() -> Iterator[None]:
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "utta", False)]:
        root.removeHandler(handler)
        handler.close()


def test_a_caught_exception_is_logged_with_its_traceback_and_no_key(
    utta_home: Path, monkeypatch: pytest.MonkeyPatch, capfd, restore_logging
) -> None:
    key = "sk-proj-" + "Zx9" * 10
    monkeypatch.setenv("OPENAI_API_KEY", key)
    path = setup_logging()
    assert path == utta_home / "logs" / "utta.log"
    try:
        raise RuntimeError(f"server said: bad key {key}")
    except RuntimeError:
        logging.getLogger("tui.chat_screen").exception("reply failed")
    text = path.read_text()
    assert "reply failed" in text and "Traceback" in text and "RuntimeError" in text
    assert key not in text and "[redacted]" in text
    assert capfd.readouterr().err == ""  # quiet without --verbose


def test_verbose_also_prints_to_stderr(utta_home: Path, capfd, restore_logging) -> None:
    setup_logging(verbose=True)
    logging.getLogger("agent.brains").warning("server slow")
    assert "server slow" in capfd.readouterr().err
    assert "server slow" in (utta_home / "logs" / "utta.log").read_text()


def test_a_command_that_logs_nothing_creates_no_log(utta_home: Path, capsys, restore_logging):
    assert main(["--verbose", "personas", "list"]) == 0
    assert not (utta_home / "logs").exists()


def test_help_names_the_verbose_flag(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "--verbose" in capsys.readouterr().out


def test_a_failed_command_keeps_its_traceback_in_the_log(
    utta_home: Path, capsys, restore_logging
) -> None:
    """The command line prints one line; the log keeps what lay behind it."""
    assert main(["sessions", "show", "99"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("utta: ") and "Traceback" not in err
    text = (utta_home / "logs" / "utta.log").read_text()
    assert "utta sessions failed" in text and "Traceback" in text
