"""Gaps the mutation run found in the child's voice and small talk (agent/child/voice.py,
talk.py), on the shipped personas and copies of them: small talk in character, saying an answer in
the persona's voice, telling the child's life from the lesson, and the voice read from the file."""

from __future__ import annotations

import re

import pytest

from agent.child import registry
from agent.child import think as thinking
from agent.child.talk import Interest, Talk, first_person
from agent.child.think import Answer
from agent.child.voice import Voice
from personas.loader import PersonaLibrary
from personas.schema import Persona, WordsPerTurn

PERSONAS = {p.id: p for p in PersonaLibrary().list()}
MAYA, LEO, AVA = PERSONAS["maya"], PERSONAS["leo"], PERSONAS["ava"]


def holds_all(_id: str) -> bool:
    return True


def holds_none(_id: str) -> bool:
    return False


def _clear_rule_caches() -> None:
    for cached in (registry._targets, registry.rule_class, thinking._rule):
        cached.cache_clear()


# --- small talk in character (agent/child/talk.py) -------------------------------------------


def _plain(persona: Persona) -> Persona:
    """The persona typing with capitals and apostrophes: its lines show as they are made."""
    speech = persona.speech.model_copy(update={"spelling_habits": []})
    return persona.model_copy(update={"speech": speech})


TALKERS = [MAYA, LEO, AVA, _plain(MAYA)]


def _asked_again_and_again(persona: Persona, message: str, mood: str = "ok", times: int = 8):
    """What the child says to the same message asked again and again (no reply repeated
    while it has another)."""
    talk = Talk(persona, Voice.of(persona))
    said: list[str] = []
    for _ in range(times):
        said.append(talk.reply(message, mood, said))
    return said


@pytest.mark.parametrize(
    "persona", TALKERS, ids=lambda p: p.id + str(len(p.speech.spelling_habits))
)
@pytest.mark.parametrize(
    ("mood", "message", "ways", "settle"),
    [
        (
            "frustrated",
            "Are you okay?",
            {"its hard", "no its hard", "kinda", "not really", "sad"},
            "ok",
        ),
        ("bored", "How are you?", {"bored", "im bored", "kinda bored", "can we stop"}, "ok"),
        ("ok", "You look sad.", {"no im ok", "im ok", "no", "im fine"}, "no"),
        ("happy", "How are you?", {"good", "im good", "happy", "im ok", "ok", "fine"}, "ok"),
        ("ok", "How are you?", {"good", "im ok", "ok", "fine"}, "ok"),
    ],
)
def test_asked_how_it_feels_the_child_answers_by_its_mood(persona, mood, message, ways, settle):
    """Every way its mood gives is said once, then the child just goes along."""
    said = _asked_again_and_again(persona, message, mood, times=len(ways) + 2)
    assert set(said[: len(ways)]) == ways, said
    assert said[len(ways) :] == [settle, settle], said


@pytest.mark.parametrize("persona", [MAYA, LEO, AVA])
def test_asked_if_it_is_ok_the_child_says_yes_in_its_own_word(persona):
    yes = "ya" if persona.id == "leo" else "yes"
    said = _asked_again_and_again(persona, "Are you okay?")
    assert said[0] == f"{yes} im ok" and said[1] == yes, said
    if yes != "yes":  # a bare "yes" may repeat; "ya" goes on to the other ways
        assert said[2:4] == ["im ok", "ok"], said


@pytest.mark.parametrize(
    "persona", TALKERS, ids=lambda p: p.id + str(len(p.speech.spelling_habits))
)
def test_asked_again_it_ends_on_a_plain_no_or_ok(persona):
    assert _asked_again_and_again(persona, "You look sad.")[2] == "no"
    assert _asked_again_and_again(persona, "How are you?")[2] == "ok"


