"""Chat widgets: message bubbles and the brain status line."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class Bubble(Static):
    """One turn of the conversation. Student bubbles can be focused to give feedback on them."""

    def __init__(self, role: str, text: str = "", *, turn_id: int | None = None) -> None:
        super().__init__(classes=role, markup=False)
        self.role = role
        self.text = text
        self.turn_id = turn_id
        self.can_focus = role == "student"

    def on_mount(self) -> None:
        self.update(self.text or "…")

    def append(self, chunk: str) -> None:
        self.text += chunk
        self.update(self.text)

    def mark_feedback(self, summary: str) -> None:
        self.border_subtitle = summary


class BrainLine(Static):
    """Which brain is answering, and what kind of brain that is."""

    def show(self, description: str) -> None:
        self.update(Text(description))  # a brain's description may quote a server: never markup

    def problem(self, what: str, detail: str) -> None:
        self.update(Text.assemble((what, "red"), " ", detail))
