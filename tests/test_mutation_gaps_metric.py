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
from dataclasses import replace
from pathlib import Path

import pytest

from agent.state import MisconceptionState, StudentState
from personas.loader import PersonaLibrary
from trainers.childlike.features import LENGTH_BUCKETS, featurize, length_bucket
from trainers.childlike.scorer import (
    FEATURE_VERSION,
    MODEL_PATH,
    ChildLikenessModel,
    ModelFileError,
    default_model,
    load_model,
)
from trainers.metric import (
    COMPONENTS,
    AuthenticityScore,
    answer_from_description,
    dspy_metric,
    score_dataset,
    score_example,
    score_reply,
    state_from_description,
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

WEIGHTS = {
    "style:len=1": 2.0, "style:ends=!": -3.0, "style:unknown_words": -1.5, "w:yay": 0.5,
    "style:starts_capital": -0.1,
}  # fmt: skip


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
    assert top == [
        ("style:ends=!", -3.0), ("style:len=1", 2.0), ("w:yay", 0.5),
        ("style:starts_capital", -0.1),
    ]  # fmt: skip
    assert model.top_features("Yay!") == top[:3] == model.explain("Yay!")[1]  # three by default
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
    # the damage is named
    with pytest.raises(ModelFileError, match=r"model \(KeyError: 'platt'\);"):
        load_model(_model_file(tmp_path, platt=None))


# --- the metric: how the parts combine ----------------------------------------------------------

LIBRARY = PersonaLibrary()
MAYA = LIBRARY.get("maya")
HELD_ANSWER = {
    "question": "What is 83 - 46?", "value": "43", "correct_value": "37",
    "misconception": "smaller-from-larger", "held": True, "mode": "answer",
}  # fmt: skip
# README.md: each rule's weight in the rules' mean (length and vocabulary count most)
RULE_WEIGHTS = {
    "length": 0.2, "reading_level": 0.1, "vocabulary": 0.2, "in_character": 0.15,
    "misconception": 0.1, "answer": 0.1, "repetition": 0.15,
}  # fmt: skip
REPLIES = [
    ("35", {}),
    ("i dont no", {}),
    ("Yes!", {}),
    ("ok", {"previous_replies": ["ok"]}),
    ("37", {"answer": HELD_ANSWER}),
    ("12", {"answer": HELD_ANSWER}),
    ("Great question! When we subtract 27 from 52, we regroup one ten, which gives us 25.", {}),
    ("Good job! Can you tell me what 52 - 27 is?", {}),
]


@pytest.mark.parametrize(("reply", "context"), REPLIES, ids=[r for r, _ in REPLIES])
def test_total_is_the_rules_weighed_by_child_likeness(reply: str, context: dict) -> None:
    """README: ``rules = 0.4 x weighted mean + 0.6 x weakest`` and ``total = rules x (0.2 +
    0.8 x child-likeness)``: a reply breaking no rule keeps a fifth when it reads like an LLM."""
    score = score_reply(reply, MAYA, **context)
    rules = {name: score.components[name].score for name in RULE_WEIGHTS}
    mean = sum(RULE_WEIGHTS[n] * s for n, s in rules.items()) / sum(RULE_WEIGHTS.values())
    assert score.rules == pytest.approx(0.4 * mean + 0.6 * min(rules.values()), abs=1e-5)
    assert score.total == pytest.approx(score.rules * (0.2 + 0.8 * score.child_likeness), abs=1e-5)
    assert float(score) == score.total
    assert score.child_likeness == score.components["child_likeness"].score


def test_breaking_one_rule_costs_more_than_its_weight_alone() -> None:
    """One bad aspect sinks the reply: a repeat costs far more than its 0.15 share."""
    fresh = score_reply("the sun goes down", LIBRARY.get("leo"))
    repeat = score_reply(
        "the sun goes down", LIBRARY.get("leo"), previous_replies=["the sun goes down"]
    )
    assert repeat.components["repetition"].score == 0.0
    assert repeat.rules < fresh.rules - 0.5


@pytest.mark.parametrize("reply", ["", "   ", "\n"])
def test_an_empty_reply_scores_zero_on_every_component(reply: str) -> None:
    score = score_reply(reply, MAYA)
    assert (score.total, score.rules, score.child_likeness) == (0.0, 0.0, 0.0)
    assert set(score.components) == set(COMPONENTS)
    assert {(c.name, c.score, c.reason) for c in score.components.values()} == {
        (name, 0.0, "empty reply") for name in COMPONENTS
    }


def test_reasons_list_what_lost_points_weakest_first() -> None:
    score = score_reply("37", MAYA, answer=HELD_ANSWER, previous_replies=["37"])
    lost = [c for c in score.components.values() if c.score < 1]
    assert {"answer", "repetition"} <= {c.name for c in lost}
    assert score.components["length"].score == 1.0
    assert len(score.reasons) == len(lost)
    assert not any(r.startswith("length ") for r in score.reasons)
    ordered = sorted(lost, key=lambda c: c.score)
    assert score.reasons == [f"{c.name} {c.score:.2f}: {c.reason}" for c in ordered]
    assert score.reasons[0].startswith("answer 0.10: gives the correct 37 while")
    # a score made without components: no reasons, no child-likeness, no rules
    bare = AuthenticityScore(0.3)
    assert (bare.reasons, bare.child_likeness, bare.rules, bare.components) == ([], 0.0, 0.0, {})


def test_the_report_rounds_to_four_places() -> None:
    score = score_reply("the sun goes down again", MAYA, previous_replies=["the sun goes down"])
    report = score.to_dict()
    assert set(report) == {"total", "child_likeness", "rules", "components", "reasons"}
    assert report["total"] == round(score.total, 4) and 0 < report["total"] < 1
    assert report["child_likeness"] == round(score.child_likeness, 4)
    assert report["rules"] == round(score.rules, 4) and 0 < report["rules"] < 1
    assert report["components"] == {n: round(c.score, 4) for n, c in score.components.items()}
    assert report["reasons"] == score.reasons
    for value in (report["total"], report["child_likeness"], report["rules"]):
        assert isinstance(value, float) and value == round(value, 4)


# --- the child-likeness reason: cues named in words ----------------------------------------------

CUES = [
    ("style:ends=!", "ok!", -2, "ends with !"),
    ("style:ends=.", "ok.", -2, "ends with a full stop"),
    ("style:ends=?", "ok?", -2, "ends with ?"),
    ("style:ends=other", "ok", 2, "no end mark"),
    ("style:ends=digit", "25", 2, "ends with a number"),
    ("style:starts_capital", "Ok", -2, "starts with a capital"),
    ("style:starts_lower", "ok", 2, "starts lower-case"),
    ("style:exclamations", "ok!", -2, "exclamation marks"),
    ("style:bare_number", "25", 2, "a bare number"),
    ("style:kept_apostrophe", "it's 5", -2, "tidy apostrophes"),
    ("style:dropped_apostrophe", "dont know", 2, "dropped apostrophes"),
    ("style:stretched_letters", "yesss", 2, "stretched letters"),
    ("style:interjection", "ooh! ok", -2, "an opening 'Ooh!'-style interjection"),
    ("style:explains", "because 5", -2, "explains unprompted"),
    ("style:math_notation", "5 = 5", -2, "adult math notation"),
    ("style:written_punctuation", "ok; 5", -2, "written punctuation"),
    ("style:double_space", "ok  5", 2, "uneven spacing"),
    ("style:commas", "ok, 5", -2, "commas"),
    ("style:chars_per_word", "ok", -2, "word length"),
    ("style:hedge", "maybe 5", 2, "hedge"),  # not in the table: its own name
    ("w:yay", "yay", 2, "yay"),
    ("b:<s> ok", "ok", -2, "<s> ok"),
    ("b:ok :", "ok: 5", -2, "ok :"),  # a colon inside the name is kept
    ("w::", "ok: 5", -2, ":"),
]


def _only(weights: dict[str, float]) -> ChildLikenessModel:
    return ChildLikenessModel(weights, 0.0, (1.0, 0.0), frozenset(), "test")


@pytest.mark.parametrize(("feature", "text", "weight", "words"), CUES, ids=[c[0] for c in CUES])
def test_the_child_likeness_reason_names_its_cue_in_words(
    monkeypatch: pytest.MonkeyPatch, feature: str, text: str, weight: float, words: str
) -> None:
    """A teacher reads "ends with !", not "style:ends=!"; the sign says which way it pushed.
    (A model with one weight, so the cue wording does not depend on the shipped weights.)"""
    monkeypatch.setattr("trainers.metric.default_model", lambda: _only({feature: weight}))
    component = score_reply(text, MAYA).components["child_likeness"]
    verdict = "reads like a real child" if weight > 0 else "reads like an LLM writing a child"
    assert component.reason == f"{verdict} (cues: {words} {'+' if weight > 0 else '-'})"
    assert (component.score > 0.5) == (weight > 0)


def test_the_reason_lists_the_three_strongest_style_cues(monkeypatch: pytest.MonkeyPatch) -> None:
    """Length and character shapes move the score but are no cue a teacher can act on."""
    weights = {"style:bias_words": 9.0, "s: aa": 8.0, "style:starts_lower": 3.0,
               "style:ends=other": 0.8, "w:ok": -1.0, "b:<s> ok": 0.5}  # fmt: skip
    monkeypatch.setattr("trainers.metric.default_model", lambda: _only(weights))
    component = score_reply("ok", MAYA).components["child_likeness"]
    assert component.reason == (
        "reads like a real child (cues: starts lower-case +, ok -, no end mark +)"
    )


# --- scoring training rows and DSPy examples ----------------------------------------------------

RESOLVES = "brake a ten into 10 ones. 25"  # uses the words of smaller-from-larger's resolution
ON_TOPIC, OFF_TOPIC = "What is 52 - 27?", "do you like ponies?"


def _all_held() -> str:
    return StudentState.initial(MAYA).describe(MAYA)


def test_a_described_state_is_judged_against_what_the_teacher_asked() -> None:
    """A state read back from text has no active topic: the teacher's message picks the
    misconceptions to check, and without one every held misconception counts."""
    state = state_from_description(_all_held(), MAYA)
    assert state is not None and state.active is None

    def misconception(**kw: str) -> float:
        return score_reply(RESOLVES, MAYA, state=state, **kw).components["misconception"].score

    assert misconception(teacher_message=ON_TOPIC) < 0.5
    assert misconception(teacher_message=OFF_TOPIC) == 1.0
    assert misconception() < 0.5


def _chat(*turns: str, system: str | None = None) -> list[dict[str, str]]:
    roles = ["user", "assistant"] * len(turns)
    messages = [{"role": r, "content": t} for r, t in zip(roles, turns, strict=False)]
    return ([{"role": "system", "content": system}] if system is not None else []) + messages


def test_a_chat_row_reads_the_teacher_the_earlier_replies_and_the_state() -> None:
    system = f"{MAYA.system_prompt()}\n{_all_held()}"

    def score(row: dict, reply: str) -> object:
        return score_example(row, reply, MAYA)

    # the teacher is the message before the reply, not an earlier one
    on = {"messages": _chat(OFF_TOPIC, "pepper", ON_TOPIC, RESOLVES, system=system)}
    off = {"messages": _chat(ON_TOPIC, "35", OFF_TOPIC, RESOLVES, system=system)}
    assert score(on, RESOLVES).components["misconception"].score < 0.5
    assert score(off, RESOLVES).components["misconception"].score == 1.0
    # repeats are the child's own earlier replies, not the teacher's lines
    said_before = {"messages": _chat("hi", "the sun goes down", "and?", "the sun goes down")}
    teacher_said = {"messages": _chat("the sun goes down", "ok", "and?", "the sun goes down")}
    assert score(said_before, "the sun goes down").components["repetition"].score == 0.0
    assert score(teacher_said, "the sun goes down").components["repetition"].score == 1.0
    # a row without a system prompt takes its state from ``student_state``
    bare = {"messages": _chat(ON_TOPIC, RESOLVES), "student_state": _all_held()}
    assert score(bare, RESOLVES).components["misconception"].score < 0.5
    assert (
        score({**bare, "messages": _chat(OFF_TOPIC, RESOLVES)}, RESOLVES)
        .components["misconception"]
        .score
        == 1.0
    )
    # a row of the reply alone: no teacher, so every held misconception is checked
    alone = {"messages": [{"role": "assistant", "content": RESOLVES}],
             "student_state": _all_held()}  # fmt: skip
    assert score(alone, RESOLVES).components["misconception"].score < 0.5
    assert (
        score({"messages": _chat(ON_TOPIC, RESOLVES)}, RESOLVES).components["misconception"].reason
        == "no state given"
    )


def test_a_dspy_row_reads_the_teacher_the_history_and_the_answer() -> None:
    row = {"student_state": _all_held(), "teacher_message": ON_TOPIC, "history": []}

    def component(example: dict, reply: str, name: str) -> float:
        return score_example(example, reply, MAYA).components[name].score

    assert component(row, RESOLVES, "misconception") < 0.5
    assert component({**row, "teacher_message": OFF_TOPIC}, RESOLVES, "misconception") == 1.0
    no_teacher = {k: v for k, v in row.items() if k != "teacher_message"}
    assert component(no_teacher, RESOLVES, "misconception") < 0.5
    history = [{"teacher_message": "hi", "student_reply": "the sun goes down"},
               {"teacher_message": "and?"}]  # fmt: skip
    repeated = {**row, "history": history}
    assert component(repeated, "the sun goes down", "repetition") == 0.0
    assert component(row, "the sun goes down", "repetition") == 1.0
    # the answer may come on its own, as a mapping or as JSON (with leading whitespace)
    for answer in (HELD_ANSWER, json.dumps(HELD_ANSWER), "\n  " + json.dumps(HELD_ANSWER)):
        example = {"teacher_message": "What is 83 - 46?", "answer": answer}
        assert component(example, "37", "answer") <= 0.1, answer
        assert component(example, "43", "answer") == 1.0
    # a state object, a state dict, JSON of it (leading whitespace too): its answer is read
    state = StudentState.initial(MAYA).after_teacher(MAYA, "What is 83 - 46?")
    assert state.answer is not None and state.answer.held
    for value in (state, state.to_dict(), json.dumps(state.to_dict()),
                  "  " + json.dumps(state.to_dict())):  # fmt: skip
        example = {"teacher_message": "What is 83 - 46?", "student_state": value}
        assert component(example, state.answer.correct_value, "answer") <= 0.1
    # text that only looks like JSON is read as a description (it describes nothing)
    broken = {"teacher_message": ON_TOPIC, "student_state": "{not json"}
    assert score_example(broken, RESOLVES, MAYA).components["misconception"].reason == (
        "no state given"
    )


def test_a_dspy_history_object_is_read_for_repeats() -> None:
    dspy = pytest.importorskip("dspy")
    history = dspy.History(
        messages=[{"teacher_message": "Hi", "student_reply": "the sun goes down"}]
    )
    example = {"teacher_message": "and?", "history": history}
    assert score_example(example, "the sun goes down", MAYA).components["repetition"].score == 0
    assert score_example(example, "maybe 5", MAYA).components["repetition"].score == 1.0


def test_the_answer_comes_back_whole_from_each_kind_of_description() -> None:
    """What the child model would answer, read back from ``describe``: a known fact, a held
    misconception that comes out right anyway, and one that gives the rule's wrong answer."""
    start = StudentState.initial(MAYA)
    known = start.after_teacher(MAYA, "What is 12 - 7?").describe(MAYA)
    lucky = start.after_teacher(MAYA, "What is 58 - 23?").describe(MAYA)
    wrong = start.after_teacher(MAYA, "What is 83 - 46?").describe(MAYA)
    held = {"held": True, "misconception": "the misconception it still holds", "mode": "answer"}
    fact = {"held": False, "misconception": None, "mode": "answer"}
    assert answer_from_description(known) == {"value": "5", "correct_value": "5", **fact}
    assert answer_from_description(lucky) == {"value": "35", "correct_value": "35", **held}
    assert answer_from_description(wrong) == {"value": "43", "correct_value": "37", **held}


def test_the_misconceptions_come_back_from_a_description() -> None:
    state = StudentState.initial(MAYA)
    resolved = {**state.misconceptions, "digits-face-value": MisconceptionState(held=False)}
    back = state_from_description(replace(state, misconceptions=resolved).describe(MAYA), MAYA)
    assert back is not None
    assert back.misconceptions == {
        m.id: MisconceptionState(held=m.id != "digits-face-value") for m in MAYA.misconceptions
    }


def test_a_curly_apostrophe_is_the_same_reply() -> None:
    score = score_reply("i don\u2019t know", MAYA, previous_replies=["i don't know"])
    assert score.components["repetition"].reason.startswith("repeats an earlier reply")


def test_scores_carry_six_decimals() -> None:
    score = score_reply("the sun goes down again", MAYA, previous_replies=["the sun goes down"])
    assert score.total == round(score.total, 6) and score.rules == round(score.rules, 6)
    assert score.total != round(score.total, 4)  # more than the report's four places
    assert score.rules != round(score.rules, 4)


# --- the dataset report and the DSPy metric ------------------------------------------------------

DATASET_REPLIES = ["35", "i dont no", "Yes!", "ok", "37", "the sun goes down", RESOLVES]


def test_the_dataset_report_averages_the_rows_and_lists_the_five_worst() -> None:
    rows = [{"teacher_message": "What is 83 - 46?", "answer": HELD_ANSWER, "student_reply": r}
            for r in DATASET_REPLIES]  # fmt: skip
    scores = [score_example(row, row["student_reply"], MAYA) for row in rows]
    report = score_dataset(rows, MAYA)
    assert report["n"] == 7
    assert report["mean"] == round(sum(s.total for s in scores) / 7, 4)
    assert report["share_above_0_6"] == round(sum(s.total > 0.6 for s in scores) / 7, 4)
    assert 0 < report["share_above_0_6"] < 1
    assert report["components"] == {
        name: round(sum(s.components[name].score for s in scores) / 7, 4) for name in COMPONENTS
    }
    ranked = sorted(zip(scores, DATASET_REPLIES, strict=True), key=lambda pair: pair[0].total)
    assert report["worst"] == [{"reply": r, **s.to_dict()} for s, r in ranked[:5]]
    assert score_dataset([], MAYA) == {
        "n": 0, "mean": 0.0, "share_above_0_6": 0.0, "components": {}, "worst": [],
    }  # fmt: skip


def test_the_dspy_metric_takes_a_plain_string_and_passes_at_the_threshold() -> None:
    metric = dspy_metric(MAYA)
    example = {"teacher_message": "What is 83 - 46?", "answer": HELD_ANSWER}
    assert metric(example, "43") == metric(example, {"student_reply": "43"}) > 0.5
    assert metric(example, object()) == 0.0  # no reply at all
    at = metric(example, "43")
    gate = dspy_metric(MAYA, threshold=at)
    assert gate(example, "43", trace=[]) == 1.0
    assert dspy_metric(MAYA, threshold=at + 1e-6)(example, "43", trace=[]) == 0.0
