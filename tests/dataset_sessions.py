"""Sessions logged into a real SQLite store the way the agent logs them, for the dataset tests
(tests/test_datasets.py, tests/test_dataset_writers.py, tests/test_sessions_export.py)."""

from __future__ import annotations

import json
from pathlib import Path

from agent.state import StudentState
from personas.schema import Persona
from trainers.datasets import Selection
from transcripts import Store

FAKE_KEY = "sk-test-UTTA-SECRET-123456789"


def every_reply(persona_id: str, **filters) -> Selection:
    """Every unflagged reply as a target and no persona examples: most dataset tests are about
    how rows are built; target selection itself is tested with ``Selection``'s defaults in
    tests/test_datasets.py."""
    return Selection(persona_id, targets="all", examples=False, **filters)


class Session:
    """Logs a session the way the agent does: each reply carries the state it left."""

    def __init__(self, store: Store, persona: Persona, trainee: str = "sam") -> None:
        self.store, self.persona = store, persona
        self.id = store.start_session(persona.id, trainee, "offline")
        self.state = StudentState.initial(persona)

    def say(self, teacher: str, student: str) -> int:
        """One exchange; returns the student turn's id."""
        self.state = self.state.after_teacher(self.persona, teacher)
        self.store.add_turn(self.id, "teacher", teacher)
        return self.store.add_turn(
            self.id, "student", student, brain_id="offline", student_state=self.state.to_dict()
        )


def conversation(store: Store, persona: Persona, opening: str, trainee: str = "sam") -> Session:
    session = Session(store, persona, trainee)
    session.say(opening, "hi")
    session.say("What is 52 - 27?", "35")
    session.say("Let's get out the blocks.", "ok")
    return session


def replies(rows: list[dict]) -> list[str]:
    return [row["messages"][-1]["content"] for row in rows]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def logged_before_redaction(store: Store, turn_id: int, text: str) -> None:
    """Put ``text`` in the database as an older utta (whose store did not redact) wrote it."""
    store.db["turns"].update(turn_id, {"text": text})
