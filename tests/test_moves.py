"""The move recognizer: held-out accuracy, cue-word traps, paraphrases, the shipped model's hashes.

Everything runs on the real shipped model (static embedding + trained head), loaded from the
package the way the chat loads it.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.moves import EFFECTIVE_KINDS, MOVE_KINDS, MoveVerdict, classify_move
from agent.moves.labels import LABEL_SETS, LabeledDataError, LabelSet, load_examples
from agent.moves.recognizer import ENCODER_DIR, MODEL_DIR, get_recognizer
from personas.loader import PersonaLibrary

REPO = Path(__file__).resolve().parents[1]


def persona_cues() -> set[str]:
    """Every cue phrase of every shipped persona, effective or not."""
    cues: set[str] = set()
    for persona in PersonaLibrary().list():
        for misconception in persona.misconceptions:
            for move in [*misconception.effective_moves, *misconception.ineffective_moves]:
                cues.update(cue.lower() for cue in move.cues)
    return cues


def test_held_out_accuracy_on_the_test_split():
    examples = [e for e in load_examples(LABEL_SETS["moves"]) if e.split == "test"]
    assert len(examples) >= 75, "the test split must stay a real sample"
    verdicts = get_recognizer("moves").classify_many([e.text for e in examples])
    right = sum(v[0] == e.label for v, e in zip(verdicts, examples, strict=True))
    assert right / len(examples) >= 0.85


def test_the_split_is_by_template_and_covers_every_kind():
    examples = load_examples(LABEL_SETS["moves"])
    assert len(examples) >= 300
    splits_of_group: dict[str, set[str]] = {}
    for example in examples:
        splits_of_group.setdefault(example.group, set()).add(example.split)
    assert all(len(splits) == 1 for splits in splits_of_group.values())
    test_kinds = {e.label for e in examples if e.split == "test"}
    assert test_kinds == set(MOVE_KINDS)
    share = sum(e.split == "test" for e in examples) / len(examples)
    assert 0.2 <= share <= 0.3


def test_held_out_traps_are_mostly_right_and_never_count_chitchat_as_teaching():
    traps = [e for e in load_examples(LABEL_SETS["moves"]) if e.split == "test" and e.trap]
    assert traps
    verdicts = get_recognizer("moves").classify_many([e.text for e in traps])
    right = sum(v[0] == e.label for v, e in zip(verdicts, traps, strict=True))
    assert right / len(traps) >= 0.9
    for verdict, example in zip(verdicts, traps, strict=True):
        if example.label == "chitchat":
            assert verdict[0] not in EFFECTIVE_KINDS, example.text


@pytest.mark.parametrize(
    "message",
    [
        "I have a big box of blocks at home.",
        "my sister collects dimes",
        "My uncle keeps a wooden ruler in his truck.",
        "We went to the toy store and I bought a lego set for my nephew.",
        "I dropped my sandwich on the floor at lunch, so sad.",
        "Do you like to draw horses?",
    ],
)
def test_chitchat_with_cue_words_is_not_a_teaching_move(message: str):
    verdict = classify_move(message)
    assert verdict.kind not in EFFECTIVE_KINDS, verdict


@pytest.mark.parametrize(
    "message",
    [
        "no blocks needed, it's 25",
        "use the number line, the answer is 44",
        "Forget the number line, just write 44.",
        "You do not need to trade anything, the dime is worth ten cents.",
        "we dont have to drop anything, they hit the ground together",
    ],
)
def test_telling_with_model_words_is_telling(message: str):
    assert classify_move(message).kind == "telling"


# Teaching in other words: none of these contains a shipped persona's cue phrase.
PARAPHRASES = [
    "Grab the wooden tens and ones pieces and build the number with them.",
    "Exchange one of your tens for ten loose ones, then take the seven away.",
    "Do the plus problem 36 + 25 to see if your take-away was right.",
    "Add your answer to the part you took off. Do you get back where you began?",
    "Hold the feather and the stone up high and open both hands together.",
    "Stick a star where our city is and slowly turn the ball in front of the light.",
    "If turning made it a new shape, wouldnt your book become a new book when I turn it?",
    "Would you rather get 98 candies or 102 candies?",
    "Set a seed on a damp cotton ball in a cup and see whether it sprouts.",
    "Skip count by tens for me until you get to fifty.",
    "Put your finger where the crayon begins and count each inch it covers.",
]


def test_paraphrases_without_cue_words_are_recognized_as_teaching():
    cues = persona_cues()
    for message in PARAPHRASES:
        assert not [cue for cue in cues if cue in message.lower()], message
    kinds = [classify_move(message).kind for message in PARAPHRASES]
    recognized = sum(kind in EFFECTIVE_KINDS for kind in kinds)
    assert recognized / len(PARAPHRASES) >= 0.8, list(zip(PARAPHRASES, kinds, strict=True))


def test_verdict_shape():
    verdict = classify_move("Let's build 52 with the base-ten blocks.")
    assert isinstance(verdict, MoveVerdict)
    assert verdict.kind == "concrete_model"
    assert 0.0 < verdict.confidence <= 1.0
    assert '"' in verdict.why  # quotes the nearest labeled line
    assert classify_move("   ").kind == "other"
    with pytest.raises(TypeError, match="str"):
        classify_move(None)  # type: ignore[arg-type]


def test_shipped_model_matches_its_manifest():
    manifest = json.loads((MODEL_DIR / "manifest.json").read_text(encoding="utf-8"))
    for name, digest in manifest["encoder"]["files"].items():
        assert hashlib.sha256((ENCODER_DIR / name).read_bytes()).hexdigest() == digest, name
    head = manifest["heads"]["moves"]
    assert hashlib.sha256((MODEL_DIR / head["file"]).read_bytes()).hexdigest() == head["sha256"]
    data = LABEL_SETS["moves"].data_file
    assert hashlib.sha256(data.read_bytes()).hexdigest() == head["data_sha256"], (
        "the labeled data changed: run `python -m agent.moves.train`"
    )
    assert head["counts"]["total"] == len(load_examples(LABEL_SETS["moves"]))
    size = sum(p.stat().st_size for p in MODEL_DIR.rglob("*") if p.is_file())
    assert size < 8_000_000


def test_encoder_computes_what_model2vec_computes():
    import numpy as np
    from model2vec import StaticModel

    texts = ["Let's count up from 27 to 52.", "my sister collects dimes", "asdf", ""]
    ours = get_recognizer("moves").encoder.encode(texts)
    theirs = StaticModel.from_pretrained(str(ENCODER_DIR)).encode(texts)
    assert np.allclose(ours, theirs, atol=1e-4)


def test_classifying_imports_no_torch_and_needs_no_network():
    code = (
        "import sys\n"
        "from agent.moves import classify_move\n"
        "assert 'numpy' not in sys.modules, 'importing the package loads nothing'\n"
        "print(classify_move('count back by tens from 52').kind)\n"
        "assert 'torch' not in sys.modules\n"
        "assert 'sklearn' not in sys.modules and 'model2vec' not in sys.modules\n"
    )
    env = {"PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "NO_PROXY": "*"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "counting_strategy"


def test_bad_labeled_line_names_file_line_and_field(tmp_path: Path):
    path = tmp_path / "lines.jsonl"
    path.write_text(
        '{"text": "Use the blocks.", "kind": "concrete_model", "split": "train"}\n'
        '{"text": "Great job!", "kind": "praize", "split": "train"}\n',
        encoding="utf-8",
    )
    with pytest.raises(LabeledDataError, match=r"lines\.jsonl:2: field 'kind' is 'praize'"):
        load_examples(LabelSet("t", path, MOVE_KINDS))
