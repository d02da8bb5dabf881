"""Three concrete suggestions, each quoting the session: what happened at which turn, what the
child did next, and what to try instead (from the persona's own effective moves when it has them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from personas.schema import Persona
from trainers.debrief.model import Exchange, MisconceptionTimeline, Suggestion, TalkFigures
from trainers.debrief.talk_moves import TalkMove

HOW_MANY = 3
LONG_MESSAGE = 15
"""Words in a teacher message that a seven-year-old reads as a lecture."""


def quote(text: str | None, limit: int = 70) -> str:
    text = " ".join((text or "").split())
    return f"“{text if len(text) <= limit else text[: limit - 1].rstrip() + '…'}”"


def _try_instead(
    persona: Persona | None, misconception_id: str | None, skip: str | None = None
) -> str:
    """One of the persona's effective moves as advice (not the one ``skip`` already made)."""
    if persona and misconception_id:
        try:
            moves = list(persona.misconception(misconception_id).effective_moves)
        except KeyError:
            moves = []
        if skip and len(moves) > 1:
            moves.sort(key=lambda move: bool(_shares_words(skip, move.description)))
        if moves:
            idea = moves[0].description.strip().rstrip(".")
            return f"Try {idea[0].lower() + idea[1:]}, and let {persona.name} do the work."
    return "Try a model the child works with (blocks, a drawing, a number line) or a case to check."


def _shares_words(text: str, description: str) -> bool:
    """Crude same-move test: a shared word stem ("drop" in "drop them" and "dropping")."""

    def stems(words: str) -> set[str]:
        return {w[:4] for w in re.findall(r"[a-z]{4,}", words.lower())}

    return bool(stems(text) & stems(description))


class _Context:
    def __init__(
        self,
        persona: Persona | None,
        child: str,
        exchanges: list[Exchange],
        timeline: list[MisconceptionTimeline],
        talk: TalkFigures,
        per_turn: dict[int, list[tuple[str, TalkMove]]],
    ) -> None:
        self.persona = persona
        self.child = child
        self.by_turn = {e.turn: e for e in exchanges}
        self.exchanges = exchanges
        self.timeline = timeline
        self.talk = talk
        self.per_turn = per_turn

    def sentence(self, turn: int, labels: tuple[str, ...]) -> str | None:
        return next((s for s, m in self.per_turn.get(turn, []) if m.label in labels), None)

    def said(self, turn: int) -> str | None:
        exchange = self.by_turn.get(turn)
        return exchange.student if exchange else None


def _numbers(text: str | None) -> list[str]:
    return re.findall(r"\d+", text or "")


def _kept_answering(ctx: _Context, line: MisconceptionTimeline, turn: int) -> str | None:
    """The wrong answer the child gave before ``turn`` and again at or just after it: from the
    stored answers when the state has them, else a number the child's replies repeat."""
    later = [value for at, value in line.answers_while_held if at >= turn]
    if later:
        return later[-1]
    start = line.first_showed or turn
    before = {n for at in range(start, turn) for n in _numbers(ctx.said(at))}
    for at in range(turn, turn + 3):
        repeated = [n for n in _numbers(ctx.said(at)) if n in before]
        if repeated:
            return repeated[0]
    return None


def _telling(ctx: _Context) -> Iterator[tuple[int, Suggestion]]:
    candidates = sorted(
        (
            (line.resolved_at is not None, event.turn, line, event)
            for line in ctx.timeline
            for event in line.events
            if not event.counted
            and (event.kind == "telling" or ctx.sentence(event.turn, ("telling",)))
        ),
        key=lambda item: item[:2],
    )
    for _, _, line, event in candidates[:1]:
        told_line = ctx.sentence(event.turn, ("telling",)) or event.teacher
        kept = _kept_answering(ctx, line, event.turn)
        if kept:
            after = f" and kept answering {kept}"
        elif line.resolved_at is None:
            after = " and still believed it at the end"
        else:
            after = f" and still believed it until turn {line.resolved_at}"
        text = (
            f"At turn {event.turn} you told {ctx.child} the answer or the rule "
            f"({quote(told_line)}); {ctx.child} said {quote(event.child_said, 40)}{after}. "
            + _try_instead(ctx.persona, line.id)
        )
        yield (10 if line.resolved_at is None else 6), Suggestion(event.turn, "telling", text)


