"""The rule components of the authenticity score (:mod:`trainers.metric`), each in [0, 1]
with a reason: length, reading level, vocabulary, in character, premature resolution of a held
misconception, consistency with the child model's answer, repetition. Per-persona data is
computed once and cached.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from typing import TYPE_CHECKING, Any

from trainers.metric_rules import (
    ADULT_PATTERNS,
    CAPITULATION,
    PUNCTUATION,
    ROLE_PATTERNS,
    count_syllables,
    dice,
    emoji_count,
    markdown_hits,
    tokens,
)

if TYPE_CHECKING:
    from agent.state import StudentState
    from personas.schema import Persona

_ALPHA_WORD = re.compile(r"[A-Za-z']+")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")
_STRETCHED = re.compile(r"([A-Za-z])\1{2,}")
# A child's average syllables and letters per word, and how many words of evidence that is worth.
_PRIOR_SYLLABLES, _PRIOR_LETTERS, _PRIOR_WEIGHT = 1.2, 3.8, 4.0


@dataclass(frozen=True)
class Component:
    name: str
    score: float
    reason: str


# --- per-persona data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Misconception:
    id: str
    triggers: tuple[str, ...]
    understood: tuple[frozenset[str], ...]
    confused: tuple[frozenset[str], ...]
    distinctive: frozenset[str]
    """Words in the child's understood replies that no confused or everyday reply uses."""


@dataclass(frozen=True)
class Profile:
    name: str
    min_words: int
    max_words: int
    no_capitals: bool
    misconceptions: tuple[_Misconception, ...]


_PROFILES: dict[int, tuple[Persona, Profile]] = {}


def profile(persona: Persona) -> Profile:
    cached = _PROFILES.get(id(persona))
    if cached is not None and cached[0] is persona:
        return cached[1]
    everyday = set().union(
        *(tokens(e.student) for e in persona.examples if e.misconception is None)
    )
    entries = []
    for m in persona.misconceptions:
        understood = [tokens(e.student) for e in persona.examples if _is(e, m.id, "understood")]
        confused = [tokens(e.student) for e in persona.examples if _is(e, m.id, "confused")]
        confused_words = set().union(*confused)
        distinctive = set().union(*understood) - confused_words - everyday
        entries.append(
            _Misconception(
                m.id,
                tuple(t.lower() for t in m.triggers),
                tuple(frozenset(u) for u in understood if u),
                tuple(frozenset(c) for c in confused if c),
                frozenset(distinctive),
            )
        )
    words = persona.speech.words_per_turn
    habits = " ".join(persona.speech.spelling_habits).lower()
    profile = Profile(
        persona.name.lower(), words.min, words.max, "no capital" in habits, tuple(entries)
    )
    if len(_PROFILES) > 64:
        _PROFILES.clear()
    _PROFILES[id(persona)] = (persona, profile)
    return profile


def _is(example: Any, misconception_id: str, phase: str) -> bool:
    return example.misconception == misconception_id and example.phase == phase


# --- the components -----------------------------------------------------------------------------


def length(words: int, profile: Profile) -> Component:
    low, high = profile.min_words, profile.max_words
    if low <= words <= high:
        return Component("length", 1.0, f"{words} words, within {low}-{high}")
    if words < low:
        return Component("length", max(0.0, 1 - 0.25 * (low - words)), f"{words} < {low} words")
    if words <= 2 * high:
        score = 1 - 0.5 * (words - high) / high
        return Component("length", score, f"{words} words, above the usual {high}")
    score = max(0.0, 0.3 * (3 * high - words) / high)
    return Component("length", score, f"{words} words, more than twice the usual {high}")


