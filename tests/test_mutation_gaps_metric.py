"""Gaps the mutation run of the authenticity metric found (issue 13).

Feature extraction is deterministic text processing, so crafted lines get their exact features:
every cue the child-likeness model reads (capitals, end marks, apostrophes, interjections, adult
notation, unknown words, word and shape n-grams) is checked present or absent, with its value.
The scorer loads a model file written here, so its loading, errors, Platt scaling and
explanations are checked against known weights; the shipped model is checked through the metric.
The metric's own arithmetic (``rules x (0.2 + 0.8 x child-likeness)``, the weakest rule's share,
the report fields) is checked as README.md states it, on margins, never one machine's floats.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from trainers.childlike.features import LENGTH_BUCKETS, featurize, length_bucket
from trainers.childlike.scorer import (
    FEATURE_VERSION,
    MODEL_PATH,
    ChildLikenessModel,
    ModelFileError,
    default_model,
    load_model,
)

LOG2, LOG3, LOG4 = math.log1p(1), math.log1p(2), math.log1p(3)


def _style(text: str, lexicon: frozenset[str] = frozenset()) -> dict[str, float]:
    return {k: v for k, v in featurize(text, lexicon).items() if k.startswith("style:")}


# --- features: the style cues of crafted lines ---------------------------------------------------

STYLE_CASES = [
    # an LLM's cheerful line: capital, curly apostrophe kept, shouting, ellipsis, "Because",
    # adult notation, stretched letters, an opening "Ooh!", double space, a semicolon
    (
        "Ooh! I\u2019m SO happy...  Because 3 x 4 = 12; yesss",
        {"happy"},
        {
            "bias_words": math.log1p(11), "len=11-20": 1.0, "chars_per_word": 36 / 11 / 4,
            "starts_capital": 1.0, "inner_capitals": math.log1p(3), "all_caps_word": 1.0,
            "ends=other": 1.0, "exclamations": LOG2, "commas": 0.0, "sentences": math.log(2),
            "ellipsis": 1.0, "kept_apostrophe": 1.0, "has_number": 1.0, "math_notation": 1.0,
            "stretched_letters": 1.0, "interjection": 1.0, "explains": 1.0, "double_space": 1.0,
            "written_punctuation": 1.0, "unknown_words": LOG3, "unknown_share": 2 / 3,
        },
    ),
    # a real child: lower-case i, dropped apostrophe, one unknown 4-letter word of one
    (
        "i dont no",
        {"happy"},
        {
            "bias_words": math.log1p(3), "len=3": 1.0, "chars_per_word": 7 / 3 / 4,
            "starts_lower": 1.0, "lowercase_i": 1.0, "ends=other": 1.0, "exclamations": 0.0,
            "commas": 0.0, "dropped_apostrophe": 1.0, "unknown_words": LOG2,
            "unknown_share": 1.0,
        },
    ),
    # no lexicon: no unknown-word cues
    (
        "i dont no",
        set(),
        {
            "bias_words": math.log1p(3), "len=3": 1.0, "chars_per_word": 7 / 3 / 4,
            "starts_lower": 1.0, "lowercase_i": 1.0, "ends=other": 1.0, "exclamations": 0.0,
            "commas": 0.0, "dropped_apostrophe": 1.0,
        },
    ),
    # a bare number with a question mark, surrounding spaces stripped
    (
        "  25?  ",
        set(),
        {
            "bias_words": LOG2, "len=1": 1.0, "chars_per_word": 3 / 4, "ends=?": 1.0,
            "exclamations": 0.0, "commas": 0.0, "bare_number": 1.0, "has_number": 1.0,
        },
    ),
    # a hedge and an algebra "X =" typed with capitals; ends on a capital letter
    (
        "I think X = 5, not X",
        set(),
        {
            "bias_words": math.log1p(7), "len=7-10": 1.0, "chars_per_word": 14 / 7 / 4,
            "starts_capital": 1.0, "inner_capitals": LOG3, "ends=other": 1.0,
            "exclamations": 0.0, "commas": LOG2, "has_number": 1.0, "math_notation": 1.0,
            "hedge": 1.0,
        },
    ),
    # ends on a digit
    (
        "i got 25",
        set(),
        {
            "bias_words": math.log1p(3), "len=3": 1.0, "chars_per_word": 6 / 3 / 4,
            "starts_lower": 1.0, "lowercase_i": 1.0, "ends=digit": 1.0, "exclamations": 0.0,
            "commas": 0.0, "has_number": 1.0,
        },
    ),
    # exclamation marks and commas count up to three
    (
        "yay!!!!, ok, ok, ok, ok",
        set(),
        {
            "bias_words": math.log1p(5), "len=5-6": 1.0, "chars_per_word": 19 / 5 / 4,
            "starts_lower": 1.0, "ends=other": 1.0, "exclamations": LOG4, "commas": LOG4,
            "interjection": 1.0,
        },
    ),
    # word length is capped at 12 letters a word
    (
        "supercalifragilisticexpialidocious",
        set(),
        {
            "bias_words": LOG2, "len=1": 1.0, "chars_per_word": 3.0, "starts_lower": 1.0,
            "ends=other": 1.0, "exclamations": 0.0, "commas": 0.0,
        },
    ),
    # starts lower-case even when the second letter is a capital; an inner capital
    (
        "iPad is fun",
        set(),
        {
            "bias_words": math.log1p(3), "len=3": 1.0, "chars_per_word": 9 / 3 / 4,
            "starts_lower": 1.0, "ends=other": 1.0, "exclamations": 0.0, "commas": 0.0,
        },
    ),
    # the one-character ellipsis; a capital second word is an inner capital
    (
        "Ok Then\u2026",
        set(),
        {
            "bias_words": math.log1p(2), "len=2": 1.0, "chars_per_word": 7 / 2 / 4,
            "starts_capital": 1.0, "inner_capitals": LOG2, "ends=other": 1.0,
            "exclamations": 0.0, "commas": 0.0, "ellipsis": 1.0,
        },
    ),
    # three sentences; a capital "I" inside is not an inner capital nor an all-caps word
    (
        "Is it 5? Yes. Then I got 7!",
        set(),
        {
            "bias_words": math.log1p(8), "len=7-10": 1.0, "chars_per_word": 20 / 8 / 4,
            "starts_capital": 1.0, "inner_capitals": LOG3, "ends=!": 1.0,
            "exclamations": LOG2, "commas": 0.0, "sentences": math.log(3), "has_number": 1.0,
        },
    ),
    # one sentence is no "sentences" cue; "OK" is an all-caps word
    (
        "OK I got it.",
        set(),
        {
            "bias_words": math.log1p(4), "len=4": 1.0, "chars_per_word": 9 / 4 / 4,
            "starts_capital": 1.0, "all_caps_word": 1.0, "ends=.": 1.0, "exclamations": 0.0,
            "commas": 0.0,
        },
    ),
    (
        "its 5, right",
        set(),
        {
            "bias_words": math.log1p(3), "len=3": 1.0, "chars_per_word": 10 / 3 / 4,
            "starts_lower": 1.0, "ends=other": 1.0, "exclamations": 0.0, "commas": LOG2,
            "has_number": 1.0,
        },
    ),
    ("ok,", set(), {"bias_words": LOG2, "len=1": 1.0, "chars_per_word": 3 / 4,
                    "starts_lower": 1.0, "ends=,": 1.0, "exclamations": 0.0, "commas": LOG2}),
    ("i'm 7 \U0001f600", set(), {
        "bias_words": math.log1p(3), "len=3": 1.0, "chars_per_word": 5 / 3 / 4,
        "starts_lower": 1.0, "lowercase_i": 1.0, "ends=other": 1.0, "exclamations": 0.0,
        "commas": 0.0, "kept_apostrophe": 1.0, "has_number": 1.0, "emoji": 1.0,
    }),
]  # fmt: skip


@pytest.mark.parametrize(("text", "lexicon", "expected"), STYLE_CASES, ids=lambda v: repr(v)[:24])
def test_style_cues_of_crafted_lines(text: str, lexicon: set[str], expected: dict) -> None:
    """Each cue is there with its value, and no other cue is."""
    want = {f"style:{k}": v for k, v in expected.items()}
    assert _style(text, frozenset(lexicon)) == pytest.approx(want)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_an_empty_line_is_only_empty(text: str) -> None:
    assert featurize(text) == {"style:bias_words": 0.0, "style:len=1": 1.0, "style:empty": 1.0}


def test_every_word_count_falls_in_its_named_length_bucket() -> None:
    expected = {0: "1", 1: "1", 2: "2", 3: "3", 4: "4", 5: "5-6", 6: "5-6", 7: "7-10",
                10: "7-10", 11: "11-20", 20: "11-20", 21: "21+", 500: "21+"}  # fmt: skip
    assert {n: length_bucket(n) for n in expected} == expected
    names = [name for _, name in LENGTH_BUCKETS]
    assert names == ["1", "2", "3", "4", "5-6", "7-10", "11-20"]


def test_words_and_pairs_keep_only_style_words_and_fold_the_rest() -> None:
    """Topic words become ``<w>``, numbers ``<num>``; a word counts up to three times; word
    pairs run from the start mark to the end mark."""
    bags = {k: v for k, v in featurize("Ok so 52 - 27 is 35 dinosaurs, ok ok ok").items()
            if k.startswith(("w:", "b:"))}  # fmt: skip
    assert bags == {
        "w:ok": 3.0, "w:so": 1.0, "w:<num>": 3.0, "w:-": 1.0, "w:is": 1.0, "w:<w>": 1.0,
        "w:,": 1.0,
        "b:<s> ok": 1.0, "b:ok so": 1.0, "b:so <num>": 1.0, "b:<num> -": 1.0, "b:- <num>": 1.0,
        "b:<num> is": 1.0, "b:is <num>": 1.0, "b:<num> <w>": 1.0, "b:<w> ,": 1.0,
        "b:, ok": 1.0, "b:ok ok": 1.0, "b:ok </s>": 1.0,
    }  # fmt: skip
    # apostrophes, curly or straight, stay inside the word; decimals are one number
    assert {k for k in featurize("I\u2019m 2.5") if k.startswith("w:")} == {"w:i'm", "w:<num>"}


def test_shape_trigrams_see_letters_digits_and_marks_not_words() -> None:
    shapes = {k for k in featurize("Ok 25!") if k.startswith("s:")}
    assert shapes == {"s: Aa", "s:Aa ", "s:a 0", "s: 0!", "s:0! "}
    assert {k for k in featurize("Hi 7!") if k.startswith("s:")} == shapes
    assert {k for k in featurize("zY") if k.startswith("s:")} == {"s: aA", "s:aA "}


# --- the scorer: a model file written here -------------------------------------------------------

WEIGHTS = {"style:len=1": 2.0, "style:ends=!": -3.0, "style:unknown_words": -1.5, "w:yay": 0.5}


def _model_file(tmp_path: Path, **changes: object) -> Path:
    data = {
        "format": "utta-childlike", "feature_version": FEATURE_VERSION, "weights": WEIGHTS,
        "intercept": 0.25, "platt": [1.5, -0.5], "lexicon": ["happy"],
        "trained_on": {"content_hash": "abc123"},
    }  # fmt: skip
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_a_model_file_loads_with_its_weights_calibration_lexicon_and_hash(tmp_path: Path) -> None:
    model = load_model(_model_file(tmp_path))
    assert model.weights == WEIGHTS
    assert model.intercept == 0.25 and model.platt == (1.5, -0.5)
    assert model.lexicon == frozenset({"happy"}) and model.content_hash == "abc123"
    # Platt scaling of the linear score: "yay" is one word, lower case, known to nobody
    assert model.decision("yay") == pytest.approx(0.25 + 2.0 + 0.5)
    assert model.probability("yay") == pytest.approx(_sigmoid(1.5 * 2.75 - 0.5))
    # the lexicon is read: "happy" is known, "hapy" is not
    assert model.decision("happy") == pytest.approx(2.25)
    assert model.decision("hapy") == pytest.approx(2.25 - 1.5 * LOG2)
    assert model.probability("Yay!") < model.probability("yay")


def test_a_model_file_without_lexicon_or_provenance_still_loads(tmp_path: Path) -> None:
    model = load_model(_model_file(tmp_path, lexicon=None, trained_on=None))
    assert model.lexicon == frozenset() and model.content_hash == ""
    assert model.decision("hapy") == pytest.approx(2.25)


def test_the_explanation_is_the_score_and_its_strongest_cues(tmp_path: Path) -> None:
    model = load_model(_model_file(tmp_path))
    probability, top = model.explain("Yay!", 12)
    assert probability == pytest.approx(model.probability("Yay!"))
    assert top == [("style:ends=!", -3.0), ("style:len=1", 2.0), ("w:yay", 0.5)]
    assert model.top_features("Yay!") == top  # three by default
    assert model.top_features("Yay!", 1) == [("style:ends=!", -3.0)]
    assert model.explain("hapy")[1] == [("style:len=1", 2.0), ("style:unknown_words", -1.5 * LOG2)]


def test_a_hopeless_line_scores_zero_instead_of_overflowing(tmp_path: Path) -> None:
    model = load_model(_model_file(tmp_path, weights={"style:ends=!": -1e6}))
    assert model.probability("no!") == 0.0
    assert model.explain("no!")[0] == 0.0
    assert model.probability("no") == pytest.approx(_sigmoid(1.5 * 0.25 - 0.5))


def test_the_shipped_model_scores_the_same_on_both_paths() -> None:
    """The metric's reason (``explain``) and ``child_likeness`` (``probability``) agree; the
    default model is the shipped file."""
    model = load_model()
    assert model == default_model() == load_model(MODEL_PATH)
    assert model.weights and model.content_hash
    for text in ("yes", "i dont no the anser", "Ooh! I think it's 25 because...", "Yay!"):
        assert model.explain(text)[0] == pytest.approx(model.probability(text), rel=1e-9)


def test_model_file_errors_name_the_file_and_the_fix(tmp_path: Path) -> None:
    """A missing, foreign, outdated or damaged model file is a ModelFileError naming the file
    and the command that rewrites it, never a KeyError or AttributeError from deep inside."""
    fix = "; retrain it with `python -m trainers.childlike.train`"
    missing = tmp_path / "absent.json"
    with pytest.raises(ModelFileError) as error:
        load_model(missing)
    assert str(error.value).startswith(f"{missing}: cannot read the child-likeness model (")
    assert str(error.value).endswith(fix)
    for foreign in ("[1, 2]", '"model"', json.dumps({"feature_version": FEATURE_VERSION})):
        path = tmp_path / "foreign.json"
        path.write_text(foreign, encoding="utf-8")
        with pytest.raises(ModelFileError) as error:
            load_model(path)
        assert str(error.value) == (
            f'{path}: not a child-likeness model (no "format": "utta-childlike"){fix}'
        )
    path = _model_file(tmp_path, feature_version=FEATURE_VERSION + 1)
    with pytest.raises(ModelFileError) as error:
        load_model(path)
    assert str(error.value) == (
        f"{path}: feature_version {FEATURE_VERSION + 1}, this code needs {FEATURE_VERSION}{fix}"
    )
    # (None drops the field)
    for damage in ({"platt": None}, {"platt": [1.0]}, {"weights": None},
                   {"weights": {"style:len=1": "heavy"}}, {"weights": {"w:yay": None}},
                   {"intercept": None}, {"trained_on": "yesterday"}):  # fmt: skip
        path = _model_file(tmp_path, **damage)
        with pytest.raises(ModelFileError) as error:
            load_model(path)
        assert str(error.value).startswith(f"{path}: a damaged child-likeness model ("), damage
        assert str(error.value).endswith(fix)
