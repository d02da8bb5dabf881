"""How much a reply sounds like the persona's second-grader: a score in [0, 1].

Two parts. **Child-likeness** (:mod:`trainers.childlike`): the calibrated probability that a real
child typed the reply, learned from real children's typed tutoring turns against LLM students,
LLM imitations of children and the project's own brains; it separates a real "yes" from an
LLM's "Yes!" and "is it 25?" from a child's "is it 8". **The persona's rules**
(:mod:`trainers.metric_components`), each a score in [0, 1] with a reason:

=====================  ==========================================================================
``length``             words within the persona's ``speech.words_per_turn``; soft penalty above
                       ``max``, strong above twice ``max`` (0 at three times)
``reading_level``      a Flesch–Kincaid grade and word length (stretched letters, "yesssss",
                       count once)
``vocabulary``         no adult or teacherly words and phrases, no assistant-isms
``in_character``       no role confusion, markdown, emoji floods, adult punctuation or capitals
``misconception``      does not resolve a misconception the ``state`` still holds (near an
                       ``understood`` example of it, or "oh i get it now")
``answer``             gives the child model's answer (the state's ``answer.value``: the rule's
                       answer while the misconception is held); not applicable without one
``repetition``         not a repeat of ``previous_replies``
=====================  ==========================================================================

``rules = 0.4 * weighted mean + 0.6 * weakest`` (one bad aspect sinks it) and
``total = rules * (FLOOR + (1 - FLOOR) * child_likeness)``: a reply has to pass the rules *and*
read like a real child to score high, so real-looking replies spread over [0, 1] by how a child
types instead of piling at 1.0, and an LLM's tidy child-imitation scores low even when it breaks
no rule. Pure Python, no I/O after the model file is loaded once, well under a millisecond a reply.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trainers.childlike.scorer import default_model
from trainers.metric_components import (
    Component,
    answer_consistency,
    answer_of,
    in_character,
    length,
    premature_resolution,
    profile,
    reading_level,
    repetition,
    vocabulary,
)
from trainers.metric_rules import tokens

if TYPE_CHECKING:
    from agent.state import StudentState
    from personas.schema import Persona

WEIGHTS: dict[str, float] = {
    "length": 0.2,
    "reading_level": 0.1,
    "vocabulary": 0.2,
    "in_character": 0.15,
    "misconception": 0.1,
    "answer": 0.1,
    "repetition": 0.15,
}
"""The persona's rules and their weights in the rules' mean."""
COMPONENTS = (*WEIGHTS, "child_likeness")
WEAKEST_SHARE = 0.6
"""How much of the rules' score is the weakest rule: one bad aspect sinks a reply."""
FLOOR = 0.2
"""What a reply that breaks no rule keeps when it reads nothing like a real child."""
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class AuthenticityScore:
    total: float
    components: dict[str, Component] = field(default_factory=dict)
    rules: float = 0.0
    """The persona's rules alone (before child-likeness weighs in)."""

    def __float__(self) -> float:
        return self.total

    @property
    def child_likeness(self) -> float:
        component = self.components.get("child_likeness")
        return component.score if component else 0.0

    @property
    def reasons(self) -> list[str]:
        """Why points were lost, weakest component first ("ok" components left out)."""
        lost = sorted((c for c in self.components.values() if c.score < 1), key=lambda c: c.score)
        return [f"{c.name} {c.score:.2f}: {c.reason}" for c in lost]

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": round(self.total, 4),
            "child_likeness": round(self.child_likeness, 4),
            "rules": round(self.rules, 4),
            "components": {n: round(c.score, 4) for n, c in self.components.items()},
            "reasons": self.reasons,
        }


