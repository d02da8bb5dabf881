"""Setting up a practice session: persona, brain, agent and transcript, new or resumed.

This is the part of the chat with no widgets in it, so the TUI, scripts and tests share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.brain import Brain, BrainError
from agent.memory import ConversationMemory
from agent.registry import (
    DEFAULT_BRAIN,
    BrainContext,
    BrainSpec,
    available_kinds,
    create_brain,
)
from agent.state import StudentState
from agent.student import StudentAgent
from personas.schema import Persona
from transcripts.recorder import SessionRecorder
from transcripts.store import Store, UnknownBrain


@dataclass
class Practice:
    """A live session: the agent plus what the UI needs to show where it stands."""

    agent: StudentAgent
    store: Store
    trainee: str
    recorder: SessionRecorder | None = None
    """Logs this session; created with the session, on the first message."""
    turns: list = field(default_factory=list)
    """TurnRows already in the transcript (a resumed session), for display."""
    unsent: str = ""
    """A resumed session's last teacher message that never got a reply; goes back in the input."""

    @property
    def session_id(self) -> int | None:
        return self.recorder.session_id if self.recorder else None

    def ensure_session(self) -> SessionRecorder:
        """Sessions are created on the first message, so opening and quitting leaves nothing."""
        if self.recorder is None:
            self.recorder = SessionRecorder.start(
                self.store, self.agent.persona.id, self.trainee, self.agent.brain.id
            )
            self.agent.recorder = self.recorder
        return self.recorder

    def end(self) -> None:
        """Stamp the session ended, or drop it if no exchange was ever completed."""
        if self.recorder is not None and not self.store.discard_if_empty(self.session_id):
            self.recorder.end()


def brain_spec(name: str, store: Store, persona: Persona) -> BrainSpec:
    """A registered brain by name, else a brain kind that needs no options (e.g. ``offline``).

    Raises :class:`~transcripts.store.UnknownBrain` (it lists the saved brains) for a name that
    is neither, so a typo is not reported as an unknown brain kind.
    """
    try:
        row = store.brain(name)
    except UnknownBrain:
        if name in available_kinds():
            return BrainSpec(name=name, kind=name, persona_id=persona.id)
        raise
    return BrainSpec(
        name=row.name, kind=row.kind, options=dict(row.spec), persona_id=row.persona_id
    )


def build_brain(name: str, store: Store, persona: Persona) -> Brain:
    spec = brain_spec(name, store, persona)
    if spec.persona_id and spec.persona_id != persona.id:
        raise BrainError(
            f"brain '{name}' was built for persona '{spec.persona_id}', not '{persona.id}'",
            fix=f"pick a brain for {persona.id} (`utta brains list`)",
        )
    context = BrainContext(persona, store.approved_examples(persona.id))
    return create_brain(spec, context)


def start_practice(
    persona: Persona, brain_name: str | None, store: Store, trainee: str
) -> Practice:
    brain = build_brain(brain_name or DEFAULT_BRAIN, store, persona)
    return Practice(StudentAgent(persona, brain), store, trainee)


def resume_practice(session_id: int, brain_name: str | None, store: Store, persona_for) -> Practice:
    """Continue a logged session: memory from its turns, the state it left, the brain it ended on.

    ``persona_for(id)`` looks the persona up (so the caller decides where personas come from).
    """
    session = store.session(session_id)
    persona = persona_for(session.persona_id)
    accepted = [s for s in store.swaps(session_id) if s.accepted]
    last_brain = accepted[-1].to_brain if accepted else session.brain_at_start
    # Before resume() withdraws an unanswered message: if the brain fails, nothing is touched.
    brain = build_brain(brain_name or last_brain, store, persona)
    recorder = SessionRecorder.resume(store, session_id)
    memory = ConversationMemory()
    for teacher, student in recorder.exchanges():
        memory.add_exchange(teacher, student)
    saved = recorder.latest_state()
    state = StudentState.from_dict(saved) if saved else StudentState.initial(persona)
    agent = StudentAgent(persona, brain, memory=memory, state=state, recorder=recorder)
    turns, unsent = recorder.turns(), recorder.unanswered or ""
    return Practice(agent, store, session.trainee, recorder, turns, unsent)


def swappable_brains(store: Store, persona: Persona) -> list[tuple[str, str]]:
    """(name, one-line description) of every brain that can answer for ``persona``: its kind,
    training method and base, and for a ``vllm`` brain whether the running server can serve it."""
    from agent.serving import pid_alive, read_record

    record = read_record()
    server = record if record is not None and pid_alive(record.pid) else None
    rows = [(DEFAULT_BRAIN, "offline · the persona's examples")]
    for row in store.brains():
        if row.persona_id in (None, persona.id) and row.name != DEFAULT_BRAIN:
            rows.append((row.name, describe_brain(row, server)))
    return rows


def describe_brain(row, server) -> str:  # a BrainRow, the running ServerRecord or None
    """``kind · method · base · can it answer now`` for the brain picker."""
    from pathlib import Path

    from agent.serving import same_model

    lineage = row.lineage if isinstance(row.lineage, dict) else {}
    base = lineage.get("base") or row.spec.get("base")
    parts = [row.kind, lineage.get("method")]
    if base:
        parts.append(f"base {Path(str(base)).name or base}")
    if row.kind == "vllm":
        if server is None:
            parts.append("no vLLM server running")
        elif base and not same_model(server.base, str(base)):
            parts.append(f"server runs another base ({Path(server.base).name})")
        else:
            parts.append("the running server can serve it")
    return " · ".join(str(part) for part in parts if part)
