"""Property tests of the child model's question reader: any numbers, in digits or in words, in
bare problems and in word problems, are read back exactly as the teacher wrote them."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.child.numbers import normalize
from agent.child.reader import is_question, read_question

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()  # fmt: skip
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def words(n: int, *, hyphen: bool = True) -> str:
    """0..999 as a teacher would write it out: 74 -> "seventy-four", 107 -> "one hundred seven"."""
    hundreds, rest = divmod(n, 100)
    parts = [f"{UNITS[hundreds]} hundred"] if hundreds else []
    if rest or not hundreds:
        if rest < 20:
            parts.append(UNITS[rest])
        else:
            tens, unit = divmod(rest, 10)
            joiner = "-" if hyphen else " "
            parts.append(TENS[tens] + (f"{joiner}{UNITS[unit]}" if unit else ""))
    return " ".join(parts)


numbers = st.integers(min_value=0, max_value=999)
spelling = st.sampled_from(["digits", "hyphen", "spaced"])


def say(n: int, how: str) -> str:
    return str(n) if how == "digits" else words(n, hyphen=how == "hyphen")


@SETTINGS
@given(n=numbers, hyphen=st.booleans())
def test_number_words_become_the_same_digits(n: int, hyphen: bool) -> None:
    text, spoken = normalize(f"What is {words(n, hyphen=hyphen)} plus 2?")
    assert text == f"what is {n} plus 2?"
    assert [s.value for s in spoken] == [n]
    assert spoken[0].hundreds + spoken[0].rest == n


@SETTINGS
@given(
    a=numbers,
    b=numbers,
    how_a=spelling,
    how_b=spelling,
    op=st.sampled_from([("-", "-"), ("-", "minus"), ("+", "+"), ("+", "plus")]),
    frame=st.sampled_from(["What is {}?", "Try {}.", "Can you do {}?", "so what about {}"]),
)
def test_arithmetic_is_read_in_the_teachers_numbers(a, b, how_a, how_b, op, frame) -> None:
    symbol, written = op
    message = frame.format(f"{say(a, how_a)} {written} {say(b, how_b)}")
    question = read_question(message)
    assert question is not None, message
    assert question.kind == "arithmetic", (message, question)
    assert question.numbers == (a, b) and question.get("op") == symbol, (message, question)
    assert is_question(message)


TAKE_AWAY = [
    "{name} has {a} {thing}. {pronoun} gives away {b}. How many are left?",
    "There were {a} {thing} and {b} flew away. How many now?",
    "{name} had {a} {thing} and lost {b}. How many does {name} have left?",
]
ADD_UP = [
    "{name} has {a} {thing}. {pronoun} finds {b} more. How many in all?",
    "{name} had {a} {thing} and bought {b}. How many altogether?",
]
names = st.sampled_from([("Sam", "He"), ("Ana", "She"), ("Kai", "They")])
things = st.sampled_from(["apples", "stickers", "marbles", "birds", "crayons"])


@SETTINGS
@given(a=numbers, b=numbers, who=names, thing=things, story=st.sampled_from(TAKE_AWAY))
def test_take_away_word_problems_subtract(a, b, who, thing, story) -> None:
    message = story.format(name=who[0], pronoun=who[1], a=a, b=b, thing=thing)
    question = read_question(message)
    assert question is not None, message
    assert (question.kind, question.numbers, question.get("op")) == ("arithmetic", (a, b), "-")
    assert question.get("story") is True


@SETTINGS
@given(a=numbers, b=numbers, who=names, thing=things, story=st.sampled_from(ADD_UP))
def test_adding_word_problems_add(a, b, who, thing, story) -> None:
    message = story.format(name=who[0], pronoun=who[1], a=a, b=b, thing=thing)
    question = read_question(message)
    assert question is not None, message
    assert (question.kind, question.numbers, question.get("op")) == ("arithmetic", (a, b), "+")


@SETTINGS
@given(a=numbers, b=numbers, who=names, thing=things)
def test_how_many_more_takes_the_smaller_from_the_larger(a, b, who, thing) -> None:
    message = f"{who[0]} has {a} {thing} and Lee has {b}. How many more does one of them have?"
    question = read_question(message)
    assert question is not None, message
    assert question.numbers == (max(a, b), min(a, b)) and question.get("op") == "-"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_reads_as_a_question_or_none_without_crashing(text: str) -> None:
    question = read_question(text)
    assert question is None or question.kind
    assert isinstance(is_question(text), bool)
