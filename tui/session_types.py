"""What a practice session hands the screen besides reply chunks: feedback and the errors that
say whose fault a failure was. Light on purpose: the chat screen imports it before any store is
opened."""

from __future__ import annotations

from dataclasses import dataclass

from agent.errors import UttaError


class StorageError(UttaError):
    """The transcript database failed (a full disk, a locked or broken file), not the brain."""


def storage_error(error: Exception) -> StorageError:
    """A database failure as the trainee should read it: the store's own words when it has
    them (a message and a fix), else SQLite's."""
    if isinstance(error, UttaError):
        return StorageError(f"the transcript could not be saved: {error.message}", fix=error.fix)
    return StorageError(
        f"the transcript could not be saved ({error})",
        fix="free some disk space or check the database file (`utta --db`), then send again",
    )


class SwapFailed(UttaError):
    """A swap did not happen; ``str()`` says why and which brain keeps answering."""


def describe(error: Exception) -> str:
    """An error as a trainee reads it: ours carry message and fix, others get their type named."""
    return str(error) if isinstance(error, UttaError) else f"{type(error).__name__}: {error}"


@dataclass(frozen=True)
class Feedback:
    flagged: bool
    rating: int | None
    rewrite: str | None
    note: str | None

    def summary(self) -> str:
        parts = [
            f"rated {self.rating}/5" if self.rating else "",
            "flagged" if self.flagged else "",
            "rewritten" if self.rewrite else "",
        ]
        return " · ".join(p for p in parts if p) or "noted"
