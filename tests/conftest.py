"""Shared fixtures. Every test gets its own user directory, so nothing touches the real one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from personas.loader import PersonaLibrary
from personas.schema import Persona
from transcripts.store import Store

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


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real transcript database in the test's temporary folder."""
    with Store(tmp_path / "transcripts.db") as opened:
        yield opened


@pytest.fixture(scope="module")
def maya() -> Persona:
    return PersonaLibrary().get("maya")
