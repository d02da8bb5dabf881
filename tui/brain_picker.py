"""Ctrl+B: choose another brain to answer, mid-session."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from tui.practice import Practice, swappable_brains


class BrainPicker(ModalScreen[str | None]):
    """Lists the brains that can answer for this persona; dismisses with the chosen name."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="brains.cancel")]

    def __init__(self, practice: Practice) -> None:
        super().__init__()
        self.practice = practice

    def compose(self) -> ComposeResult:
        current = self.practice.agent.brain.id
        persona = self.practice.agent.persona
        options = [
            Option(
                f"{'● ' if name == current else '  '}[b]{escape(name)}[/b]  "
                f"[dim]{escape(about)}[/dim]",
                id=name,
            )
            for name, about in swappable_brains(self.practice.store, persona)
        ]
        with Vertical(id="brain-dialog"):
            yield Label(f"[b]Brains for {escape(persona.name)}[/b] (Enter swaps, Escape cancels)")
            yield OptionList(*options, id="brain-options")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
