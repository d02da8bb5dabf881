"""The trainee's talk: who spoke how much, which questions and talk moves, and uptake.

Uptake follows Demszky et al.'s idea (a teacher turn that takes up the student's contribution),
measured here by meaning we can read without a network: the message revoices the child or presses
for the reasoning behind what the child just said (talk moves), or reuses a content word or number
from the child's previous reply.
"""

from __future__ import annotations

import re

from trainers.debrief.model import Exchange, TalkFigures
from trainers.debrief.talk_moves import OPEN_LABELS, QUESTION_LABELS, TalkMove, message_moves

_TOKEN = re.compile(r"[a-z]+|\d+")
# Words that carry no idea of the child's: a teacher repeating them builds on nothing.
_STOPWORDS = frozenset(
    """a an and are as at be because but by can did do does dont for from get go got had has have he
    her him his how i if im in is it its just like me my no not of ok okay on or so that thats the
    then there they this to um uh was we what when where which who why will with yes yeah you your
    idk dunno know think sure maybe hmm oh well right wrong one more try again""".split()
)


def _content_tokens(text: str) -> set[str]:
    return {
        token
        for token in _TOKEN.findall(text.lower().replace("'", ""))
        if token not in _STOPWORDS and (token.isdigit() or len(token) > 2)
    }


def builds_on(teacher: str, child_before: str, moves: list[tuple[str, TalkMove]]) -> bool:
    """Does the teacher's message take up what the child just said?"""
    if any(move.label in ("revoice", "press_reasoning") for _, move in moves):
        return True  # saying the child's idea back, or asking how the child got it
    return bool(_content_tokens(teacher) & _content_tokens(child_before))


def is_question(sentence: str, move: TalkMove) -> bool:
    return sentence.rstrip().endswith("?") or move.label in QUESTION_LABELS


def talk_figures(exchanges: list[Exchange]) -> tuple[TalkFigures, dict[int, list]]:
    """The talk figures, and each turn's (sentence, move) list for the timeline and suggestions."""
    per_turn: dict[int, list[tuple[str, TalkMove]]] = {}
    moves: dict[str, int] = {}
    move_turns: dict[str, list[int]] = {}
    questions = open_questions = 0
    examples: dict[str, tuple[int, str]] = {}
    uptake: list[int] = []
    self_answered: list[int] = []
    eligible = 0
    previous_child: str | None = None
    for exchange in exchanges:
        said = message_moves(exchange.teacher)
        per_turn[exchange.turn] = said
        asked = False
        for sentence, move in said:
            moves[move.label] = moves.get(move.label, 0) + 1
            turns = move_turns.setdefault(move.label, [])
            if not turns or turns[-1] != exchange.turn:
                turns.append(exchange.turn)
            if is_question(sentence, move):
                questions += 1
                kind = "open" if move.label in OPEN_LABELS else "closed"
                open_questions += kind == "open"
                examples.setdefault(kind, (exchange.turn, sentence))
                asked = True
            elif asked and move.label == "telling" and exchange.turn not in self_answered:
                self_answered.append(exchange.turn)
        if previous_child is not None:
            eligible += 1
            if builds_on(exchange.teacher, previous_child, said):
                uptake.append(exchange.turn)
        previous_child = exchange.student
    teacher_words = sum(len(e.teacher.split()) for e in exchanges)
    child_words = sum(len(e.student.split()) for e in exchanges if e.student)
    teacher_turns = len(exchanges)
    child_turns = sum(1 for e in exchanges if e.student)
    figures = TalkFigures(
        teacher_words=teacher_words,
        child_words=child_words,
        teacher_turns=teacher_turns,
        child_turns=child_turns,
        teacher_word_share=_share(teacher_words, child_words),
        teacher_turn_share=_share(teacher_turns, child_turns),
        questions=questions,
        open_questions=open_questions,
        closed_questions=questions - open_questions,
        moves=moves,
        move_turns=move_turns,
        uptake_turns=uptake,
        uptake_rate=len(uptake) / eligible if eligible else 0.0,
        self_answered_turns=self_answered,
        question_examples=examples,
    )
    return figures, per_turn


def _share(mine: int, theirs: int) -> float:
    return mine / (mine + theirs) if mine + theirs else 0.0
