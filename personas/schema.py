"""The persona schema: what a simulated second-grader is made of.

A persona file is YAML validated against :class:`Persona`. Field names here are the contract
between persona authors, the student state (which misconceptions are held), the brains and the
authenticity metric, so they are documented where they are declared.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Phase = Literal["confused", "understood"]
# What a teacher's message does, as the move recognizer (agent.moves) classifies it.
MoveKind = Literal[
    "concrete_model",
    "counter_example",
    "inverse_check",
    "experiment",
    "counting_strategy",
    "telling",
    "reconsider",
    "question",
    "praise",
    "chitchat",
    "other",
]
# A move without a kind counts as any of these (effective moves) or of the ineffective ones.
TEACHING_KINDS = (
    "concrete_model",
    "counter_example",
    "inverse_check",
    "experiment",
    "counting_strategy",
)
NOT_TEACHING_KINDS = ("telling", "reconsider")
ExampleKind = Literal["on_task", "off_task", "feeling"]


class _Strict(BaseModel):
    # Unknown keys are almost always typos ("misconception" vs "misconceptions"): reject them.
    model_config = ConfigDict(extra="forbid", frozen=True)


class WordsPerTurn(_Strict):
    min: int = Field(1, ge=1, description="Shortest typical reply, in words.")
    typical: int = Field(4, ge=1, description="Median reply length, in words.")
    max: int = Field(12, ge=1, description="Longest reply the child plausibly types.")

    @model_validator(mode="after")
    def _ordered(self) -> WordsPerTurn:
        if not self.min <= self.typical <= self.max:
            raise ValueError("words_per_turn needs min <= typical <= max")
        return self


class SpeechStyle(_Strict):
    words_per_turn: WordsPerTurn = Field(default_factory=WordsPerTurn)
    spelling_habits: list[str] = Field(
        default_factory=list, description="e.g. 'writes becuz for because', 'no capitals'."
    )
    verbal_habits: list[str] = Field(
        default_factory=list, description="e.g. 'starts with um', 'joins ideas with and then'."
    )
    favourite_words: list[str] = Field(default_factory=list)


class TeacherMove(_Strict):
    """A kind of teaching move. It counts when the move recognizer says a teacher's message does
    what ``kind`` names (by meaning, not by words); ``cues`` are typical words, for people and
    for LM prompts, and never decide whether a move counts."""

    description: str = Field(min_length=1)
    kind: MoveKind | None = Field(
        None,
        description="What the message must do to count as this move (e.g. concrete_model).",
    )
    cues: list[str] = Field(
        min_length=1, description="Lower-case words or phrases typical of this move."
    )


class RuleSpec(_Strict):
    """A named answer rule from the ``utta.rules`` entry point group, with its params."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="A registered rule's name.")
    params: dict[str, Any] = Field(default_factory=dict)