def _child_likeness(reply: str) -> Component:
    score, top = default_model().explain(reply, 12)
    cues = [
        f"{_CUE_NAMES.get(name, name.split(':', 1)[1])} {'+' if weight > 0 else '-'}"
        for name, weight in top
        if name.startswith(("style:", "w:", "b:")) and name != "style:bias_words"
    ]
    verdict = "reads like a real child" if score >= 0.5 else "reads like an LLM writing a child"
    return Component("child_likeness", score, f"{verdict} (cues: {', '.join(cues[:3])})")


_CUE_NAMES = {
    "style:ends=!": "ends with !",
    "style:ends=.": "ends with a full stop",
    "style:ends=?": "ends with ?",
    "style:ends=other": "no end mark",
    "style:ends=digit": "ends with a number",
    "style:starts_capital": "starts with a capital",
    "style:starts_lower": "starts lower-case",
    "style:exclamations": "exclamation marks",
    "style:bare_number": "a bare number",
    "style:kept_apostrophe": "tidy apostrophes",
    "style:dropped_apostrophe": "dropped apostrophes",
    "style:stretched_letters": "stretched letters",
    "style:interjection": "an opening 'Ooh!'-style interjection",
    "style:explains": "explains unprompted",
    "style:math_notation": "adult math notation",
    "style:written_punctuation": "written punctuation",
    "style:double_space": "uneven spacing",
    "style:commas": "commas",
    "style:chars_per_word": "word length",
}


def score_reply(
    reply: str,
    persona: Persona,
    *,
    state: StudentState | Mapping[str, Any] | None = None,
    previous_replies: Sequence[str] = (),
    teacher_message: str = "",
    answer: Mapping[str, Any] | None = None,
) -> AuthenticityScore:
    """How authentic ``reply`` is as ``persona``'s next message (see the module docstring).

    ``state`` is the student state the reply was written in (a ``StudentState`` or its
    ``to_dict()``); ``answer`` the child model's answer when it is not in the state."""
    words = _WORD.findall(reply)
    if not words:
        empty = {name: Component(name, 0.0, "empty reply") for name in COMPONENTS}
        return AuthenticityScore(0.0, empty)
    persona_profile = profile(persona)
    lowered = reply.lower().replace("\u2019", "'")
    reply_tokens = frozenset(tokens(reply))
    held_state = _as_state(state)
    rules = [
        length(len(words), persona_profile),
        reading_level(reply, words),
        vocabulary(lowered),
        in_character(reply, lowered, persona_profile),
        premature_resolution(reply_tokens, lowered, persona_profile, held_state, teacher_message),
        answer_consistency(lowered, answer if answer is not None else answer_of(state)),
        repetition(lowered, reply_tokens, previous_replies),
    ]
    mean = sum(WEIGHTS[c.name] * c.score for c in rules) / sum(WEIGHTS.values())
    rules_score = (1 - WEAKEST_SHARE) * mean + WEAKEST_SHARE * min(c.score for c in rules)
    child = _child_likeness(reply)
    total = rules_score * (FLOOR + (1 - FLOOR) * child.score)
    components = {c.name: c for c in [*rules, child]}
    return AuthenticityScore(round(total, 6), components, round(rules_score, 6))


def _as_state(state: Any) -> StudentState | None:
    """A ``StudentState`` from a state or its dict (``utta run`` prints the dict)."""
    if state is None or not isinstance(state, Mapping):
        return state
    from agent.state import StudentState

    return StudentState.from_dict(dict(state))


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


def _field(obj: Any, key: str) -> Any:
    """``obj[key]`` of a dict or ``obj.key`` of a DSPy Example/Prediction; ``None`` if absent."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    try:
        return obj.get(key)  # dspy.Example
    except (AttributeError, TypeError):
        return getattr(obj, key, None)


def _state_of(value: Any, persona: Persona) -> tuple[Any, Mapping[str, Any] | None]:
    """(state, answer) from a row's ``student_state``: the description text of a system prompt,
    or the state (a ``StudentState`` or its dict, with its ``answer``), or JSON of the dict."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    if isinstance(value, str):
        return state_from_description(value, persona), answer_from_description(value)
    return value, None  # a state carries its answer: score_reply reads it from there


