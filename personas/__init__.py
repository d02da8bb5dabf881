"""Simulated second-graders: the schema, the shipped persona files and the loader.

Importing this package reads nothing; the names below are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from personas.loader import PersonaError, PersonaLibrary, UnknownPersona, load_persona_file
    from personas.schema import Persona

__all__ = ["Persona", "PersonaError", "PersonaLibrary", "UnknownPersona", "load_persona_file"]


def __getattr__(name: str) -> Any:
    if name == "Persona":
        from personas.schema import Persona

        return Persona
    if name in __all__:
        from personas import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'personas' has no attribute {name!r}")