def reading_level(reply: str, words: list[str]) -> Component:
    # "yesssss" is one short word typed with feeling, not a long word
    reply = _STRETCHED.sub(r"\1", reply)
    alpha = _ALPHA_WORD.findall(reply)
    syllables = sum(count_syllables(w) for w in alpha) + (len(words) - len(alpha))
    per_word = (syllables + _PRIOR_SYLLABLES * _PRIOR_WEIGHT) / (len(words) + _PRIOR_WEIGHT)
    sentences = max(1, len(_SENTENCE_END.findall(reply.strip())))
    grade = 0.39 * len(words) / sentences + 11.8 * per_word - 15.59
    grade_score = min(1.0, max(0.0, (9 - grade) / 5.5))
    letters = [len(w.strip("'")) for w in alpha]
    long_words = sum(1 for n in letters if n >= 9)
    mean_letters = (sum(letters) + _PRIOR_LETTERS * _PRIOR_WEIGHT) / (len(letters) + _PRIOR_WEIGHT)
    length_score = min(1.0, max(0.0, (7.5 - mean_letters) / 2.5)) - 0.15 * max(0, long_words - 1)
    score = max(0.0, min(grade_score, length_score))
    reason = f"grade {grade:.1f}, {mean_letters:.1f} letters a word, {long_words} long word(s)"
    return Component("reading_level", score, reason)


def vocabulary(lowered: str) -> Component:
    hits = list(dict.fromkeys(m.group(0).strip(" ,!") for m in ADULT_PATTERNS.finditer(lowered)))
    if not hits:
        return Component("vocabulary", 1.0, "everyday words")
    return Component("vocabulary", max(0.0, 1 - 0.5 * len(hits)), "adult words: " + ", ".join(hits))


def in_character(reply: str, lowered: str, profile: Profile) -> Component:
    problems: list[tuple[str, float]] = []
    roles = list(dict.fromkeys(m.group(0) for m in ROLE_PATTERNS.finditer(lowered)))
    problems += [(f"speaks as the teacher or a narrator ({role})", 0.6) for role in roles]
    if re.search(rf"(^|\n)\s*(teacher|student|{re.escape(profile.name)})\s*:", lowered):
        problems.append(("speaker label", 0.6))
    if markdown_hits(reply):
        problems.append(("markdown or a list", 0.5))
    emojis = emoji_count(reply)
    if emojis > 2:
        problems.append((f"{emojis} emojis", 0.3))
    punctuation = [label for label, pattern in PUNCTUATION if pattern.search(reply)]
    if punctuation:
        problems.append((", ".join(punctuation), 0.15 * len(punctuation)))
    if profile.no_capitals and re.search(r"(^|[.!?]\s+)[A-Z][a-z]", reply):
        problems.append(("capital letters", 0.1))
    if not problems:
        return Component("in_character", 1.0, "in character")
    score = max(0.0, 1 - sum(p for _, p in problems))
    return Component("in_character", score, "; ".join(label for label, _ in problems))


def premature_resolution(
    reply_tokens: frozenset[str],
    lowered: str,
    profile: Profile,
    state: StudentState | None,
    teacher_message: str,
) -> Component:
    if state is None:
        return Component("misconception", 1.0, "no state given")
    held = [m for m in profile.misconceptions if state.holds(m.id)]
    if state.active is not None:
        relevant = [m for m in held if m.id == state.active]
    elif teacher_message:
        teacher = teacher_message.lower()
        relevant = [m for m in held if any(t in teacher for t in m.triggers)]
    else:
        relevant = held
    worst, why = 0.0, ""
    for m in relevant:
        evidence, reason = _resolution_evidence(reply_tokens, m)
        if CAPITULATION.search(lowered) and evidence < 0.6:
            evidence, reason = 0.6, "claims to understand"
        if evidence > worst:
            worst, why = evidence, f"{reason} while '{m.id}' is still held"
    if worst == 0:
        return Component("misconception", 1.0, "no premature resolution")
    return Component("misconception", 1 - worst, why)


