"""Where utta keeps its files. Every path can be moved by an environment variable.

- ``UTTA_HOME``: the user data directory (default: platformdirs' user data dir for "utta").
- ``UTTA_DB``: the transcript database (default: ``$UTTA_HOME/utta.db``).
- ``UTTA_PERSONAS_DIR``: extra persona folders, separated by ``os.pathsep``.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    override = os.environ.get("UTTA_HOME")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("utta", appauthor=False))


def database_path() -> Path:
    override = os.environ.get("UTTA_DB")
    return Path(override).expanduser() if override else data_dir() / "utta.db"


def log_path() -> Path:
    """utta's log file (rotated at about 1 MB, three old ones kept; keys redacted)."""
    return data_dir() / "logs" / "utta.log"


def keymap_path() -> Path:
    """A JSON object mapping key-binding ids (see the chat's help screen) to keys."""
    return data_dir() / "keymap.json"


def user_personas_dirs() -> list[Path]:
    """User persona folders (after the shipped ones): the env var's first, then the data dir."""
    folders = [
        Path(part).expanduser()
        for part in os.environ.get("UTTA_PERSONAS_DIR", "").split(os.pathsep)
        if part
    ]
    return [*folders, data_dir() / "personas"]
