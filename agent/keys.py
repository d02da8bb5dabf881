"""API keys: stored in ``$UTTA_HOME/keys.json`` (mode 0600) or taken from the environment.

A local OpenAI-compatible endpoint (127.0.0.1, localhost, ::1) always gets a placeholder key, so a
real key is never sent to a server on this machine that does not need it. Keys are never logged
and never put in an error message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from agent.brain import BrainError
from agent.paths import data_dir

OPENAI_URL = "https://api.openai.com/v1"
KEY_FIX = "run `utta keys set openai` or set OPENAI_API_KEY"


def resolve_base_url(option: str | None = None) -> str:
    """The OpenAI-compatible endpoint: ``option``, else ``$OPENAI_BASE_URL``, else OpenAI's API."""
    return (option or os.environ.get("OPENAI_BASE_URL") or OPENAI_URL).rstrip("/")


LOCAL_PLACEHOLDER_KEY = "sk-local-placeholder"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})
_DISPLAY = {"openai": "OpenAI"}


def keys_path() -> Path:
    return data_dir() / "keys.json"


def env_var(provider: str) -> str:
    """The environment variable that may hold ``provider``'s key, e.g. ``OPENAI_API_KEY``."""
    return f"{provider.upper().replace('-', '_')}_API_KEY"


def load_keys() -> dict[str, str]:
    """The stored keys by provider name; empty when there is no keys file."""
    path = keys_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise BrainError(
            f"{path} could not be read ({type(error).__name__})",
            fix="fix or delete the file, then run `utta keys set openai`",
        ) from None
    if not isinstance(data, dict):
        raise BrainError(f"{path} is not a JSON object", fix="delete it and run `utta keys set`")
    return {str(name): str(value) for name, value in data.items()}


def key_names() -> list[str]:
    """Providers with a stored key (names only)."""
    return sorted(load_keys())


def set_key(provider: str, key: str) -> Path:
    """Store ``key`` for ``provider``; the file is created with mode 0600, never wider."""
    key = key.strip()
    if not key:
        raise BrainError("the key is empty", fix="paste the whole key when asked")
    keys = load_keys()
    keys[provider] = key
    path = keys_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".keys.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    # O_EXCL with mode 0o600: the file exists only with owner-only permissions from its first byte.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(keys, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def is_local_url(url: str | None) -> bool:
    """Whether ``url`` points at this machine."""
    if not url:
        return False
    host = (urlsplit(url if "//" in url else f"http://{url}").hostname or "").lower()
    return host in LOCAL_HOSTS


def resolve_key(provider: str, base_url: str | None = None) -> str:
    """The key to send to ``base_url`` for ``provider``.

    A local endpoint gets :data:`LOCAL_PLACEHOLDER_KEY` even when a real key is set. Otherwise the
    environment variable (``OPENAI_API_KEY``) wins over the keys file. No key: :class:`BrainError`.
    """
    if is_local_url(base_url):
        return LOCAL_PLACEHOLDER_KEY
    from_env = os.environ.get(env_var(provider), "").strip()
    if from_env:
        return from_env
    stored = load_keys().get(provider, "").strip()
    if stored:
        return stored
    raise BrainError(
        f"No {_DISPLAY.get(provider, provider)} key found",
        fix=f"run `utta keys set {provider}` or set {env_var(provider)}",
    )
