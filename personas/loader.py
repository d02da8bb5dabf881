"""Finding and loading persona files.

:func:`load_persona_file` reads one YAML file and validates it against
:class:`personas.schema.Persona`. When something is wrong it raises :class:`PersonaError`, whose
message has one line per problem, each in the form ``path/to/file.yaml:LINE: field.path: what
went wrong. Fix: what to do`` so an author can jump straight to the spot.

:class:`PersonaLibrary` finds the shipped personas (``personas/shipped/``) plus the user folders
its caller passes (the application passes ``UTTA_PERSONAS_DIR`` and the data dir, see
:func:`agent.paths.persona_library`; this package imports nothing of utta's). A user persona with
the same id as a shipped one overrides it; among user folders the one listed first wins. Invalid
files do not stop the listing: they are collected in :attr:`PersonaLibrary.problems`.

YAML aliases are allowed, but a file whose aliases expand to more than :data:`MAX_VALUES` values
(an "alias bomb": a dozen lines that expand to billions) or refer to themselves is refused before
it is expanded, so it costs milliseconds, not minutes.

Nothing is read at import time; a library reads its folders once, on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from personas.schema import Persona
from personas.yaml_problems import (
    MAX_VALUES,
    PersonaError,
    Problem,
    dotted,
    duplicate_keys,
    line_of,
    parse_yaml,
    problem_from,
    yaml_kind,
)

__all__ = [
    "MAX_VALUES",
    "PERSONA_SUFFIXES",
    "SHIPPED_DIR",
    "PersonaCheck",
    "PersonaError",
    "PersonaLibrary",
    "Problem",
    "UnknownPersona",
    "load_persona_file",
]

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
PERSONA_SUFFIXES = (".yaml", ".yml")


class UnknownPersona(KeyError):
    """No persona has the requested id; the message lists the ids there are.

    ``args[0]`` and ``str(error)`` are the message; ``persona_id`` is the id asked for.
    """

    def __init__(self, persona_id: str, message: str) -> None:
        super().__init__(message)
        self.persona_id = persona_id
        self.message = message

    def __str__(self) -> str:  # KeyError would show the repr of its argument
        return self.message


# --- one file ---------------------------------------------------------------------------------


# A further check of a valid persona: (location, message with its fix) for each problem, where
# location is the field path ("knowledge", 0, "misconceptions", 1, "rule", "name").
PersonaCheck = Callable[[Persona], Iterable[tuple[tuple, str]]]


def load_persona_file(path: Path | str, checks: Sequence[PersonaCheck] = ()) -> Persona:
    """Read and validate one persona file; raise :class:`PersonaError` naming every problem.

    ``checks`` run on the validated persona (e.g. that its answer rules exist, which this
    package cannot know); their problems are reported by line and field like schema errors."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        problem = Problem(None, "", f"cannot read the file ({error.strerror}).")
        raise PersonaError(path, [problem]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise PersonaError(
            path, [Problem(line, "", "the file is not UTF-8 text. Fix: save it as UTF-8.")]
        ) from None
    root, data = parse_yaml(path, text)
    if not isinstance(data, dict):
        kind = "nothing (the file is empty)" if data is None else f"a {yaml_kind(data)}"
        line = root.start_mark.line + 1 if root is not None else 1
        raise PersonaError(
            path,
            [
                Problem(
                    line,
                    "",
                    f"a persona file must be a mapping of fields (id: ..., name: ...) "
                    f"but it holds {kind}. Fix: start from a shipped persona, e.g. "
                    f"{SHIPPED_DIR / 'maya.yaml'}.",
                )
            ],
        )
    problems = duplicate_keys(root)
    try:
        persona = Persona.model_validate(data)
    except ValidationError as error:
        problems += [problem_from(item, root, data) for item in error.errors()]
    if not problems:
        for check in checks:
            problems += [
                Problem(line_of(root, loc), dotted(loc), message) for loc, message in check(persona)
            ]
    if problems:
        raise PersonaError(path, sorted(problems, key=lambda problem: problem.line or 0))
    return persona


# --- the library ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    persona: Persona
    path: Path


class PersonaLibrary:
    """The personas a session may pick: shipped ones, overridden or extended by user folders.

    ``folders`` are the user folders, the first one winning; a missing one is reported in
    :attr:`problems` unless it is also in ``optional`` (a default folder nobody created yet).
    ``shipped`` turns the shipped folder off. Files are read once per instance, on first use.
    """

    def __init__(
        self,
        folders: Iterable[Path | str] = (),
        *,
        shipped: bool = True,
        optional: Iterable[Path | str] = (),
    ) -> None:
        self._folders = [Path(f).expanduser() for f in folders]
        self._optional = {Path(f).expanduser() for f in optional}
        self._shipped = shipped
        self._entries: dict[str, _Entry] | None = None
        self._problems: list[PersonaError] = []

    # folders ----------------------------------------------------------------------------------
    def user_folders(self) -> list[Path]:
        return list(self._folders)

    def folders(self) -> list[Path]:
        """Every folder searched, lowest priority first (later ones override earlier ones)."""
        shipped = [SHIPPED_DIR] if self._shipped else []
        return [*shipped, *reversed(self.user_folders())]

    # queries ----------------------------------------------------------------------------------
    def list(self) -> list[Persona]:
        """Every valid persona, sorted by id. Invalid files are in :attr:`problems`."""
        return [entry.persona for _, entry in sorted(self._load().items())]

    def ids(self) -> list[str]:
        return sorted(self._load())

    def get(self, persona_id: str) -> Persona:
        return self._entry(persona_id).persona

    def path_of(self, persona_id: str) -> Path:
        """The file the persona with this id was loaded from."""
        return self._entry(persona_id).path

    @property
    def problems(self) -> list[PersonaError]:
        """Files that were found but could not be loaded, one error each."""
        self._load()
        return list(self._problems)

    def add(self, persona: Persona, path: Path | str) -> None:
        """Make a persona loaded elsewhere (``utta chat --persona FILE``) available by its id."""
        self._load()[persona.id] = _Entry(persona, Path(path))

    def reload(self) -> None:
        """Forget what was read; the next query reads the folders again."""
        self._entries = None
        self._problems = []

    # internals --------------------------------------------------------------------------------
    def _entry(self, persona_id: str) -> _Entry:
        entries = self._load()
        key = persona_id.strip().lower()
        if key in entries:
            return entries[key]
        available = ", ".join(sorted(entries)) or "none"
        message = f"no persona with id '{persona_id}'. Available: {available}."
        broken = [e for e in self._problems if e.path.stem.lower() == key]
        if broken:
            message += f" {broken[0].path} exists but is invalid:\n{broken[0]}"
        else:
            folder = self.user_folders()[0] if self.user_folders() else SHIPPED_DIR
            message += (
                f" Fix: use one of those ids, or add {folder / (key + '.yaml')} "
                f"(copy a shipped one from {SHIPPED_DIR})."
            )
        raise UnknownPersona(persona_id, message)

    def _load(self) -> dict[str, _Entry]:
        if self._entries is not None:
            return self._entries
        entries: dict[str, _Entry] = {}
        problems: list[PersonaError] = []
        for folder in self.folders():
            for path, error in self._files_in(folder):
                if error is not None:
                    problems.append(error)
                    continue
                try:
                    persona = load_persona_file(path)
                except PersonaError as failure:
                    problems.append(failure)
                    continue
                same_folder = entries.get(persona.id)
                if same_folder is not None and same_folder.path.parent == path.parent:
                    problems.append(
                        PersonaError(
                            path,
                            [
                                Problem(
                                    None,
                                    "id",
                                    f"'{persona.id}' is also the id of {same_folder.path}; "
                                    f"that one is used. Fix: give this persona another id.",
                                )
                            ],
                        )
                    )
                    continue
                entries[persona.id] = _Entry(persona, path)
        self._entries, self._problems = entries, problems
        return entries

    def _files_in(self, folder: Path) -> list[tuple[Path, PersonaError | None]]:
        if folder.is_file():
            return [(folder, None)]
        if not folder.is_dir():
            if folder != SHIPPED_DIR and folder not in self._optional:
                problem = Problem(
                    None,
                    "",
                    "this persona folder does not exist. Fix: create it, or correct "
                    "UTTA_PERSONAS_DIR.",
                )
                return [(folder, PersonaError(folder, [problem]))]
            return []
        return [
            (path, None)
            for path in sorted(folder.iterdir())
            if path.suffix.lower() in PERSONA_SUFFIXES and path.is_file()
        ]
