"""StudentAgent: a persona, its memory and student state, and whichever brain is answering."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Protocol

from agent.brain import Brain, BrainError, BrainRequest
from agent.memory import ConversationMemory
from agent.secrets import redact_secrets
from agent.state import StudentState
from agent.terminal_text import ControlFilter
from personas.schema import Persona


@dataclass(frozen=True)
class CompletedTurn:
    teacher: str
    student: str
    brain_id: str
    latency_ms: float
    prompt_tokens: int | None
    completion_tokens: int | None
    state: StudentState


class Recorder(Protocol):
    """Where the agent logs what happened; implemented by ``transcripts.SessionRecorder``."""

    def teacher_sent(self, text: str) -> None:
        """Commit the teacher's message the moment it is sent."""

    def teacher_withdrawn(self) -> None:
        """The reply failed or was cancelled: remove the teacher message committed last."""

    def student_replied(self, turn: CompletedTurn) -> None:
        """Commit the completed student reply and the state it left, in one transaction."""

    def brain_swapped(self, old_id: str, new_id: str, accepted: bool, reason: str) -> None:
        """Log a swap, accepted or refused, by brain ids."""


class NullRecorder:
    def teacher_sent(self, text: str) -> None:
        pass

    def teacher_withdrawn(self) -> None:
        pass

    def student_replied(self, turn: CompletedTurn) -> None:
        pass

    def brain_swapped(self, old_id: str, new_id: str, accepted: bool, reason: str) -> None:
        pass


class SwapRefused(BrainError):
    """The new brain failed its health check; the old one keeps answering."""


class StudentAgent:
    def __init__(
        self,
        persona: Persona,
        brain: Brain,
        *,
        memory: ConversationMemory | None = None,
        state: StudentState | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.persona = persona
        self.brain = brain
        self.memory = memory or ConversationMemory()
        self.state = state or StudentState.initial(persona)
        self.recorder: Recorder = recorder or NullRecorder()
        self.last_turn: CompletedTurn | None = None

    async def respond(self, message: str) -> AsyncIterator[str]:
        """Stream the student's reply to ``message``.

        The teacher's message is committed before the brain is asked; memory, state and the
        student turn are committed only when the stream completes, which a brain signals by
        returning normally (a cut-off stream is a :class:`BrainError`). If the brain fails or the
        consumer stops early (Escape), the teacher's message is withdrawn and nothing changes.
        """
        message = redact_secrets(message.strip())  # a pasted key must reach no brain and no log
        if not message:
            raise ValueError("the teacher's message is empty")
        # Recorder calls run in worker threads: a slow or locked database must not freeze a UI
        # sharing this event loop.
        brain = self.brain
        next_state = self.state.after_teacher(self.persona, message)
        request = BrainRequest(self.persona, next_state, self.memory.window(), message)
        started = time.perf_counter()
        parts: list[str] = []
        completed = False
        clean = ControlFilter()  # terminal escapes in a reply are neither shown nor logged
        try:
            await asyncio.to_thread(self.recorder.teacher_sent, message)
            async for raw in brain.stream(request):
                chunk = clean.feed(raw)
                if chunk:
                    parts.append(chunk)
                    yield chunk
            completed = True
        finally:
            if not completed:
                await asyncio.to_thread(self.recorder.teacher_withdrawn)
        reply = "".join(parts).strip()
        if not reply:
            await asyncio.to_thread(self.recorder.teacher_withdrawn)
            raise BrainError(
                f"{brain.name} returned an empty reply", fix="try again or swap brains"
            )
        turn = CompletedTurn(
            teacher=message,
            student=reply,
            brain_id=brain.id,
            latency_ms=(time.perf_counter() - started) * 1000,
            prompt_tokens=brain.usage.prompt_tokens,
            completion_tokens=brain.usage.completion_tokens,
            state=next_state,
        )
        try:
            await asyncio.to_thread(self.recorder.student_replied, turn)
        except Exception:
            with suppress(Exception):  # the store may be what failed; keep the original error
                await asyncio.to_thread(self.recorder.teacher_withdrawn)
            raise
        self.memory.add_exchange(message, reply)
        self.state = next_state
        self.last_turn = turn

    async def reply(self, message: str) -> str:
        """The whole reply at once (scripts, tests, trainers), as it was logged: stripped of the
        spaces a model may stream around it."""
        async for _chunk in self.respond(message):
            pass
        # respond() has either raised or logged this turn, so the logged text is the reply.
        assert self.last_turn is not None
        return self.last_turn.student

    async def swap(self, new_brain: Brain) -> None:
        """Make ``new_brain`` answer from the next message on, keeping memory and state.

        Raises :class:`SwapRefused` when its health check fails; the current brain stays.
        """
        old = self.brain
        health = await new_brain.health()
        if not health.ok:
            await asyncio.to_thread(
                self.recorder.brain_swapped, old.id, new_brain.id, False, health.detail
            )
            # Who keeps answering is the caller's to say (once), not part of the reason.
            raise SwapRefused(f"{new_brain.name} is not ready: {health.detail}")
        await asyncio.to_thread(
            self.recorder.brain_swapped, old.id, new_brain.id, True, health.detail
        )
        self.brain = new_brain

    def refuse_swap(self, brain_id: str, reason: str) -> None:
        """Log a swap that failed before a health check could run (the brain could not be built)."""
        self.recorder.brain_swapped(self.brain.id, brain_id, accepted=False, reason=reason)
