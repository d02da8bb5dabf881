"""Property test of persona validation: whatever YAML (or bytes) a persona file holds, loading
it gives a Persona or a PersonaError naming the file, never another exception."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personas.loader import SHIPPED_DIR, PersonaError, load_persona_file
from personas.schema import Persona

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAYA = yaml.safe_load((SHIPPED_DIR / "maya.yaml").read_text("utf-8"))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
junk = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=10), children, max_size=4),
    ),
    max_leaves=12,
)


def load(content: bytes) -> Persona | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "broken.yaml"
        path.write_bytes(content)
        try:
            return load_persona_file(path)
        except PersonaError as error:
            assert "broken.yaml" in str(error), str(error)
            assert error.problems and all(p.message.strip() for p in error.problems)
            return None


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key/index path into a parsed persona."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


MAYA_PATHS = paths(MAYA)


@SETTINGS
@given(where=st.sampled_from(MAYA_PATHS), value=junk, delete=st.booleans())
def test_a_shipped_persona_with_one_field_broken_never_tracebacks(where, value, delete) -> None:
    data = copy.deepcopy(MAYA)
    parent = data
    for key in where[:-1]:
        parent = parent[key]
    if delete:
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    load(yaml.safe_dump(data, allow_unicode=True).encode())


@SETTINGS
@given(value=junk)
def test_any_yaml_document_never_tracebacks(value) -> None:
    assert load(yaml.safe_dump(value, allow_unicode=True).encode()) is None


@SETTINGS
@given(text=st.text(max_size=300))
def test_any_text_never_tracebacks(text: str) -> None:
    load(text.encode("utf-8"))


@SETTINGS
@given(content=st.binary(max_size=200))
def test_any_bytes_never_traceback(content: bytes) -> None:
    load(content)


def test_the_shipped_persona_itself_loads() -> None:
    persona = load(yaml.safe_dump(MAYA, allow_unicode=True).encode())
    assert persona is not None and persona.id == "maya"


def test_recursive_and_exploding_aliases_are_reported_not_hung() -> None:
    """YAML aliases share one node: a file whose alias contains itself, or aliases nested nine
    deep (9**9 paths), must be checked in one walk of its nodes."""
    assert load(b"a: &a [*a]\n") is None
    assert load(b"personality: &p [*p]\n") is None
    levels = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"] + [
        f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 9)
    ]
    assert load("\n".join(levels).encode()) is None
