"""API keys: stored owner-only, never printed, resolved per endpoint."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from agent.brain import BrainError
from agent.keys import LOCAL_PLACEHOLDER_KEY, keys_path, resolve_key, set_key
from tui.cli import main

SECRET = "sk-test-0123456789abcdefSECRET"


def _feed_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_set_key_writes_an_owner_only_file(utta_home: Path, monkeypatch, capsys) -> None:
    _feed_stdin(monkeypatch, SECRET + "\n")
    assert main(["keys", "set", "openai"]) == 0
    path = utta_home / "keys.json"
    assert keys_path() == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SECRET in path.read_text()
    assert SECRET not in capsys.readouterr().out


def test_key_file_is_never_created_world_readable(utta_home: Path, monkeypatch) -> None:
    modes: list[int] = []
    import os

    real_open = os.open

    def spy(path, flags, mode=0o777, *args, **kwargs):
        if str(path).startswith(str(utta_home)) and flags & os.O_CREAT:
            modes.append(mode)
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    set_key("openai", SECRET)
    assert modes == [0o600]


def test_overwriting_keeps_other_providers_and_mode(utta_home: Path) -> None:
    set_key("other", "sk-other-key-000000")
    (utta_home / "keys.json").chmod(0o644)  # someone loosened it
    set_key("openai", SECRET)
    assert stat.S_IMODE((utta_home / "keys.json").stat().st_mode) == 0o600
    assert resolve_key("other", "https://api.example.com/v1") == "sk-other-key-000000"


def test_keys_list_prints_names_only(monkeypatch, capsys) -> None:
    set_key("openai", SECRET)
    assert main(["keys", "list"]) == 0
    out = capsys.readouterr()
    assert out.out.split() == ["openai"]
    assert SECRET not in out.out + out.err


def test_keys_path_prints_the_file(utta_home: Path, capsys) -> None:
    assert main(["keys", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(utta_home / "keys.json")


def test_empty_key_is_refused(monkeypatch, capsys) -> None:
    _feed_stdin(monkeypatch, "\n")
    assert main(["keys", "set", "openai"]) == 1
    assert "empty" in capsys.readouterr().err
    assert not keys_path().exists()


def test_missing_key_names_both_fixes() -> None:
    with pytest.raises(BrainError) as caught:
        resolve_key("openai", "https://api.openai.com/v1")
    assert caught.value.message == "No OpenAI key found"
    assert "utta keys set openai" in str(caught.value)
    assert "OPENAI_API_KEY" in str(caught.value)


def test_env_key_wins_for_cloud_but_local_gets_placeholder(monkeypatch) -> None:
    set_key("openai", "sk-from-file-00000000")
    assert resolve_key("openai", None) == "sk-from-file-00000000"
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert resolve_key("openai", "https://api.openai.com/v1") == SECRET
    for local in ("http://127.0.0.1:8000/v1", "http://localhost:9/v1", "http://[::1]:8000/v1"):
        assert resolve_key("openai", local) == LOCAL_PLACEHOLDER_KEY
