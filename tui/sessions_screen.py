"""The session browser: every logged session, filtered and searched; open one read-only (and copy
a message), resume, rename, delete, keep out of training, export as Markdown.

Every store call runs in a worker thread (sqlite may wait on another writer); the screen only
renders. Session fields come from the database and are shown as text, never markup.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Select, Static

from transcripts.sessions import delete_session, rename_session, set_excluded
from tui.widgets import Bubble

if TYPE_CHECKING:
    from transcripts.records import SessionRow, TurnRow
    from transcripts.store import Store

log = logging.getLogger(__name__)
TRAINING_FILTERS = [("used for training", False), ("kept out of training", True)]


@dataclass(frozen=True)
class Listed:
    session: SessionRow
    brains: list[str]


def _list_sessions(store: Store, text: str, persona: str | None, excluded: bool | None):
    from transcripts.sessions import find_sessions, session_brains

    rows = find_sessions(store, text, persona_id=persona, excluded=excluded, limit=500)
    return [Listed(row, session_brains(store, row.id)) for row in rows]


class SessionTable(DataTable):
    """The list; its keys act on the highlighted session."""

    BINDINGS = [
        Binding("enter", "screen.open", "Open", id="sessions.open"),
        Binding("r", "screen.resume", "Resume", id="sessions.resume"),
        Binding("n", "screen.rename", "Rename", id="sessions.rename"),
        Binding("x", "screen.toggle_training", "Keep out/in training", id="sessions.exclude"),
        Binding("m", "screen.markdown", "Markdown", id="sessions.markdown"),
        Binding("d", "screen.delete", "Delete", id="sessions.delete"),
    ]


class SessionBrowser(Screen[int | None]):
    """Dismisses with the id of a session to resume, or ``None``."""

    BINDINGS = [
        Binding("escape", "close", "Back", id="sessions.close"),
        Binding("ctrl+l", "focus_search", "Search", id="sessions.search"),
    ]

    def __init__(
        self,
        open_store: Callable[[], Store],
        persona_ids: list[str],
        *,
        export_dir: Path | None = None,
        active_session: int | None = None,
    ) -> None:
        """``active_session`` is the one open in the chat: it cannot be deleted from here."""
        super().__init__()
        self.active_session = active_session
        self.open_store = open_store
        self.persona_ids = persona_ids
        self.export_dir = export_dir
        self.store: Store | None = None
        self.listed: list[Listed] = []
        self.loaded = 0
        self.last_export: Path | None = None
        """How many times the list was (re)loaded; tests wait on it."""

    def compose(self) -> ComposeResult:
        yield Static("[b]Your sessions[/b]", id="sessions-title")
        with Horizontal(id="sessions-filters"):
            yield Input(placeholder="Search what was said, titles, trainees…", id="session-search")
            yield Select(
                [(p, p) for p in self.persona_ids], prompt="every persona", id="persona-filter"
            )
            yield Select(TRAINING_FILTERS, prompt="all sessions", id="training-filter")
        table = SessionTable(id="sessions", cursor_type="row", zebra_stripes=True)
        table.add_columns(
            "id",
            "title",
            "persona",
            "trainee",
            "started",
            "turns",
            "brains",
            "resolved",
            "training",
        )
        yield table
        yield Static("", id="sessions-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(SessionTable).focus()
        self.reload()

    def on_unmount(self) -> None:
        if self.store is not None:
            self.store.close()

    def say(self, message: str, *, error: bool = False) -> None:
        self.notify(message, severity="error" if error else "information", markup=False)

    async def _call(self, fn, *args):
        """A store call in a worker thread; the store is opened on first use."""
        if self.store is None:
            self.store = await asyncio.to_thread(self.open_store)
        return await asyncio.to_thread(fn, self.store, *args)

    # --- the list -----------------------------------------------------------------------------

    @property
    def selected(self) -> SessionRow | None:
        table = self.query_one(SessionTable)
        if not self.listed or table.cursor_row is None or table.cursor_row >= len(self.listed):
            return None
        return self.listed[table.cursor_row].session

    def _filter_value(self, select_id: str):
        value = self.query_one(select_id, Select).value
        return None if value is Select.NULL else value

    @work(exclusive=True, group="list", exit_on_error=False)
    async def reload(self) -> None:
        text = self.query_one("#session-search", Input).value
        persona = self._filter_value("#persona-filter")
        excluded = self._filter_value("#training-filter")
        try:
            self.listed = await self._call(_list_sessions, text, persona, excluded)
        except Exception as error:
            log.exception("could not list the sessions")
            self.say(f"could not read the sessions: {error}", error=True)
            return
        table = self.query_one(SessionTable)
        table.clear()
        for item in self.listed:
            s = item.session
            table.add_row(
                str(s.id),
                Text(s.title or ""),
                Text(s.persona_id),
                Text(s.trainee or "-"),
                s.started_at[:16].replace("T", " "),
                str(s.turn_count),
                Text(", ".join(item.brains)),
                Text(", ".join(s.resolved) or "-"),
                "kept out" if s.excluded else "yes",
                key=str(s.id),
            )
        status = f"{len(self.listed)} session(s)" if self.listed else "no sessions match"
        self.query_one("#sessions-status", Static).update(status)
        self.loaded += 1

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "session-search":
            self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(SessionTable).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.reload()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_focus_search(self) -> None:
        self.query_one("#session-search", Input).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    # --- actions on the highlighted session ---------------------------------------------------

    def action_open(self) -> None:
        if self.selected is not None:
            self._open(self.selected)

    @work(group="store", exit_on_error=False)
    async def _open(self, session: SessionRow) -> None:
        from transcripts.store import Store

        try:
            turns = await self._call(Store.turns, session.id)
        except Exception as error:
            log.exception("could not read session %s", session.id)
            self.say(f"could not read session {session.id}: {error}", error=True)
            return
        self.app.push_screen(TranscriptScreen(session, turns, self._markdown, self._debrief))

    @work(group="store", exit_on_error=False)
    async def _debrief(self, session: SessionRow) -> None:
        """The session's debrief (what the chat shows on quitting), computed off the UI thread."""
        from trainers.debrief.compute import debrief_session
        from tui.debrief_screen import DebriefScreen

        try:
            debrief = await self._call(debrief_session, session.id)
        except Exception as error:
            log.exception("could not debrief session %s", session.id)
            self.say(f"could not debrief session {session.id}: {error}", error=True)
            return
        self.app.push_screen(DebriefScreen(debrief, quitting=False))

    def action_resume(self) -> None:
        if self.selected is not None:
            self.dismiss(self.selected.id)

    def action_rename(self) -> None:
        session = self.selected
        if session is None:
            return

        def renamed(title: str | None) -> None:
            if title is not None:
                self._write(rename_session, session.id, title, done=f"session {session.id} renamed")

        self.app.push_screen(RenameScreen(session.title or ""), renamed)

    def action_toggle_training(self) -> None:
        session = self.selected
        if session is not None:
            verdict = "used for training again" if session.excluded else "kept out of training"
            message = f"session {session.id} {verdict}"
            self._write(set_excluded, session.id, not session.excluded, done=message)

    def action_delete(self) -> None:
        session = self.selected
        if session is None:
            return
        if session.id == self.active_session:
            self.say(f"session {session.id} is open in the chat; quit it or start another first")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._write(delete_session, session.id, done=f"session {session.id} deleted")

        question = (
            f"Delete session {session.id} ({session.persona_id}, {session.turn_count} turns, "
            f"{session.started_at[:10]}) and its feedback? This cannot be undone."
        )
        self.app.push_screen(ConfirmScreen(question), confirmed)

    @work(group="store", exit_on_error=False)
    async def _write(self, change: Callable[..., None], *args: Any, done: str) -> None:
        """Apply ``change(store, *args)`` off the event loop, say ``done`` and reload."""
        try:
            await self._call(change, *args)
        except Exception as error:
            log.exception("session change failed")
            self.say(f"not done ({done}): {error}", error=True)
            return
        self.say(done)
        self.reload()

    def action_markdown(self) -> None:
        if self.selected is not None:
            self._markdown(self.selected)

    @work(group="store", exit_on_error=False)
    async def _markdown(self, session: SessionRow) -> None:
        from transcripts.export import session_markdown

        folder = self.export_dir
        if folder is None:
            from agent.paths import data_dir

            folder = data_dir() / "exports"
        path = folder / f"{session.persona_id}-session-{session.id}.md"
        try:
            text = await self._call(session_markdown, session.id)
            await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(path.write_text, text, encoding="utf-8")
        except Exception as error:
            log.exception("could not export session %s", session.id)
            self.say(f"could not write {path}: {error}", error=True)
            return
        self.last_export = path
        self.say(f"saved as {path}")


