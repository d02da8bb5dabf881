"""The practice chat: the teacher types, the student's reply streams in.

A view of :class:`~tui.practice.Practice`: it renders what the session streams or raises and
keeps the input the trainee's own. Text is cleared from the input only when it is sent, in the
same handler as the Enter key, so whatever is typed afterwards (while a reply or a slow database
write is under way) stays. Everything from outside (replies, errors, names) is shown as text.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input
from textual.worker import Worker, WorkerCancelled, WorkerFailed

if TYPE_CHECKING:
    from agent.student import StudentAgent
    from tui.practice import Practice

from agent.brain import BrainError
from tui.screens import FeedbackScreen, HelpScreen
from tui.session_types import Feedback, StorageError, SwapFailed, describe
from tui.widgets import BrainLine, Bubble

log = logging.getLogger(__name__)


class ChatScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "cancel_reply", "Stop reply", id="chat.cancel"),
        Binding("ctrl+f", "feedback", "Feedback", id="chat.feedback"),
        Binding("ctrl+b", "brains", "Brains", id="chat.brains"),
        Binding("ctrl+g", "discard_unsent", "Discard unsent", show=False, id="chat.discard"),
        Binding("ctrl+o", "app.sessions", "Sessions", id="chat.sessions"),
        Binding("f1", "help", "Help", id="chat.help"),
        Binding("ctrl+q", "app.quit", "Quit", id="chat.quit"),
    ]

    def __init__(self, title: str, open_practice: Callable[[], Practice], draft: str = "") -> None:
        """``open_practice`` builds the session (store, brain, agent) off the event loop, so the
        chat paints at once and heavy brains load while the trainee reads the screen. ``draft``
        starts in the input (a scenario card's opening line), to send or change."""
        super().__init__()
        self.draft = draft
        self.initial_title = title
        self.open_practice = open_practice
        self.practice: Practice | None = None
        self.load_error: Exception | None = None
        """Why the session could not start; shown again whenever the trainee tries to send."""
        self.reply_worker: Worker | None = None
        self.closing = False

    @property
    def agent(self) -> StudentAgent:
        assert self.practice is not None, "the practice session is still loading"
        return self.practice.agent

    @property
    def teacher_input(self) -> Input:
        return self.query_one("#teacher-input", Input)

    def compose(self) -> ComposeResult:
        yield Header()
        yield BrainLine(id="brain-line")
        yield VerticalScroll(id="messages")
        yield Input(placeholder="Say something to your student…", id="teacher-input")
        yield Footer()

    def on_mount(self) -> None:
        self.app.title = self.initial_title
        self.query_one(BrainLine).show("getting the student ready…")
        if self.draft:
            self.teacher_input.value = self.draft
        self.teacher_input.focus()
        self._load()

    def say(
        self, message: str, *, title: str = "", error: bool = False, timeout: float = 5
    ) -> None:
        """A notification whose text is never parsed as markup (it may quote a server)."""
        severity = "error" if error else "information"
        self.notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def focus_input(self) -> None:
        """Give the input back to the trainee (after a dialog, a failure)."""
        if not self.closing:
            self.teacher_input.focus()

    # --- loading ------------------------------------------------------------------------------

    @work(exclusive=True, group="load", exit_on_error=False)
    async def _load(self) -> None:
        try:
            practice = await asyncio.to_thread(self.open_practice)
        except Exception as error:  # a bad brain or persona must not crash the TUI
            log.exception("the practice session could not start")
            self._load_failed(error)
            return
        try:
            await practice.check_brain()  # the same health check a swap runs
        except Exception as error:
            log.exception("the starting brain failed its health check")
            self._load_failed(error)
            return
        self._loaded(practice)

    def _loaded(self, practice: Practice) -> None:
        self.practice = practice
        self._show_brain()
        messages = self.query_one("#messages", VerticalScroll)
        messages.mount_all(Bubble(t.role, t.text, turn_id=t.id) for t in practice.turns)
        if practice.unsent:
            self._give_back(practice.unsent)
            self._system_note(
                "— your last message never got a reply; it is back in the input: send it, "
                "or press Ctrl+G to discard it —"
            )
        messages.scroll_end(animate=False)

    def _load_failed(self, error: Exception) -> None:
        self.load_error = error
        self.query_one(BrainLine).problem("could not start:", describe(error))
        self.say(describe(error), title="Could not start the session", error=True, timeout=30)

    def _show_brain(self) -> None:
        persona = self.agent.persona
        self.app.title = f"Teaching {persona.name} ({persona.age})"
        self.app.sub_title = f"brain: {self.agent.brain.name}"
        self.query_one(BrainLine).show(self.agent.brain.description)

    # --- sending ------------------------------------------------------------------------------

    @property
    def replying(self) -> bool:
        return self.reply_worker is not None and self.reply_worker.is_running

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "teacher-input":
            return
        text = event.value.strip()
        if not text or self.replying:
            return  # the text stays in the input
        if self.practice is None:
            if self.load_error is not None:
                self.say(
                    f"{describe(self.load_error)} — quit (Ctrl+Q) and start again once it is fixed",
                    title="The session could not start",
                    error=True,
                    timeout=15,
                )
            else:
                self.say("The student is still getting ready; try again in a moment.")
            return
        # Cleared here, synchronously with Enter, and never again: keys typed from now on are
        # the trainee's next message.
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
            async for chunk in self.practice.send(text):
                student.append(chunk)
                messages.scroll_end(animate=False)
        except asyncio.CancelledError:
            if not self.closing:
                self._undo(text, teacher, student)
                self.say("Reply stopped; nothing of it was saved.", title="Stopped")
            raise
        except StorageError as error:
            self._undo(text, teacher, student)
            self.say(str(error), title="Storage problem: nothing was saved", error=True, timeout=20)
            return
        except Exception as error:  # any brain failure must leave the chat usable
            if not isinstance(error, BrainError):
                log.exception("unexpected error while %s replied", self.agent.brain.id)
            self._undo(text, teacher, student)
            self.say(
                describe(error), title=f"{self.agent.brain.name} failed", error=True, timeout=10
            )
            return
        turn = self.agent.last_turn
        student.text = turn.student if turn else student.text
        student.turn_id = self.practice.last_student_turn_id

    def _undo(self, text: str, teacher: Bubble, student: Bubble) -> None:
        teacher.remove()
        student.remove()
        self._give_back(text)

    def _give_back(self, text: str) -> None:
        """Put an unsent message back in the input, ahead of anything typed since, with the
        cursor at the end so typing carries on where it left off."""
        teacher_input = self.teacher_input
        typed = teacher_input.value.strip()
        teacher_input.value = f"{text} {typed}" if typed else text
        teacher_input.cursor_position = len(teacher_input.value)
        self.focus_input()

    def action_cancel_reply(self) -> None:
        if self.replying:
            self.reply_worker.cancel()

    def action_discard_unsent(self) -> None:
        if self.practice is not None and not self.replying:
            self._discard_unsent()

    @work(exclusive=True, group="store", exit_on_error=False)
    async def _discard_unsent(self) -> None:
        unsent = self.practice.unsent
        try:
            discarded = await self.practice.discard_unsent()
        except StorageError as error:
            self.say(str(error), title="Storage problem", error=True, timeout=20)
            return
        if discarded:
            if self.teacher_input.value.strip() == unsent:
                self.teacher_input.value = ""
            self.say("The unanswered message was removed from the transcript.", title="Discarded")

    async def close_session(self) -> None:
        """Quitting: a reply under way is stopped but its message is kept for resume (as a crash
        would keep it), then the session is ended, or dropped if nothing was logged."""
        self.closing = True
        if self.practice is None:
            return
        if self.replying:
            if self.practice.recorder is not None:
                self.practice.recorder.keep_unanswered = True
            self.reply_worker.cancel()
            with suppress(WorkerCancelled, WorkerFailed):  # cancelled is how it should end
                await self.reply_worker.wait()
        try:
            await self.practice.close()
        except Exception:  # quitting must work even when the disk or a brain does not
            log.exception("closing the session failed")

    # --- dialogs ------------------------------------------------------------------------------

    def action_help(self) -> None:
        rows = [(b.key, b.description, b.id or "") for b in self.BINDINGS if isinstance(b, Binding)]
        self.app.push_screen(HelpScreen(rows), lambda _: self.focus_input())

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
            self.say("There is no finished reply to give feedback on yet.")
            return

        def save(result: Feedback | None) -> None:
            self.focus_input()  # the next thing typed is a message, not lost on a bubble
            if result is not None:
                self._save_feedback(target, result)

        self.app.push_screen(FeedbackScreen(target.text), save)

    @work(group="store", exit_on_error=False)
    async def _save_feedback(self, target: Bubble, result: Feedback) -> None:
        try:
            await self.practice.give_feedback(target.turn_id, result)
        except (ValueError, StorageError) as error:
            log.warning("feedback not saved", exc_info=True)
            self.say(str(error), title="Feedback not saved", error=True, timeout=15)
            return
        target.mark_feedback(result.summary())
        self.say("Feedback saved.")

    def action_brains(self) -> None:
        if self.practice is None:
            return
        if self.replying:
            self.say("Wait for the reply to finish (or press Escape) before swapping.")
            return
        self._pick_brain()

    @work(exclusive=True, group="swap", exit_on_error=False)
    async def _pick_brain(self) -> None:
        from tui.brain_picker import BrainPicker

        try:
            brains = await self.practice.brains()
        except StorageError as error:
            self.say(str(error), title="Storage problem", error=True, timeout=20)
            return
        picker = BrainPicker(self.agent.persona.name, self.agent.brain.id, brains)
        self.app.push_screen(picker, self._picked)

    def _picked(self, name: str | None) -> None:
        self.focus_input()
        if name is not None:
            self._swap_to(name)

    @work(exclusive=True, group="swap", exit_on_error=False)
    async def _swap_to(self, name: str | None) -> None:
        """Build the chosen brain off the event loop, then swap it in if its health check passes.

        Any failure (a down server, a malformed adapter, a missing key) is shown with its fix and
        the current brain keeps answering.
        """
        if name is None or name == self.agent.brain.id:
            return
        self._system_note(f"— asking {name} to take over… —")
        try:
            brain = await self.practice.swap(name)
        except StorageError as error:
            self._system_note(f"— swap to {name} not made: {error} —", error=True)
            self.say(str(error), title="Storage problem", error=True, timeout=20)
            return
        except SwapFailed as error:
            self._system_note(f"— {error} —", error=True)
            self.say(str(error), title="Swap refused", error=True, timeout=15)
            return
        self._show_brain()
        self._system_note(f"— now answering: {brain.name} —")
        self.say(f"{brain.name} is answering now.", title="Brain swapped")

    def _system_note(self, text: str, *, error: bool = False) -> None:
        messages = self.query_one("#messages", VerticalScroll)
        note = Bubble("system", text)
        if error:
            note.add_class("error")
        messages.mount(note)
        messages.scroll_end(animate=False)