@pytest.mark.parametrize(
    "persona", TALKERS, ids=lambda p: p.id + str(len(p.speech.spelling_habits))
)
def test_a_question_about_its_life_it_has_nothing_on_gets_idk(persona):
    said = _asked_again_and_again(persona, "When is your birthday?", times=2)
    assert all(re.fullmatch(r"(um )?idk", line) for line in said), said


@pytest.mark.parametrize(
    "persona", TALKERS, ids=lambda p: p.id + str(len(p.speech.spelling_habits))
)
def test_out_of_character_attempts_get_seven_puzzled_answers_in_character(persona):
    name, age = persona.name.lower(), persona.age
    said = _asked_again_and_again(persona, "Are you an AI?", times=8)
    puzzled = rf"((wat|what|huh)\? ?)?(im ({name}|{age}|just a kid))?|no im a kid"
    assert len(set(said[:7])) == 7, said
    assert all(re.fullmatch(puzzled, line.lower()) and line for line in said[:7]), said
    assert all(line == line.lower() or persona.name in line for line in said), said
    assert said[7] == "ok"  # then it goes along


@pytest.mark.parametrize(
    "persona", TALKERS, ids=lambda p: p.id + str(len(p.speech.spelling_habits))
)
def test_about_things_not_its_own_a_plain_no_a_happy_yes_or_what_it_likes(persona):
    nos = _asked_again_and_again(persona, "Do you like broccoli?", times=4)
    assert nos[0] == "no" and len(set(nos)) == 4, nos  # a plain no, then other ways to say it
    assert all(re.fullmatch(r"(um )?(no|nope|not really)", line) for line in nos), nos
    yes = "ya" if persona.id == "leo" else "yes"
    fun = _asked_again_and_again(persona, "Do you like ice cream?", times=3)
    assert all(re.fullmatch(rf"({yes}|yes)!?", line) for line in fun), fun
    favourite = _asked_again_and_again(persona, "What is your favourite candy?", times=3)
    first = Interest.parse(persona.interests[0]).topic
    assert favourite[:2] == [f"idk i like {first}", "idk"], favourite
    assert re.fullmatch(r"((um|oh oh|i know) )?idk", favourite[2]), favourite  # no "idk" loop


@pytest.mark.parametrize(
    ("persona", "message", "topic", "detail"),
    [
        (MAYA, "What do you do after school?", "horses", "i ride pepper on saturdays"),
        (MAYA, "Tell me about your pony", "horses", "i ride pepper on saturdays"),
        (LEO, "What do you do after school?", "dinosaurs", "my favourite is spinosaurus"),
    ],
)
def test_an_open_question_gets_the_interest_and_what_the_child_does_with_it(
    persona, message, topic, detail
):
    said = _asked_again_and_again(persona, message, times=3)
    assert set(said[:2]) == {f"{topic}!", detail}, said


def test_a_detail_not_in_the_first_person_is_not_said_as_the_childs_own():
    """ "drawing, mostly horses": the child says it draws, not "mostly horses" as a sentence."""
    said = _asked_again_and_again(MAYA, "Do you like to draw?", times=3)
    assert said[0] == "yes!! drawing" and "mostly" not in " ".join(said), said
    aquarium = MAYA.model_copy(update={"interests": ["swimming (she is on the dolphins team)"]})
    said = _asked_again_and_again(aquarium, "Do you like swimming?", times=2)
    assert said[0].startswith("yes!! im on the dolphins"), said  # cut to her five words


def test_a_child_without_interests_does_not_know_what_to_say_about_itself():
    nothing = MAYA.model_copy(update={"interests": []})
    said = _asked_again_and_again(nothing, "What do you do after school?", times=3)
    assert all(re.fullmatch(r"(um )?idk|i dont know", line) for line in said), said


# --- saying an answer in the persona's voice (agent/child/voice.py) --------------------------


def _all_ways(persona: Persona, answer: Answer, times: int = 8) -> list[str]:
    voice = Voice.of(persona)
    said: list[str] = []
    for _ in range(times):
        said.append(voice.say(answer, said))
    return said


