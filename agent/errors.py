"""The one shape of a user-facing error: what went wrong, and the fix."""

from __future__ import annotations


class UttaError(Exception):
    """``str(error)`` is written for a trainee or trainer: the message, then a dash and the fix."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} — {self.fix}" if self.fix else self.message
