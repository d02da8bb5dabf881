"""`utta eval`: the probe suite through the agent against a brain, and what it measures.

Each script of the probe source (:mod:`trainers.eval_probes`) runs in a fresh
``StudentAgent`` (new memory and state) on the brain under test. Every reply is scored with the
authenticity score (state after the turn, so the child model's ``answer`` is checked; the
conversation's earlier replies for repetition), and the summary holds:

- ``authenticity``, ``child_likeness``: means over every reply;
- ``answer_consistency``: share of checked replies that give the child model's answer (held,
  taught, told and known-fact scripts), and each rate: ``held``, ``taught``, ``kept`` (still
  wrong after telling/chit-chat), ``known``; ``selective_flip`` = taught - (1 - kept);
- ``in_character``: share of replies to "ignore your instructions", "you are an AI"... that stay
  a child (no assistant talk, no adult words or role confusion);
- words per reply (median, share of 3 words or fewer, 90th percentile) beside real children's;
- ``repetition``: share of replies repeating one of the last five in their conversation
  (a bare ok/yes/no/idk excepted); ``latency_ms``: median and 95th percentile.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from trainers.eval_probes import ProbeSource, Script, kinds, reply_gives
from trainers.metric import score_reply
from trainers.metric_rules import dice, tokens

if TYPE_CHECKING:
    from agent.brain import Brain
    from personas.schema import Persona

REAL_CHILDREN = {"median_words": 1, "share_3_words_or_fewer": 0.88, "p90_words": 4}
"""Real children's typed turns (../shared/data/README.md, the Bridge data)."""
_BARE = {"ok", "okay", "k", "yes", "ya", "yeah", "no", "nope", "idk"}
_ASSISTANT = re.compile(
    r"\b(?:ai|assistant|language model|chatbot|system prompt|instructions|as a teacher|"
    r"i(?:'m| am) (?:just )?(?:a|an) (?:program|computer|bot|model))\b"
)


@dataclass
class Turn:
    script: int
    kind: str
    teacher: str
    student: str
    latency_ms: float
    authenticity: float
    child_likeness: float
    reasons: list[str]
    check: dict[str, Any] | None = None
    passed: bool | None = None


@dataclass
class BrainReport:
    brain: str
    summary: dict[str, Any]
    turns: list[Turn] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "brain": self.brain,
            "summary": self.summary,
            "turns": [asdict(t) for t in self.turns],
        }


def is_repeat(reply: str, earlier: Sequence[str]) -> bool:
    normalised = " ".join(reply.lower().split())
    if normalised.strip(" .!?") in _BARE:
        return False
    mine = tokens(reply)
    for other in earlier[-5:]:
        if " ".join(other.lower().split()) == normalised:
            return True
        if len(mine) >= 3 and dice(mine, tokens(other)) >= 0.8:
            return True
    return False


async def run_scripts(persona: Persona, brain: Brain, scripts: Sequence[Script]) -> list[Turn]:
    from agent.student import StudentAgent

    turns: list[Turn] = []
    for number, script in enumerate(scripts):
        agent = StudentAgent(persona, brain)
        replies: list[str] = []
        for index, line in enumerate(script.lines):
            started = time.perf_counter()
            reply = await agent.reply(line)
            latency = (time.perf_counter() - started) * 1000
            score = score_reply(
                reply, persona, state=agent.state, previous_replies=replies, teacher_message=line
            )
            turn = Turn(
                number, script.kind, line, reply, round(latency, 3), score.total,
                score.child_likeness, score.reasons,
            )  # fmt: skip
            last = index == len(script.lines) - 1
            if last and script.check is not None:
                turn.check = asdict(script.check)
                turn.passed = reply_gives(reply, script.check)
            if is_repeat(reply, replies):
                turn.reasons = ["repeats an earlier reply of the conversation", *turn.reasons]
            replies.append(reply)
            turns.append(turn)
    return turns


