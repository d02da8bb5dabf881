"""Persona files: the shipped ones are valid and sound like a child; the loader finds, overrides
and reports problems by file, line and field."""

from __future__ import annotations

import random
import re
import shutil
import statistics
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from agent.paths import persona_library
from agent.state import StudentState, _mentions
from personas.loader import (
    SHIPPED_DIR,
    PersonaError,
    PersonaLibrary,
    UnknownPersona,
    load_persona_file,
)
from personas.schema import Persona

DATA = Path(__file__).parent / "data" / "personas"
SHIPPED = sorted(SHIPPED_DIR.glob("*.yaml"))
# Words an adult would write and a seven-year-old would not.
ADULT_WORDS = re.compile(
    r"\b(therefore|however|actually|basically|understand|concept|approximately|"
    r"subtraction|photosynthesis|equivalent|quantity|furthermore|strategy)\b"
)


def _line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line in ``path`` that contains ``text``."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def _write_persona(folder: Path, name: str, persona_id: str) -> Path:
    """A copy of the valid fixture under another file name and id."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (DATA / "valid.yaml").read_text().replace("id: zoe", f"id: {persona_id}")
    path = folder / name
    path.write_text(text)
    return path


# --- the shipped personas --------------------------------------------------------------------


def test_there_are_three_shipped_personas_and_each_validates():
    assert len(SHIPPED) >= 3
    for path in SHIPPED:
        persona = load_persona_file(path)
        assert persona.id == path.stem, "a shipped file is named after its persona's id"
        assert persona.grade == 2
        assert 7 <= persona.age <= 8


@pytest.fixture(scope="module")
def shipped() -> list[Persona]:
    return [load_persona_file(path) for path in SHIPPED]


def test_shipped_ids_are_unique_and_subjects_differ(shipped):
    assert len({p.id for p in shipped}) == len(shipped)
    topics = [frozenset(t.topic for t in p.knowledge) for p in shipped]
    assert all(a.isdisjoint(b) for i, a in enumerate(topics) for b in topics[i + 1 :])


def test_each_shipped_persona_has_enough_examples_of_every_kind(shipped):
    for persona in shipped:
        assert len(persona.examples) >= 30, persona.id
        kinds = [e.kind for e in persona.examples]
        assert kinds.count("off_task") >= 3, persona.id
        assert kinds.count("feeling") >= 3, persona.id
        for m in persona.misconceptions:
            phases = [e.phase for e in persona.examples if e.misconception == m.id]
            assert phases.count("confused") >= 3, (persona.id, m.id)
            assert phases.count("understood") >= 3, (persona.id, m.id)
            assert 2 <= m.moves_needed <= 3, (persona.id, m.id)


def test_shipped_personas_type_like_a_seven_year_old(shipped):
    """Real grade-2 chat turns average about 2 words (SECOND_GRADE.md); allow up to 8."""
    for persona in shipped:
        lengths = [len(e.student.split()) for e in persona.examples]
        assert statistics.mean(lengths) <= 8, persona.id
        assert statistics.median(lengths) <= 5, persona.id
        assert max(lengths) <= persona.speech.words_per_turn.max, persona.id
        assert persona.speech.words_per_turn.typical <= 5, persona.id
        for e in persona.examples:
            assert e.student == e.student.lower(), (persona.id, e.student)
            assert not ADULT_WORDS.search(e.student), (persona.id, e.student)


def test_triggers_and_cues_are_lower_case_and_moves_do_not_overlap(shipped):
    for persona in shipped:
        for m in persona.misconceptions:
            words = m.triggers + [
                c for move in m.effective_moves + m.ineffective_moves for c in move.cues
            ]
            assert all(w == w.lower().strip() and w for w in words), (persona.id, m.id)
            good = [c for move in m.effective_moves for c in move.cues]
            bad = [c for move in m.ineffective_moves for c in move.cues]
            for cue in good:
                assert not _mentions(cue, bad), (persona.id, m.id, cue)
            for cue in bad:
                assert not _mentions(cue, good), (persona.id, m.id, cue)


def test_every_misconception_is_reachable_and_its_examples_keep_the_topic(shipped):
    """A teacher line from a misconception's examples never pulls the state onto another one."""
    for persona in shipped:
        fresh = StudentState.initial(persona)
        for m in persona.misconceptions:
            examples = [e for e in persona.examples if e.misconception == m.id]
            starts = [e for e in examples if fresh.after_teacher(persona, e.teacher).active == m.id]
            assert starts, f"{persona.id}: no example teacher line brings up {m.id}"
            on_topic = replace(fresh, active=m.id)
            for e in examples:
                assert on_topic.after_teacher(persona, e.teacher).active == m.id, (
                    persona.id,
                    e.teacher,
                )


