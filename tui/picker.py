"""The persona picker: who to teach, and for the highlighted persona, "resume your last session"
and one scenario card per misconception (a task and an opening line to use or change)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from personas.scenarios import ScenarioCard, scenario_cards
from personas.schema import Persona

if TYPE_CHECKING:
    from transcripts.records import SessionRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Choice:
    """What the trainee picked: a persona, maybe with an opening line, or a session to resume."""

    persona_id: str
    resume: int | None = None
    opening_line: str = ""


class PersonaPicker(Screen[Choice | None]):
    """Choose the student to teach. ``load_recent`` (run off the event loop) returns the
    trainee's latest session per persona id, for the "resume" line."""

    BINDINGS = [
        Binding("escape", "app.quit", "Quit", id="picker.quit"),
        Binding("ctrl+o", "app.sessions", "Sessions", id="picker.sessions"),
    ]

    def __init__(
        self,
        personas: list[Persona],
        problems: list[str],
        load_recent: Callable[[], dict[str, SessionRow]] | None = None,
    ) -> None:
        super().__init__()
        self.personas = personas
        self.problems = problems
        self.load_recent = load_recent
        self.recent: dict[str, SessionRow] = {}
        self.cards: dict[str, ScenarioCard] = {}

    def compose(self) -> ComposeResult:
        yield Static("[b]Who are you teaching today?[/b]", id="picker-title")
        # Persona fields come from YAML files anyone may write: shown as text, never markup.
        yield OptionList(
            *[
                Option(
                    Text.assemble(
                        (p.name, "bold"),
                        f", {p.age} — {', '.join(t.topic for t in p.knowledge)}\n  ",
                        (p.summary, "dim"),
                    ),
                    id=p.id,
                )
                for p in self.personas
            ],
            id="personas",
        )
        yield Static("", id="picker-extras-title")
        yield OptionList(id="picker-extras")
        for problem in self.problems:
            yield Static(Text.assemble(("skipped: ", "red"), problem), classes="problem")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#personas", OptionList).focus()
        if self.personas:
            self._show_extras(self.personas[0])
        if self.load_recent is not None:
            self._load_recent()

    @work(exclusive=True, group="recent", exit_on_error=False)
    async def _load_recent(self) -> None:
        try:
            self.recent = await asyncio.to_thread(self.load_recent)
        except Exception:  # the picker works without it; the browser reports store problems
            log.exception("could not read the latest sessions")
            return
        self._show_extras(self.highlighted_persona)

    @property
    def highlighted_persona(self) -> Persona | None:
        options = self.query_one("#personas", OptionList)
        index = options.highlighted
        return self.personas[index] if index is not None and self.personas else None

    def _show_extras(self, persona: Persona | None) -> None:
        extras = self.query_one("#picker-extras", OptionList)
        extras.clear_options()
        self.cards = {}
        if persona is None:
            return
        self.query_one("#picker-extras-title", Static).update(
            Text.assemble(("Or start with ", ""), (persona.name, "bold"), ":")
        )
        last = self.recent.get(persona.id)
        if last is not None:
            when = last.started_at[:16].replace("T", " ")
            extras.add_option(
                Option(
                    Text.assemble(
                        (f"Resume your last session with {persona.name}", "bold"),
                        f" ({when}, {last.turn_count} turns)",
                    ),
                    id=f"resume:{last.id}",
                )
            )
        for card in scenario_cards(persona):
            key = f"card:{card.misconception_id}"
            self.cards[key] = card
            extras.add_option(
                Option(
                    Text.assemble(
                        (f"Scenario: {card.topic}", "bold"),
                        f" — {card.belief}\n  ",
                        (f"Task: {card.task}\n  ", "dim"),
                        ("Opening line: ", "italic"),
                        card.opening_line,
                    ),
                    id=key,
                )
            )

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "personas":
            self._show_extras(self.highlighted_persona)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ""
        if event.option_list.id == "personas":
            self.dismiss(Choice(option_id))
            return
        persona = self.highlighted_persona
        if persona is None:
            return
        if option_id.startswith("resume:"):
            self.dismiss(Choice(persona.id, resume=int(option_id.removeprefix("resume:"))))
        elif option_id in self.cards:
            self.dismiss(Choice(persona.id, opening_line=self.cards[option_id].opening_line))
