"""The debrief screen: what the session taught the trainee, shown on quit and on Ctrl+R.

It renders a :class:`trainers.debrief.Debrief` (computed from the store, so it covers every turn
of a resumed session too); the computing lives in ``trainers.debrief``.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

if TYPE_CHECKING:
    from trainers.debrief.model import Debrief
    from tui.practice import Practice


class Section(Static):
    """One part of the debrief, rendered by Rich's Markdown in a single widget (Textual's
    Markdown widget mounts a widget per block: seconds for a long session)."""

    def __init__(self, source: str, *, id: str) -> None:
        from rich.markdown import Markdown

        super().__init__(Markdown(source), id=id)
        self.source = source


class DebriefScreen(Screen[None]):
    """One session's debrief. Mid-session, Escape goes back to the chat; after quitting, any of
    Escape, q or Ctrl+Q closes utta."""

    DEFAULT_CSS = """
    DebriefScreen #debrief-body { padding: 0 2; }
    DebriefScreen Section { margin: 0 0 1 0; }
    """
    BINDINGS = [
        Binding("escape", "close", "Back", id="debrief.close"),
        Binding("q", "close", "Close", show=False, id="debrief.close_q"),
        Binding("ctrl+q", "leave", "Quit", id="debrief.quit"),
    ]

    def __init__(self, debrief: Debrief, *, quitting: bool) -> None:
        super().__init__()
        self.debrief = debrief
        self.quitting = quitting
        """Shown because the trainee quit: closing it closes the app."""

    def compose(self) -> ComposeResult:
        from trainers.debrief.render import heading, suggestions_md, talk_md, timeline_md

        yield Header()
        with VerticalScroll(id="debrief-body"):
            yield Section(heading(self.debrief), id="debrief-heading")
            yield Section(suggestions_md(self.debrief), id="debrief-suggestions")
            yield Section(timeline_md(self.debrief), id="debrief-timeline")
            yield Section(talk_md(self.debrief), id="debrief-talk")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "debrief (Escape: " + ("quit)" if self.quitting else "back to the chat)")
        self.query_one("#debrief-body").focus()

    def action_close(self) -> None:
        if self.quitting:
            self.app.exit()
        else:
            self.dismiss()

    async def action_leave(self) -> None:
        if self.quitting:
            self.app.exit()
        else:
            self.dismiss()
            await self.app.run_action("quit")


def session_debrief(practice: Practice) -> Debrief | None:
    """The debrief of the practice's session, or ``None`` when it has no turns (or no store)."""
    from trainers.debrief.compute import debrief_session
    from transcripts.errors import UnknownSession

    if practice.session_id is None:
        return None
    try:
        debrief = debrief_session(
            practice.store, practice.session_id, persona=practice.agent.persona
        )
    except (UnknownSession, sqlite3.Error):  # discarded as empty, or the disk failed
        return None
    return debrief if debrief.exchanges else None


def show_final_debrief(app: App, practice: Practice | None) -> bool:
    """On quit: show the session's debrief instead of closing; ``False`` when there is none to
    show (no exchange, or the final debrief is already on screen), so the caller exits."""
    if practice is None or (isinstance(app.screen, DebriefScreen) and app.screen.quitting):
        return False
    debrief = session_debrief(practice)
    if debrief is None:
        return False
    app.push_screen(DebriefScreen(debrief, quitting=True))
    return True
