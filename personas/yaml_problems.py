"""What is wrong with a persona YAML file, by line and field, with a fix for each problem.

:func:`parse_yaml` reads the text once into a node tree (for line numbers) and plain data,
refusing YAML syntax errors and alias bombs (more than :data:`MAX_VALUES` values, or cycles)
before they are expanded. :func:`problem_from` turns a pydantic validation error into a
:class:`Problem` on the line it concerns, with a hint for the author. :mod:`personas.loader`
raises them together as a :class:`PersonaError`.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from personas.schema import Persona

__all__ = [
    "MAX_VALUES",
    "PersonaError",
    "Problem",
    "dotted",
    "duplicate_keys",
    "line_of",
    "parse_yaml",
    "problem_from",
    "yaml_kind",
]

# A shipped persona is about 1,300 YAML values; an alias bomb is billions.
MAX_VALUES = 100_000


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


def parse_yaml(path: Path, text: str) -> tuple[typing.Any, typing.Any]:
    """The node tree (for line numbers) and the plain data, from a single parse."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        _check_expansion(path, root)
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


def _children(node: typing.Any) -> list[typing.Any]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_expansion(path: Path, root: typing.Any) -> None:
    """Refuse a node tree whose aliases expand past :data:`MAX_VALUES` values or into a cycle.

    Aliases make the composed tree a graph in which one node may be reached many times; counting
    each node's expanded size once (depth first, memoised) takes time linear in the file.
    """
    if root is None:
        return
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # on the current path: meeting one again is a cycle
    stack: list[tuple[typing.Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > MAX_VALUES:
                problem = (
                    f"its YAML aliases (*name) expand to more than {MAX_VALUES:,} values, far "
                    "more than a persona holds. Fix: write the values out instead of repeating "
                    "aliases of aliases."
                )
                raise PersonaError(path, [Problem(node.start_mark.line + 1, "", problem)])
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            problem = (
                "a YAML alias (*name) refers to the value that contains it, which never ends. "
                "Fix: remove that alias."
            )
            raise PersonaError(path, [Problem(node.start_mark.line + 1, "", problem)])
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def yaml_kind(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "single piece of text"
    return f"single {type(value).__name__} value"


def duplicate_keys(root: typing.Any) -> list[Problem]:
    """YAML keeps the last of two equal keys without a word; an author wants to know."""
    import yaml

    problems: list[Problem] = []
    stack: list[tuple[typing.Any, str]] = [(root, "")]
    while stack:
        node, where = stack.pop()
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


def problem_from(error: typing.Any, root: typing.Any, data: dict) -> Problem:
    loc = tuple(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if not loc:
        loc = _loc_from_message(message, data)
    line = line_of(root, loc)
    kind = error["type"]
    value = error.get("input")
    if kind not in {"missing", "extra_forbidden"} and isinstance(value, str | int | float | bool):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        message += f" (got {shown})"
    hint = _hint(kind, loc, error)
    text = message.rstrip(".") + "."
    return Problem(line, dotted(loc) or "(top level)", f"{text} Fix: {hint}" if hint else text)


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


def dotted(loc: Iterable[object]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def line_of(root: typing.Any, loc: tuple) -> int | None:
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
