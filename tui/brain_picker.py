"""Ctrl+B: choose another brain to answer, mid-session."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class BrainPicker(ModalScreen[str | None]):
    """Lists the brains that can answer for this persona; dismisses with the chosen name."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="brains.cancel")]

    def __init__(self, persona_name: str, current: str, brains: list[tuple[str, str]]) -> None:
        """``brains`` are (name, description) rows, read from the store by the caller."""
        super().__init__()
        self.persona_name = persona_name
        self.current = current
        self.brains = brains

    def compose(self) -> ComposeResult:
        # Brain names and kinds are whatever was saved: shown as text, never markup.
        options = [
            Option(
                Text.assemble(
                    "● " if name == self.current else "  ", (name, "bold"), "  ", (about, "dim")
                ),
                id=name,
            )
            for name, about in self.brains
        ]
        with Vertical(id="brain-dialog"):
            yield Label(
                Text.assemble(
                    (f"Brains for {self.persona_name}", "bold"), " (Enter swaps, Escape cancels)"
                )
            )
            yield OptionList(*options, id="brain-options")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