class TranscriptScreen(Screen[None]):
    """A session read-only. Tab to a message and press c to copy it."""

    BINDINGS = [
        Binding("escape", "close", "Back", id="transcript.close"),
        Binding("c", "copy", "Copy message", id="transcript.copy"),
        Binding("m", "markdown", "Markdown", id="transcript.markdown"),
        Binding("b", "debrief", "Debrief", id="transcript.debrief"),
    ]

    def __init__(
        self, session: SessionRow, turns: list[TurnRow], export: Callable, debrief: Callable
    ) -> None:
        super().__init__()
        self.session = session
        self.turns = turns
        self.export = export
        self.debrief = debrief

    def compose(self) -> ComposeResult:
        s = self.session
        heading = s.title or f"session {s.id}"
        yield Static(
            Text.assemble(
                (heading, "bold"),
                f" — {s.persona_id}, taught by {s.trainee or '-'}, {s.started_at[:16]}",
                " (kept out of training)" if s.excluded else "",
            ),
            id="transcript-title",
        )
        with VerticalScroll(id="messages"):
            for turn in self.turns:
                bubble = Bubble(turn.role, turn.text, turn_id=turn.id)
                bubble.can_focus = True  # any message may be copied
                yield bubble
        yield Footer()

    def on_mount(self) -> None:
        bubbles = self.query(Bubble)
        if bubbles:
            bubbles.last().focus()

    def action_copy(self) -> None:
        focused = self.focused
        if isinstance(focused, Bubble):
            self.app.copy_to_clipboard(focused.text)
            self.notify("message copied", markup=False)

    def action_markdown(self) -> None:
        self.export(self.session)

    def action_debrief(self) -> None:
        self.debrief(self.session)

    def action_close(self) -> None:
        self.dismiss(None)


class RenameScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="rename.cancel")]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="rename-dialog", classes="dialog"):
            yield Label("Title (empty removes it)")
            yield Input(self.current, id="title")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "no", "Cancel", id="confirm.cancel")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Label(Text(self.question))
            with Horizontal():
                yield Button("Delete", variant="error", id="yes")
                yield Button("Keep it", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()  # the safe choice is the default

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_no(self) -> None:
        self.dismiss(False)
