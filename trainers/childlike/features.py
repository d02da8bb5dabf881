"""Features of typed text that separate a real child's chat turn from an LLM writing one.

Pure Python and deterministic: the scorer (inference) and the trainer share this one function,
so the model file only stores weights. Two kinds of feature:

- style cues named after what they measure (``style:...``): length, capitals, end punctuation,
  apostrophes dropped or kept, bare numbers, stretched letters, adult math notation, unprompted
  "because" explanations, interjections such as "Ooh!", emoji, words outside a plain lexicon;
- bags of lower-cased words and word pairs, where only style words (pronouns, fillers,
  connectives, hedges, contractions, "yay"...) keep their identity, numbers are ``<num>`` and
  every other word ``<w>``; and character trigrams of the text's *shape* (letters ``a``/``A``,
  digits ``0``, punctuation and spaces kept: ``"A'a"``, ``"a! "``, ``"0? "``). Topic words carry
  no weight, so the model judges how a line is typed, not what it is about.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection

_WORD = re.compile(r"\S+")
_ALPHA = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)?")
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|\d+(?:[.,/]\d+)*|[^\sa-z\d]")
_NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")
_BARE_NUMBER = re.compile(r"^\s*\$?-?\d+(?:[.,/]\d+)*\s*[?.!]?\s*$")
_STRETCH = re.compile(r"([a-z])\1\1", re.IGNORECASE)
_MATH_NOTATION = re.compile(r"\d\s*[=×÷*^]\s*\d|\d\s*[+\-/x]\s*\d+\s*=|\$\d|\d%|\bx\s*[=+]")
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
_INTERJECTION = re.compile(
    r"^\W*(?:o+h+|oo+h*|ooh+|wow|yay+|hmm+|um+|uh+|aha+|whoa+|hooray)\b\W*[!,.]"
)
_KEPT_APOSTROPHE = re.compile(
    r"\b(?:i'm|it's|don't|can't|that's|isn't|didn't|won't|i've|you're|let's|i'll|what's|doesn't|there's|he's|she's|we're|they're|wasn't)\b"
)
_DROPPED_APOSTROPHE = re.compile(
    r"\b(?:im|dont|cant|thats|isnt|didnt|wont|ive|youre|lets|whats|doesnt|theres|wasnt|idk|ill)\b"
)
_EXPLAIN = re.compile(r"\b(?:because|since|so that|which means|that means|therefore)\b")
_HEDGE = re.compile(r"\b(?:i think|i believe|i guess|maybe|probably|i'm not sure|not sure)\b")
_WRITTEN_PUNCTUATION = re.compile(r"[;:()\u2014\u2013*]")
_DOUBLE_SPACE = re.compile("  ")

# Marks that are there or not: (feature, pattern, whether it reads the lower-cased text).
_MARKS = (
    ("style:kept_apostrophe", _KEPT_APOSTROPHE, True),
    ("style:dropped_apostrophe", _DROPPED_APOSTROPHE, True),
    ("style:bare_number", _BARE_NUMBER, False),  # anchored with ^ and $: search is match
    ("style:has_number", _NUMBER, False),
    ("style:math_notation", _MATH_NOTATION, True),
    ("style:stretched_letters", _STRETCH, False),
    ("style:emoji", _EMOJI, False),
    ("style:interjection", _INTERJECTION, True),
    ("style:explains", _EXPLAIN, True),
    ("style:hedge", _HEDGE, True),
    ("style:double_space", _DOUBLE_SPACE, False),
    ("style:written_punctuation", _WRITTEN_PUNCTUATION, False),
)

LENGTH_BUCKETS = ((1, "1"), (2, "2"), (3, "3"), (4, "4"), (6, "5-6"), (10, "7-10"), (20, "11-20"))


# Words that carry style, not topic: pronouns, auxiliaries, fillers, interjections, connectives,
# hedges, politeness, an LLM's cheerful words, contractions with and without the apostrophe.
# Every other word is "<w>", so the model cannot learn that a topic ("dime", "hexagon") is fake
# because the project's personas, among the negatives, talk about it.
STYLE_WORDS = frozenset(
    """
