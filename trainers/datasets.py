"""Training data from logged sessions: chat rows, a session-wise split and a manifest.

    from trainers.datasets import Selection, build_dataset, write_openai
    dataset = build_dataset(Store(), Selection("maya", since="2026-01-01"))
    dataset.raise_if_bad(skip_bad=False)        # BadRows lists every bad row and why
    write_openai(dataset, Path("data/maya"))    # train.jsonl, validation.jsonl, manifest.json

or from the shell: ``utta sessions export --persona maya --format openai -o data/maya``.

One row per student turn, in OpenAI chat format, with the whole preceding dialogue of its session
as context, so the loss target is the last assistant message::

    {"messages": [{"role": "system", "content": <persona prompt + the child's state>},
                  {"role": "user", "content": <teacher>}, {"role": "assistant", ...}, ...],
     "session_id": 7, "turn_idx": 5, "student_state": <state description>}

The system message is exactly what the LLM brains send (``BrainRequest.as_chat_messages``): the
compact persona prompt (:func:`agent.prompt.persona_prompt`) and, on the next line, the state
description of the turn (the state
logged with the student turn, else the state replayed from the teacher messages). Pass
``include_state=False`` for the persona prompt alone. ``session_id``, ``turn_idx`` and
``student_state`` are internal: the writers strip them (see :data:`INTERNAL_KEYS`).

Targets (the replies rows teach) are chosen explicitly by ``Selection.targets``:

- ``approved`` (default): replies the trainee approved (rated 4 or 5, not flagged) or rewrote;
- ``unflagged``: every reply not flagged, except replies of trained brains (registered with a
  lineage), which are still under evaluation, unless the trainee approved or rewrote them;
- ``all``: every reply not flagged, whichever brain wrote it.

The persona's example exchanges are added as rows too (``Selection.examples``; always in the
train split). A reply that is not a target stays in later rows' context: it was said. The
manifest counts the rows of each source (``counts.targets``). Trainee feedback counts (the latest
per turn): a rewrite replaces the reply, a flagged reply without a rewrite is dropped. Identical
rows are kept once. The split is by session, so a session is never in both train and validation.
Every text is scrubbed of keys and personal data (:mod:`trainers.scrub`).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agent.prompt import persona_prompt
from trainers.manifest import (
    INTERNAL_KEYS,
    content_hash,
    public_row,
    write_dspy,
    write_hf,
    write_openai,
)
from trainers.scrub import Scrubber
from trainers.session_selection import KEPT_OUT, Selection, select_sessions

if TYPE_CHECKING:
    from collections.abc import Sequence

    from agent.state import StudentState
    from personas.loader import PersonaLibrary
    from personas.schema import Persona
    from transcripts.records import FeedbackRow
    from transcripts.store import Store

__all__ = [
    "INTERNAL_KEYS",
    "KEPT_OUT",
    "BadRows",
    "Dataset",
    "RowProblem",
    "Selection",
    "build_dataset",
    "content_hash",
    "public_row",
    "select_sessions",
    "write_dspy",
    "write_hf",
    "write_openai",
]

FLAGGED = "flagged without rewrite"
TARGETS = ("approved", "unflagged", "all")
APPROVED_RATING = 4
"""A rating from which a reply counts as approved (as :meth:`Store.approved_examples`)."""
EXAMPLES_SESSION = 0
"""``session_id`` of the rows made from the persona's example exchanges (always trained on)."""
DUPLICATE = "duplicate"
UNANSWERED = "teacher message never answered"


@dataclass(frozen=True)
class RowProblem:
    """A turn left out of the dataset, and why. ``turn_idx`` is ``None`` for a whole session."""

    session_id: int
    turn_idx: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        turn = f" turn {self.turn_idx}" if self.turn_idx is not None else ""
        return f"session {self.session_id}{turn}: {self.reason}"


