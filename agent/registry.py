"""Brain factories, found through the ``utta.brains`` entry point group.

Built-in brains register through the same group third parties use (see pyproject.toml), so there
is no special case for ours. A factory is
``create(spec: BrainSpec, context: BrainContext) -> Brain`` and must import its heavy
libraries inside itself, never at module level.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from importlib.util import find_spec
from typing import Any

from agent.brain import Brain, BrainError
from personas.schema import Persona

ENTRY_POINT_GROUP = "utta.brains"
DEFAULT_BRAIN = "offline"


@dataclass(frozen=True)
class BrainSpec:
    """A small record that says how to build a brain: which kind, with which options."""

    name: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    persona_id: str | None = None


@dataclass(frozen=True)
class BrainContext:
    """What a factory may need beyond its spec."""

    persona: Persona
    approved_examples: Sequence[tuple[str, str]] = ()
    """(teacher, student) pairs the teacher approved in earlier sessions of this persona."""


Factory = Callable[[BrainSpec, BrainContext], Brain]


@cache
def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_kinds() -> list[str]:
    return sorted(_entry_points())


def factory_for(kind: str) -> Factory:
    points = _entry_points()
    if kind not in points:
        raise BrainError(
            f"no brain kind called '{kind}'",
            fix=f"choose one of: {', '.join(sorted(points)) or '(none installed)'}",
        )
    return points[kind].load()


def require(kind: str, *modules: str, extra: str) -> None:
    """Fail with the install command when a brain kind's packages are missing.

    Checked with ``find_spec``, which imports nothing, so a factory can call it up front and a
    trainee on the light install gets a fix instead of a ModuleNotFoundError mid-chat.
    """
    missing = [name for name in modules if find_spec(name) is None]
    if missing:
        raise BrainError(
            f"the {kind} brain needs {', '.join(missing)}, which is not installed",
            fix=f"install it with `.venv/bin/pip install -e '.[{extra}]'`",
        )


def create_brain(spec: BrainSpec, context: BrainContext) -> Brain:
    return factory_for(spec.kind)(spec, context)
