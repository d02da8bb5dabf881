"""The Textual app behind `utta chat`."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding

from agent.paths import keymap_path
from personas.loader import PersonaLibrary
from tui.chat_screen import ChatScreen
from tui.picker import Choice, PersonaPicker

if TYPE_CHECKING:
    from transcripts.store import Store
    from tui.practice import Practice

log = logging.getLogger(__name__)


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
        self.library = library or PersonaLibrary()
        self.chat: ChatScreen | None = None

    def on_mount(self) -> None:
        self._apply_keymap()
        if self.resume is not None:
            self._resume(self.resume)
        elif self.persona_id is not None:
            self._start(self.persona_id)
        else:
            problems = [str(p) for p in self.library.problems]
            picker = PersonaPicker(self.library.list(), problems, self._recent_sessions)
            self.push_screen(picker, self._picked)

    def _recent_sessions(self) -> dict:
        """The trainee's latest session per persona (blocking: the picker runs it in a thread)."""
        from transcripts.sessions import last_sessions

        store = self.open_store()
        try:
            return last_sessions(store, self.trainee)
        finally:
            store.close()

    def _picked(self, choice: Choice | None) -> None:
        if choice is None:
            self.exit()
        elif choice.resume is not None:
            self._resume(choice.resume)
        else:
            self._start(choice.persona_id, choice.opening_line)

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
            log.warning("keymap %s ignored", path, exc_info=True)
            self.notify(
                f"{path}: {error}; using the default keys",
                severity="warning",
                timeout=15,
                markup=False,
            )
            return
        self.set_keymap(keymap)

    def _start(self, persona_id: str, draft: str = "") -> None:
        persona = self.library.get(persona_id)

        def open_practice() -> Practice:
            from tui.practice import start_practice

            return start_practice(persona, self.brain_name, self.open_store(), self.trainee)

        self._open(f"Teaching {persona.name} ({persona.age})", open_practice, draft)

    def _resume(self, session_id: int) -> None:
        def open_practice() -> Practice:
            from tui.practice import resume_practice

            store = self.open_store()
            return resume_practice(session_id, self.brain_name, store, self.library.get)

        self._open(f"Resuming session {session_id}", open_practice)

    def _open(self, title: str, open_practice: Callable[[], Practice], draft: str = "") -> None:
        self.chat = ChatScreen(title, open_practice, draft)
        self.push_screen(self.chat)

    def action_sessions(self) -> None:
        """The session browser (Ctrl+O in the picker and the chat)."""
        from tui.sessions_screen import SessionBrowser

        if isinstance(self.screen, SessionBrowser):
            return
        ids = [persona.id for persona in self.library.list()]
        active = self.practice.session_id if self.practice is not None else None
        browser = SessionBrowser(self.open_store, ids, active_session=active)
        self.push_screen(browser, self._browsed)

    async def _browsed(self, session_id: int | None) -> None:
        """Resume the session picked in the browser, ending the chat that was open."""
        if session_id is None:
            return
        if self.chat is not None:
            if self.practice is not None and self.practice.session_id == session_id:
                return  # already in it
            await self.chat.close_session()
            self.chat = None
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        self._resume(session_id)

    @property
    def practice(self) -> Practice | None:
        return self.chat.practice if self.chat else None

    async def action_quit(self) -> None:
        if self.chat is not None:
            await self.chat.close_session()
        self.exit()