def test_telling_does_not_resolve_a_shipped_misconception_and_teaching_in_other_words_does(
    shipped,
):
    """Moves count by what they do: telling with a cue word in it changes nothing, effective
    moves written without any of the persona's cue words resolve it."""
    from agent.child.probes import lines_for, probe_set

    for persona in shipped:
        for m in persona.misconceptions:
            rng = random.Random(m.id)
            problem = probe_set(persona, m.id, rng, 1).questions[0]
            teach, tell, _ = lines_for(persona, m, problem, rng)
            state = StudentState.initial(persona).after_teacher(persona, problem.question)
            assert state.active == m.id, (persona.id, problem.question)
            for line in tell:
                state = state.after_teacher(persona, line)
            assert state.holds(m.id), (persona.id, m.id)
            for line in teach[: m.moves_needed + 1]:
                state = state.after_teacher(persona, line)
            assert not state.holds(m.id), (persona.id, m.id, teach)


# --- error messages --------------------------------------------------------------------------


def test_the_valid_fixture_loads():
    assert load_persona_file(DATA / "valid.yaml").id == "zoe"


def test_a_wrong_type_names_file_line_and_field():
    path = DATA / "wrong_type.yaml"
    with pytest.raises(PersonaError) as caught:
        load_persona_file(path)
    message = str(caught.value)
    assert f"{path}:{_line_of(path, 'age: seven')}: age: " in message
    assert "valid integer" in message
    assert "'seven'" in message and "Fix:" in message
    assert isinstance(caught.value, ValueError)


def test_a_missing_field_points_at_its_parent_mapping():
    path = DATA / "missing_name.yaml"
    with pytest.raises(PersonaError) as caught:
        load_persona_file(path)
    assert str(caught.value).startswith(f"{path}:{_line_of(path, 'id: zoe')}: name: Field required")
    assert "add 'name:'" in str(caught.value)


def test_every_nested_problem_is_reported_with_its_dotted_path_in_line_order():
    path = DATA / "nested_problems.yaml"
    with pytest.raises(PersonaError) as caught:
        load_persona_file(path)
    lines = str(caught.value).splitlines()
    assert lines == [problem.format(path) for problem in caught.value.problems]
    assert len(lines) == 3
    expected = [
        (_line_of(path, "know:"), "knowledge[0].know", "allowed here: topic, knows"),
        (
            _line_of(path, "moves_needed: lots"),
            "knowledge[0].misconceptions[0].moves_needed",
            "valid integer",
        ),
        (_line_of(path, "student: 6,"), "examples[3].student", "valid string"),
    ]
    for line, (number, field, words) in zip(lines, expected, strict=True):
        assert line.startswith(f"{path}:{number}: {field}: "), line
        assert words in line