class BadRows(ValueError):
    """Some turns could not become valid rows; ``problems`` lists them."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        self.problems = list(problems)
        lines = [f"{len(self.problems)} bad row(s) in the selected sessions:"]
        lines += [f"  {problem}" for problem in self.problems]
        lines.append("Fix the sessions, or pass --skip-bad to train without them.")
        super().__init__("\n".join(lines))


@dataclass
class Dataset:
    train: list[dict[str, Any]]
    validation: list[dict[str, Any]]
    manifest: dict[str, Any]
    problems: list[RowProblem] = field(default_factory=list)
    """Bad rows found while building; they are in neither split."""
    persona_prompt: str = ""
    """The persona's scrubbed compact prompt (the DSPy writer's ``persona`` field)."""

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [*self.train, *self.validation]

    @property
    def bad_rows_accepted(self) -> bool:
        return not self.problems or "skipped" in self.manifest

    def raise_if_bad(self, skip_bad: bool = False) -> None:
        """Raise :class:`BadRows` when some turns were bad, unless ``skip_bad``: then they stay
        out of the data and are listed in ``manifest["skipped"]``."""
        if not self.problems:
            return
        if not skip_bad:
            raise BadRows(self.problems)
        self.manifest["skipped"] = [problem.to_dict() for problem in self.problems]


def build_dataset(
    store: Store,
    selection: Selection,
    *,
    validation_fraction: float = 0.2,
    seed: int = 0,
    pii_patterns: Sequence[str] = (),
    include_state: bool = True,
    library: PersonaLibrary | None = None,
) -> Dataset:
    """Rows from the sessions ``selection`` picks, split by session, scrubbed, with a manifest.

    Raises :class:`ValueError` for a bad ``validation_fraction`` or ``pii_patterns``. Bad turns do
    not raise here: they are collected in ``Dataset.problems`` (see :meth:`Dataset.raise_if_bad`).
    """
    if not 0 <= validation_fraction < 1:
        raise ValueError(f"validation_fraction is from 0 up to 1, not {validation_fraction}")
    if selection.targets not in TARGETS:
        raise ValueError(f"targets is one of {', '.join(TARGETS)}, not {selection.targets!r}")
    scrub = Scrubber(pii_patterns)
    if library is None:
        from agent.paths import persona_library

        library = persona_library()
    persona, persona_problem = _persona(library, selection.persona_id)
    sessions, excluded = select_sessions(store, selection)

    problems: list[RowProblem] = []
    dropped: list[RowProblem] = []
    rows: list[dict[str, Any]] = []
    turn_count = 0
    prompt = scrub(persona_prompt(persona)) if persona is not None else ""
    trained = {brain.name for brain in store.brains() if brain.lineage}
    builder = (
        _SessionRows(persona, prompt, scrub, include_state, selection.targets, trained)
        if persona
        else None
    )
    for session in sessions:
        turn_count += session.turn_count
        if session.persona_id != selection.persona_id:
            problems.append(
                RowProblem(
                    session.id,
                    None,
                    f"the session is persona '{session.persona_id}', not the selected "
                    f"'{selection.persona_id}'",
                )
            )
        elif builder is None:
            problems.append(RowProblem(session.id, None, str(persona_problem)))
        else:
            rows += builder.rows(store, session.id, problems, dropped)

    if builder is not None and selection.examples:
        rows += builder.example_rows()
    rows = _deduplicate(rows, dropped)
    train, validation = _split(rows, validation_fraction, seed)
    manifest = {
        "format_version": 1,
        "created_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "persona_id": selection.persona_id,
        "selection": selection.to_dict(),
        "validation_fraction": validation_fraction,
        "seed": seed,
        "include_state": include_state,
        "source_session_ids": [s.id for s in sessions],
        "excluded_sessions": excluded,
        "splits": {
            name: {
                "session_ids": sorted({r["session_id"] for r in part} - {EXAMPLES_SESSION}),
                "rows": len(part),
            }
            for name, part in (("train", train), ("validation", validation))
        },
        "counts": {
            "sessions": len(sessions),
            "sessions_with_rows": len({r["session_id"] for r in rows} - {EXAMPLES_SESSION}),
            "targets": dict(Counter(r["target_source"] for r in rows)),
            "turns": turn_count,
            "rows": len(rows),
            "train_rows": len(train),
            "validation_rows": len(validation),
            "dropped": len(dropped),
            "bad": len(problems),
        },
        "dropped": [problem.to_dict() for problem in dropped],
        "dropped_counts": dict(Counter(problem.reason for problem in dropped)),
        "bad_rows": [problem.to_dict() for problem in problems],
        "scrubbed": scrub.summary(),
        "pii_patterns": list(pii_patterns),
        "content_hash": content_hash(train, validation),
    }
    return Dataset(train, validation, manifest, problems, prompt)


# --- the persona ---------------------------------------------------------------------------------


def _persona(library: PersonaLibrary, persona_id: str) -> tuple[Persona | None, str]:
    from personas.loader import UnknownPersona

    try:
        return library.get(persona_id), ""
    except UnknownPersona as error:
        return None, f"persona '{persona_id}' is not known to the persona library: {error}"


# --- turning a session into rows ----------------------------------------------------------------


class _SessionRows:
    def __init__(
        self,
        persona: Persona,
        prompt: str,
        scrub: Scrubber,
        include_state: bool,
        targets: str,
        trained_brains: set[str],
    ) -> None:
        self.persona = persona
        self.prompt = prompt
        self.scrub = scrub
        self.include_state = include_state
        self.targets = targets
        self.trained_brains = trained_brains
        self._descriptions: dict[str, str] = {}

    def source(self, feedback: FeedbackRow | None, brain_id: str | None) -> str:
        """Where a reply comes from, for choosing targets and counting them."""
        if feedback is not None and feedback.rewrite:
            return "rewritten"
        if feedback is not None and feedback.flagged:
            return "flagged"
        if feedback is not None and (feedback.rating or 0) >= APPROVED_RATING:
            return "approved"
        return "trained brain" if brain_id in self.trained_brains else "unreviewed"

    def is_target(self, source: str) -> bool:
        if source in ("rewritten", "approved"):
            return True
        if self.targets == "all":
            return source != "flagged"
        return self.targets == "unflagged" and source == "unreviewed"

    def example_rows(self) -> list[dict[str, Any]]:
        """One row per example exchange of the persona, on its opening state."""
        from agent.state import StudentState

        description = self.describe(StudentState.initial(self.persona))
        system = f"{self.prompt}\n{description}" if self.include_state else self.prompt
        rows = []
        for index, example in enumerate(self.persona.examples):
            asked, answered = self.scrub(example.teacher).strip(), self.scrub(example.student)
            rows.append(
                {
                    "messages": [
                        {"role": "system", "content": system},
                        {"role": "user", "content": asked},
                        {"role": "assistant", "content": answered.strip()},
                    ],
                    "session_id": EXAMPLES_SESSION,
                    "turn_idx": index,
                    "student_state": description,
                    "target_source": "persona example",
                }
            )
        return rows

    def describe(self, state: StudentState) -> str:
        text = state.describe(self.persona)
        if text not in self._descriptions:
            self._descriptions[text] = self.scrub(text)
        return self._descriptions[text]

    def rows(
        self,
        store: Store,
        session_id: int,
        problems: list[RowProblem],
        dropped: list[RowProblem],
    ) -> list[dict[str, Any]]:
        from agent.state import StudentState

        latest = {f.turn_id: f for f in store.feedback(session_id)}  # oldest first: latest wins
        state = StudentState.initial(self.persona)
        context: list[dict[str, str]] = []
        pending = None
        rows = []
        for turn in store.turns(session_id):
            if turn.role == "teacher":
                state = state.after_teacher(self.persona, turn.text)
                if pending is not None:
                    reason = "teacher message has no student reply (two teacher turns in a row)"
                    problems.append(RowProblem(session_id, pending.idx, reason))
                pending = turn
                continue
            if turn.student_state is not None:
                try:
                    state = _stored_or_computed(turn.student_state, state)
                except (TypeError, ValueError, AttributeError) as error:
                    reason = f"student_state cannot be read ({type(error).__name__}: {error})"
                    problems.append(RowProblem(session_id, turn.idx, reason))
                    pending = None
                    continue
            if pending is None:
                reason = "student turn has no teacher turn before it"
                problems.append(RowProblem(session_id, turn.idx, reason))
                continue
            teacher, pending = pending, None
            feedback = latest.get(turn.id)
            reply = turn.text
            source = self.source(feedback, turn.brain_id)
            if source == "rewritten":
                reply = feedback.rewrite  # type: ignore[union-attr]
            elif source == "flagged":
                dropped.append(RowProblem(session_id, turn.idx, FLAGGED))
                continue
            asked, answered = self.scrub(teacher.text).strip(), self.scrub(reply).strip()
            if not asked:
                problems.append(RowProblem(session_id, teacher.idx, "teacher message is empty"))
                continue
            if not answered:
                problems.append(RowProblem(session_id, turn.idx, "student reply is empty"))
                continue
            description = self.describe(state)
            system = f"{self.prompt}\n{description}" if self.include_state else self.prompt
            exchange = [
                {"role": "user", "content": asked},
                {"role": "assistant", "content": answered},
            ]
            messages = [{"role": "system", "content": system}, *context, *exchange]
            if not self.is_target(source):  # said, so later rows keep it as context
                why = f"{source} reply, not a target with --targets {self.targets}"
                dropped.append(RowProblem(session_id, turn.idx, why))
                context += exchange
                continue
            rows.append(
                {
                    "messages": messages,
                    "session_id": session_id,
                    "turn_idx": turn.idx,
                    "student_state": description,
                    "target_source": source,
                }
            )
            context += exchange
        if pending is not None:
            dropped.append(RowProblem(session_id, pending.idx, UNANSWERED))
        return rows


def _stored_or_computed(saved: dict[str, Any], computed: StudentState) -> StudentState:
    """The state stored with a turn; a turn logged before the child computed answers gets the
    answer and move just computed from its teacher message, so every row says what the child
    would answer and why."""
    from dataclasses import replace

    from agent.state import StudentState

    state = StudentState.from_dict(saved)
    if "answer" not in saved:
        state = replace(
            state,
            answer=computed.answer,
            last_move=computed.last_move,
            last_question=computed.last_question,
        )
    return state


def _deduplicate(rows: list[dict[str, Any]], dropped: list[RowProblem]) -> list[dict[str, Any]]:
    """Keep the first of identical (context, target) rows; the rest are dropped as duplicates."""
    seen: set[str] = set()
    unique = []
    for row in rows:
        key = content_hash([row], [])
        if key in seen:
            dropped.append(RowProblem(row["session_id"], row["turn_idx"], DUPLICATE))
            continue
        seen.add(key)
        unique.append(row)
    return unique


def _split(
    rows: list[dict[str, Any]], validation_fraction: float, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Whole sessions to validation: ``round(n * fraction)`` of them, at least one when there
    are two or more sessions and the fraction is above 0, never all of them."""
    sessions = sorted({row["session_id"] for row in rows} - {EXAMPLES_SESSION})
    count = round(len(sessions) * validation_fraction)
    if validation_fraction > 0 and len(sessions) >= 2:
        count = min(max(count, 1), len(sessions) - 1)
    else:
        count = 0
    random.Random(seed).shuffle(sessions)
    held_out = set(sessions[:count])
    train = [row for row in rows if row["session_id"] not in held_out]
    validation = [row for row in rows if row["session_id"] in held_out]
    return train, validation