_SAYS = re.compile(
    r"Your answer to the teacher's question is (.+?) (because you still believe it|\()"
)
_NOT_YET = re.compile(r"Say (.+?), not (.+?): you do not see the right answer yet")


def answer_from_description(description: str) -> dict[str, Any] | None:
    """The child model's answer back from ``StudentState.describe`` text (what a DSPy example
    or a training row carries), so the DSPy metric checks it too; ``None`` when it has none.
    The description names the correct answer only where it differs ("Say 43, not 37"), so
    without that line the answer is taken as the correct one."""
    said = _SAYS.search(description)
    if said is None:
        return None
    held = said.group(2).startswith("because")
    not_yet = _NOT_YET.search(description)
    correct = not_yet.group(2) if not_yet else said.group(1)
    return {
        "value": said.group(1),
        "correct_value": correct,
        "held": held,
        "misconception": "the misconception it still holds" if held else None,
        "mode": "answer",
    }


def score_example(example: Any, reply: str, persona: Persona) -> AuthenticityScore:
    """Score ``reply`` as the answer to a training row or DSPy example: a chat row
    (``messages``), or ``teacher_message``, ``history`` (a ``dspy.History`` or a list of
    ``{teacher_message, student_reply}``), ``student_state`` and optionally ``answer``."""
    messages = _field(example, "messages")
    if messages:
        previous = [m["content"] for m in messages[:-1] if m["role"] == "assistant"]
        teacher = messages[-2]["content"] if len(messages) >= 2 else ""
        state_value = _field(example, "student_state") or messages[0]["content"]
    else:
        history = _field(example, "history") or []
        history = getattr(history, "messages", history)
        previous = [str(_field(h, "student_reply") or "") for h in history]
        teacher = str(_field(example, "teacher_message") or "")
        state_value = _field(example, "student_state")
    state, answer = _state_of(state_value, persona)
    explicit = _field(example, "answer")
    if isinstance(explicit, str) and explicit.lstrip().startswith("{"):
        explicit = json.loads(explicit)
    return score_reply(
        reply,
        persona,
        state=state,
        previous_replies=previous,
        teacher_message=teacher,
        answer=explicit if isinstance(explicit, Mapping) else answer,
    )


def _target(row: Mapping[str, Any]) -> str:
    messages = row.get("messages")
    return str(messages[-1]["content"] if messages else row["student_reply"])


def score_dataset(rows: Iterable[Mapping[str, Any]], persona: Persona) -> dict[str, Any]:
    """Authenticity of each row's target reply (chat rows or DSPy rows): ``mean``, ``n``,
    ``share_above_0_6``, the mean of each component and the ``worst`` five with reasons."""
    scored = []
    for row in rows:
        reply = _target(row)
        scored.append((score_example(row, reply, persona), reply))
    if not scored:
        return {"n": 0, "mean": 0.0, "share_above_0_6": 0.0, "components": {}, "worst": []}
    n = len(scored)
    components = {
        name: round(sum(s.components[name].score for s, _ in scored) / n, 4) for name in COMPONENTS
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
    """A DSPy metric: ``metric(example, prediction, trace=None) -> float``, the authenticity
    total of ``prediction.student_reply`` (see :func:`score_example` for the example's fields).
    With ``threshold`` and a ``trace`` (DSPy is bootstrapping demos), the metric answers 1.0 or
    0.0: pass or fail. dspy is not imported.
    """

    def metric(example: Any, prediction: Any, trace: Any = None) -> float:
        reply = _field(prediction, "student_reply")
        if reply is None:
            reply = prediction if isinstance(prediction, str) else ""
        score = score_example(example, str(reply), persona).total
        if threshold is not None and trace is not None:
            return 1.0 if score >= threshold else 0.0
        return score

    return metric