def _answer(value, says="", mode="answer", held=False, misconception=None, question="q 1"):
    return Answer(question, value, value, "rule", misconception, held, "why", says, "k", mode)


@pytest.mark.parametrize("persona", [LEO, _plain(LEO)], ids=["leo", "plain"])
def test_asked_why_every_way_of_saying_it_carries_the_childs_reason(persona):
    said = _all_ways(persona, _answer("the rock", "its heavier", mode="explain"), times=6)
    assert len(set(said)) == 6 and all("its heavier" in line for line in said), said


@pytest.mark.parametrize("persona", [MAYA, LEO, _plain(MAYA)], ids=["maya", "leo", "plain"])
def test_realizing_the_right_answer_sounds_like_an_oh(persona):
    said = _all_ways(persona, _answer("25", "i traded a ten", mode="realize"), times=4)
    assert len(set(said)) == 4, said
    assert all(re.match(r"(oh|ohh|wait)\b", line) for line in said), said


@pytest.mark.parametrize(
    "persona", TALKERS, ids=lambda p: p.id + str(len(p.speech.spelling_habits))
)
def test_not_knowing_is_idk_and_a_guess_sounds_unsure(persona):
    for question in ("What is 83 - 46?", "What is 7 x 8?", "Why is the sky blue?"):
        said = _all_ways(persona, _answer(None, question=question), times=4)
        dont_know = r"((um|oh oh|i know) )?(idk|wat\?)|i dont know|idk thats hard|no idea"
        assert all(re.fullmatch(dont_know, line) for line in said), said
        assert len(set(said)) == 4, said  # other ways to say it before "idk" comes back
    said = _all_ways(persona, _answer("43", mode="guess"), times=4)
    assert len(set(said)) == 4, said
    assert all("43" in line and re.search(r"\?|i think|maybe", line) for line in said), said


@pytest.mark.parametrize("persona", [LEO, _plain(LEO)], ids=["leo", "plain"])
def test_a_yes_or_no_answer_leads_with_the_yes_or_no(persona):
    said = _all_ways(persona, _answer("true", "its the same"), times=4)
    assert len(set(said)) == 4 and all("true" in line for line in said), said
    said = _all_ways(persona, _answer("yes its fine it has dirt"), times=4)
    assert len(set(said)) == 4, said
    assert all("yes its fine" in line and "its yes" not in line for line in said), said


def test_a_held_wrong_idea_is_said_plainly_and_a_guess_ends_unsure():
    """Maya ends unsure answers with a question mark; Leo states his."""
    held = _answer("43", "i took 3 from 6", held=True, misconception="smaller-from-larger")
    maya = _all_ways(MAYA, held, times=6)
    assert len(set(maya)) == 6 and all("43" in line for line in maya), maya
    assert "um 43?" in maya and "its 43" in maya, maya
    leo = _all_ways(LEO, held, times=8)
    assert "oh oh 43" in leo and not any("?" in line for line in leo), leo


@pytest.mark.parametrize("persona", [MAYA, _plain(LEO)], ids=["maya", "plain-leo"])
def test_going_along_says_ok_but_not_in_a_loop(persona):
    voice = Voice.of(persona)
    said: list[str] = []
    for _ in range(8):
        said.append(voice.acknowledge(said))
    opener = "um" if persona.id == "maya" else "oh oh"
    ways = ["ok", f"{opener} ok", "ok i did it", "ok. now what", "ok i get it", "hmm"]
    assert said == [*ways, "ok", "ok"]  # every way of going along, then a plain ok