def test_whole_persona_checks_point_at_the_example_or_misconception(tmp_path):
    text = (DATA / "valid.yaml").read_text()
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(
        text.replace(
            '"Recess?", student: "yay"',
            '"Recess?", student: "yay", misconception: nope, phase: confused',
        )
    )
    with pytest.raises(PersonaError) as caught:
        load_persona_file(unknown)
    assert f"{unknown}:{_line_of(unknown, 'nope')}: examples[4].misconception:" in str(caught.value)

    one_phase = tmp_path / "one_phase.yaml"
    one_phase.write_text(text.replace("phase: understood", "phase: confused"))
    with pytest.raises(PersonaError) as caught:
        load_persona_file(one_phase)
    line = _line_of(one_phase, "id: counts-first-addend")
    assert f"{one_phase}:{line}: knowledge[0].misconceptions[0].id:" in str(caught.value)
    assert "understood" in str(caught.value)


def test_a_yaml_syntax_error_gives_the_line():
    path = DATA / "syntax_error.yaml"
    with pytest.raises(PersonaError) as caught:
        load_persona_file(path)
    assert str(caught.value).startswith(f"{path}:{_line_of(path, '  grade: 2')}: YAML syntax error")


def test_a_file_that_is_not_a_mapping_says_so(tmp_path):
    with pytest.raises(PersonaError, match=r"must be a mapping.*holds a list"):
        load_persona_file(DATA / "not_a_mapping.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    with pytest.raises(PersonaError, match="the file is empty"):
        load_persona_file(empty)


def test_a_duplicate_key_is_reported(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text((DATA / "valid.yaml").read_text().replace("age: 7", "age: 7\nage: 8"))
    with pytest.raises(PersonaError, match=rf"twice.yaml:{_line_of(path, 'age: 8')}: age: .*twice"):
        load_persona_file(path)


def test_a_missing_file_is_a_persona_error(tmp_path):
    with pytest.raises(PersonaError, match="cannot read"):
        load_persona_file(tmp_path / "absent.yaml")


# --- the library -----------------------------------------------------------------------------


def test_library_lists_the_shipped_personas_by_id():
    library = PersonaLibrary()
    assert [p.id for p in library.list()] == sorted(path.stem for path in SHIPPED)
    assert library.problems == []
    assert library.path_of("maya") == SHIPPED_DIR / "maya.yaml"


def test_unknown_id_lists_the_available_ones():
    library = PersonaLibrary()
    with pytest.raises(UnknownPersona) as caught:
        library.get("nope")
    message = str(caught.value)
    assert "'nope'" in message and "Fix:" in message
    for path in SHIPPED:
        assert path.stem in message
    assert caught.value.args[0] == message
    assert isinstance(caught.value, KeyError)


def test_user_folder_from_the_environment_adds_and_overrides(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    _write_persona(folder, "zoe.yaml", "zoe")
    override = _write_persona(folder, "maya.yml", "maya")
    monkeypatch.setenv("UTTA_PERSONAS_DIR", str(folder))
    library = persona_library()
    assert "zoe" in library.ids()
    assert library.get("maya").name == "Zoe"  # the user's maya, not the shipped one
    assert library.path_of("maya") == override
    assert library.problems == []


def test_the_data_dir_is_searched_and_the_environment_folder_wins(tmp_path, monkeypatch, utta_home):
    _write_persona(utta_home / "personas", "ava.yaml", "ava")
    first = tmp_path / "first"
    winner = _write_persona(first, "ava.yaml", "ava")
    assert persona_library().path_of("ava") == utta_home / "personas" / "ava.yaml"
    monkeypatch.setenv("UTTA_PERSONAS_DIR", str(first))
    assert persona_library().path_of("ava") == winner


def test_an_invalid_user_file_is_a_problem_not_a_crash(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    _write_persona(folder, "zoe.yaml", "zoe")
    shutil.copy(DATA / "wrong_type.yaml", folder / "maya.yaml")
    monkeypatch.setenv("UTTA_PERSONAS_DIR", str(folder))
    library = persona_library()
    ids = [p.id for p in library.list()]
    assert "zoe" in ids and "leo" in ids
    assert library.path_of("maya") == SHIPPED_DIR / "maya.yaml"  # the broken override is skipped
    [problem] = library.problems
    assert problem.path == folder / "maya.yaml"
    assert "age:" in str(problem)


def test_unknown_id_mentions_a_broken_file_with_that_name(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    shutil.copy(DATA / "wrong_type.yaml", folder / "zoe.yaml")
    monkeypatch.setenv("UTTA_PERSONAS_DIR", str(folder))
    with pytest.raises(UnknownPersona, match="exists but is invalid"):
        persona_library().get("zoe")


def test_a_missing_environment_folder_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("UTTA_PERSONAS_DIR", str(tmp_path / "typo"))
    library = persona_library()
    assert library.list()
    assert any("does not exist" in str(p) for p in library.problems)


def test_two_files_with_one_id_in_one_folder_are_reported(tmp_path):
    first = _write_persona(tmp_path, "a.yaml", "zoe")
    _write_persona(tmp_path, "b.yaml", "zoe")
    library = PersonaLibrary([tmp_path])
    assert library.path_of("zoe") == first
    assert any("also the id of" in str(p) for p in library.problems)


def test_add_makes_a_file_persona_available(tmp_path):
    path = _write_persona(tmp_path, "one-off.yaml", "one-off")
    library = PersonaLibrary([])
    library.add(load_persona_file(path), path)
    assert library.get("one-off").id == "one-off"
    assert library.path_of("one-off") == path


def test_loading_is_cached(monkeypatch):
    # Speed is measured by benchmarks/startup.py, not asserted here.
    library = PersonaLibrary()
    personas = library.list()
    assert len(personas) >= 3

    def fail(path):
        raise AssertionError("read again")

    monkeypatch.setattr("personas.loader.load_persona_file", fail)
    assert library.get("maya") is personas[[p.id for p in personas].index("maya")]


def test_importing_the_package_reads_nothing():
    code = (
        "import sys, personas; "
        "assert 'personas.loader' not in sys.modules and 'yaml' not in sys.modules; "
        "assert personas.PersonaLibrary.__name__ == 'PersonaLibrary'"
    )
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


ALIAS_BOMB = """\
id: bomb
name: Bomb
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
examples: *i
"""


def test_an_alias_bomb_is_refused_naming_the_file(tmp_path):
    """D4: these 12 lines expand to 9**9 values; the duplicate-key walk followed every alias and
    hung loading for over a minute. Now the expansion is counted before anything is expanded."""
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    with pytest.raises(PersonaError) as caught:
        load_persona_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:")
    assert "aliases" in message and "Fix:" in message


def test_an_alias_bomb_in_a_persona_folder_does_not_stop_the_listing(tmp_path):
    (tmp_path / "bomb.yaml").write_text(ALIAS_BOMB)
    library = PersonaLibrary([tmp_path])
    assert "maya" in library.ids()
    [problem] = library.problems
    assert problem.path == tmp_path / "bomb.yaml"


def test_a_self_referring_alias_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("id: loop\nname: Loop\nexamples: &x [1, *x]\n")
    with pytest.raises(PersonaError, match="refers to the value that contains it"):
        load_persona_file(path)


def test_ordinary_aliases_still_work(tmp_path):
    text = (SHIPPED_DIR / "maya.yaml").read_text()
    path = tmp_path / "maya.yaml"
    path.write_text(text.replace("name: Maya", "name: &n Maya", 1) + "\nnotes_alias: *n\n")
    with pytest.raises(PersonaError) as caught:  # the extra key is unknown, the alias is fine
        load_persona_file(path)
    assert "notes_alias" in str(caught.value) and "YAML aliases" not in str(caught.value)


def test_the_personas_package_imports_nothing_of_utta():
    """personas/ is plain data: the loader takes its folders from the caller."""
    code = (
        "import sys; from personas.loader import PersonaLibrary; "
        "library = PersonaLibrary(['/no/such/folder']); library.list(); library.problems; "
        "ours = ('agent', 'transcripts', 'trainers', 'tui'); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ours]; "
        "assert not bad, bad"
    )
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)
