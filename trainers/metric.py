"""How much a reply sounds like the persona's second-grader: a rule-based score in [0, 1].

Built from /work/shared/SECOND_GRADE.md: real grade-2 chat turns are a few words, everyday
vocabulary, no capitals or tidy punctuation; LLM-simulated students are verbose and technical,
talk like teachers or assistants, drop a misconception at the first correction and repeat
themselves. Six components, each a score in [0, 1] with a reason:

=====================  ==========================================================================
``length``             words within the persona's ``speech.words_per_turn``; soft penalty above
                       ``max``, strong above twice ``max`` (0 at three times)
``reading_level``      a Flesch–Kincaid grade (vowel-group syllables, shrunk toward a child's
                       average for very short replies) and word length
``vocabulary``         no adult or teacherly words and phrases, no assistant-isms
``in_character``       no role confusion (speaking as the teacher, "the student"), no markdown,
                       lists or emoji floods, no adult punctuation and capitals
``misconception``      does not resolve a misconception the ``state`` still holds: near an
                       ``understood`` example of it, words only its understood examples use, or
                       "oh i get it now"
``repetition``         not a repeat of ``previous_replies`` (short answers like "ok" a little,
                       whole sentences a lot)
=====================  ==========================================================================

``total = 0.4 * weighted mean + 0.6 * weakest component``: one bad aspect (a lecture, a premature
"25", a repeated sentence) sinks the score even when the rest is fine. Pure Python, no I/O,
well under a millisecond per reply; per-persona data is computed once and cached.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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

WEIGHTS: dict[str, float] = {
    "length": 0.2,
    "reading_level": 0.15,
    "vocabulary": 0.2,
    "in_character": 0.15,
    "misconception": 0.15,
    "repetition": 0.15,
}
WEAKEST_SHARE = 0.6
"""How much of the total is the weakest component: one bad aspect sinks a reply."""
_WORD = re.compile(r"\S+")
_ALPHA_WORD = re.compile(r"[A-Za-z']+")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")
# A child's average syllables and letters per word, and how many words of evidence that is worth.
_PRIOR_SYLLABLES, _PRIOR_LETTERS, _PRIOR_WEIGHT = 1.2, 3.8, 4.0


@dataclass(frozen=True)
class Component:
    name: str
    score: float
    reason: str


@dataclass(frozen=True)
class AuthenticityScore:
    total: float
    components: dict[str, Component] = field(default_factory=dict)

    def __float__(self) -> float:
        return self.total

    @property
    def reasons(self) -> list[str]:
        """Why points were lost, weakest component first ("ok" components left out)."""
        lost = sorted((c for c in self.components.values() if c.score < 1), key=lambda c: c.score)
        return [f"{c.name} {c.score:.2f}: {c.reason}" for c in lost]

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": round(self.total, 4),
            "components": {n: round(c.score, 4) for n, c in self.components.items()},
            "reasons": self.reasons,
        }


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
class _Profile:
    name: str
    min_words: int
    max_words: int
    no_capitals: bool
    misconceptions: tuple[_Misconception, ...]


_PROFILES: dict[int, tuple[Persona, _Profile]] = {}


def _profile(persona: Persona) -> _Profile:
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
    profile = _Profile(
        persona.name.lower(), words.min, words.max, "no capital" in habits, tuple(entries)
    )
    if len(_PROFILES) > 64:
        _PROFILES.clear()
    _PROFILES[id(persona)] = (persona, profile)
    return profile


def _is(example: Any, misconception_id: str, phase: str) -> bool:
    return example.misconception == misconception_id and example.phase == phase


# --- the components -----------------------------------------------------------------------------


def _length(words: int, profile: _Profile) -> Component:
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


def _reading_level(reply: str, words: list[str]) -> Component:
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


def _vocabulary(lowered: str) -> Component:
    hits = list(dict.fromkeys(m.group(0).strip(" ,!") for m in ADULT_PATTERNS.finditer(lowered)))
    if not hits:
        return Component("vocabulary", 1.0, "everyday words")
    return Component("vocabulary", max(0.0, 1 - 0.5 * len(hits)), "adult words: " + ", ".join(hits))


def _in_character(reply: str, lowered: str, profile: _Profile) -> Component:
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


def _misconception(
    reply_tokens: frozenset[str],
    lowered: str,
    profile: _Profile,
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


def _repetition(lowered: str, reply_tokens: frozenset[str], previous: Sequence[str]) -> Component:
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


# --- public API ---------------------------------------------------------------------------------


def score_reply(
    reply: str,
    persona: Persona,
    *,
    state: StudentState | None = None,
    previous_replies: Sequence[str] = (),
    teacher_message: str = "",
) -> AuthenticityScore:
    """How authentic ``reply`` is as ``persona``'s next message (see the module docstring)."""
    profile = _profile(persona)
    words = _WORD.findall(reply)
    if not words:
        empty = {name: Component(name, 0.0, "empty reply") for name in WEIGHTS}
        return AuthenticityScore(0.0, empty)
    lowered = reply.lower().replace("\u2019", "'")
    reply_tokens = frozenset(tokens(reply))
    components = [
        _length(len(words), profile),
        _reading_level(reply, words),
        _vocabulary(lowered),
        _in_character(reply, lowered, profile),
        _misconception(reply_tokens, lowered, profile, state, teacher_message),
        _repetition(lowered, reply_tokens, previous_replies),
    ]
    mean = sum(WEIGHTS[c.name] * c.score for c in components) / sum(WEIGHTS.values())
    total = (1 - WEAKEST_SHARE) * mean + WEAKEST_SHARE * min(c.score for c in components)
    return AuthenticityScore(round(total, 6), {c.name: c for c in components})


