"""Property test of the dataset split: for any store of sessions, no session is on both sides,
every row is on exactly one, and validation is never empty nor everything when it can be
neither. Real SQLite files, one per example."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personas.loader import PersonaLibrary
from trainers.datasets import Selection, build_dataset
from transcripts.store import Store

LIBRARY = PersonaLibrary()
_files = itertools.count()
# A session: how many full exchanges, whether a teacher message dangles at the end, its persona.
session_shapes = st.tuples(
    st.integers(min_value=0, max_value=4), st.booleans(), st.sampled_from(["maya", "maya", "leo"])
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    shapes=st.lists(session_shapes, max_size=12),
    fraction=st.floats(min_value=0, max_value=0.99),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_no_session_is_on_both_sides(
    shapes: list[tuple[int, bool, str]], fraction: float, seed: int
) -> None:
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "s.db") as store:
        for exchanges, dangling, persona in shapes:
            session = store.start_session(persona, "sam", "offline")
            for i in range(exchanges):
                # distinct texts: the builder drops a row that repeats another word for word
                store.add_turn(session, "teacher", f"What is {50 + i} - {session}?")
                store.add_turn(session, "student", f"um {30 + i + session}")
            if dangling:
                store.add_turn(session, "teacher", "and now?")
        dataset = build_dataset(
            store,
            Selection("maya", targets="all", examples=False),  # every logged reply, no examples
            validation_fraction=fraction,
            seed=seed,
            include_state=False,
            library=LIBRARY,
        )
    train = {row["session_id"] for row in dataset.train}
    validation = {row["session_id"] for row in dataset.validation}
    assert not train & validation
    with_rows = sum(1 for n, _, persona in shapes if n and persona == "maya")
    assert len(train | validation) == with_rows
    assert len(dataset.train) + len(dataset.validation) == sum(
        n for n, _, persona in shapes if persona == "maya"
    )
    if with_rows:
        assert train, "training never gets nothing while there are sessions"
    if with_rows >= 2 and fraction > 0:
        assert validation
    else:
        assert not validation
    splits = dataset.manifest["splits"]
    assert splits["train"]["session_ids"] == sorted(train)
    assert splits["validation"]["session_ids"] == sorted(validation)
