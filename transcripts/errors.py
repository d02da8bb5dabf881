"""Lookups that found nothing. Both are ``KeyError``s whose message says what to do next."""

from __future__ import annotations

from pathlib import Path


class UnknownSession(KeyError):
    """No session has the requested id."""

    def __init__(self, session_id: int, path: Path) -> None:
        super().__init__(session_id)
        self.session_id = session_id
        self.message = (
            f"there is no session {session_id} in {path} — run `utta sessions list` to see the "
            "session ids"
        )

    def __str__(self) -> str:  # KeyError would show the repr of its argument
        return self.message


class UnknownBrain(KeyError):
    """No saved brain has the requested name; the message lists the names there are."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(name)
        self.name = name
        saved = ", ".join(known) if known else "none yet"
        self.message = f"there is no saved brain named {name!r} (saved brains: {saved})"

    def __str__(self) -> str:
        return self.message
