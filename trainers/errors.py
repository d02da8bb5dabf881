"""Errors of the trainers."""

from __future__ import annotations

from agent.errors import UttaError


class TrainingError(UttaError):
    """A training step could not run; ``str(error)`` names the fix."""
