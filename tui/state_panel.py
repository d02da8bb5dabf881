"""The live side panel with the child's state, and the chat's debrief keys.

:class:`DebriefHooks` is mixed into the chat screen so the chat needs only a few lines: its
bindings, the panel in ``compose`` and a :meth:`DebriefHooks.after_turn` call once the session is
loaded and after each reply. The panel is off by default (practice mode shows it on Ctrl+T).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual.binding import Binding
from textual.widgets import Static

if TYPE_CHECKING:
    from personas.schema import Persona
    from tui.practice import Practice

DEBRIEF_BINDINGS = [
    Binding("ctrl+r", "debrief", "Debrief", id="chat.debrief"),
    Binding("ctrl+t", "toggle_state_panel", "Child's state", id="chat.state_panel"),
]


def describe_state(persona: Persona, state: dict[str, Any]) -> str:
    """The state as Rich markup: mood, topic, each misconception, the answer and last move."""
    lines = [f"[b]{escape(persona.name)}'s state[/b]", f"mood: {escape(str(state.get('mood')))}"]
    if state.get("active"):
        lines.append(f"on: {escape(state['active'])}")
    lines.append("")
    for misconception in persona.misconceptions:
        entry = state.get("misconceptions", {}).get(misconception.id, {})
        held = entry.get("held", True)
        mark = "[red]● held[/red]" if held else "[green]○ resolved[/green]"
        lines.append(f"{mark} {escape(misconception.id)}")
        lines.append(
            f"   counted {entry.get('effective_moves', 0)}/{misconception.moves_needed}, "
            f"not {entry.get('ineffective_moves', 0)}"
        )
    answer = state.get("answer")
    if answer:
        value = answer.get("value")
        said = "does not know" if value is None else escape(str(value))
        lines += ["", f"would answer: {said}"]
        if answer.get("correct_value") is not None:
            lines.append(f"right answer: {escape(str(answer['correct_value']))}")
        if answer.get("why"):
            lines.append(f"[dim]{escape(str(answer['why']))}[/dim]")
    move = state.get("last_move")
    if move:
        effect = move.get("effect")  # the child model's: effective, ineffective or none
        if effect == "ineffective":
            verdict = "did not help"
        else:
            verdict = "counted" if move.get("counted") else "did not count"
        lines += ["", f"last move: {escape(str(move.get('kind')))}, {verdict}"]
        if move.get("why"):
            lines.append(f"[dim]{escape(str(move['why']))}[/dim]")
    return "\n".join(lines)


def _load_debrief() -> None:
    """Import the debrief's modules and load its talk-move model (off the UI thread)."""
    import rich.markdown  # noqa: F401  (the debrief screen renders with it)

    import tui.debrief_screen  # noqa: F401
    from trainers.debrief import compute, render  # noqa: F401
    from trainers.debrief.talk_moves import classifier

    classifier()


class StatePanel(Static):
    """The child's state, docked at the right of the chat; hidden until toggled."""

    DEFAULT_CSS = """
    StatePanel {
        dock: right;
        width: 36;
        height: 1fr;
        padding: 0 1;
        border-left: tall $accent;
        background: $surface;
        display: none;
    }
    """

    def show_state(self, persona: Persona, state: dict[str, Any]) -> None:
        self.text = describe_state(persona, state)
        self.update(self.text)


class DebriefHooks:
    """Ctrl+R (debrief now) and Ctrl+T (the state panel) for a screen with a ``practice``."""

    practice: Practice | None

    def action_debrief(self) -> None:
        from tui.debrief_screen import DebriefScreen, session_debrief

        debrief = session_debrief(self.practice) if self.practice else None
        if debrief is None:
            self.notify("Nothing to debrief yet: send the first message.")  # type: ignore[attr-defined]
            return
        self.app.push_screen(DebriefScreen(debrief, quitting=False))  # type: ignore[attr-defined]

    def action_toggle_state_panel(self) -> None:
        panel = self.query_one(StatePanel)  # type: ignore[attr-defined]
        panel.display = not panel.display
        self.refresh_state_panel()

    _debrief_warmed = False

    def after_turn(self) -> None:
        """Follow the new state in the panel; load the debrief's code and model in the
        background once, so the debrief on Ctrl+R or on quit does not wait for them."""
        self.refresh_state_panel()
        if not self._debrief_warmed and self.practice is not None:
            self._debrief_warmed = True
            self.run_worker(_load_debrief, thread=True, exit_on_error=False)  # type: ignore[attr-defined]

    def refresh_state_panel(self) -> None:
        panel = self.query_one(StatePanel)  # type: ignore[attr-defined]
        if self.practice is None or not panel.display:
            return
        agent = self.practice.agent
        panel.show_state(agent.persona, agent.state.to_dict())