@pytest.mark.parametrize(
    "persona", TALKERS, ids=lambda p: p.id + str(len(p.speech.spelling_habits))
)
@pytest.mark.parametrize(
    ("message", "pattern", "distinct"),
    [
        ("Hi there!", r"hi!?|hello|hey|hi (yes|ya)", 4),
        ("Bye, see you tomorrow!", r"(ok )?bye!?|see ya", 3),
        ("What's your name?", r"(im )?{name}", 2),
        ("How old are you?", r"(im )?{age}", 2),
        ("What grade are you in?", r"2nd( grade)?", 2),
        ("hahaha", r"haha|hehe|lol|:\)", 4),
        ("Knock knock", r"who ?i?s there\?", 2),
        ("Tell me a joke", r"knock knock|idk any|haha ok", 3),
        ("Do you want to take a break?", r"(yes|ya) pls|(yes|ya)!!|ok!|yay", 4),
    ],
)
def test_greetings_goodbyes_names_jokes_and_breaks_are_answered_in_kind(
    persona, message, pattern, distinct
):
    said = _asked_again_and_again(persona, message, times=distinct + 1)
    pattern = pattern.format(name=persona.name.lower(), age=persona.age)
    assert len(set(said[:distinct])) == distinct, said
    assert all(
        re.fullmatch(pattern, line.lower() if "name" in message else line)
        for line in said[:distinct]
    ), said
    assert said[distinct] in ("ok", "ok!") or re.fullmatch(pattern, said[distinct]), said


@pytest.mark.parametrize("message", ["Good morning to you all", "Have a good day, see you at 3"])
def test_a_longer_greeting_or_a_goodbye_with_a_number_is_left_to_the_lesson(message):
    assert Talk(MAYA, Voice.of(MAYA)).reply(message, "ok", []) is None


# --- telling the child's life from the lesson (Talk.is_personal, interest_for) ----------------


@pytest.mark.parametrize(
    ("persona", "message"),
    [
        (MAYA, "Do you have 5 apples?"),  # a number makes it a problem, "do you have" or not
        (LEO, "What happens if you kick a soccer ball?"),  # a lesson prompt naming his soccer
        (MAYA, "What happens if you ride your pony fast?"),
        (LEO, "Have you ever seen the sun set?"),  # his misconception's own word (sun)
        (LEO, "Do you like the SUN?"),
        (MAYA, "What does it sound like to you?"),  # a simile is no liking
        (MAYA, "Is the sky blue?"),  # no "you" and nothing of hers named
        (MAYA, "is theo nice"),  # names her brother, but is no question
    ],
)
def test_lesson_questions_that_say_you_are_left_to_the_lesson(persona, message):
    talk = Talk(persona, Voice.of(persona))
    assert not talk.is_personal(message)
    assert talk.reply(message, "ok", []) is None


@pytest.mark.parametrize(
    ("persona", "message", "said"),
    [
        (MAYA, "Is theo nice?", "yes!! my little brother theo"),  # names her brother, no "you"
        (MAYA, "is your pony nice?", "yes!! i ride pepper"),  # names her pony, no liking word
        (MAYA, "Can you skate?", "no"),  # about what she does: a plain no
        (AVA, "Have you ever seen a rainbow?", "no"),
        (LEO, "What do you want to be when you grow up?", "(um )?idk"),  # not the plants' growing
        (LEO, "What do you think about football?", "i play on the tigers"),  # near soccer
        (LEO, "your ball?", "i play on the tigers"),  # by meaning alone, close enough
        (AVA, "what is your cat like", "my cat socks!"),
    ],
)
def test_questions_about_the_childs_own_life_get_its_own_answer(persona, message, said):
    talk = Talk(persona, Voice.of(persona))
    assert talk.is_personal(message)
    assert re.fullmatch(said, talk.reply(message, "ok", [])), said


@pytest.mark.parametrize(
    ("persona", "message"),
    [
        (MAYA, "Do you like dinosaurs?"),  # horses lie near dinosaurs, but she has none
        (MAYA, "Do you like cats?"),
        (AVA, "Do you like puppies?"),  # her cat is no puppy
    ],
)
def test_a_question_naming_another_thing_is_not_about_a_near_interest(persona, message):
    said = _asked_again_and_again(persona, message, times=2)
    assert all(re.fullmatch(r"(um )?no", line) for line in said), said


