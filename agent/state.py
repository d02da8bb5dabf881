"""The student state: which misconceptions are still held, how the child feels, which teaching
move counted last and what the child would answer now.

State is rule-based and brain-independent so it survives brain swaps and session resume: it is
stored with every completed student turn and rebuilt from there. Teaching moves count by what the
message does, as the move recognizer (:mod:`agent.moves`) classifies it, never by cue words; the
answer comes from the misconception's answer rule (:mod:`agent.child`).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from agent.child.reader import read_question
from agent.child.think import Answer, think
from personas.schema import TEACHING_KINDS, Misconception, Persona

Mood = Literal["happy", "ok", "frustrated", "bored"]

_PRAISE = re.compile(r"\b(great|good job|well done|nice|awesome|you got it|excellent|proud)\b")
# A teacher message this long reads as a lecture to a seven-year-old.
_LECTURE_WORDS = 45
# A problem put up to be checked, as opposed to merely asked.
_CHECK = re.compile(
    r"\b(check|true or false|is (?:it|that|this) true|see if|does (?:it|that|this) work|prove|"
    r"test|compare|what if|would that|true|false)\b"
)
# A sentence that tells the child to do something: then a story problem comes with an activity.
_ASKS_TO_DO = re.compile(
    r"(?:^|[.!?:]\s+)(?:(?:now|then|next|first|ok|okay|so|and|alright|great|good|this time)"
    r",?\s+)?(?:let's|lets|let us|make|show|build|use|grab|put|take|count|draw|give|start|"
    r"begin|line|lay|try|check|add|hold|get|pick|drop|shine|spin|turn|trace|change|compare|"
    r"swap|trade|look|watch|see|find|work|pretend|imagine|picture|measure|slide|tape|stand|"
    r"weigh|grow|keep|jump|hop|skip|move|split|break|cut|fill|bundle|group|stack|match|point|"
    r"circle|write|read|say|tell|think|listen|feel|push|roll|here is|here are|here's)\b",
    re.IGNORECASE,
)
# "We can put a plant in a pot...", "you could trade...": a shared activity, also something to do.
_WE_DO = re.compile(
    r"(?:^|[.!?]\s+)(?:we|you|let's|lets)\s+(?:can|could|will|should|are going to|'ll|might)\b",
    re.IGNORECASE,
)
# Talk about the teacher's or someone's life: chit-chat whatever objects it names.
_PERSONAL = re.compile(
    r"\b(at (?:my|her|his|your|their|our) (?:house|home|place)|at home|in (?:my|her|his|your) "
    r"room|my (?:cousin|brother|sister|mom|dad|mother|father|family|friend|son|daughter|kids|"
    r"grandma|grandpa|uncle|aunt|dog|cat)|last (?:night|week|weekend|summer)|on the weekend|"
    r"when i was|at recess|for lunch|at dinner|birthday|do you (?:like|ever)|"
    r"your (?:favorite|favourite))\b",
    re.IGNORECASE,
)
# Above this confidence the recognizer's teaching verdict stands even for a plain statement.
_SURE_TEACHING = 0.7
_SENTENCE_END = re.compile(r"[.!?]\s+(?=\S)")
# Below this recognizer confidence a message counts as no move at all (11 kinds: a chance-level
# verdict is ~0.1, a clear one above 0.6).
MIN_MOVE_CONFIDENCE = 0.35


def _mentions(text: str, cues: list[str]) -> bool:
    """True when a cue starts a word in ``text`` ("block" matches "blocks", not "unblock")."""
    lowered = text.lower().replace("\u2019", "'")  # phones and Macs type curly apostrophes
    return any(
        re.search(r"(?<![a-z0-9])" + re.escape(cue.lower().strip()), lowered)
        for cue in cues
        if cue.strip()
    )


def _gives_nothing_to_do(message: str, verdict: Any) -> bool:
    """A teaching move gives the child something to do, look at or answer. Talk about someone's
    life ("my cousin keeps a box of sticks at her house", "do you play with cubes at recess?")
    is chit-chat; a statement with no question and no request is a remark unless the recognizer
    is sure it is teaching (a demonstration: "here I have 5 ten-rods and 2 cubes")."""
    if _ASKS_TO_DO.search(message) or _WE_DO.search(message):
        return False
    if _PERSONAL.search(message) and read_question(message) is None:
        return True  # about someone's life, not the problem: chit-chat, even as a question
    return verdict.confidence < _SURE_TEACHING and "?" not in message


def classify(message: str) -> Any:
    """The move recognizer's verdict on ``message`` (loaded lazily on the first call)."""
    from agent.moves import classify_move

    return classify_move(message)


@dataclass(frozen=True)
class _Reread:
    """A recognizer verdict read as another kind of move (see ``after_teacher``): a posed
    problem as a question, a stated answer as telling, a remark as nothing countable."""

    original: Any
    kind: str
    why: str
    min_confidence: float = 0.0

    @property
    def confidence(self) -> float:
        return max(self.original.confidence, self.min_confidence)


