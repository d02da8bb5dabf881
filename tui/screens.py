"""Screens around the chat: feedback form, help. (The persona picker is in :mod:`tui.picker`.)"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Static,
)

from tui.session_types import Feedback


class FeedbackScreen(ModalScreen[Feedback | None]):
    """Rate a student turn, flag it as unrealistic, or say what a real child would say."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="feedback.cancel")]

    def __init__(self, student_text: str) -> None:
        super().__init__()
        self.student_text = student_text

    def compose(self) -> ComposeResult:
        with Vertical(id="feedback-dialog"):
            yield Label(Text.assemble(("Feedback on: ", "bold"), self.student_text))
            yield Checkbox("Unrealistic for a 7-year-old", id="flagged")
            yield Label("How real did it sound? (1 = not at all, 5 = just like a child)")
            with RadioSet(id="rating"):
                for value in range(1, 6):
                    yield RadioButton(str(value), id=f"rating-{value}")
            yield Input(placeholder="What would a real child say? (optional)", id="rewrite")
            yield Input(placeholder="Note (optional)", id="note")
            with Horizontal(id="feedback-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.dismiss(self._result())
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(self._result())

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _result(self) -> Feedback:
        pressed = self.query_one("#rating", RadioSet).pressed_button
        rating = int(str(pressed.label)) if pressed is not None else None
        rewrite = self.query_one("#rewrite", Input).value.strip() or None
        note = self.query_one("#note", Input).value.strip() or None
        flagged = self.query_one("#flagged", Checkbox).value
        return Feedback(flagged, rating, rewrite, note)


KEYMAP_HINT = 'keymap.json in the data directory, e.g. {"chat.feedback": "ctrl+r"}'
# One string per paragraph: the dialog wraps them to its width (hard breaks left orphan words).
HELP_PARAGRAPHS = (
    "[b]Teaching the student[/b]\n"
    "Type a message and press Enter. The reply streams in; Escape stops it and puts your "
    "message back in the input, and nothing of that exchange is logged. You can type your next "
    "message while a reply streams.",
    "[b]Feedback[/b]\n"
    "Ctrl+F gives feedback on the latest reply. To rate an earlier one, Tab or click to focus "
    "it, then press Ctrl+F. Rate 1–5, flag it as unrealistic, or write what a real "
    "seven-year-old would say: approved and rewritten turns teach future brains.",
    "[b]Brains[/b]\n"
    "The header names the brain answering. Ctrl+B lists the brains you can swap in; the "
    "conversation and what the student has learned carry over.",
    "[b]Your data[/b]\n"
    "Every finished turn is saved the moment it appears. Ctrl+O opens your sessions: search "
    "them, open one, resume, rename, delete, export as Markdown or keep one out of training "
    "(`utta sessions list` and `utta chat --resume ID` do it from the shell). A message that "
    "never got its reply (a crash, quitting mid-reply) stays saved and comes back in the input "
    "when you resume: send it, or press Ctrl+G to discard it.",
)
HELP_TEXT = "\n\n".join(HELP_PARAGRAPHS) + "\n"


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("q", "close", "Close", show=False, id="help.close-q"),
    ]

    def __init__(self, bindings: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.key_rows = bindings

    def compose(self) -> ComposeResult:
        text = Text.from_markup(HELP_TEXT)
        text.append("\n")
        text.append("Keys\n", "bold")
        text.append(f"Rebind a key by its id in {KEYMAP_HINT}.\n\n")
        for key, description, binding_id in self.key_rows:  # keys may come from a user keymap
            text.append(f"  {key:<10} ", "bold")
            text.append(description)
            text.append(f"  ({binding_id})\n", "dim")
        with Vertical(id="help-dialog"):
            with VerticalScroll(id="help-scroll"):  # a small terminal scrolls instead of cutting
                yield Static(text, id="help-text")
            yield Button("Close", id="close-help")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