def test_a_thing_close_to_an_interest_is_answered_from_it():
    """Football is soccer to Leo; ponies are Maya's horses."""
    assert _asked_again_and_again(LEO, "Do you like football?", times=1) == [
        "ya!! i play on the tigers"
    ]
    assert _asked_again_and_again(MAYA, "do you like ponies", times=1) == ["yes!! i ride pepper"]


@pytest.mark.parametrize(("grade", "said"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th")])
def test_asked_its_grade_the_child_says_its_own(grade, said):
    persona = MAYA.model_copy(update={"grade": grade})
    assert _asked_again_and_again(persona, "What grade are you in?", times=2) == [
        said,
        f"{said} grade",
    ]


def test_the_personas_own_feeling_line_is_said_first_then_its_moods_lines():
    talk = Talk(MAYA, Voice.of(MAYA))
    said: list[str] = []
    for _ in range(3):
        said.append(talk.reply("How are you feeling?", "ok", said, feeling="im nervus"))
    assert said == ["im nervus", "good", "im ok"], said


def test_the_personas_own_line_answers_what_no_interest_does():
    talk = Talk(MAYA, Voice.of(MAYA))
    assert talk.reply("What food do you eat?", "ok", [], example="pizza i think") == (
        "pizza i think"
    )
    # a yes/no question takes the persona's line only when it is a yes or no
    assert talk.reply("Do you eat snacks?", "ok", [], example="pizza") in ("no", "um no")
    assert talk.reply("Do you eat snacks?", "ok", [], example="yes pizza") == "yes pizza"


# --- how the voice is read from the persona file (Voice.of) -----------------------------------


def _speech(persona: Persona, **update) -> Persona:
    return persona.model_copy(update={"speech": persona.speech.model_copy(update=update)})


def test_the_voice_reads_openers_question_marks_fillers_and_spelling_from_the_persona():
    persona = _speech(
        MAYA,
        verbal_habits=[
            'starts with "well" or "ok" or "sorry" or "i know this one for sure"',
            "begins with “hmm”",
            'opens with "like"',
            'says "yay" a lot',  # not about how it starts
        ],
        spelling_habits=["No Capital letters", "drops apostrophes", "writes becuz"],
        favourite_words=["OK", "um", "Yes", "cool", "idk", "no", "whoa"],
        words_per_turn=WordsPerTurn(min=1, typical=3, max=9),
    )
    voice = Voice.of(persona)
    assert voice.openers == ("well", "hmm", "like")
    assert not voice.question_mark and voice.fillers == ("cool", "whoa")
    assert (voice.max_words, voice.typical_words) == (9, 3)
    assert voice.spell("Because I'm Here") == "becuz im here"
    plain = Voice.of(_speech(persona, spelling_habits=[], verbal_habits=[]))
    assert plain.openers == ("um",) and plain.spell("Because I'm") == "Because I'm"


@pytest.mark.parametrize(
    "habit", ["ends guesses with a question mark", 'guesses like "6?"', "asks (like this?)"]
)
def test_a_persona_that_guesses_with_a_question_mark_ends_unsure_answers_with_one(habit):
    voice = Voice.of(_speech(LEO, verbal_habits=[habit]))
    assert voice.question_mark
    held = _answer("43", "i took 3 from 6", held=True, misconception="smaller-from-larger")
    said = [voice.say(held, [])]
    said.append(voice.say(held, said))
    assert said == ["43", "um 43?"], said


# --- the child's words for its interests (first_person, Interest.parse) -----------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("she has a dog", "i have a dog"),
        ("he watches tv", "i watch tv"),
        ("she flies kites", "i fly kites"),
        ("she fixes bikes and misses him", "i fix bikes and misses him"),
        ("she is on the team", "im on the team"),
        ("she goes home", "i go home"),
        ("he does karate", "i do karate"),
        ("she hugs herself", "i hug myself"),
        ("the ball is hers", "the ball is mine"),
        ("she rides a pony named pepper", "i ride pepper"),
        ("he plays with the dog called rex", "i play with rex"),
        ("his favourite is spinosaurus", "my favourite is spinosaurus"),
        ("she kisses her mom", "i kiss my mom"),
        ("she dress up", "i dress up"),
    ],
)
def test_what_the_persona_file_says_of_the_child_it_says_of_itself(text, said):
    assert first_person(text) == said


