"""Finding and loading persona files.

:func:`load_persona_file` reads one YAML file and validates it against
:class:`personas.schema.Persona`. When something is wrong it raises :class:`PersonaError`, whose
message has one line per problem, each in the form ``path/to/file.yaml:LINE: field.path: what
went wrong. Fix: what to do`` so an author can jump straight to the spot.

:class:`PersonaLibrary` finds the shipped personas (``personas/shipped/``) plus the user folders
from :func:`agent.paths.user_personas_dirs`. A user persona with the same id as a shipped one
overrides it; among user folders the one listed first (``UTTA_PERSONAS_DIR`` before the data
dir) wins. Invalid files do not stop the listing: they are collected in
:attr:`PersonaLibrary.problems`.

Nothing is read at import time; a library reads its folders once, on first use.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from personas.schema import Persona

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
PERSONA_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a persona file."""

    line: int | None
    field: str
    message: str

    def format(self, path: Path | str) -> str:
        where = f"{path}:{self.line}" if self.line else f"{path}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class PersonaError(ValueError):
    """A persona file could not be loaded. ``str(error)`` has one line per problem."""

    def __init__(self, path: Path | str, problems: Sequence[Problem]) -> None:
        self.path = Path(path)
        self.problems = tuple(problems)
        super().__init__("\n".join(problem.format(path) for problem in self.problems))


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
    root, data = _parse_yaml(path, text)
    if not isinstance(data, dict):
        kind = "nothing (the file is empty)" if data is None else f"a {_yaml_kind(data)}"
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
    problems = _duplicate_keys(root)
    try:
        persona = Persona.model_validate(data)
    except ValidationError as error:
        problems += [_problem_from(item, root, data) for item in error.errors()]
    if not problems:
        for check in checks:
            problems += [
                Problem(_line_of(root, loc), _dotted(loc), message)
                for loc, message in check(persona)
            ]
    if problems:
        raise PersonaError(path, sorted(problems, key=lambda problem: problem.line or 0))
    return persona


