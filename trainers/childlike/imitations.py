"""LLM-style imitations of a child's chat turns: negatives for the child-likeness model.

What a language model writes when told to "talk like a 7-year-old": cheerful, grammatical, spelled
right, often explaining unprompted ("Ooh! I think it's 25 because I took away the tens first!"),
plus the variants the metric used to miss: short, lower-cased, misspelled and length-matched
lines ("is it 25?", "yay i got it!"), the short ones written as short templates. Each template
is in a *family*; cross-validation splits by family, so the model must recognise families it
never saw. Deterministic for a seed.

``python -m trainers.childlike.imitations`` rewrites ``data/llm_imitations.jsonl``.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

DATA = Path(__file__).parent / "data"

_OBJECTS = ["apples", "cookies", "stickers", "marbles", "crayons", "blocks", "pencils", "cupcakes"]
_NAMES = ["Sam", "Mia", "Leo", "my friend", "my brother", "my mom"]
_SHAPES = ["square", "triangle", "hexagon", "rectangle", "circle"]
_THINGS = ["the feather", "the bowling ball", "the sun", "the plant", "the dime", "the nickel"]

# {n}, {m}: numbers; {obj}: objects; {name}; {shape}; {thing}
FAMILIES: dict[str, list[str]] = {
    "cheerful-explain": [
        "Ooh! I think it's {n} because I took away the tens first!",
        "Oh! I know! It's {n} because {m} plus {n} makes it!",
        "I think it's {n}! Because you count up from {m}!",
        "Ooh, is it {n}? Because I counted on my fingers!",
        "Yay! I think the answer is {n} because I added the ones first!",
        "Hmm, I think it's {n} because the bigger number goes on top!",
    ],
    "short-guess": [
        "Is it {n}?",
        "Um, {n}?",
        "Maybe {n}?",
        "Hmm... {n}?",
        "I think {n}!",
        "{n}!",
        "Um, is it {n}?",
        "Is the answer {n}?",
        "Oh! {n}!",
        "{n}? I think!",
    ],
    "celebrate": [
        "Yay, I got it!",
        "Yay! I did it!",
        "Woohoo! I got it right!",
        "I did it!",
        "Yes! I knew it!",
        "Hooray! That was fun!",
        "Yay! Can we do another one?",
        "That was so fun!",
        "I love math now!",
    ],
    "resolution": [
        "Oh! I get it now!",
        "Ohhh, that makes sense now!",
        "Oh, now I understand!",
        "Wait, so it's {n}? Oh, I see!",
        "Oh! The {m} means {m} tens! I get it!",
        "Ooh, I was wrong before. It's {n}!",
        "Oh I see! You have to borrow from the tens!",
        "Oh! So the {shape} is still a {shape} even when you turn it!",
    ],
    "agree": [
        "Okay!",
        "Yes!",
        "Yeah!",
        "Sure!",
        "Okay, I'll try!",
        "Yes, I'm ready!",
        "Okay, got it!",
        "Yes, please!",
        "Okay, let's do it!",
        "Alright!",
        "No, thank you!",
        "Nope!",
    ],
    "unsure": [
        "Hmm, I'm not sure...",
        "I don't know...",
        "Um, I'm not really sure.",
        "I don't get it...",
        "This is kind of hard...",
        "Hmm, can you help me?",
        "I'm confused...",
        "Um, I don't really know how to do this one.",
    ],
    "feelings": [
        "I feel a little nervous about math.",
        "I'm sad because I got it wrong.",
        "This is really hard for me!",
        "I'm not good at math...",
        "I feel happy now!",
        "I'm a little bit scared to get it wrong.",
        "Math makes me feel frustrated sometimes.",
    ],
    "off-task": [
        "Can we go to recess now? 😊",
        "I like horses! Do you like horses?",
        "My dog's name is Max and he is so fluffy!",
        "I had pancakes for breakfast today!",
        "Guess what? {name} has a new puppy!",
        "Can we play a game instead?",
        "I like drawing rainbows and unicorns! 🌈",
        "My favorite color is purple!",
    ],
    "count-aloud": [
        "{m}, {m1}, {m2}... so it's {n}!",
        "Let me count! 1, 2, 3, 4... it's {n}!",
        "I counted {m} {obj} and then {n} more!",
        "I have {m} {obj} and I ate {n}, so {d} left!",
        "First I did {m} plus {n}, then I got {s}!",
    ],
    "science-kid": [
        "I think {thing} falls faster because it's heavier!",
        "Plants eat dirt! That's how they grow big and strong!",
        "The sun goes around the Earth! I see it move every day!",
        "I think the {shape} is a diamond now because it's turned!",
        "The nickel is worth more because it's bigger!",
        "Because {thing} is bigger, so it's worth more!",
    ],
    "roleplay": [
        "*giggles* Is it {n}?",
        "*thinks really hard* Um... {n}?",
        "(scratches head) {n}?",
        "*counts on fingers* It's {n}!",
        "*smiles* Okay!",
    ],
    "polite-question": [
        "Can you show me how?",
        "Can you explain it again, please?",
        "What does that mean?",
        "Why do we do it that way?",
        "Can I try another one?",
        "Is that right?",
        "Did I get it right?",
        "What's the next problem?",
    ],
}

_MISSPELL = {
    "because": "becuz", "what": "wat", "know": "no", "think": "thinc", "really": "realy",
    "right": "rite", "again": "agen", "they": "thay", "said": "sed", "favorite": "faverit",
}  # fmt: skip


def _fill(template: str, rng: random.Random) -> str:
    n, m = rng.randint(2, 99), rng.randint(2, 9)
    values = {
        "n": n, "m": m, "m1": m + 1, "m2": m + 2, "d": max(0, m - 1), "s": n + m,
        "obj": rng.choice(_OBJECTS), "name": rng.choice(_NAMES), "shape": rng.choice(_SHAPES),
        "thing": rng.choice(_THINGS),
    }  # fmt: skip
    return template.format(**values)


def _lower(text: str) -> str:
    return text.lower()


def _plain(text: str) -> str:
    """Lower case, no apostrophes, at most one end mark: an LLM told to 'type like a kid'."""
    text = text.lower().replace("'", "")
    return re.sub(r"[!.]+$", "", text).strip()


def _misspell(text: str) -> str:
    words = [_MISSPELL.get(w.lower().strip("!?.,"), w) for w in _plain(text).split()]
    return " ".join(words)


VARIANTS = {"as-written": None, "lower": _lower, "plain": _plain, "misspelled": _misspell}


def generate(seed: int = 8, per_template: int = 2) -> list[dict[str, str]]:
    """Every template, filled ``per_template`` times, in each variant. Short lines are their own
    templates (an LLM's "Is it 25?"), not cut-off long ones, which would read like a child."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for family, templates in FAMILIES.items():
        for template in templates:
            for _ in range(per_template):
                base = _fill(template, rng)
                forms = [(name, fn(base) if fn else base) for name, fn in VARIANTS.items()]
                for variant, text in forms:
                    if text and text not in seen:
                        seen.add(text)
                        rows.append({"text": text, "family": family, "variant": variant})
    return rows


def main() -> None:
    rows = generate()
    path = DATA / "llm_imitations.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print(f"wrote {len(rows)} lines to {path}")


if __name__ == "__main__":
    main()