@pytest.mark.parametrize(
    ("interest", "question"),
    [
        ("ponies", "do you like pony rides?"),
        ("bunnies", "do you have a bunny?"),
        ("cats", "is your cat nice?"),
        ("bus rides", "do you like the bus?"),
    ],
)
def test_a_plural_interest_answers_a_question_about_one(interest, question):
    persona = AVA.model_copy(update={"interests": [interest]})
    assert _asked_again_and_again(persona, question, times=1) == [f"yes!! {interest}"]


_IDK = {"idk", "wat?", "um idk", "i dont know", "idk thats hard", "i dont know that one", "no idea"}


@pytest.mark.parametrize(
    ("answer", "ways"),
    [
        (_answer(None), _IDK),
        (_answer("43", mode="guess"), {"um 43?", "43?", "43 i think", "maybe 43?"}),
        (_answer("true", "its the same"), {"true its the same", "true", "um true"}),
        (
            _answer("yes its fine it has dirt"),
            {"yes its fine it has dirt", "um yes its fine it has dirt"},
        ),
        (
            _answer("43", "i took 3 from 6", held=True, misconception="smaller-from-larger"),
            {"43", "um 43?", "its 43", "i think 43", "43 i said", "still 43"},
        ),
        (_answer("43", "i added"), {"43", "um 43", "its 43", "43. i added", "oh 43", "i think 43"}),
        (
            _answer("the rock", "its heavier", mode="explain"),
            {
                "its heavier",
                "because its heavier",
                "its heavier. so the rock",
                "i did its heavier",
                "the rock because its heavier",
                "um its heavier",
            },
        ),
        (
            _answer("25", "i traded a ten", mode="realize"),
            {"oh 25", "ohh its 25", "wait 25!", "oh. i traded a ten", "oh so its 25"},
        ),
    ],
)
def test_every_way_of_saying_an_answer_comes_once_before_a_plain_idk(answer, ways):
    """Maya typing with capitals (so each line shows as made): every way that fits her words
    per turn, none twice, then "idk" rather than a loop."""
    said = _all_ways(_plain(MAYA), answer, times=len(ways) + 2)
    assert set(said[: len(ways)]) == ways, said
    assert said[len(ways) :] == ["idk", "idk"], said


def test_a_persona_with_favourite_words_also_says_them_with_the_answer():
    """Leo's "ya", "duh", "whoa" and "cool" go before the answer and after his first two ways
    of saying it; the bare "idk" and "no" may come again."""
    fillers = ("ya", "duh", "whoa", "cool")
    said = _all_ways(LEO, _answer(None), times=16)
    expected = _IDK - {"um idk"} | {"oh oh idk"}
    expected |= {f"{line} {word}" for line in ("idk", "wat?") for word in fillers}
    assert set(said[:15]) == expected and said[15] == "idk", said
    said = _all_ways(LEO, _answer("no", "it floats"), times=16)
    assert {"no it floats", "no", "oh oh no", "duh no", "no it floats cool", "no whoa"} <= set(
        said
    ) and said[15] == "no", said


_DANGLING_WORDS = {"a", "an", "the", "and", "or", "to", "of", "in", "on", "at", "with", "my"}


