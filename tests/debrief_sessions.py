"""Real practice sessions (offline brain, real SQLite store) for the debrief and report tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

from personas.loader import PersonaLibrary
from transcripts.store import Store
from tui.practice import resume_practice, start_practice

# A lesson on Maya's subtraction misconception: telling and "are you sure?" (which the persona
# says do not dislodge it), then three moves that do (blocks, adding back, counting up).
MAYA_LESSON = [
    "What is 52 - 27?",
    "You have to borrow from the tens. The answer is 25.",
    "Are you sure?",
    "How did you get 35?",
    "Let's use base-ten blocks: show 52 with ten-sticks and single cubes.",
    "Can you check by adding 27 back?",
    "Count up from 27 to 52 on a number line.",
    "What is 83 - 46? It's 37.",
]
LEO_LESSON = [
    "Which falls first, a heavy ball or a light one?",
    "Why do you think so?",
    "Heavy and light things fall at the same speed.",
]


def run_lesson(store: Store, persona_id: str, lines: list[str], trainee: str = "sam") -> int:
    """Teach ``lines`` in a new session through the real agent; return the session id."""
    library = PersonaLibrary()
    practice = start_practice(library.get(persona_id), None, store, trainee)
    practice.ensure_session()

    async def teach() -> None:
        for line in lines:
            await practice.agent.reply(line)

    asyncio.run(teach())
    practice.end()
    return practice.session_id


def continue_lesson(store: Store, session_id: int, lines: list[str]) -> None:
    """Resume ``session_id`` the way `utta chat --resume` does and teach more."""
    library = PersonaLibrary()
    practice = resume_practice(session_id, None, store, library.get)

    async def teach() -> None:
        for line in lines:
            await practice.agent.reply(line)

    asyncio.run(teach())
    practice.end()


def build_store(path: Path) -> dict[str, int]:
    """A store with three sessions of trainee sam (two Maya, one Leo) and one of trainee kim."""
    with Store(path) as store:
        return {
            "told": run_lesson(store, "maya", MAYA_LESSON[:4]),
            "taught": run_lesson(store, "maya", MAYA_LESSON),
            "leo": run_lesson(store, "leo", LEO_LESSON),
            "kim": run_lesson(store, "maya", MAYA_LESSON[:2], trainee="kim"),
        }
