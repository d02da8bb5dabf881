"""The Textual app behind `utta chat`."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from personas.loader import PersonaLibrary
from transcripts.store import Store
from tui.chat_screen import ChatScreen
from tui.practice import Practice, resume_practice, start_practice
from tui.screens import PersonaPicker


class UttaApp(App[None]):
    CSS_PATH = "chat.tcss"
    TITLE = "utta"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="app.quit")]

    def __init__(
        self,
        *,
        store: Store,
        trainee: str,
        persona_id: str | None = None,
        brain: str | None = None,
        resume: int | None = None,
        library: PersonaLibrary | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.trainee = trainee
        self.persona_id = persona_id
        self.brain_name = brain
        self.resume = resume
        self.library = library or PersonaLibrary()
        self.practice: Practice | None = None

    def on_mount(self) -> None:
        if self.resume is not None:
            practice = resume_practice(self.resume, self.brain_name, self.store, self.library.get)
            self._open(practice)
        elif self.persona_id is not None:
            self._start(self.persona_id)
        else:
            problems = [str(p) for p in self.library.problems]
            self.push_screen(PersonaPicker(self.library.list(), problems), self._start)

    def _start(self, persona_id: str | None) -> None:
        if persona_id is None:
            self.exit()
            return
        persona = self.library.get(persona_id)
        self._open(start_practice(persona, self.brain_name, self.store, self.trainee))

    def _open(self, practice: Practice) -> None:
        self.practice = practice
        self.push_screen(ChatScreen(practice))

    async def action_quit(self) -> None:
        if self.practice is not None:
            self.practice.end()
        self.exit()
