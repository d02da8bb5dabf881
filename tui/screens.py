"""Screens around the chat: persona picker, feedback form, help."""

from __future__ import annotations

from dataclasses import dataclass

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Input,
    Label,
    OptionList,
    RadioButton,
    RadioSet,
    Static,
)
from textual.widgets.option_list import Option

from personas.schema import Persona


class PersonaPicker(Screen[str]):
    """Choose the student to teach. Dismisses with the persona id."""

    BINDINGS = [Binding("escape", "app.quit", "Quit", id="picker.quit")]

    def __init__(self, personas: list[Persona], problems: list[str]) -> None:
        super().__init__()
        self.personas = personas
        self.problems = problems

    def compose(self) -> ComposeResult:
        yield Static("[b]Who are you teaching today?[/b]", id="picker-title")
        yield OptionList(
            *[
                Option(
                    f"[b]{escape(p.name)}[/b], {p.age} — "
                    f"{escape(', '.join(t.topic for t in p.knowledge))}\n"
                    f"  [dim]{escape(p.summary)}[/dim]",
                    id=p.id,
                )
                for p in self.personas
            ],
            id="personas",
        )
        for problem in self.problems:
            yield Static(f"[red]skipped:[/red] {escape(problem)}", classes="problem")
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


@dataclass(frozen=True)
class FeedbackResult:
    flagged: bool
    rating: int | None
    rewrite: str | None
    note: str | None


class FeedbackScreen(ModalScreen[FeedbackResult | None]):
    """Rate a student turn, flag it as unrealistic, or say what a real child would say."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="feedback.cancel")]

    def __init__(self, student_text: str) -> None:
        super().__init__()
        self.student_text = student_text

    def compose(self) -> ComposeResult:
        with Vertical(id="feedback-dialog"):
            yield Label("[b]Feedback on:[/b] " + escape(self.student_text))
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

    def _result(self) -> FeedbackResult:
        pressed = self.query_one("#rating", RadioSet).pressed_button
        rating = int(str(pressed.label)) if pressed is not None else None
        rewrite = self.query_one("#rewrite", Input).value.strip() or None
        note = self.query_one("#note", Input).value.strip() or None
        flagged = self.query_one("#flagged", Checkbox).value
        return FeedbackResult(flagged, rating, rewrite, note)


KEYMAP_HINT = 'keymap.json in the data directory, e.g. {"chat.feedback": "ctrl+r"}'
HELP_TEXT = """\
[b]Teaching the student[/b]
Type a message and press Enter. The reply streams in; Escape stops it and puts
your message back in the input, and nothing of that exchange is logged.

[b]Feedback[/b]
Ctrl+F gives feedback on the latest reply. To rate an earlier one, Tab or click
to focus it, then press Ctrl+F. Rate 1–5, flag it as unrealistic, or write what
a real seven-year-old would say: approved and rewritten turns teach future brains.

[b]Brains[/b]
The header names the brain answering. Ctrl+B lists the brains you can swap in;
the conversation and what the student has learned carry over.

[b]Your data[/b]
Every finished turn is saved the moment it appears. `utta sessions list` shows
your sessions; `utta chat --resume ID` continues one.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("q", "close", "Close", show=False, id="help.close-q"),
    ]

    def __init__(self, bindings: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.key_rows = bindings

    def compose(self) -> ComposeResult:
        keys = "\n".join(
            f"  [b]{escape(key):<10}[/b] {escape(text)}  [dim]({binding_id})[/dim]"
            for key, text, binding_id in self.key_rows
        )
        with Vertical(id="help-dialog"):
            yield Static(
                HELP_TEXT
                + "\n[b]Keys[/b] (rebind by id in keymap.json in the data directory)\n"
                + keys
            )
            yield Button("Close", id="close-help")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
