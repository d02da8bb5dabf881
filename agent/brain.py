"""The one interface every brain implements.

The agent and the TUI hold a :class:`Brain` and never ask which kind it is: they stream reply
chunks, show its name and description, and check its health before swapping it in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent.errors import UttaError

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from agent.state import StudentState
    from personas.schema import Persona


class BrainError(UttaError):
    """A brain could not answer: ``str(error)`` is for a trainee, ``fix`` says what to do."""


@dataclass(frozen=True)
class BrainRequest:
    """Everything a brain may use to produce the student's next reply."""

    persona: Persona
    state: StudentState
    history: Sequence[BaseMessage]
    """The windowed conversation so far (system prompt not included), oldest first."""
    message: str
    """The teacher's new message."""

    def as_chat_messages(self) -> list[dict[str, str]]:
        """OpenAI-style messages: persona + state as the system prompt, then the dialogue."""
        from agent.memory import to_chat_messages
        from agent.prompt import system_message

        system = system_message(self.persona, self.state)  # the text training rows start with
        return [
            {"role": "system", "content": system},
            *to_chat_messages(self.history),
            {"role": "user", "content": self.message},
        ]


@dataclass(frozen=True)
class Usage:
    """Token counts a brain may report after a reply; ``None`` where unknown."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str = ""


@dataclass
class Brain(ABC):
    """A source of student replies.

    ``id`` is stable and is logged with every turn the brain writes; ``name`` is what the header
    shows; ``description`` says in a sentence what kind of brain this is.
    """

    id: str
    name: str
    description: str
    usage: Usage = field(default_factory=Usage, init=False)
    """Token counts of the last completed reply, set by brains that know them."""

    @abstractmethod
    def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        """Yield the reply in chunks. Raise :class:`BrainError` with a fix when it cannot."""

    async def health(self) -> Health:
        """Whether the brain can answer now. Called before a swap; must not raise."""
        return Health(ok=True)

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most brains hold nothing
        """Release connections or models."""