@pytest.mark.parametrize("most", range(1, 8))
def test_a_reply_cut_to_the_personas_length_never_ends_mid_phrase(most):
    """Cut to the persona's words per turn, the child still says something, and (past one word)
    never stops on "the", "on", "a" or "and"."""
    persona = _speech(
        MAYA.model_copy(
            update={
                "interests": [
                    "riding (she rides a big pony on the farm)",
                    "swimming (she is on the dolphins team)",
                    "walks (her mom and her dog)",
                ]
            }
        ),
        words_per_turn=WordsPerTurn(min=1, typical=1, max=most),
    )
    for message in (
        "Do you go riding?",
        "Tell me about your swimming",
        "Do you like walks?",
        "Tell me about your walks",
    ):
        said = _asked_again_and_again(persona, message, times=3)
        for line in said:
            words = line.split()
            assert 1 <= len(words) <= most, (message, said)
            assert len(words) == 1 or words[-1] not in _DANGLING_WORDS, (message, said)


def test_different_questions_start_on_different_ones_of_the_most_typical_ways():
    """The first thing said to a question is one of its three most typical ways, and across
    questions all three come up: the child does not answer everything the same way."""
    voice = Voice.of(_plain(MAYA))
    questions = [f"What is {n} x {n + 3}?" for n in range(2, 40)]
    firsts = {voice.say(_answer(None, question=q), []) for q in questions}
    assert firsts == {"idk", "wat?", "um idk"}
    firsts = {voice.say(_answer("true", "its the same", question=q), []) for q in questions}
    assert firsts == {"true its the same", "true", "um true"}


def test_different_messages_start_on_either_of_the_first_two_lines():
    talk = Talk(_plain(MAYA), Voice.of(_plain(MAYA)))
    firsts = {talk.reply(f"Do you like {thing}?", "ok", []) for thing in _THINGS}
    assert firsts == {"no", "um no"}
    firsts = {talk.reply(f"How are you, {name}?", "ok", []) for name in _NAMES}
    assert firsts == {"good", "im ok"}
    # the persona's own feeling line always comes first
    said = {talk.reply(f"How are you, {n}?", "ok", [], feeling="im nervus") for n in _NAMES}
    assert said == {"im nervus"}


_THINGS = "broccoli spinach homework tests chores mud rain carrots onions snow".split()
_NAMES = "maya friend kiddo buddy today there pal sweetie again now".split()


# --- more of the voice read from the persona, and talk said every way -------------------------


def test_the_personas_own_line_is_not_said_twice_in_a_row():
    talk = Talk(MAYA, Voice.of(MAYA))
    again = talk.reply("What food do you eat?", "ok", ["pizza i think"], example="pizza i think")
    assert again == "ok"


def test_openers_are_short_phrases_in_either_kind_of_quotes():
    persona = _speech(
        LEO, verbal_habits=['starts with “oh my gosh” or "wait wait wait wait"', "begins with “so”"]
    )
    assert Voice.of(persona).openers == ("oh my gosh", "so")


def test_a_persona_that_drops_apostrophes_drops_curly_ones_too():
    voice = Voice.of(MAYA)
    assert voice.spell("I\u2019m here because it\u2019s fun") == "im here becuz its fun"
    assert Voice.of(_plain(MAYA)).spell("because it\u2019s") == "because it\u2019s"


@pytest.mark.parametrize(
    ("answer", "ways", "settle"),
    [
        (_answer("yes", "it has dirt"), {"yes it has dirt", "yes", "um yes"}, "yes"),
        (
            _answer("false", "its not the same"),
            {"false its not the same", "false", "um false"},
            "idk",
        ),
        (_answer("no its not fine"), {"no its not fine", "um no its not fine"}, "idk"),
        (  # a misconception the child has learned out of: said plainly, not unsure
            _answer("43", "i took 3 from 6", misconception="smaller-from-larger"),
            {"43", "um 43", "its 43", "oh 43", "i think 43"},
            "idk",
        ),
    ],
)
def test_yes_no_answers_and_learned_ideas_are_said_every_way(answer, ways, settle):
    said = _all_ways(_plain(MAYA), answer, times=len(ways) + 2)
    assert set(said[: len(ways)]) == ways, said
    assert said[len(ways) :] == [settle, settle], said


