"""Regenerate the README's screenshots of the debrief and the state panel (SVG from Textual).

    .venv/bin/python docs/screenshots.py

Teaches a short scripted lesson to Maya on the offline brain in a temporary store, then saves
docs/debrief.svg (the debrief shown on quit) and docs/state_panel.svg (the chat with Ctrl+T).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))


def lesson() -> list[str]:
    """The debrief tests' lesson on Maya's subtraction misconception, up to its last move."""
    from tests.debrief_sessions import MAYA_LESSON

    return MAYA_LESSON[:-1]


async def main() -> None:
    from textual.widgets import Input

    from transcripts.store import Store
    from tui.app import UttaApp
    from tui.debrief_screen import DebriefScreen
    from tui.widgets import Bubble

    with tempfile.TemporaryDirectory() as tmp:
        app = UttaApp(store=lambda: Store(Path(tmp) / "utta.db"), trainee="sam", persona_id="maya")
        async with app.run_test(size=(120, 48)) as pilot:
            while app.chat is None or app.chat.practice is None:
                await pilot.pause(0.02)
            for line in lesson():
                done = len(app.chat.query(Bubble)) + 2
                app.chat.query_one("#teacher-input", Input).value = line
                await pilot.press("enter")
                while len(app.chat.query(Bubble)) < done or app.chat.replying:
                    await pilot.pause(0.02)
            await pilot.press("ctrl+t")
            await pilot.pause(0.2)
            app.save_screenshot(filename="state_panel.svg", path=str(DOCS))
            await pilot.press("ctrl+q")
            while not isinstance(app.screen, DebriefScreen):
                await pilot.pause(0.02)
            await pilot.pause(0.2)
            app.save_screenshot(filename="debrief.svg", path=str(DOCS))


if __name__ == "__main__":
    asyncio.run(main())
