"""A practice session as a service: setting it up (persona, brain, agent, transcript, new or
resumed) and everything a trainee does in it: send, stop, rate, swap, discard, quit.

No widgets here: the chat screen calls these methods and renders what they return or raise, and
tests drive the same session without a screen. Every store call runs in a worker thread, so a slow
or locked database never freezes the event loop the UI draws on.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TypeVar

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
from agent.student import StudentAgent, SwapRefused
from personas.schema import Persona
from transcripts.recorder import SessionRecorder
from transcripts.store import Store, UnknownBrain
from tui.session_types import Feedback, SwapFailed, describe, storage_error

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Practice:
    """A live session: the agent, its transcript, and what the UI needs to show where it stands."""

    agent: StudentAgent
    store: Store
    trainee: str
    recorder: SessionRecorder | None = None
    """Logs this session; created with the session, on the first message."""
    turns: list = field(default_factory=list)
    """TurnRows already answered in the transcript (a resumed session), for display."""
    _session_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    """Quitting while the first message is still creating the session must wait for it, so an
    empty session is dropped rather than left behind."""

    @property
    def session_id(self) -> int | None:
        return self.recorder.session_id if self.recorder else None

    @property
    def unsent(self) -> str:
        """A resumed session's last teacher message that never got a reply (still logged until
        it is re-sent or discarded); it goes back in the input."""
        return (self.recorder.unanswered or "") if self.recorder else ""

    @property
    def last_student_turn_id(self) -> int | None:
        return self.recorder.last_student_turn_id if self.recorder else None

    def ensure_session(self) -> SessionRecorder:
        """Sessions are created on the first message, so opening and quitting leaves nothing.
        Blocking: call it from a worker thread (or via the async methods below)."""
        with self._session_lock:
            if self.recorder is None:
                self.recorder = SessionRecorder.start(
                    self.store, self.agent.persona.id, self.trainee, self.agent.brain.id
                )
                self.agent.recorder = self.recorder
            return self.recorder

    def end(self) -> None:
        """Stamp the session ended, or drop it if nothing was ever logged. Blocking."""
        with self._session_lock:
            if self.recorder is not None and not self.store.discard_if_empty(self.session_id):
                self.recorder.end()

    async def _write(self, call: Callable[..., T], *args: object) -> T:
        """A store call in a worker thread; a database failure becomes a :class:`StorageError`."""
        try:
            return await asyncio.to_thread(call, *args)
        except sqlite3.Error as error:
            log.exception("transcript write failed")
            raise storage_error(error) from error

    async def check_brain(self) -> None:
        """The health check a swap runs, for the brain the session starts on."""
        brain = self.agent.brain
        health = await brain.health()
        if not health.ok:
            await brain.aclose()
            raise BrainError(
                f"brain '{brain.name}' is not ready: {health.detail}",
                fix="fix it and start again, or start with another brain (`utta brains list`)",
            )

    async def send(self, text: str) -> AsyncIterator[str]:
        """Stream the student's reply to ``text``; the exchange is logged only when it completes.

        Raises :class:`StorageError` when the transcript cannot be written and the brain's
        error (:class:`~agent.brain.BrainError` or any other) when it fails; either way nothing
        of the exchange stays logged. Cancelling withdraws the message too (Escape), unless the
        chat is quitting (:meth:`close`), which keeps it for resume.
        """
        await self._write(self.ensure_session)
        try:
            async for chunk in self.agent.respond(text):
                yield chunk
        except sqlite3.Error as error:
            log.exception("transcript write failed during a reply")
            raise storage_error(error) from error
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except Exception:
            log.exception("brain %s failed to reply", self.agent.brain.id)
            raise

    async def give_feedback(self, turn_id: int, feedback: Feedback) -> None:
        try:
            await asyncio.to_thread(
                self.store.add_feedback,
                turn_id,
                flagged=feedback.flagged,
                rating=feedback.rating,
                rewrite=feedback.rewrite,
                note=feedback.note,
            )
        except sqlite3.Error as error:
            log.exception("feedback write failed")
            raise storage_error(error) from error

    async def discard_unsent(self) -> bool:
        """Drop the resumed message that never got its answer; ``True`` if there was one."""
        if not self.unsent:
            return False
        await self._write(self.recorder.discard_unanswered)
        return True

    async def brains(self) -> list[tuple[str, str]]:
        """The brains a swap may pick, read off the event loop."""
        return await self._write(swappable_brains, self.store, self.agent.persona)

    async def swap(self, name: str) -> Brain:
        """Build ``name`` off the event loop and swap it in if its health check passes.

        Raises :class:`SwapFailed` (the reason, the fix, who keeps answering) on any failure;
        the refusal is logged with the session and the current brain keeps answering.
        """
        await self._write(self.ensure_session)
        old, brain = self.agent.brain, None
        try:
            brain = await asyncio.to_thread(build_brain, name, self.store, self.agent.persona)
            await self.agent.swap(brain)
        except sqlite3.Error as error:
            log.exception("transcript write failed during a swap")
            if brain is not None:
                await brain.aclose()
            raise storage_error(error) from error
        except Exception as error:  # whatever went wrong, the current brain keeps answering
            log.exception("swap to %s refused", name)
            if brain is not None:
                await brain.aclose()
            reason = describe(error)
            if not isinstance(error, SwapRefused):  # refused before a health check could run
                await self._write(self.agent.refuse_swap, name, reason)
            raise SwapFailed(
                f"swap to {name} refused: {reason}", fix=f"{old.name} keeps answering"
            ) from error
        await old.aclose()  # a local model or HTTP pool must not outlive its turn
        return brain

    async def close(self) -> None:
        """End the session (an empty one leaves nothing) and release the brain."""
        try:
            await self._write(self.end)
        finally:
            await self.agent.brain.aclose()


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


def require_brain(name: str, store: Store) -> None:
    """Raise :class:`~transcripts.store.UnknownBrain` unless ``name`` is a saved brain or a
    brain kind (persona-independent, so it can run before a persona is chosen)."""
    try:
        store.brain(name)
    except UnknownBrain:
        if name not in available_kinds():
            raise


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
    # Build first: if the brain fails, nothing is touched.
    brain = build_brain(brain_name or last_brain, store, persona)
    recorder = SessionRecorder.resume(store, session_id)
    memory = ConversationMemory()
    for teacher, student in recorder.exchanges():
        memory.add_exchange(teacher, student)
    saved = recorder.latest_state()
    state = StudentState.from_dict(saved) if saved else StudentState.initial(persona)
    agent = StudentAgent(persona, brain, memory=memory, state=state, recorder=recorder)
    return Practice(agent, store, session.trainee, recorder, recorder.answered_turns())


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
