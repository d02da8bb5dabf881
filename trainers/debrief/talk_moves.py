"""Talk moves in a teacher's message, by what each sentence does.

Eleven classes after the accountable-talk moves of TalkMoves (Suresh et al.) and the questions and
praise that teacher-feedback studies count: pressing for reasoning, revoicing the child's idea,
offering a model or representation, asking the child to check, telling the answer or the rule,
praise of effort, praise of an answer, closed and open questions, "try again" without help, other.

The classifier is a multinomial logistic regression over word, word-pair and character n-grams,
trained on the labeled lines in ``data/talk_moves.tsv`` by :func:`train` (``python -m
trainers.debrief.train_talk_moves`` writes ``data/talk_moves_model.json``). Prediction is plain
Python over a JSON file: no network, no numpy, no torch, well under a millisecond a sentence.
"""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
LABELED_LINES = DATA_DIR / "talk_moves.tsv"
MODEL_FILE = DATA_DIR / "talk_moves_model.json"

LABELS = (
    "press_reasoning",
    "revoice",
    "model",
    "ask_check",
    "telling",
    "praise_effort",
    "praise_answer",
    "closed_question",
    "open_question",
    "reconsider",
    "other",
)
QUESTION_LABELS = ("press_reasoning", "closed_question", "open_question")
OPEN_LABELS = ("press_reasoning", "open_question")

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
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class LabeledLine:
    split: str
    label: str
    text: str
    line: int


@dataclass(frozen=True)
class TalkMove:
    label: str
    confidence: float
    why: str
    """The n-grams that weighed most for ``label``."""


def sentences(message: str) -> list[str]:
    """The message cut into sentences (a chat line may hold a question and a telling)."""
    return [part.strip() for part in _SENTENCE_END.split(message.strip()) if part.strip()]


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


class LinearModel:
    """Per-label weights over sparse features; softmax gives the probabilities."""

    def __init__(self, labels: tuple[str, ...], weights: dict[str, list[float]]) -> None:
        self.labels = labels
        self.weights = weights

    def scores(self, feats: dict[str, float]) -> list[float]:
        totals = [0.0] * len(self.labels)
        for name, value in feats.items():
            row = self.weights.get(name)
            if row is not None:
                for k, weight in enumerate(row):
                    totals[k] += weight * value
        return totals

    def probabilities(self, feats: dict[str, float]) -> list[float]:
        scores = self.scores(feats)
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return [e / total for e in exps]

    def predict(self, text: str) -> TalkMove:
        feats = features(text)
        probs = self.probabilities(feats)
        best = max(range(len(probs)), key=probs.__getitem__)
        contributions = sorted(
            (
                (self.weights[name][best] * value, name)
                for name, value in feats.items()
                if name in self.weights and name.startswith(("w:", "b:"))
            ),
            reverse=True,
        )
        cues = [name.split(":", 1)[1].strip() for weight, name in contributions[:3] if weight > 0]
        why = f"reads as {self.labels[best].replace('_', ' ')}" + (
            f" (from {', '.join(repr(c) for c in cues)})" if cues else ""
        )
        return TalkMove(self.labels[best], probs[best], why)

    def to_json(self) -> dict:
        rounded = {
            name: [round(w, 4) for w in row]
            for name, row in self.weights.items()
            if any(abs(w) >= 1e-4 for w in row)
        }
        return {"labels": list(self.labels), "weights": rounded}

    @classmethod
    def from_json(cls, data: dict) -> LinearModel:
        return cls(tuple(data["labels"]), data["weights"])


def load_labeled_lines(path: Path = LABELED_LINES) -> list[LabeledLine]:
    """The labeled set; a malformed line is an error naming the file, line and fix."""
    rows: list[LabeledLine] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) != 3 or parts[0] not in ("train", "test") or parts[1] not in LABELS:
            raise ValueError(
                f"{path}:{number}: expected SPLIT<TAB>LABEL<TAB>TEXT with SPLIT train or test "
                f"and LABEL one of {', '.join(LABELS)}; got {raw!r}"
            )
        rows.append(LabeledLine(parts[0], parts[1], parts[2], number))
    return rows


def train(
    rows: list[LabeledLine], *, epochs: int = 40, rate: float = 0.3, l2: float = 1e-4, seed: int = 0
) -> LinearModel:
    """Multinomial logistic regression by stochastic gradient descent (plain Python: ~250 lines
    train in a second or two, and the result does not depend on a numeric library's version)."""
    labels = LABELS
    index = {label: k for k, label in enumerate(labels)}
    data = [(features(row.text), index[row.label]) for row in rows]
    weights: dict[str, list[float]] = {}
    order = list(range(len(data)))
    shuffler = random.Random(seed)
    for epoch in range(epochs):
        shuffler.shuffle(order)
        step = rate / (1 + epoch * 0.1)
        model = LinearModel(labels, weights)
        for i in order:
            feats, target = data[i]
            probs = model.probabilities(feats)
            for name, value in feats.items():
                row = weights.setdefault(name, [0.0] * len(labels))
                for k in range(len(labels)):
                    gradient = (probs[k] - (1.0 if k == target else 0.0)) * value + l2 * row[k]
                    row[k] -= step * gradient
    return LinearModel(labels, weights)


def accuracy(model: LinearModel, rows: list[LabeledLine]) -> float:
    if not rows:
        return 0.0
    return sum(model.predict(row.text).label == row.label for row in rows) / len(rows)


@cache
def shipped_model() -> LinearModel:
    """The model shipped in the package data, loaded once."""
    try:
        data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{MODEL_FILE} is missing; rebuild it with "
            "`python -m trainers.debrief.train_talk_moves`"
        ) from None
    return LinearModel.from_json(data)


def classify_talk(sentence: str) -> TalkMove:
    """The talk move one sentence makes. Pure and thread-safe once the model is loaded."""
    return shipped_model().predict(sentence)


def message_moves(message: str) -> list[tuple[str, TalkMove]]:
    """(sentence, move) for each sentence of a teacher message, in order."""
    return [(sentence, classify_talk(sentence)) for sentence in sentences(message)]