@dataclass(frozen=True)
class MisconceptionState:
    held: bool = True
    effective_moves: int = 0
    ineffective_moves: int = 0


@dataclass(frozen=True)
class LastMove:
    """What the teacher's latest message did, and whether it counted for a misconception."""

    misconception: str | None
    kind: str
    counted: bool
    why: str
    effect: str | None = None
    """``effective``, ``ineffective`` or ``None`` (did not count)."""


@dataclass(frozen=True)
class StudentState:
    misconceptions: dict[str, MisconceptionState] = field(default_factory=dict)
    mood: Mood = "ok"
    active: str | None = None
    """The misconception the conversation is on, if any."""
    turns: int = 0
    answer: Answer | None = None
    """What the child would answer to the teacher's latest message, and why."""
    last_move: LastMove | None = None
    last_question: str | None = None
    """The latest problem the teacher posed, for "why?" and "are you sure?" that follow it."""

    @classmethod
    def initial(cls, persona: Persona) -> StudentState:
        return cls(misconceptions={m.id: MisconceptionState() for m in persona.misconceptions})

    def holds(self, misconception_id: str) -> bool:
        entry = self.misconceptions.get(misconception_id)
        return entry.held if entry else True

    def after_teacher(self, persona: Persona, message: str) -> StudentState:
        """The state once the child has heard ``message``: a pure function, nothing is stored."""
        first_look = think(
            persona, self.holds, message, active=self.active, previous=self.last_question
        )
        touched = first_look.misconception if first_look else None
        active = touched or self._topic_of(persona, message) or self.active
        entries = dict(self.misconceptions)
        mood: Mood = "ok" if self.mood == "happy" else self.mood
        verdict = classify(message)
        posed = read_question(message)
        story = posed is not None and bool(posed.get("story")) and not _ASKS_TO_DO.search(message)
        if (
            verdict.kind in TEACHING_KINDS
            and posed is not None  # the message itself poses a problem (not "so what now?")
            and (
                verdict.kind == "counter_example"
                or story
                or self._first_or_again(persona, first_look)
            )
            and self._poses_known_problem(persona, first_look)
        ):
            # Posing a problem (the topic's first, the same again, a story problem, or a plain
            # new one) is asking, not teaching and not a case against a stated answer.
            why = f"it poses the problem itself, not a case against a stated answer ({verdict.why})"
            verdict = _Reread(verdict, "question", why)
        elif verdict.kind in TEACHING_KINDS and self._states_the_answer(message):
            why = f"it states the answer without giving the child anything to do ({verdict.why})"
            verdict = _Reread(verdict, "telling", why, min_confidence=MIN_MOVE_CONFIDENCE)
        elif verdict.kind in TEACHING_KINDS and _gives_nothing_to_do(message, verdict):
            why = (
                "a remark that gives the child nothing to do, look at or answer "
                f"({verdict.kind}?: {verdict.why})"
            )
            verdict = _Reread(verdict, "other", why)
        last_move = LastMove(None, verdict.kind, False, verdict.why)
        if active is not None:
            misconception = persona.misconception(active)
            entry = entries.get(active, MisconceptionState())
            entries[active], last_move = self._apply_move(misconception, entry, verdict)
            if entry.held and not entries[active].held:
                mood = "happy"
            elif entries[active].ineffective_moves > entry.ineffective_moves:
                mood = "frustrated" if entries[active].ineffective_moves >= 2 else mood
        if _PRAISE.search(message.lower()):
            mood = "happy"
        elif len(message.split()) > _LECTURE_WORDS:
            mood = "bored"
        moved = replace(self, misconceptions=entries, mood=mood, active=active)
        answer = think(persona, moved.holds, message, active=active, previous=self.last_question)
        resolved = active is not None and self.holds(active) and not moved.holds(active)
        if answer is None and resolved and self.last_question:
            # the moment it clicks: the child sees the last problem the right way
            again = think(persona, moved.holds, self.last_question, active=active)
            if again is not None and again.misconception == active:
                answer = replace(again, mode="realize")
        asked = answer.question if answer is not None else self.last_question
        return replace(
            moved, turns=self.turns + 1, answer=answer, last_move=last_move, last_question=asked
        )

    def _states_the_answer(self, message: str) -> bool:
        """Whether the message just states the right answer to the problem on the table: a
        statement (no question, nothing for the child to do) that contains it is telling."""
        answer = self.answer
        if answer is None or not answer.correct_value or answer.correct_value == answer.value:
            return False
        if not answer.correct_value.isdigit() and len(answer.correct_value.split()) < 2:
            return False  # a single word ("dime") is named in teaching too, not only in telling
        if "?" in message or _ASKS_TO_DO.search(message):
            return False
        pattern = rf"(?<![\w]){re.escape(answer.correct_value.lower())}(?![\w])"
        return re.search(pattern, message.lower().replace("\u2019", "'")) is not None

    def _first_or_again(self, persona: Persona, answer: Answer | None) -> bool:
        """Whether the message poses its topic's first problem, or the last problem again."""
        if answer is None or answer.mode != "answer" or answer.misconception is None:
            return False
        if self.last_question is None:
            return True
        if answer.question.strip().lower() == self.last_question.strip().lower():
            return True
        before = think(persona, self.holds, self.last_question, active=self.active)
        return before is None or before.misconception != answer.misconception

    def _poses_known_problem(self, persona: Persona, answer: Answer | None) -> bool:
        """Whether the message only poses a problem of the misconception, rather than putting up
        a case for the child to check against what it said: a new problem asked plainly ("Is 98
        bigger than 102?"), or the last one again, is a question, not a counter-example."""
        if answer is None or answer.mode != "answer" or answer.misconception is None:
            return False
        if self._first_or_again(persona, answer):
            return True
        text = answer.question.lower()
        if _CHECK.search(text) or len(_SENTENCE_END.findall(text.strip(" .!?"))) > 0:
            return False  # put up to be checked, or the problem comes with something to do
        said = self.answer.value if self.answer is not None else None
        return not (said and re.search(rf"(?<![\w]){re.escape(said.lower())}(?![\w])", text))

    def _topic_of(self, persona: Persona, message: str) -> str | None:
        """The misconception a message without a problem in it is about. Its triggers decide at
        the start; later the topic stays unless the message names another one clearly (two of
        its triggers, none of the current one's), since teaching moves are about the problem on
        the table even when they share a word with another topic ("the same length")."""
        hits = {
            m.id: sum(_mentions(message, [trigger]) for trigger in m.triggers)
            for m in persona.misconceptions
        }
        best = max(hits.values(), default=0)
        if best == 0:
            return None
        leader = next(key for key, count in hits.items() if count == best)
        if self.active is None:
            return leader
        if hits.get(self.active, 0) == 0 and best >= 2:
            return leader
        return self.active

    @staticmethod
    def _apply_move(
        misconception: Misconception, entry: MisconceptionState, verdict: Any
    ) -> tuple[MisconceptionState, LastMove]:
        kind, why = verdict.kind, verdict.why
        confident = verdict.confidence >= MIN_MOVE_CONFIDENCE
        if confident and entry.held and kind in misconception.kinds(effective=True):
            count = entry.effective_moves + 1
            updated = replace(entry, effective_moves=count, held=count < misconception.moves_needed)
            reason = f"{kind} is an effective move for {misconception.id} ({why})"
            return updated, LastMove(misconception.id, kind, True, reason, "effective")
        if confident and entry.held and kind in misconception.kinds(effective=False):
            updated = replace(entry, ineffective_moves=entry.ineffective_moves + 1)
            reason = f"{kind} does not change {misconception.id} ({why})"
            return updated, LastMove(misconception.id, kind, True, reason, "ineffective")
        if not entry.held:
            reason = f"{misconception.id} is already resolved ({why})"
        elif not confident:
            reason = f"not sure what the message does ({why})"
        else:
            reason = f"{kind} is not a teaching move for {misconception.id} ({why})"
        return entry, LastMove(misconception.id, kind, False, reason)

    def describe(self, persona: Persona) -> str:
        """The state as sentences for a language-model brain's system prompt: what the child
        believes, how it feels, and what it would answer to the teacher's message and why."""
        parts = [f"Right now you feel {self.mood}."]
        for m in persona.misconceptions:
            if self.holds(m.id):
                parts.append(f"You still believe: {m.belief}")
            else:
                parts.append(f"You now understand what was wrong with: {m.belief}")
        answer = self.answer
        if answer is not None:
            if answer.mode == "explain":
                parts.append(
                    f"The teacher asks how you got {answer.value}; explain it your way: "
                    f"{answer.says or answer.why}."
                )
            elif answer.value is None:
                parts.append("You do not know the answer to this; say so or guess, briefly.")
            elif answer.mode == "realize":
                parts.append(
                    f"What the teacher just showed you makes it click: the answer to the last "
                    f"problem is {answer.value} ({answer.why}). Say so, surprised, in a few words."
                )
            else:
                because = (
                    f"because you still believe it ({answer.why})"
                    if answer.held and answer.misconception
                    else f"({answer.why})"
                )
                parts.append(f"Your answer to the teacher's question is {answer.value} {because}.")
                if answer.held and answer.correct_value and answer.correct_value != answer.value:
                    parts.append(
                        f"Say {answer.value}, not {answer.correct_value}: you do not see the "
                        "right answer yet."
                    )
        if self.last_move is not None and self.last_move.counted:
            parts.append(f"What the teacher just did: {self.last_move.why}.")
        parts.append("Never repeat one of your last five replies word for word.")
        return " ".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> StudentState:
        last_move = data.get("last_move")
        return cls(
            misconceptions={
                key: MisconceptionState(**value)
                for key, value in data.get("misconceptions", {}).items()
            },
            mood=data.get("mood", "ok"),
            active=data.get("active"),
            turns=data.get("turns", 0),
            answer=Answer.from_dict(data.get("answer")),
            last_move=LastMove(**last_move) if last_move else None,
            last_question=data.get("last_question"),
        )
