"""The Textual app behind `utta chat`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding

from agent.paths import keymap_path, persona_library
from personas.loader import PersonaLibrary
from tui.chat_screen import ChatScreen
from tui.screens import PersonaPicker

if TYPE_CHECKING:
    from transcripts.store import Store
    from tui.practice import Practice


class UttaApp(App[None]):
    CSS_PATH = "chat.tcss"
    TITLE = "utta"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="app.quit")]

    def __init__(
        self,
        *,
        store: Callable[[], Store],
        trainee: str,
        persona_id: str | None = None,
        brain: str | None = None,
        resume: int | None = None,
        library: PersonaLibrary | None = None,
    ) -> None:
        super().__init__()
        self.open_store = store
        """Opens the transcript store, off the event loop (sqlite-utils is slow to import)."""
        self.trainee = trainee
        self.persona_id = persona_id
        self.brain_name = brain
        self.resume = resume
        self.library = library or persona_library()
        self.chat: ChatScreen | None = None

    def on_mount(self) -> None:
        self._apply_keymap()
        if self.resume is not None:
            self._resume(self.resume)
        elif self.persona_id is not None:
            self._start(self.persona_id)
        else:
            problems = [str(p) for p in self.library.problems]
            self.push_screen(PersonaPicker(self.library.list(), problems), self._start)

    def _apply_keymap(self) -> None:
        """Rebind keys by binding id from the keymap file, e.g. {"chat.feedback": "ctrl+r"}."""
        path = keymap_path()
        if not path.exists():
            return
        try:
            keymap = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(keymap, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in keymap.items()
            ):
                raise ValueError('expected an object like {"chat.feedback": "ctrl+r"}')
        except (OSError, ValueError) as error:
            self.notify(f"{path}: {error}; using the default keys", severity="warning", timeout=15)
            return
        self.set_keymap(keymap)

    def _start(self, persona_id: str | None) -> None:
        if persona_id is None:
            self.exit()
            return
        persona = self.library.get(persona_id)

        def open_practice() -> Practice:
            from tui.practice import start_practice

            return start_practice(persona, self.brain_name, self.open_store(), self.trainee)

        self._open(f"Teaching {persona.name} ({persona.age})", open_practice)

    def _resume(self, session_id: int) -> None:
        def open_practice() -> Practice:
            from tui.practice import resume_practice

            store = self.open_store()
            return resume_practice(session_id, self.brain_name, store, self.library.get)

        self._open(f"Resuming session {session_id}", open_practice)

    def _open(self, title: str, open_practice: Callable[[], Practice]) -> None:
        self.chat = ChatScreen(title, open_practice)
        self.push_screen(self.chat)

    @property
    def practice(self) -> Practice | None:
        return self.chat.practice if self.chat else None

    async def action_quit(self) -> None:
        if self.practice is not None:
            try:
                self.practice.end()
            except sqlite3.Error as error:  # quitting must work even when the disk does not
                self.notify(f"could not stamp the session's end: {error}", severity="warning")
            await self.practice.agent.brain.aclose()
        self.exit()