def _parse_yaml(path: Path, text: str) -> tuple[typing.Any, typing.Any]:
    """The node tree (for line numbers) and the plain data, from a single parse."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        what = " ".join(part for part in (error.context, error.problem) if part)
        raise PersonaError(
            path,
            [
                Problem(
                    line,
                    "",
                    f"YAML syntax error: {what}. Fix: check the indentation and quote text "
                    f'that contains ": " or starts with a special character.',
                )
            ],
        ) from None
    except yaml.YAMLError as error:
        raise PersonaError(path, [Problem(None, "", f"YAML error: {error}.")]) from None
    finally:
        loader.dispose()
    return root, data


def _yaml_kind(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "single piece of text"
    return f"single {type(value).__name__} value"


def _duplicate_keys(root: typing.Any) -> list[Problem]:
    """YAML keeps the last of two equal keys without a word; an author wants to know."""
    import yaml

    problems: list[Problem] = []
    stack: list[tuple[typing.Any, str]] = [(root, "")]
    visited: set[int] = set()  # an alias shares its node: walk it once (and a cycle ends)
    while stack:
        node, where = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = str(key.value)
                field = f"{where}.{name}" if where else name
                if name in seen:
                    problems.append(
                        Problem(
                            key.start_mark.line + 1,
                            field,
                            "this key appears twice in the same mapping and only the last one "
                            "counts. Fix: delete or merge one of them.",
                        )
                    )
                seen.add(name)
                stack.append((value, field))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(node.value))
    return problems


def _problem_from(error: typing.Any, root: typing.Any, data: dict) -> Problem:
    loc = tuple(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if not loc:
        loc = _loc_from_message(message, data)
    line = _line_of(root, loc)
    kind = error["type"]
    value = error.get("input")
    if kind not in {"missing", "extra_forbidden"} and isinstance(value, str | int | float | bool):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        message += f" (got {shown})"
    hint = _hint(kind, loc, error)
    text = message.rstrip(".") + "."
    return Problem(line, _dotted(loc) or "(top level)", f"{text} Fix: {hint}" if hint else text)


def _loc_from_message(message: str, data: dict) -> tuple:
    """Whole-persona checks report no location; recover one from what they say."""
    found = re.match(r"examples\[(\d+)\]\.(\w+)", message)
    if found:
        return ("examples", int(found.group(1)), found.group(2))
    found = re.match(r"misconception '([^']+)'", message)
    if found:
        for t, topic in enumerate(_as_list(data.get("knowledge"))):
            mapping = topic if isinstance(topic, dict) else {}
            for m, item in enumerate(_as_list(mapping.get("misconceptions"))):
                if isinstance(item, dict) and item.get("id") == found.group(1):
                    return ("knowledge", t, "misconceptions", m, "id")
    return ()


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else []


def _dotted(loc: Iterable[object]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _line_of(root: typing.Any, loc: tuple) -> int | None:
    """The 1-based line of ``loc`` in the node tree; for a missing key, that of its mapping."""
    import yaml

    if root is None:
        return None
    node, line = root, root.start_mark.line + 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == str(part):
                    child, line = value, key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _model_at(loc: Sequence[object]) -> type[BaseModel] | None:
    """The schema model that the mapping at ``loc`` is validated against."""
    current: typing.Any = Persona
    for part in loc:
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            current = field.annotation if field else None
        else:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


_HINTS = {
    "int_parsing": "write a whole number in digits, e.g. 7.",
    "int_type": "write a whole number in digits, e.g. 7.",
    "int_from_float": "write a whole number in digits, e.g. 7.",
    "string_type": 'write text; put it in quotes when it looks like a number or yes/no, e.g. "35".',
    "list_type": "write a list, one '- item' per line.",
    "model_type": "write a mapping of 'key: value' lines, indented under this key.",
    "dict_type": "write a mapping of 'key: value' lines, indented under this key.",
    "literal_error": "use exactly one of the values listed.",
    "string_pattern_mismatch": "use only lower-case letters, digits and dashes, e.g. maya-2.",
    "greater_than_equal": "use a bigger number.",
    "less_than_equal": "use a smaller number.",
    "string_too_short": "write something here; it may not be empty.",
    "bool_type": "write true or false.",
}


def _hint(kind: str, loc: tuple, error: typing.Any) -> str:
    if kind == "missing":
        model = _model_at(loc[:-1])
        field = model.model_fields.get(str(loc[-1])) if model and loc else None
        about = f" ({field.description})" if field and field.description else ""
        return f"add '{loc[-1]}:' to this mapping{about}." if loc else "add the field."
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        if model is None:
            return "delete it or check its spelling."
        allowed = ", ".join(model.model_fields)
        return f"check the spelling or delete it; allowed here: {allowed}."
    if kind == "too_short":
        least = (error.get("ctx") or {}).get("min_length")
        return f"add items until there are at least {least}." if least else "add more items."
    if kind == "value_error":
        return ""
    return _HINTS.get(kind, "")


# --- the library ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    persona: Persona
    path: Path


class PersonaLibrary:
    """The personas a session may pick: shipped ones, overridden or extended by user folders.

    ``folders`` replaces :func:`agent.paths.user_personas_dirs` (tests, tools); ``shipped``
    turns the shipped folder off. Files are read once per instance, on first use.
    """

    def __init__(
        self, folders: Iterable[Path | str] | None = None, *, shipped: bool = True
    ) -> None:
        self._folders = [Path(f).expanduser() for f in folders] if folders is not None else None
        self._shipped = shipped
        self._entries: dict[str, _Entry] | None = None
        self._problems: list[PersonaError] = []

    # folders ----------------------------------------------------------------------------------
    def user_folders(self) -> list[Path]:
        if self._folders is None:
            from agent.paths import user_personas_dirs

            self._folders = user_personas_dirs()
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
            if folder != SHIPPED_DIR and self._is_explicit(folder):
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

    def _is_explicit(self, folder: Path) -> bool:
        """Folders someone named (UTTA_PERSONAS_DIR or ``folders=``), not the default data dir."""
        from agent.paths import data_dir

        return folder != data_dir() / "personas"