def _self_answered(ctx: _Context) -> Iterator[tuple[int, Suggestion]]:
    for turn in ctx.talk.self_answered_turns[:1]:
        asked = ctx.sentence(turn, ("closed_question", "open_question", "press_reasoning"))
        answered = ctx.sentence(turn, ("telling",))
        text = (
            f"At turn {turn} you asked {quote(asked)} and answered it yourself "
            f"({quote(answered)}). Ask, then stop: wait for {ctx.child}'s answer and build on it."
        )
        yield 8, Suggestion(turn, "self_answered", text)


def _reconsider(ctx: _Context) -> Iterator[tuple[int, Suggestion]]:
    for turn in ctx.talk.move_turns.get("reconsider", [])[:1]:
        line = ctx.sentence(turn, ("reconsider",))
        text = (
            f"At turn {turn} you said {quote(line)}; {ctx.child} answered "
            f"{quote(ctx.said(turn), 40)}. “Try again” without help gives nothing new to think "
            f"with: give {ctx.child} a case to check, e.g. “Count up from the smaller number and "
            "see where you land.”"
        )
        yield 7, Suggestion(turn, "reconsider", text)


def _revoice(child: str) -> str:
    """A revoicing of the child's reply the trainee could have said."""
    numbers = _numbers(child)
    if numbers and len(child.split()) <= 2:  # a bare answer: ask how it was found
        return f"So you got {numbers[-1]}? How did you get that?"
    words = child.strip().rstrip("?.!").split()
    while words and words[0].lower().strip(",") in {"um", "uh", "umm", "hmm", "well", "ok"}:
        words.pop(0)
    return f"You said ‘{' '.join(words) or child.strip()}’. What makes you think so?"


def _missed_uptake(ctx: _Context) -> Iterator[tuple[int, Suggestion]]:
    taken = set(ctx.talk.uptake_turns)
    teaching = {e.turn for line in ctx.timeline for e in line.events if e.counted}
    for previous, current in zip(ctx.exchanges, ctx.exchanges[1:], strict=False):
        child = (previous.student or "").strip()
        if current.turn in taken or current.turn in teaching or len(child.split()) < 2:
            continue  # built on it, or moved on to a move that helped
        text = (
            f"At turn {previous.turn} {ctx.child} said {quote(child, 50)}; your next message "
            f"{quote(current.teacher, 50)} moved on. Take up the child's idea first: "
            f"“{_revoice(child)}”"
        )
        yield 6, Suggestion(current.turn, "uptake", text)
        return


def _closed_questions(ctx: _Context) -> Iterator[tuple[int, Suggestion]]:
    talk = ctx.talk
    if talk.questions >= 2 and talk.closed_questions > talk.open_questions:
        turn, asked = talk.question_examples.get("closed", (None, ""))
        reply = ctx.said(turn) if turn else None
        numbers = _numbers(reply)
        follow = f"How did you get {numbers[-1]}?" if numbers else "How do you know?"
        text = (
            f"{talk.closed_questions} of your {talk.questions} questions had one right answer "
            f"(turn {turn}: {quote(asked)}). After {ctx.child} answers, press for the reasoning: "
            f"“{follow}”"
        )
        yield 5, Suggestion(turn, "questions", text)


def _talk_share(ctx: _Context) -> Iterator[tuple[int, Suggestion]]:
    talk = ctx.talk
    if talk.teacher_word_share > 0.75 and ctx.exchanges:
        longest = max(ctx.exchanges, key=lambda e: len(e.teacher.split()))
        if len(longest.teacher.split()) < LONG_MESSAGE:
            return  # a seven-year-old types little: short turns on both sides are fine
        text = (
            f"You said {talk.teacher_word_share:.0%} of the words; at turn {longest.turn} your "
            f"message ran to {len(longest.teacher.split())} words ({quote(longest.teacher, 50)}). "
            f"Say less and ask {ctx.child} to show or explain more."
        )
        yield 4, Suggestion(longest.turn, "talk_share", text)


def _praise(ctx: _Context) -> Iterator[tuple[int, Suggestion]]:
    talk = ctx.talk
    if talk.praise_answer > talk.praise_effort:
        turn = talk.move_turns["praise_answer"][0]
        text = (
            f"You praised answers {talk.praise_answer} time(s) and effort {talk.praise_effort} "
            f"(turn {turn}: {quote(ctx.sentence(turn, ('praise_answer',)))}). Praise the "
            f"thinking too: “You checked it with the blocks — that's how to be sure.”"
        )
        yield 3, Suggestion(turn, "praise", text)


