"""Saying the computed answer in the persona's voice (used by the offline brain).

The voice is read from the persona file, not written per persona: the openers it quotes in its
verbal habits ("um", "oh oh", "i know"), whether it ends guesses with a question mark, its
favourite words, its spelling habits (no capitals, no apostrophes, "becuz") and its words per
turn. Every reply carries the answer itself, so what the child says is what it thinks.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from agent.child.think import Answer
from personas.schema import Persona

# Bare replies a real child repeats without it being a loop.
REPEATABLE = frozenset({"ok", "yes", "no", "idk"})
_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”")
_NOT_OPENERS = frozenset({"ok", "sorry"})


def normalized(reply: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", reply.lower()).strip()


def is_repeat(reply: str, recent: Sequence[str]) -> bool:
    """Whether ``reply`` repeats one of ``recent`` (bare ok/yes/no/idk may repeat)."""
    key = normalized(reply)
    if key in REPEATABLE:
        return False
    return any(normalized(previous) == key for previous in recent)


def first_fresh(lines: Sequence[str], recent: Sequence[str]) -> str | None:
    """The first of ``lines`` said in none of ``recent``; failing that, the first bare reply
    (ok/yes/no/idk) a child may well say again; ``None`` when every line would be a loop. A bare
    reply early in a list therefore no longer hides the lines after it."""
    said = {normalized(previous) for previous in recent}
    fresh = next((line for line in lines if normalized(line) not in said), None)
    return fresh or next((line for line in lines if not is_repeat(line, recent)), None)


@dataclass(frozen=True)
class Voice:
    openers: tuple[str, ...]
    question_mark: bool
    fillers: tuple[str, ...]
    max_words: int
    typical_words: int
    lowercase: bool
    drop_apostrophes: bool
    because: str

    @classmethod
    def of(cls, persona: Persona) -> Voice:
        habits = persona.speech.verbal_habits
        openers: list[str] = []
        for habit in habits:
            if re.search(r"\bstart|\bbegin|\bopen", habit):
                for match in _QUOTED.finditer(habit):
                    phrase = (match.group(1) or match.group(2)).strip().lower()
                    if phrase not in _NOT_OPENERS and len(phrase.split()) <= 3:
                        openers.append(phrase)
        question_mark = any(re.search(r"question mark|\?\"|\?\)", h) for h in habits)
        spelling = " ".join(persona.speech.spelling_habits).lower()
        fillers = tuple(
            w for w in persona.speech.favourite_words if w.lower() not in REPEATABLE | {"um"}
        )
        words = persona.speech.words_per_turn
        return cls(
            openers=tuple(openers) or ("um",),
            question_mark=question_mark,
            fillers=fillers,
            max_words=words.max,
            typical_words=words.typical,
            lowercase="capital" in spelling,
            drop_apostrophes="apostrophe" in spelling,
            because="becuz" if "becuz" in spelling else "because",
        )

    def spell(self, text: str) -> str:
        if self.lowercase:
            text = text.lower()
        if self.drop_apostrophes:
            text = text.replace("'", "").replace("\u2019", "")
        return re.sub(r"\bbecause\b", self.because, text)

    def candidates(self, answer: Answer) -> list[str]:
        """Ways to say ``answer``, the persona's most typical first."""
        value, says = answer.value, answer.says
        opener = self.openers[0]
        if answer.mode == "explain" and value is not None:
            lines = [
                says,
                f"{self.because} {says}",
                f"{says}. so {value}",
                f"i did {says}",
                f"{value} {self.because} {says}",
                f"{opener} {says}",
            ]
        elif answer.mode == "realize" and value is not None:
            lines = [
                f"oh {value}",
                f"ohh its {value}",
                f"wait {value}!",
                f"oh. {says}",
                f"oh so its {value}",
            ]
        elif value is None:
            lines = [
                "idk",
                "wat?",
                f"{opener} idk",
                "i dont know",
                "idk thats hard",
                "i dont know that one",
                "no idea",
            ]
        elif answer.mode == "guess":
            lines = [f"{opener} {value}?", f"{value}?", f"{value} i think", f"maybe {value}?"]
        elif value in ("yes", "no", "true", "false") and says:
            lines = [f"{value} {says}", value, f"{opener} {value}", f"{value}. {says}"]
        elif value.split()[0] in ("yes", "no"):  # "yes its fine it has dirt": no "its" before it
            lines = [value, f"{opener} {value}", f"{value}. {says}", f"{value}!", f"um {value}"]
        elif answer.held and answer.misconception:
            # sure of the wrong idea: short, and the way the child explains it comes later
            unsure = f"{value}?" if self.question_mark else value
            lines = [
                value,
                f"{opener} {unsure}",
                f"its {value}",
                f"{value}. {says}",
                f"i think {value}",
                f"{value} i said",
                f"still {value}",
                f"{opener} {value}",
            ]
        else:
            lines = [
                value,
                f"{opener} {value}",
                f"its {value}",
                f"{value}. {says}",
                f"oh {value}",
                f"i think {value}",
                f"{value}!",
            ]
        extra = [f"{filler} {value}" for filler in self.fillers if value] + [
            f"{line} {filler}" for line in lines[:2] for filler in self.fillers
        ]
        return [line for line in lines + extra if line and line.strip()]

    def acknowledge(self, recent: Sequence[str]) -> str:
        """Going along with something the teacher said or asked the child to do."""
        opener = self.openers[0]
        lines = ["ok", f"{opener} ok", "ok i did it", "ok. now what", "ok i get it", "hmm"]
        return first_fresh([self.spell(line) for line in lines], recent) or "ok"

    def say(self, answer: Answer, recent: Sequence[str]) -> str:
        """The first way to say ``answer`` that fits the persona and repeats no recent reply."""
        options = [self.spell(line) for line in self.candidates(answer)]
        fitting = [line for line in options if len(line.split()) <= self.max_words] or options
        # vary where the child starts, but keep to its most typical replies
        top = min(3, len(fitting))
        start = zlib.crc32(answer.question.encode()) % top if top else 0
        ordered = fitting[start:top] + fitting[:start] + fitting[top:]
        return first_fresh(ordered, recent) or "idk"
