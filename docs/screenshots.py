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

LESSON = [
    "What is 52 - 27?",
    "You have to borrow from the tens. The answer is 25.",
    "Are you sure?",
    "How did you get 35?",
    "Let's use base-ten blocks: show 52 with ten-sticks and single cubes.",
    "Can you check by adding 27 back?",
    "Count up from 27 to 52 on a number line.",
]


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
            for line in LESSON:
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
