"""A few cheap, explicit features the embedding average misses.

A static embedding is a mean over words, so "no blocks needed, it's 25" lands near the lines
about blocks. These features name what the sentence does with its words -- states a number as the
answer, waves a model away, asks, talks about the speaker's own life -- and go into the
classifier next to the embedding. They are about sentence shape, never about a persona's cue words.
"""

from __future__ import annotations

import math
import re

_NUMBER = r"(\d+|zero|one|two|three|four|five|six|seven|eight|nine|ten|twenty|fifty|hundred)"
_STATES_ANSWER = re.compile(
    r"\b(it'?s|its|it is|that'?s|thats|answer is|answer'?s|equals|is worth|are worth|is just"
    r"|the blank is|should be|it should be|you get|so it'?s|so its)\s+(a |an |the |only |just )?"
    + _NUMBER
    + r"\b",
)
_ANSWER_PHRASE = re.compile(
    r"\b(the answer is|the answer'?s|the right answer|correct answer|that'?s the rule"
    r"|thats the rule|the rule is|i'?ll just tell you"
    r"|just remember|trust me|you have to|you need to|you always"
    r"|always goes|doesn'?t matter|doesnt matter|actually)\b"
)
_DISMISS = re.compile(
    r"\b(no need|don'?t need|dont need|don'?t bother|dont bother|forget|skip|not needed"
    r"|no \w+ needed"
    r"|without the|just remember|we don'?t need|we dont need|you don'?t need|you dont need)\b"
)
_WH_START = re.compile(
    r"^\s*(what|whats|what's|why|how|which|where|when|who|is|are|can|could|do|does"
    r"|did|would|will|if)\b"
)
_SELF_TALK = re.compile(
    r"\b(my|i|i'?m|im|i'?ve|ive|we|our|me|mine|yesterday|weekend|at home|last night|this morning)\b"
)
_CHILD_ACTION = re.compile(
    r"\b(let'?s|lets|you|your|try|put|make|show|count|draw|use|take|start|line|build|hold|drop"
    r"|check|add|turn|look|watch)\b"
)

FEATURE_NAMES: tuple[str, ...] = (
    "states_answer",
    "answer_phrase",
    "dismisses_model",
    "asks",
    "self_talk",
    "child_action",
    "digits",
    "length",
)


def explicit_features(message: str) -> list[float]:
    """The explicit features of one message, in FEATURE_NAMES order."""
    text = message.lower().replace("\u2019", "'")
    words = re.findall(r"[a-z0-9']+", text)
    n_words = max(len(words), 1)
    return [
        float(bool(_STATES_ANSWER.search(text))),
        float(bool(_ANSWER_PHRASE.search(text))),
        float(bool(_DISMISS.search(text))),
        float("?" in text or bool(_WH_START.match(text))),
        min(len(_SELF_TALK.findall(text)) / n_words * 4, 1.0),
        min(len(_CHILD_ACTION.findall(text)) / n_words * 4, 1.0),
        min(len(re.findall(r"\d+", text)) / 3, 1.0),
        math.log1p(n_words) / 4,
    ]


def fired(message: str) -> list[str]:
    """Names of the yes/no features that are on, for the verdict's reason."""
    values = explicit_features(message)
    return [name for name, value in zip(FEATURE_NAMES[:3], values[:3], strict=True) if value]