i me my mine you your we us our he she it they them this that these those a an the
is am are was were be been being do does did done have has had will would can could should
shall may might must not no yes ya yea yeah yep yup nope nah ok okay k kk alright sure
um umm uh uhh hmm hm oh ooh ohh wow yay yayy whoa oops aw ugh lol haha idk dunno
and but or so because cause cuz becuz since then if when what why how where who which
think thought guess maybe probably know knew mean means sure really very so too just
please thanks thank sorry excited love fun cool awesome amazing great super wonderful happy
let's let me i'm it's don't can't that's isn't didn't won't i've you're i'll what's
im its dont cant thats isnt didnt wont ive youre ill whats wat
answer correct right wrong got get help again try
""".split()
)
_SHAPE = str.maketrans(
    {
        **dict.fromkeys("abcdefghijklmnopqrstuvwxyz", "a"),
        **dict.fromkeys("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "A"),
    }
)


def words_of(text: str) -> list[str]:
    """Whitespace-separated words: the word count everyone (README, length checks) uses."""
    return _WORD.findall(text)


def length_bucket(n: int) -> str:
    for limit, name in LENGTH_BUCKETS:
        if n <= limit:
            return name
    return "21+"


def featurize(text: str, lexicon: Collection[str] = ()) -> dict[str, float]:
    """Sparse features of ``text``; ``lexicon`` is the plain-English word list of the model
    (words of 4+ letters outside it count as invented or unusual spelling)."""
    raw = text.replace("\u2019", "'").strip()
    lowered = raw.lower()
    words = words_of(raw)
    n = len(words)
    f: dict[str, float] = {"style:bias_words": math.log1p(n)}
    f[f"style:len={length_bucket(n)}"] = 1.0
    if n == 0:
        f["style:empty"] = 1.0
        return f
    alpha = _ALPHA.findall(raw)
    f["style:chars_per_word"] = min(12.0, sum(len(w) for w in words) / n) / 4
    if raw[:1].isupper():
        f["style:starts_capital"] = 1.0
    if raw[:1].islower():
        f["style:starts_lower"] = 1.0
    inner_capitals = sum(1 for w in alpha[1:] if w[:1].isupper() and w.lower() != "i")
    if inner_capitals:
        f["style:inner_capitals"] = math.log1p(inner_capitals)
    if re.search(r"(?:^|\s)i(?:\s|$|')", raw):
        f["style:lowercase_i"] = 1.0
    if any(len(w) > 1 and w.isupper() for w in alpha):
        f["style:all_caps_word"] = 1.0
    last = raw[-1]
    f[f"style:ends={last if last in '.!?,' else ('digit' if last.isdigit() else 'other')}"] = 1.0
    f["style:exclamations"] = math.log1p(min(3, raw.count("!")))
    f["style:commas"] = math.log1p(min(3, raw.count(",")))
    sentences = len(re.findall(r"[.!?]+(?:\s+[A-Z]|$)", raw))
    if sentences > 1:
        f["style:sentences"] = math.log(sentences)
    if "..." in raw or "\u2026" in raw:
        f["style:ellipsis"] = 1.0
    for name, pattern, on_lowered in _MARKS:
        if pattern.search(lowered if on_lowered else raw):
            f[name] = 1.0
    if lexicon:
        long_words = [w.lower() for w in alpha if len(w) >= 4 and "'" not in w]
        unknown = sum(1 for w in long_words if w not in lexicon)
        if unknown:
            f["style:unknown_words"] = math.log1p(unknown)
            f["style:unknown_share"] = unknown / max(1, len(long_words))
    tokens = [("<num>" if t[0].isdigit() else t) for t in _TOKEN.findall(lowered)]
    tokens = [t if (t in STYLE_WORDS or not t[0].isalpha()) else "<w>" for t in tokens]
    for token in tokens:
        key = f"w:{token}"
        f[key] = min(3.0, f.get(key, 0.0) + 1.0)
    for first, second in zip(["<s>", *tokens], [*tokens, "</s>"], strict=True):
        key = f"b:{first} {second}"
        f[key] = 1.0
    shaped = f" {_NUMBER.sub('0', raw).translate(_SHAPE)} "
    for i in range(len(shaped) - 2):
        f[f"s:{shaped[i : i + 3]}"] = 1.0
    return f
