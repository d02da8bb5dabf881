"""Shared fixtures. Every test gets its own user directory, so nothing touches the real one."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.plugins.models"]


@pytest.fixture(autouse=True)
def utta_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "utta-home"
    home.mkdir()
    monkeypatch.setenv("UTTA_HOME", str(home))
    monkeypatch.delenv("UTTA_DB", raising=False)
    monkeypatch.delenv("UTTA_PERSONAS_DIR", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return home