def _resolution_evidence(reply: frozenset[str], m: _Misconception) -> tuple[float, str]:
    if not reply:
        return 0.0, ""
    understood = max((dice(reply, u) for u in m.understood if u & m.distinctive), default=0.0)
    confused = max((dice(reply, c) for c in m.confused), default=0.0)
    if understood >= 0.6 and understood > confused + 0.15:
        return 0.9 * understood, "reads like an understood example"
    distinctive = len(reply & m.distinctive)
    if distinctive >= 2:
        return 0.7, "uses the words of the resolved misconception"
    if distinctive == 1 and len(reply) <= 3:
        return 0.5, "gives the resolved answer"
    return 0.0, ""


def repetition(lowered: str, reply_tokens: frozenset[str], previous: Sequence[str]) -> Component:
    if not previous:
        return Component("repetition", 1.0, "nothing before it")
    normalised = " ".join(lowered.split())
    exact = sum(1 for p in previous if " ".join(p.lower().split()) == normalised)
    similarity = max((dice(reply_tokens, tokens(p)) for p in previous), default=0.0)
    similarity = max(similarity, 1.0 if exact else 0.0)
    if similarity < 0.7:
        return Component("repetition", 1.0, "new")
    words = len(normalised.split())
    weight = min(1.0, words / 4 + 0.25 * max(0, exact - 1))
    score = 1 - similarity * weight
    label = "repeats an earlier reply" if exact else "nearly repeats an earlier reply"
    return Component("repetition", score, f"{label} ({words} words)")


# --- answer consistency with the child model -----------------------------------------------------

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def answer_of(state: Any) -> Mapping[str, Any] | None:
    """The child model's ``answer`` (CONTRACTS section 3) from a state object or its dict;
    ``None`` when the state has none (an older state, or no question to answer)."""
    if state is None:
        return None
    answer = state.get("answer") if isinstance(state, Mapping) else getattr(state, "answer", None)
    if answer is None:
        return None
    if is_dataclass(answer) and not isinstance(answer, type):
        answer = asdict(answer)
    return answer if isinstance(answer, Mapping) else None


def _says(reply_lower: str, reply_numbers: set[str], value: Any) -> bool:
    """Whether the reply gives ``value``: the same number, or every content word of it."""
    if value is None:
        return False
    text = str(value).strip().lower()
    if not text:
        return False
    numbers = {n.replace(",", "") for n in _NUMBER.findall(text)}
    if numbers and _NUMBER.fullmatch(text.replace(" ", "")):
        return bool(numbers & reply_numbers)
    wanted = tokens(text)
    if wanted:
        return wanted <= tokens(reply_lower)
    return re.search(rf"(?<![a-z0-9]){re.escape(text)}(?![a-z0-9])", reply_lower) is not None


def answer_consistency(reply_lower: str, answer: Mapping[str, Any] | None) -> Component:
    """While a misconception is held the reply should give the answer its rule produces
    (``answer.value``), not the correct one; once resolved, or for a known fact, the correct
    one. A reply without an answer (idk, a feeling) loses a little; a different number more."""
    if not answer or answer.get("value") in (None, ""):
        return Component("answer", 1.0, "no computed answer for this message (not applicable)")
    if answer.get("mode", "answer") != "answer":
        mode = answer.get("mode")
        return Component(
            "answer", 1.0, f"the child is asked to {mode}, not to answer (not applicable)"
        )
    value, correct = str(answer["value"]), answer.get("correct_value")
    numbers = {n.replace(",", "") for n in _NUMBER.findall(reply_lower)}
    held = bool(answer.get("held")) and answer.get("misconception") is not None
    if _says(reply_lower, numbers, value):
        why = f"gives its rule's answer {value}" if held else f"gives the answer {value}"
        return Component("answer", 1.0, why)
    premature = held and correct is not None and str(correct) != value
    if premature and _says(reply_lower, numbers, correct):
        return Component(
            "answer",
            0.1,
            f"gives the correct {correct} while '{answer['misconception']}' is held "
            f"(its rule gives {value})",
        )
    if numbers:
        return Component("answer", 0.4, f"answers {', '.join(sorted(numbers))}, expected {value}")
    return Component("answer", 0.7, f"does not give its answer {value}")
