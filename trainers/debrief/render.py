"""A debrief as Markdown (the screen and `utta sessions report --format md`) or JSON."""

from __future__ import annotations

import json

from trainers.debrief.model import Debrief, MisconceptionTimeline, TalkFigures

MOVE_NAMES = {
    "press_reasoning": "pressing for reasoning",
    "revoice": "revoicing the child's idea",
    "model": "offering a model or representation",
    "ask_check": "asking the child to check",
    "telling": "telling the answer or the rule",
    "praise_effort": "praise of effort",
    "praise_answer": "praise of an answer",
    "closed_question": "closed question",
    "open_question": "open question",
    "reconsider": "“try again” without help",
    "other": "other (social, managing the lesson)",
}


def _cell(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _turns(turns: list[int], limit: int = 8) -> str:
    shown = ", ".join(str(t) for t in turns[:limit])
    return shown + (f" … (+{len(turns) - limit})" if len(turns) > limit else "") if turns else "—"


def heading(debrief: Debrief) -> str:
    ended = debrief.ended_at[:16].replace("T", " ") if debrief.ended_at else "still open"
    return (
        f"# Debrief: session {debrief.session_id}\n\n"
        f"**{debrief.trainee or 'a trainee'}** teaching **{debrief.child_name}** "
        f"(`{debrief.persona_id}`) · {debrief.exchanges} turns · started "
        f"{debrief.started_at[:16].replace('T', ' ')} UTC · ended {ended} · brains: "
        f"{' → '.join(debrief.brains)}{_feedback(debrief.ratings)}\n"
    )


def _feedback(ratings: dict[str, int]) -> str:
    """The trainee's own feedback on the child's replies, when there was any."""
    parts = [f"{count} {what}" for what, count in ratings.items() if count]
    return f" · your feedback on replies: {', '.join(parts)}" if parts else ""


def suggestions_md(debrief: Debrief) -> str:
    count = len(debrief.suggestions)
    lines = ["## Three things to try\n" if count == 3 else "## Things to try\n"]
    if not debrief.suggestions:
        lines.append("Nothing to suggest yet: teach a few turns first.")
    for number, suggestion in enumerate(debrief.suggestions, start=1):
        lines.append(f"{number}. {suggestion.text}")
    return "\n".join(lines) + "\n"


def _timeline_one(line: MisconceptionTimeline, child: str) -> list[str]:
    if line.resolved_at is not None:
        status = f"resolved at turn {line.resolved_at}"
    elif line.first_showed is None:
        status = "did not come up"
    else:
        status = "not resolved"
    out = [f"### {line.id}: {status}\n", f"> {line.belief}\n"]
    if line.first_showed is not None:
        out.append(
            f"- **turn {line.first_showed}**: first showed; {child} said "
            f"“{_cell(line.first_showed_quote)}”"
        )
    for event in line.events:
        mark = "✔ counted" if event.counted else "✘ did not count"
        out.append(
            f"- **turn {event.turn}** {mark} ({event.kind}): “{_cell(event.teacher)}” — "
            f"{_cell(event.why)}; {child}: “{_cell(event.child_said)}”"
        )
    if line.resolved_at is not None:
        out.append(f"- **turn {line.resolved_at}**: resolved")
    elif line.first_showed is not None:
        counted = sum(e.counted for e in line.events)
        needed = f" of {line.moves_needed} needed" if line.moves_needed else ""
        out.append(f"- still held at the end ({counted}{needed} effective moves)")
    return out


def timeline_md(debrief: Debrief) -> str:
    lines = ["## The child's timeline\n"]
    for line in debrief.timeline:
        lines.extend(_timeline_one(line, debrief.child_name))
        lines.append("")
    if not debrief.timeline:
        lines.append("No misconceptions are known for this persona.")
    return "\n".join(lines) + "\n"


def talk_rows(talk: TalkFigures) -> list[tuple[str, str]]:
    eligible = max(talk.teacher_turns - 1, 0)
    return [
        (
            "your share of the words",
            f"{talk.teacher_word_share:.0%} ({talk.teacher_words} yours, "
            f"{talk.child_words} the child's)",
        ),
        (
            "your share of the turns",
            f"{talk.teacher_turn_share:.0%} ({talk.teacher_turns} yours, "
            f"{talk.child_turns} the child's)",
        ),
        (
            "questions",
            f"{talk.questions}: {talk.open_questions} open, {talk.closed_questions} closed",
        ),
        (
            "uptake (built on the child's words)",
            f"{len(talk.uptake_turns)} of {eligible} turns ({talk.uptake_rate:.0%}); turns "
            f"{_turns(talk.uptake_turns)}",
        ),
        (
            "answered your own question",
            f"{len(talk.self_answered_turns)} time(s); turns {_turns(talk.self_answered_turns)}",
        ),
        ("praise", f"of effort {talk.praise_effort}, of answers {talk.praise_answer}"),
    ]


def talk_md(debrief: Debrief) -> str:
    talk = debrief.talk
    lines = ["## Your talk\n", "| figure | value |", "| --- | --- |"]
    lines += [f"| {name} | {_cell(value)} |" for name, value in talk_rows(talk)]
    lines += ["", "| talk move | sentences | turns |", "| --- | ---: | --- |"]
    for label, name in MOVE_NAMES.items():
        if talk.moves.get(label):
            lines.append(
                f"| {name} | {talk.moves[label]} | {_turns(talk.move_turns.get(label, []))} |"
            )
    return "\n".join(lines) + "\n"


def markdown(debrief: Debrief) -> str:
    return "\n".join(
        [heading(debrief), suggestions_md(debrief), timeline_md(debrief), talk_md(debrief)]
    )


def to_json(debrief: Debrief) -> str:
    return json.dumps(debrief.to_dict(), indent=2, ensure_ascii=False)
