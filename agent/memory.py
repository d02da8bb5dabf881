"""Conversation memory: langchain-core messages with a token-budgeted window.

The full conversation is kept (it is small and the transcript holds it anyway); what a brain sees
is the newest slice that fits the budget, cut on whole teacher→student exchanges.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.messages.utils import count_tokens_approximately, trim_messages

DEFAULT_TOKEN_BUDGET = 1500

# trim_messages is wrapped to double as a Runnable; the wrapper imports langchain's runnable
# machinery on every first call (~0.5 s). We only ever pass messages, so call the plain function.
_trim = getattr(trim_messages, "__wrapped__", trim_messages)


class ConversationMemory:
    def __init__(
        self, messages: Iterable[BaseMessage] = (), *, token_budget: int = DEFAULT_TOKEN_BUDGET
    ) -> None:
        self._messages: list[BaseMessage] = list(messages)
        self.token_budget = token_budget

    def add_exchange(self, teacher: str, student: str) -> None:
        self._messages += [HumanMessage(teacher), AIMessage(student)]

    @property
    def messages(self) -> list[BaseMessage]:
        return list(self._messages)

    def window(self) -> list[BaseMessage]:
        """The newest messages that fit the budget, starting on a teacher turn."""
        return _trim(
            self._messages,
            max_tokens=self.token_budget,
            token_counter=count_tokens_approximately,
            strategy="last",
            start_on="human",
            allow_partial=False,
        )

    def __len__(self) -> int:
        return len(self._messages)


def to_chat_messages(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """Teacher turns become ``user``, student turns ``assistant`` (the brain plays the student)."""
    roles = {"human": "user", "ai": "assistant", "system": "system"}
    return [{"role": roles[m.type], "content": str(m.content)} for m in messages]
