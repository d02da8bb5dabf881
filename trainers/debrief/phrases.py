"""Features of a teacher's sentence that name what it does: phrase families and n-grams.

Shared by the talk-move head over the move recognizer's embedding (:mod:`.talk_head`)
and the plain-Python fallback model (:mod:`.talk_ngram`).
"""

from __future__ import annotations

import re
from itertools import pairwise

# Phrase families a teacher-education reader would name for each move. They are features the
# model weighs (with the n-grams), not rules: "let's use blocks" and "I have blocks at home" share
# a word, and the weights learn which family matters in which company.
_LEXICON = {
    "praise": r"\b(great|good|nice|awesome|excellent|well done|proud|super|wow|perfect|bingo|star|"
    r"impressed|way to|love|high five|brilliant|fantastic|amazing)\b",
    "correct": r"\b(right|correct|exactly|yes|yep|yeah|got it|nailed|true|that's it)\b",
    "effort": r"\b(try|tried|trying|work|working|worked|effort|hard|thinking|keep|kept|give up|"
    r"patient|careful|carefully|checked|mistakes?|learning|brave|focused|step by step|sharing|"
    r"explaining|going)\b",
    "revoice": r"(\byou said\b|\byou think\b|you're saying|\bso you\b|\byou mean\b|\bi heard\b|"
    r"\byour idea\b|if i got|let me say|i'm hearing|\byou noticed\b|so for you|in your head|"
    r"\bso your\b|you're telling me|\byou'd say\b)",
    "model": r"\b(blocks?|cubes?|ten-sticks?|sticks?|rods?|number line|hundred chart|draw|drawing|"
    r"picture|fingers|balance|scale|seesaw|play money|paper clips?|flashlight|globe|lamp|cups?|"
    r"chart|flats?|bundles?|act it out|pretend|lay|line up|snap|trade|build)\b",
    "lets": r"^(let's|let us|here's|here is|here are|grab|get|take|use|try using)\b",
    "check": r"\b(check|make sure|test|see if|prove|double-check|make sense|again|watch|look again|"
    r"measure it|compare|different way|same answer|see which|and see)\b",
    "tell": r"(\bthe answer is\b|\bit's \d|\byou have to\b|\byou need to\b|\bmeans\b|\bis worth\b|"
    r"\bthe rule\b|\bremember\b|\balways\b|\bjust trust\b|\bis written\b|\bbecause\b|"
    r"\bnot\b|\bdon't\b|\bdoes not\b|\bthe right answer\b|\bhappens because\b)",
    "wrong": r"(\bsure\b|\bwrong\b|not right|not quite|\boops\b|\bmistake\b|think harder|"
    r"final answer|\bnope\b|^no\b|\bredo\b|think again|try again|one more|another go|"
    r"change your answer|\breally\b|doesn't look|don't think|isn't right|\bclose\b)",
    "open_start": r"^(what do you (notice|think|wonder|predict|know|see|see)|how else|how could|"
    r"how might|what would|what could|what can|tell me|what are some|what ideas|what's the same|"
    r"where do you think|what happens|which way)",
    "press": r"(^how did|\bwhy\b|how do you know|\bexplain\b|what made|what were you thinking|"
    r"how come|\breason\b|show me the steps|walk me through|say more|tell me more|"
    r"help me understand|what did you do|what do you mean|what part|how would you explain|"
    r"how did you)",
    "closed_start": r"^(what is|what's|which|is |are |does |do |did |can |how many|how much|"
    r"how long|how do you write|what number|what comes|if you had)",
    "number": r"\d",
    "you": r"\b(you|your|you're)\b",
    "chitchat": r"\b(horses?|dog|pets?|weekend|lunch|color|beach|summer|home|morning|hi|hello|"
    r"break|minutes|notebooks?|name|clean up|put .* away|ready|okay|ok|alright)\b",
}
_LEXICON_RE = {name: re.compile(pattern) for name, pattern in _LEXICON.items()}
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|\d+")
FAMILY_NAMES = tuple(_LEXICON)


def phrase_families(text: str) -> list[float]:
    """One 0/1 value per phrase family, then whether the sentence ends in a question mark."""
    lowered = text.lower().replace("\u2019", "'").strip()
    return [float(bool(pattern.search(lowered))) for pattern in _LEXICON_RE.values()] + [
        float(lowered.endswith("?"))
    ]


def features(text: str) -> dict[str, float]:
    """Sparse n-gram features; numbers become <num> so 52 and 83 read alike."""
    lowered = text.lower().replace("\u2019", "'")
    words = ["<num>" if w.isdigit() else w for w in _WORD.findall(lowered)]
    found: dict[str, float] = {"<bias>": 1.0}
    for word in words:
        found[f"w:{word}"] = 1.0
        padded = f" {word} "
        for n in (3, 4):
            for i in range(len(padded) - n + 1):
                found[f"c:{padded[i : i + n]}"] = 0.5
    for first, second in pairwise(words):
        found[f"b:{first} {second}"] = 1.0
    if words:
        found[f"first:{words[0]}"] = 1.0
        found[f"first2:{' '.join(words[:2])}"] = 1.0
    question = lowered.rstrip().endswith("?")
    if question:
        found["<question-mark>"] = 1.0
    for name, pattern in _LEXICON_RE.items():
        if pattern.search(lowered.strip()):
            found[f"lex:{name}"] = 2.0
            found[f"lex:{name}:{'q' if question else 's'}"] = 1.0
    return found
