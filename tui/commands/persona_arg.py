"""``--persona ID|FILE`` for the commands that score or evaluate: a shipped/user persona id or
a persona file, refused with the loader's message (file, line, field, fix)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tui.commands import CommandError

if TYPE_CHECKING:
    from personas.schema import Persona


def resolve_persona(value: str) -> Persona:
    from personas.loader import PersonaError, PersonaLibrary, UnknownPersona, load_persona_file

    try:
        if value.endswith((".yaml", ".yml")) or Path(value).is_file():
            return load_persona_file(Path(value))
        return PersonaLibrary().get(value)
    except (PersonaError, UnknownPersona, OSError) as error:
        raise CommandError(str(error), code=2) from None