def mean_authenticity(
    replies: Iterable[str], persona: Persona, *, as_conversation: bool = False
) -> float:
    """Mean total over ``replies``, each scored on its own (replies to unrelated prompts, e.g. a
    validation set), or with ``as_conversation`` as one conversation in which each reply must
    not repeat the ones before it. 0.0 for no replies."""
    scores: list[float] = []
    previous: list[str] = []
    for reply in replies:
        scores.append(score_reply(reply, persona, previous_replies=previous).total)
        if as_conversation:
            previous.append(reply)
    return sum(scores) / len(scores) if scores else 0.0


def state_from_description(description: str, persona: Persona) -> StudentState | None:
    """The held/resolved misconceptions back from ``StudentState.describe`` text (mood and
    active topic are not recoverable); ``None`` when the text says nothing about them."""
    from agent.state import MisconceptionState, StudentState

    entries = {}
    for m in persona.misconceptions:
        if f"You now understand what was wrong with: {m.belief}" in description:
            entries[m.id] = MisconceptionState(held=False)
        elif f"You still believe: {m.belief}" in description:
            entries[m.id] = MisconceptionState(held=True)
    return StudentState(misconceptions=entries) if entries else None


def _row_parts(row: Mapping[str, Any]) -> tuple[str, str, list[str], str]:
    """(reply, teacher message, previous replies, state description) of a chat or DSPy row."""
    if "messages" in row:
        messages = row["messages"]
        previous = [m["content"] for m in messages[:-1] if m["role"] == "assistant"]
        teacher = messages[-2]["content"] if len(messages) >= 2 else ""
        state = row.get("student_state") or messages[0]["content"]
        return messages[-1]["content"], teacher, previous, state
    history = row.get("history") or []
    history = getattr(history, "messages", history)
    previous = [h.get("student_reply", "") for h in history]
    return (
        row["student_reply"],
        row.get("teacher_message", ""),
        previous,
        row.get("student_state", ""),
    )


def score_dataset(rows: Iterable[Mapping[str, Any]], persona: Persona) -> dict[str, Any]:
    """Authenticity of each row's target reply (chat rows or DSPy rows): ``mean``, ``n``,
    ``share_above_0_6``, the mean of each component and the ``worst`` five with reasons."""
    scored = []
    for row in rows:
        reply, teacher, previous, description = _row_parts(row)
        state = state_from_description(description, persona) if description else None
        score = score_reply(
            reply, persona, state=state, previous_replies=previous, teacher_message=teacher
        )
        scored.append((score, reply))
    if not scored:
        return {"n": 0, "mean": 0.0, "share_above_0_6": 0.0, "components": {}, "worst": []}
    n = len(scored)
    components = {
        name: round(sum(s.components[name].score for s, _ in scored) / n, 4) for name in WEIGHTS
    }
    worst = sorted(scored, key=lambda pair: pair[0].total)[:5]
    return {
        "n": n,
        "mean": round(sum(s.total for s, _ in scored) / n, 4),
        "share_above_0_6": round(sum(s.total > 0.6 for s, _ in scored) / n, 4),
        "components": components,
        "worst": [{"reply": r, **s.to_dict()} for s, r in worst],
    }


def dspy_metric(
    persona: Persona, *, threshold: float | None = None
) -> Callable[[Any, Any, Any], float]:
    """A DSPy metric: ``metric(example, prediction, trace=None) -> float``.

    ``example`` carries ``teacher_message``, ``history`` (a ``dspy.History`` or a list of
    ``{teacher_message, student_reply}``) and ``student_state`` (the description text);
    ``prediction`` carries ``student_reply``. With ``threshold`` and a ``trace`` (DSPy is
    bootstrapping demos), the metric answers 1.0 or 0.0: pass or fail. dspy is not imported.
    """

    def metric(example: Any, prediction: Any, trace: Any = None) -> float:
        def get(obj: Any, key: str, default: Any = "") -> Any:
            if isinstance(obj, Mapping):
                return obj.get(key, default)
            return getattr(obj, key, default)

        reply = get(prediction, "student_reply", None)
        if reply is None:
            reply = prediction if isinstance(prediction, str) else ""
        history = get(example, "history", None) or []
        history = getattr(history, "messages", history)
        previous = [get(h, "student_reply") for h in history]
        description = get(example, "student_state") or ""
        score = score_reply(
            str(reply),
            persona,
            state=state_from_description(description, persona) if description else None,
            previous_replies=previous,
            teacher_message=str(get(example, "teacher_message") or ""),
        ).total
        if threshold is not None and trace is not None:
            return 1.0 if score >= threshold else 0.0
        return score

    return metric