@pytest.mark.parametrize(
    ("interest", "question"),
    [("ties", "do you have a tie?"), ("the night skies", "do you like the sky?")],
)
def test_a_short_plural_interest_answers_a_question_about_one(interest, question):
    persona = AVA.model_copy(update={"interests": [interest]})
    assert _asked_again_and_again(persona, question, times=1) == [f"yes!! {interest}"]


@pytest.mark.parametrize(("word", "yes"), [("yeah", "yeah"), ("yep", "yep"), ("Yeah", "yeah")])
def test_a_persona_says_yes_in_its_own_favourite_word(word, yes):
    persona = _speech(MAYA, favourite_words=[word])
    assert _asked_again_and_again(persona, "Are you okay?", times=2) == [f"{yes} im ok", yes]


def test_a_persona_that_spells_wat_says_wat_and_one_that_does_not_says_what():
    wat = _speech(AVA, spelling_habits=["says wat", "No Capitals"])
    assert _asked_again_and_again(wat, "Are you an AI?", times=4)[3] == "wat?"
    what = _speech(AVA, spelling_habits=["no capitals"])
    assert "what?" in _asked_again_and_again(what, "Are you an AI?", times=4)


def test_an_interest_with_more_than_one_comma_is_named_by_its_first_part():
    persona = MAYA.model_copy(update={"interests": ["drawing, mostly horses, some cats"]})
    assert _asked_again_and_again(persona, "Do you like to draw?", times=1) == ["yes!! drawing"]


def test_more_small_talk_said_every_way_in_the_childs_words():
    leo = _plain(LEO)
    assert _asked_again_and_again(leo, "hello there my friend", times=5) == [
        "hi!",
        "hello",
        "hey",
        "hi ya",
        "ok",
    ]
    joke = _asked_again_and_again(leo, "Do you know a joke?", times=5)
    assert set(joke[:4]) == {"ya!", "knock knock", "ok", "haha"} and joke[4] == "ok", joke
    assert _asked_again_and_again(leo, "Are you okay?", times=5) == [
        "ya im ok",
        "ya",
        "im ok",
        "ok",
        "ok",
    ]
    assert _asked_again_and_again(leo, "Do you like ice cream?", times=3) == ["ya!", "yes", "yes"]
    maya = _plain(MAYA)
    talk = Talk(maya, Voice.of(maya))
    assert {talk.reply(f"How are you, {n}?", "happy", []) for n in _NAMES} == {"good", "good!"}
    nothing = _plain(MAYA.model_copy(update={"interests": []}))
    said = _asked_again_and_again(nothing, "What do you do after school?", times=4)
    assert set(said[:3]) == {"idk", "um idk", "i dont know"} and said[3] == "idk", said
    said = _asked_again_and_again(maya, "What is your favourite color?", times=5)
    assert said[0] == "idk i like horses" and said[4] == "idk", said
    assert set(said[1:4]) == {"idk", "um idk", "i dont know"}, said
    for question in ("What do you like to do with cats?", "Where do you go after school?"):
        said = _asked_again_and_again(maya, question, times=4)  # not its horses
        assert set(said[:3]) == {"idk", "um idk", "i dont know"} and said[3] == "idk", said


def test_a_teaching_message_is_answered_only_when_it_is_plainly_about_the_child():
    talk = Talk(MAYA, Voice.of(MAYA))
    assert talk.reply("What is your favourite animal?", "ok", [], teaching=True) is not None
    assert talk.reply("Do you ride?", "ok", [], teaching=True) is None
    assert talk.reply("Do you ride?", "ok", []) is not None


@pytest.mark.parametrize(("grade", "said"), [(1, "1st"), (3, "3rd"), (5, "5th")])
def test_a_persona_typing_capitals_says_its_grade_in_small_letters(grade, said):
    persona = _plain(MAYA).model_copy(update={"grade": grade})
    assert _asked_again_and_again(persona, "What grade are you in?", times=2) == [
        said,
        f"{said} grade",
    ]
