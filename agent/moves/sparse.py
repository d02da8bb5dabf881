"""TF-IDF of word and character n-grams, computed with numpy from a fitted vocabulary.

The trainer fits scikit-learn's ``TfidfVectorizer`` (word 1-2-grams, and character 2-4-grams
inside word boundaries, sublinear tf, l2 norm); the chat only needs its vocabulary and idf
weights, so this reproduces its ``transform`` without importing scikit-learn (and SciPy) on the
chat's path. The trainer checks the two agree on every labeled line before it writes a head.
Character n-grams carry the typos trainees make ("subtrack", "borow").
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

WORD_PATTERN = r"[a-z0-9']+"
_WORD = re.compile(WORD_PATTERN)
_WHITE_SPACES = re.compile(r"\s\s+")


def word_ngrams(text: str, low: int = 1, high: int = 2) -> list[str]:
    tokens = _WORD.findall(text.lower())
    grams: list[str] = []
    for n in range(low, high + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def char_wb_ngrams(text: str, low: int = 2, high: int = 4) -> list[str]:
    # The same n-grams as scikit-learn's analyzer="char_wb".
    text = _WHITE_SPACES.sub(" ", text.lower())
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        for n in range(low, high + 1):
            offset = 0
            grams.append(padded[offset : offset + n])
            while offset + n < len(padded):
                offset += 1
                grams.append(padded[offset : offset + n])
            if offset == 0:  # the word is shorter than n: one n-gram is enough
                break
    return grams


class Tfidf:
    """``TfidfVectorizer.transform`` for one fitted vocabulary (sublinear tf, l2 norm)."""

    def __init__(self, terms: list[str], idf: np.ndarray, analyzer: str) -> None:
        self.index = {term: i for i, term in enumerate(terms)}
        self.idf = idf.astype(np.float32)
        self.analyze = word_ngrams if analyzer == "word" else char_wb_ngrams

    def transform(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.index)), dtype=np.float32)
        for row, text in enumerate(texts):
            counts = Counter(g for g in self.analyze(text) if g in self.index)
            for gram, count in counts.items():
                col = self.index[gram]
                out[row, col] = (1.0 + math.log(count)) * self.idf[col]
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out