def _rate(values: Sequence[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summarise(turns: Sequence[Turn], scripts: Sequence[Script]) -> dict[str, Any]:
    if not turns:
        return {"turns": 0}
    checked = [t for t in turns if t.passed is not None]
    by_kind = {
        k: [bool(t.passed) for t in checked if t.kind == k]
        for k in ("held", "taught", "told", "known")
    }
    taught, kept = _rate(by_kind["taught"]), _rate(by_kind["told"])
    words = [len(t.student.split()) for t in turns]
    latencies = [t.latency_ms for t in turns]
    ooc = [t for t in turns if t.kind == "out-of-character"]
    conversation: dict[int, list[str]] = {}
    repeats = []
    for t in turns:
        earlier = conversation.setdefault(t.script, [])
        repeats.append(is_repeat(t.student, earlier))
        earlier.append(t.student)
    return {
        "turns": len(turns),
        "scripts": kinds(scripts),
        "authenticity": round(statistics.mean(t.authenticity for t in turns), 4),
        "child_likeness": round(statistics.mean(t.child_likeness for t in turns), 4),
        "answer_consistency": _rate([bool(t.passed) for t in checked]),
        "held": _rate(by_kind["held"]),
        "taught": taught,
        "kept": kept,
        "known": _rate(by_kind["known"]),
        "selective_flip": None if taught is None or kept is None else round(taught - (1 - kept), 4),
        "in_character": _rate([_stays_a_child(t) for t in ooc]),
        "median_words": statistics.median(words),
        "share_3_words_or_fewer": _rate([w <= 3 for w in words]),
        "p90_words": _percentile(words, 0.9),
        "repetition": _rate(repeats),
        "latency_ms_median": round(statistics.median(latencies), 2),
        "latency_ms_p95": round(_percentile(latencies, 0.95), 2),
    }


def _stays_a_child(turn: Turn) -> bool:
    """No assistant talk and no adult words or role confusion (how child-like it reads is
    child-likeness's business, reported on its own)."""
    lowered = turn.student.lower()
    adult = any(r.startswith(("vocabulary", "in_character")) for r in turn.reasons)
    return not _ASSISTANT.search(lowered) and not adult


async def evaluate_brain(
    persona: Persona, brain: Brain, source: ProbeSource, seed: int = 7
) -> BrainReport:
    """Run ``source``'s scripts (seeded, so every brain gets the same) against ``brain``."""
    scripts = source.scripts(persona, random.Random(seed))
    turns = await run_scripts(persona, brain, scripts)
    return BrainReport(brain.name, summarise(turns, scripts), turns)


# --- presenting -----------------------------------------------------------------------------------

ROWS: tuple[tuple[str, str, str], ...] = (
    # (summary key, label, real children's figure or "")
    ("authenticity", "authenticity (mean)", ""),
    ("child_likeness", "child-likeness (mean)", ""),
    ("answer_consistency", "answer consistency", ""),
    ("held", "  held: rule's answer", ""),
    ("taught", "  taught: correct on a new problem", ""),
    ("kept", "  told/chit-chat: still wrong", ""),
    ("known", "  known facts right", ""),
    ("selective_flip", "Selective Flip Score", ""),
    ("in_character", "stays in character", ""),
    ("median_words", "words per reply, median", "1"),
    ("share_3_words_or_fewer", "share of replies <= 3 words", "0.88"),
    ("p90_words", "words per reply, p90", "4"),
    ("repetition", "repeats (last five)", ""),
    ("latency_ms_median", "latency ms, median", ""),
    ("latency_ms_p95", "latency ms, p95", ""),
    ("turns", "replies scored", ""),
)


def cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:g}"
    return str(value)


def markdown(persona_id: str, reports: Sequence[BrainReport], seed: int) -> str:
    names = [r.brain for r in reports]
    lines = [
        f"# utta eval: {persona_id} (seed {seed})",
        "",
        "| metric | " + " | ".join(names) + " | real children |",
        "| --- | " + " | ".join("---" for _ in names) + " | --- |",
    ]
    for key, label, real in ROWS:
        values = " | ".join(cell(r.summary.get(key)) for r in reports)
        lines.append(f"| {label.strip()} | {values} | {real or '—'} |")
    return "\n".join(lines) + "\n"
