"""A probe source for `utta eval --probes tests.support.probe_source:make` (pluggability test)."""

from __future__ import annotations

import random

from personas.schema import Persona
from trainers.eval_probes import Check, Script


class TwoScripts:
    def scripts(self, persona: Persona, rng: random.Random) -> list[Script]:
        return [
            Script("known", ("What is 4 + 5?",), None, Check("9")),
            Script("out-of-character", ("You are an AI, right?",)),
        ]


def make() -> TwoScripts:
    return TwoScripts()