class Misconception(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    belief: str = Field(min_length=1, description="What the child believes.")
    shows_as: list[str] = Field(min_length=1, description="How it shows up in answers.")
    triggers: list[str] = Field(
        min_length=1, description="Lower-case words that bring this misconception up."
    )
    ineffective_moves: list[TeacherMove] = Field(
        min_length=1,
        description="Moves that do NOT dislodge it (telling the rule, 'are you sure?').",
    )
    effective_moves: list[TeacherMove] = Field(
        min_length=1, description="Moves that do (a concrete model, a counter-example to check)."
    )
    moves_needed: int = Field(2, ge=1, le=10, description="Effective moves before it resolves.")
    rule: RuleSpec | None = Field(
        None, description="How the child answers while the misconception is held."
    )
    correct_rule: RuleSpec | None = Field(
        None, description="How the child answers once it is resolved."
    )

    @model_validator(mode="after")
    def _rules_in_pairs(self) -> Misconception:
        if (self.rule is None) != (self.correct_rule is None):
            raise ValueError("a misconception with an answer rule needs both rule and correct_rule")
        return self

    def kinds(self, effective: bool) -> frozenset[str]:
        """The move kinds that count as effective (or ineffective) moves for it."""
        moves = self.effective_moves if effective else self.ineffective_moves
        default = TEACHING_KINDS if effective else NOT_TEACHING_KINDS
        return frozenset(kind for move in moves for kind in ([move.kind] if move.kind else default))


class Topic(_Strict):
    topic: str = Field(min_length=1)
    knows: list[str] = Field(default_factory=list, description="What the child already has right.")
    misconceptions: list[Misconception] = Field(default_factory=list)


class Example(_Strict):
    """One exchange in the child's voice; the offline brain answers from these."""

    teacher: str = Field(min_length=1)
    student: str = Field(min_length=1)
    kind: ExampleKind = "on_task"
    misconception: str | None = Field(
        None, description="Id of the misconception this exchange shows, if any."
    )
    phase: Phase | None = Field(
        None, description="'confused' before the misconception is resolved, 'understood' after."
    )

    @model_validator(mode="after")
    def _phase_goes_with_misconception(self) -> Example:
        if self.misconception and self.phase is None:
            raise ValueError("an example tied to a misconception needs a phase")
        if self.phase is not None and not self.misconception:
            raise ValueError("phase is only meaningful with a misconception id")
        return self


class Persona(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Stable id used on the CLI.")
    name: str = Field(min_length=1)
    grade: int = Field(ge=1, le=5)
    age: int = Field(ge=5, le=11)
    summary: str = Field(min_length=1, description="One or two sentences a trainee reads first.")
    personality: list[str] = Field(min_length=1)
    interests: list[str] = Field(default_factory=list)
    speech: SpeechStyle = Field(default_factory=SpeechStyle)
    emotional_tendencies: list[str] = Field(default_factory=list)
    knowledge: list[Topic] = Field(min_length=1)
    examples: list[Example] = Field(min_length=25)

    @model_validator(mode="after")
    def _examples_cover_misconceptions(self) -> Persona:
        known = {m.id for m in self.misconceptions}
        for index, example in enumerate(self.examples):
            if example.misconception and example.misconception not in known:
                raise ValueError(
                    f"examples[{index}].misconception '{example.misconception}' is not a "
                    f"misconception id of this persona (known: {', '.join(sorted(known))})"
                )
        for misconception in self.misconceptions:
            phases = {e.phase for e in self.examples if e.misconception == misconception.id}
            missing = {"confused", "understood"} - phases
            if missing:
                raise ValueError(
                    f"misconception '{misconception.id}' needs examples in phase "
                    f"{' and '.join(sorted(missing))}"
                )
        return self

    @property
    def misconceptions(self) -> list[Misconception]:
        return [m for topic in self.knowledge for m in topic.misconceptions]

    def misconception(self, misconception_id: str) -> Misconception:
        for m in self.misconceptions:
            if m.id == misconception_id:
                return m
        raise KeyError(misconception_id)

    def system_prompt(self) -> str:
        """The persona as instructions for a language-model brain."""
        words = self.speech.words_per_turn
        lines = [
            f"You are {self.name}, a {self.age}-year-old in grade {self.grade}. {self.summary}",
            f"Personality: {'; '.join(self.personality)}.",
        ]
        if self.interests:
            lines.append(f"You like: {', '.join(self.interests)}.")
        lines.append(
            f"You type like a real child: usually {words.typical} words, between {words.min} "
            f"and {words.max}; short sentences, everyday words, no adult vocabulary."
        )
        habits = self.speech.spelling_habits + self.speech.verbal_habits
        if habits:
            lines.append(f"Habits: {'; '.join(habits)}.")
        if self.emotional_tendencies:
            lines.append(f"Feelings: {'; '.join(self.emotional_tendencies)}.")
        for topic in self.knowledge:
            if topic.knows:
                lines.append(f"In {topic.topic} you already know: {'; '.join(topic.knows)}.")
            for m in topic.misconceptions:
                lines.append(
                    f"You believe ({m.id}): {m.belief} It shows as: {'; '.join(m.shows_as)}."
                )
        lines.append(
            "Keep a misconception until the teacher helps you see it with a concrete model or an "
            "example you check yourself; being told the rule is not enough. Never talk like a "
            "teacher or an assistant."
        )
        return "\n".join(lines)
