"""The practice chat: the teacher types, the student's reply streams in."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input
from textual.worker import Worker

if TYPE_CHECKING:
    from agent.student import StudentAgent
    from tui.practice import Practice

from agent.brain import BrainError
from tui.screens import FeedbackResult, FeedbackScreen, HelpScreen
from tui.state_panel import DEBRIEF_BINDINGS, DebriefHooks, StatePanel
from tui.widgets import BrainLine, Bubble


class ChatScreen(DebriefHooks, Screen[None]):
    BINDINGS = [
        Binding("escape", "cancel_reply", "Stop reply", id="chat.cancel"),
        Binding("ctrl+f", "feedback", "Feedback", id="chat.feedback"),
        Binding("ctrl+b", "brains", "Brains", id="chat.brains"),
        Binding("f1", "help", "Help", id="chat.help"),
        Binding("ctrl+q", "app.quit", "Quit", id="chat.quit"),
        *DEBRIEF_BINDINGS,
    ]

    def __init__(self, title: str, open_practice: Callable[[], Practice]) -> None:
        """``open_practice`` builds the session (store, brain, agent) off the event loop, so the
        chat paints at once and heavy brains load while the trainee reads the screen."""
        super().__init__()
        self.initial_title = title
        self.open_practice = open_practice
        self.practice: Practice | None = None
        self.load_error: Exception | None = None
        """Why the session could not start; shown again whenever the trainee tries to send."""
        self.reply_worker: Worker | None = None

    @property
    def agent(self) -> StudentAgent:
        assert self.practice is not None, "the practice session is still loading"
        return self.practice.agent

    def compose(self) -> ComposeResult:
        yield Header()
        yield BrainLine(id="brain-line")
        yield StatePanel(id="state-panel")
        yield VerticalScroll(id="messages")
        yield Input(placeholder="Say something to your student…", id="teacher-input")
        yield Footer()

    def on_mount(self) -> None:
        self.app.title = self.initial_title
        self.query_one(BrainLine).update("getting the student ready…")
        self.query_one("#teacher-input", Input).focus()
        self._load()

    @work(thread=True, exit_on_error=False)
    def _load(self) -> None:
        try:
            practice = self.open_practice()
        except Exception as error:  # a bad brain or persona must not crash the TUI
            self.app.call_from_thread(self._load_failed, error)
            return
        self.app.call_from_thread(self._loaded, practice)

    def _loaded(self, practice: Practice) -> None:
        self.practice = practice
        self._show_brain()
        messages = self.query_one("#messages", VerticalScroll)
        messages.mount_all(Bubble(t.role, t.text, turn_id=t.id) for t in practice.turns)
        teacher_input = self.query_one("#teacher-input", Input)
        if practice.unsent and not teacher_input.value:
            teacher_input.value = practice.unsent
        messages.scroll_end(animate=False)
        self.after_turn()

    def _load_failed(self, error: Exception) -> None:
        self.load_error = error
        self.query_one(BrainLine).update(f"[red]could not start:[/red] {escape(str(error))}")
        self.notify(str(error), title="Could not start the session", severity="error", timeout=30)

    def _show_brain(self) -> None:
        persona = self.agent.persona
        self.app.title = f"Teaching {persona.name} ({persona.age})"
        self.app.sub_title = f"brain: {self.agent.brain.name}"
        self.query_one(BrainLine).show(self.agent.brain.description)

    @property
    def replying(self) -> bool:
        return self.reply_worker is not None and self.reply_worker.is_running

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "teacher-input":
            return
        text = event.value.strip()
        if not text or self.replying:
            return
        if self.practice is None:
            if self.load_error is not None:
                self.notify(
                    f"{self.load_error} — quit (Ctrl+Q) and start again once it is fixed",
                    title="The session could not start",
                    severity="error",
                    timeout=15,
                )
            else:
                self.notify("The student is still getting ready; try again in a moment.")
            return
        if not self._store_ok(self.practice.ensure_session):
            return
        event.input.value = ""
        messages = self.query_one("#messages", VerticalScroll)
        teacher = Bubble("teacher", text)
        student = Bubble("student")
        messages.mount_all([teacher, student])
        messages.scroll_end(animate=False)
        self.reply_worker = self._stream_reply(text, teacher, student)

    @work(exclusive=True, group="reply", exit_on_error=False)
    async def _stream_reply(self, text: str, teacher: Bubble, student: Bubble) -> None:
        messages = self.query_one("#messages", VerticalScroll)
        try:
            async for chunk in self.agent.respond(text):
                student.append(chunk)
                messages.scroll_end(animate=False)
        except asyncio.CancelledError:
            self._undo(text, teacher, student)
            self.notify("Reply stopped; nothing of it was saved.", title="Stopped")
            raise
        except Exception as error:  # any brain failure must leave the chat usable
            self._undo(text, teacher, student)
            if not isinstance(error, BrainError):
                error = f"{type(error).__name__}: {error}"
            self.notify(
                str(error), title=f"{self.agent.brain.name} failed", severity="error", timeout=10
            )
            return
        turn = self.agent.last_turn
        student.text = turn.student if turn else student.text
        student.turn_id = self.practice.ensure_session().last_student_turn_id
        self.after_turn()

    def _undo(self, text: str, teacher: Bubble, student: Bubble) -> None:
        teacher.remove()
        student.remove()
        teacher_input = self.query_one("#teacher-input", Input)
        if not teacher_input.value:
            teacher_input.value = text
        teacher_input.focus()

    def action_cancel_reply(self) -> None:
        if self.replying:
            self.reply_worker.cancel()

    def action_help(self) -> None:
        rows = [(b.key, b.description, b.id or "") for b in self.BINDINGS if isinstance(b, Binding)]
        self.app.push_screen(HelpScreen(rows))

    def action_feedback(self) -> None:
        if self.practice is None:
            return
        focused = self.focused
        if isinstance(focused, Bubble) and focused.role == "student":
            target = focused
        else:
            students = [b for b in self.query(Bubble) if b.role == "student" and b.turn_id]
            target = students[-1] if students else None
        if target is None or target.turn_id is None:
            self.notify("There is no finished reply to give feedback on yet.")
            return

        def save(result: FeedbackResult | None) -> None:
            if result is None:
                return
            try:
                self.practice.store.add_feedback(
                    target.turn_id,
                    flagged=result.flagged,
                    rating=result.rating,
                    rewrite=result.rewrite,
                    note=result.note,
                )
            except (ValueError, sqlite3.Error) as error:
                self.notify(str(error), title="Feedback not saved", severity="error", timeout=15)
                return
            parts = [
                f"rated {result.rating}/5" if result.rating else "",
                "flagged" if result.flagged else "",
                "rewritten" if result.rewrite else "",
            ]
            target.mark_feedback(" · ".join(p for p in parts if p) or "noted")
            self.notify("Feedback saved.")

        self.app.push_screen(FeedbackScreen(target.text), save)

    def action_brains(self) -> None:
        from tui.brain_picker import BrainPicker

        if self.practice is None:
            return
        if self.replying:
            self.notify("Wait for the reply to finish (or press Escape) before swapping.")
            return
        self.app.push_screen(BrainPicker(self.practice), self._swap_to)

    @work(exclusive=True, group="swap", exit_on_error=False)
    async def _swap_to(self, name: str | None) -> None:
        """Build the chosen brain off the event loop, then swap it in if its health check passes.

        Any failure (a down server, a malformed adapter, a missing key) is shown with its fix and
        the current brain keeps answering.
        """
        from agent.student import SwapRefused
        from tui.practice import build_brain

        if name is None or name == self.agent.brain.id:
            return
        if not self._store_ok(self.practice.ensure_session):
            return
        self._system_note(f"— asking {name} to take over… —")
        old, brain = self.agent.brain, None
        try:
            brain = await asyncio.to_thread(
                build_brain, name, self.practice.store, self.agent.persona
            )
            await self.agent.swap(brain)
        except Exception as error:  # whatever went wrong, the current brain keeps answering
            if brain is not None:
                await brain.aclose()
            reason = (
                str(error) if isinstance(error, BrainError) else f"{type(error).__name__}: {error}"
            )
            if not isinstance(error, SwapRefused):  # refused before a health check could run
                self._store_ok(lambda: self.agent.refuse_swap(name, reason))
            self._system_note(
                f"— swap to {name} refused: {reason} — {self.agent.brain.name} keeps answering —",
                error=True,
            )
            self.notify(reason, title="Swap refused", severity="error", timeout=15)
            return
        await old.aclose()  # a local model or HTTP pool must not outlive its turn
        self._show_brain()
        self._system_note(f"— now answering: {brain.name} —")
        self.notify(f"{brain.name} is answering now.", title="Brain swapped")

    def _store_ok(self, write: Callable[[], object]) -> bool:
        """Run a transcript write; on a database error say so and return False (no crash)."""
        try:
            write()
        except sqlite3.Error as error:
            self.notify(
                f"The transcript could not be written ({error}); nothing was sent. Check the "
                "disk and `utta --db`, then try again.",
                title="Database error",
                severity="error",
                timeout=20,
            )
            return False
        return True

    def _system_note(self, text: str, *, error: bool = False) -> None:
        messages = self.query_one("#messages", VerticalScroll)
        note = Bubble("system", text)
        if error:
            note.add_class("error")
        messages.mount(note)
        messages.scroll_end(animate=False)