def _what_worked(ctx: _Context) -> Iterator[tuple[int, Suggestion]]:
    for line in ctx.timeline:
        counted = line.counted_events
        if line.resolved_at is not None and counted:
            text = (
                f"At turn {counted[0].turn} {quote(counted[0].teacher, 60)} counted, and "
                f"{ctx.child} let go of the idea at turn {line.resolved_at} "
                f"({quote(ctx.said(line.resolved_at), 40)}). Open with that kind of move next time."
            )
            yield 2, Suggestion(counted[0].turn, "worked", text)
            return


def _unfinished(ctx: _Context) -> Iterator[tuple[int, Suggestion]]:
    for line in ctx.timeline:
        counted = line.counted_events
        if line.resolved_at is not None or not counted:
            continue
        needed = f" of the {line.moves_needed} it takes" if line.moves_needed else ""
        text = (
            f"{ctx.child} still believed it at the end (“{line.belief[:70].rstrip()}…”): "
            f"{len(counted)} move(s){needed} counted, the first at turn {counted[0].turn} "
            f"({quote(counted[0].teacher, 50)}). Keep going with moves like it. "
            + _try_instead(ctx.persona, line.id, skip=counted[0].teacher)
        )
        yield 4, Suggestion(None, "unfinished", text)
        return


def _praise_at_resolution(ctx: _Context) -> Iterator[tuple[int, Suggestion]]:
    for line in ctx.timeline:
        turn = line.resolved_at
        nxt = ctx.by_turn.get(turn + 1) if turn else None
        if nxt is None or ctx.sentence(nxt.turn, ("praise_effort",)):
            continue
        text = (
            f"When {ctx.child} got it at turn {turn} ({quote(ctx.said(turn), 40)}), your next "
            f"message was {quote(nxt.teacher, 50)}. Name what {ctx.child} did first, so it "
            "sticks: “You counted it out yourself — that's how to be sure.”"
        )
        yield 2, Suggestion(nxt.turn, "praise_effort", text)
        return


def _child_talk(ctx: _Context) -> Iterator[tuple[int, Suggestion]]:
    talk = ctx.talk
    replies = [e for e in ctx.exchanges if e.student]
    if not replies or talk.teacher_word_share < 0.6:
        return
    longest = max(replies, key=lambda e: len((e.student or "").split()))
    text = (
        f"{ctx.child} said {talk.child_words} words in {talk.child_turns} turns; the longest reply "
        f"was {quote(longest.student, 40)} (turn {longest.turn}). Ask {ctx.child} to explain the "
        "steps: “Tell me how you did it, step by step.”"
    )
    yield 1, Suggestion(None, "child_talk", text)


def _nothing_counted(ctx: _Context) -> Iterator[tuple[int, Suggestion]]:
    for line in ctx.timeline:
        if line.first_showed is not None and not any(e.counted for e in line.events):
            text = (
                f"From turn {line.first_showed} "
                f"({ctx.child}: {quote(line.first_showed_quote, 40)}) "
                f"no move counted against “{line.belief[:80]}”. "
                + _try_instead(ctx.persona, line.id)
            )
            yield 1, Suggestion(line.first_showed, "nothing_counted", text)
            return


GENERATORS: tuple[Callable[[_Context], Iterator[tuple[int, Suggestion]]], ...] = (
    _telling,
    _self_answered,
    _reconsider,
    _missed_uptake,
    _closed_questions,
    _talk_share,
    _praise,
    _unfinished,
    _what_worked,
    _praise_at_resolution,
    _nothing_counted,
    _child_talk,
)


def suggestions(
    persona: Persona | None,
    child: str,
    exchanges: list[Exchange],
    timeline: list[MisconceptionTimeline],
    talk: TalkFigures,
    per_turn: dict[int, list[tuple[str, TalkMove]]],
) -> list[Suggestion]:
    """Up to three suggestions, the most useful first, each about a different thing."""
    ctx = _Context(persona, child, exchanges, timeline, talk, per_turn)
    ranked = sorted(
        (item for generator in GENERATORS for item in generator(ctx)),
        key=lambda item: -item[0],
    )
    chosen: list[Suggestion] = []
    for _, suggestion in ranked:
        if suggestion.turn is not None and any(s.turn == suggestion.turn for s in chosen):
            continue  # one point per moment of the session
        chosen.append(suggestion)
    return chosen[:HOW_MANY]
