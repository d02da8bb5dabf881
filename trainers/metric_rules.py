"""Word lists, patterns and text helpers for :mod:`trainers.metric`.

The lists come from what SECOND_GRADE.md says separates LLM-simulated students from real ones:
teacherly and technical words, assistant phrases, speaking as the teacher, tidy adult
punctuation, and giving in the moment a correction arrives. Patterns match lower-cased text.
"""

from __future__ import annotations

import re

# --- tokens and similarity ----------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z]+|\d+")
# Fillers and function words: they say nothing about what the child believes.
STOP = frozenset(
    "a an the and or but so to of in on at is are was be it its this that do does did you your "
    "i im me my we us can what how why um uh ok okay oh yes ya yeah no not just then there theres "
    "is it he she they them with for".split()
)
# Invented spellings the shipped personas use, mapped so "brake a ten" meets "break a ten".
_SPELLING = {"brake": "break", "becuz": "because", "wat": "what", "leafs": "leaf"}


def tokens(text: str) -> frozenset[str]:
    """Content words of ``text``: lower case, apostrophes dropped, plural -s trimmed."""
    lowered = text.lower().replace("'", "").replace("\u2019", "")
    words = set()
    for word in _TOKEN.findall(lowered):
        word = _SPELLING.get(word, word)
        if word in STOP:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return frozenset(words)


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice overlap of two word sets: 1 for the same words, 0 for none shared."""
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def count_syllables(word: str) -> int:
    """Vowel groups, less a silent final e ("make"), at least one."""
    word = word.lower().strip("'")
    groups = len(_VOWEL_GROUPS.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and groups > 1:
        groups -= 1
    return max(1, groups)


# --- style ----------------------------------------------------------------------------------------

_EMOJI = re.compile(
    "[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f000-\U0001f2ff\U0001f1e6-\U0001f1ff]"
)
_MARKDOWN = [
    re.compile(r"\*\*[^*]+\*\*|__[^_]+__"),
    re.compile(r"(^|\n)\s*#{1,6}\s"),
    re.compile(r"(^|\n)\s*[-*•]\s+\S"),
    re.compile(r"(^|\n)\s*\d+[.)]\s+\S[^\n]*\n\s*\d+[.)]\s"),
    re.compile(r"```|`[^`]+`"),
    re.compile(r"\n\s*\n"),
]


def emoji_count(text: str) -> int:
    return len(_EMOJI.findall(text))


def markdown_hits(text: str) -> int:
    return sum(1 for pattern in _MARKDOWN if pattern.search(text))


def _phrases(*items: str) -> re.Pattern[str]:
    """One pattern matching any of the phrases (each a regex) as whole words; ``finditer``
    gives the hits (one pass over the text, not one per phrase)."""
    return re.compile(r"(?<![a-z])(?:" + "|".join(items) + r")(?![a-z])")


# Words a seven-year-old does not type: connectives of written argument, teacher talk,
# technical terms, and the phrases of a helpful assistant. Each distinct hit halves the component.
ADULT_PATTERNS = _phrases(
    "therefore", "essentially", "additionally", "furthermore", "moreover", "however",
    "consequently", "specifically", "particularly", "approximately", "ultimately",
    "certainly", "absolutely", "indeed", "nevertheless", "in other words", "for example",
    "for instance", "as a result", "in summary", "to summari[sz]e", "this means that",
    "which means", "that means that", "in order to", "it is important", "it's important",
    "concept", "strategy", "process", "method", "approach", "demonstrat\\w*", "represent\\w*",
    "understand that", "i now understand", "i see what you mean",
    "great question", "good question", "let me explain", "let me show you", "let me break",
    "let's break", "break it down", "step by step", "step-by-step", "first,", "finally,",
    "(?:need to|have to|must|we can|we) regroup", "regroup(?:ing)? (?:one|a|the) ten",
    "by regrouping", "after regrouping", "regrouping", "equation", "equivalent", "minuend",
    "subtrahend", "addend", "the sum of", "the difference between", "place value system",
    "photosynthesis", "chlorophyll", "nutrients", "gravitational", "air resistance",
    "velocity", "accelerat\\w*", "axis", "rotates on", "revolves around", "orbits? around",
    "the tens place", "the ones place",
    "measurement", "unit of", "denomination", "quadrilateral", "orientation", "congruent",
    "as an ai", "language model", "i'm here to help", "happy to help", "glad to help",
    "feel free", "let me know", "i hope this helps", "hope that helps", "i apologi[sz]e",
    "of course!", "sure!", "absolutely!", "that's correct", "you're correct", "correct!",
    "wonderful", "fantastic", "excellent",
)  # fmt: skip

# Speaking as the teacher or about "the student", or as an assistant narrating a role.
ROLE_PATTERNS = _phrases(
    "the student", "as a student", "as a teacher", "as your teacher", "my student",
    "good job", "great job", "well done", "nice work", "does that make sense",
    "do you understand", "can you tell me", "can you explain", "what do you think",
    "let's look at", "let's think", "let us",
    "\\*[a-z][a-z ]+\\*", "\\(\\s*(?:smiles|giggles|laughs|thinks|pauses)[^)]*\\)",
    "as a (?:7|8|seven|eight)[- ]year[- ]old", "i am (?:a|an) (?:ai|assistant|simulated)",
    "in character", "roleplay", "role-play",
)  # fmt: skip

# Tidy written punctuation children do not type in chat.
PUNCTUATION = [
    ("semicolon", re.compile(r";")),
    ("colon", re.compile(r"[a-z]:\s")),
    ("dash", re.compile(r"\u2014|\u2013| - [a-z]")),
    ("many commas", re.compile(r"(?:[^,]*,){2,}")),
    ("parentheses", re.compile(r"\([^)]*\)")),
]

# "Giving in" words: fine once a misconception is resolved, unrealistic while it is held.
CAPITULATION = re.compile(
    r"(?<![a-z])(?:i get it now|now i get it|i understand now|now i understand|i see now|"
    r"that makes sense|makes sense now|you're right|your right|you are right|i was wrong|"
    r"oh i see|i see what)(?![a-z])"
)
