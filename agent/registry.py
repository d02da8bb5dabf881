"""Brain factories, found through the ``utta.brains`` entry point group.

Built-in brains register through the same group third parties use (see pyproject.toml), so there
is no special case for ours. A factory is
``create(spec: BrainSpec, context: BrainContext) -> Brain`` and must import its heavy
libraries inside itself, never at module level. :func:`require`, :func:`check_options` and
:func:`option_number` turn a missing package, an unknown option or a bad option value into a
:class:`~agent.brain.BrainError` that says what to change.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from importlib.util import find_spec
from os import PathLike, fspath
from typing import Any, TypeVar, overload

from agent.brain import Brain, BrainError
from personas.schema import Persona

ENTRY_POINT_GROUP = "utta.brains"
DEFAULT_BRAIN = "offline"

Number = TypeVar("Number", int, float)


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


def check_options(kind: str, options: Mapping[str, Any], known: Collection[str]) -> None:
    """Refuse options the ``kind`` brain does not have (a typo would otherwise be ignored)."""
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise BrainError(
            f"the {kind} brain has no option {', '.join(map(repr, unknown))}",
            fix=f"use only: {', '.join(known)}",
        )


@overload
def option_number(
    kind: str,
    options: Mapping[str, Any],
    name: str,
    cast: type[Number],
    default: Number,
    *,
    positive: bool = ...,
    example: Number | None = ...,
) -> Number: ...
@overload
def option_number(
    kind: str,
    options: Mapping[str, Any],
    name: str,
    cast: type[Number],
    default: None,
    *,
    positive: bool = ...,
    example: Number | None = ...,
) -> Number | None: ...
def option_number(
    kind: str,
    options: Mapping[str, Any],
    name: str,
    cast: type[Number],
    default: Number | None,
    *,
    positive: bool = False,
    example: Number | None = None,
) -> Number | None:
    """Option ``name`` as an ``int`` or ``float`` (``cast``), 0 or more (above 0 if
    ``positive``); ``default`` when it is absent or null. A value that is not such a number
    ("lots", 2.5 for an int, true) is a :class:`BrainError` naming the option and the fix (which
    suggests ``example``, else ``default``)."""
    value = options.get(name)
    if value is None:
        return default
    number = _as_number(value, cast, positive)
    if number is None:
        what = "whole number" if cast is int else "number"
        what = f"a {what} above 0" if positive else f"a {what}, 0 or more"
        if example is None:
            example = default if default is not None else cast(1)
        raise BrainError(
            f"the {kind} brain's option `{name}` must be {what}, not {value!r}",
            fix=f"set it to e.g. {name}: {example}, or leave it out",
        )
    return number


def _as_number(value: Any, cast: type[Number], positive: bool) -> Number | None:
    if isinstance(value, bool):  # YAML's `yes` is not a temperature
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or (number <= 0 if positive else number < 0):
        return None
    if cast is int and not number.is_integer():
        return None
    return cast(number)


def option_text(
    kind: str, options: Mapping[str, Any], name: str, default: str | None = None
) -> str | None:
    """Option ``name`` as a non-empty string (a name, a path, a URL); ``default`` when it is
    absent or null. Anything else (a number, a list) is a :class:`BrainError` naming it."""
    value = options.get(name)
    if value is None:
        return default
    if isinstance(value, PathLike):  # a Path from code, not JSON: as good as its text
        value = fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise BrainError(
            f"the {kind} brain's option `{name}` must be text, not {value!r}",
            fix=f'write it as a string, e.g. {name}: "..."',
        )
    return value


# --- what each kind declares -----------------------------------------------------------------

OPTION_TYPES: dict[str, tuple[type, ...]] = {
    "text": (str, PathLike),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "mapping": (dict,),
}


@dataclass(frozen=True)
class Option:
    """One option a brain kind reads: its name, type (a key of :data:`OPTION_TYPES`) and help."""

    name: str
    type: str
    help: str

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not of this option's type, or ``None``. Numbers are checked by the
        factory (:func:`option_number`), which also knows their range."""
        if value is None or self.type in ("integer", "number"):
            return None
        if isinstance(value, OPTION_TYPES[self.type]) and not (
            isinstance(value, bool) and self.type != "boolean"
        ):
            return None
        wanted = {"text": "text", "mapping": "a mapping", "boolean": "true or false"}[self.type]
        return f"must be {wanted}, not {value!r}"


@dataclass(frozen=True)
class BrainKind:
    """What a kind needs and reads, declared as ``KIND`` in its factory's module.

    ``requires`` are the Python packages it imports, ``extra`` the install extra that brings them.
    """

    summary: str
    options: tuple[Option, ...] = ()
    requires: tuple[str, ...] = ()
    extra: str | None = None

    def missing(self) -> list[str]:
        return [name for name in self.requires if find_spec(name) is None]

    @property
    def install(self) -> str:
        return f".venv/bin/pip install -e '.[{self.extra}]'" if self.extra else ""

    def check(self, kind: str, options: Mapping[str, Any]) -> None:
        """Refuse an unknown or mistyped option, naming the known ones with their types."""
        known = {option.name: option for option in self.options}
        listing = ", ".join(f"{o.name} ({o.type})" for o in self.options) or "none"
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise BrainError(
                f"the {kind} brain has no option {', '.join(map(repr, unknown))}",
                fix=f"its options are: {listing} (`utta brains list --kinds` explains them)",
            )
        for name, value in options.items():
            problem = known[name].problem(value)
            if problem:
                raise BrainError(
                    f"the {kind} brain's option `{name}` {problem}",
                    fix=f"{name}: {known[name].help}",
                )


def kind_info(kind: str) -> BrainKind | None:
    """The kind's declaration (its factory module's ``KIND``), or ``None`` if it declares none.

    Loading a factory imports only its module (factories import heavy libraries inside)."""
    import sys

    factory = factory_for(kind)
    declared = getattr(sys.modules.get(factory.__module__), "KIND", None)
    return declared if isinstance(declared, BrainKind) else None


def create_brain(spec: BrainSpec, context: BrainContext) -> Brain:
    """Build the brain; a kind that declares its options has them checked first."""
    info = kind_info(spec.kind)
    if info is not None:
        info.check(spec.kind, spec.options)
    return factory_for(spec.kind)(spec, context)
