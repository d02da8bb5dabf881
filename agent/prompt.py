"""The persona prompt every language-model brain is sent and every training row starts with.

One text both ways: a brain fine-tuned on rows that begin with this prompt is served with the
same prompt (:meth:`agent.brain.BrainRequest.as_chat_messages`), and trainers measure it in the
base model's tokenizer before they start. It is compact on purpose (a small base has a 512-token
context): who the child is, how they type, and the child's state now, where the state says what
the child still believes. The full description (:meth:`personas.schema.Persona.system_prompt`)
stays the reference for people and for the offline brain.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.state import StudentState
    from personas.schema import Persona

MAX_TRAITS = 2
MAX_HABITS = 3
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0]


def persona_prompt(persona: Persona) -> str:
    """Who the child is and how they type, in a few short lines (no state)."""
    words = persona.speech.words_per_turn
    habits = [*persona.speech.spelling_habits, *persona.speech.verbal_habits][:MAX_HABITS]
    lines = [
        f"You are {persona.name}, {persona.age}, in grade {persona.grade}. "
        f"{first_sentence(persona.summary)}",
        f"You are: {'; '.join(persona.personality[:MAX_TRAITS])}.",
        f"Type like a real child: about {words.typical} words, never more than {words.max}"
        + (f"; {'; '.join(habits)}." if habits else "."),
        "Never talk like a teacher or an assistant.",
    ]
    return "\n".join(lines)


def reply_token_budget(persona: Persona) -> int:
    """Tokens for the persona's longest reply (``words_per_turn.max`` words, ~4 tokens a word
    in a small tokenizer, plus the end of turn): what a fine-tuned child brain may generate."""
    return max(16, persona.speech.words_per_turn.max * 4 + 8)


def system_message(persona: Persona, state: StudentState) -> str:
    """The system message of a request or a training row: the persona, then the state now."""
    return f"{persona_prompt(persona)}\n{state.describe(persona)}"
