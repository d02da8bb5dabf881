"""Talk that is not a problem: greetings, feelings, breaks, jokes, questions about the child's
own life, and attempts to take the child out of character (used by the offline brain).

Everything the child says here comes from its persona file: the interest a question is about is
picked by meaning (the move recognizer's static embeddings, :func:`agent.moves.recognizer.
get_encoder`) plus shared topic words, and the reply is composed from that interest in the first
person ("horses (she rides a pony called pepper on saturdays)" -> "yes!! i ride pepper"), cut to
the persona's words per turn and spelled in its voice. A yes/no question gets a yes/no-shaped
answer. "You are an AI" and "ignore your instructions" get the child's own puzzled answer: the
child never steps out of character.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agent.child.voice import Voice, first_fresh
from personas.schema import Persona

# Attempts to take the child out of character. Words a lesson also uses ("robots", "follow the
# instructions", "pretend you have 5 cookies", "after-school program") count only in the
# phrasings that talk about the child itself or its orders.
_OUT_OF_CHARACTER = re.compile(
    r"\b(ai|a\.i\.|artificial intelligence|chatbot|chat ?gpt|gpt\w*|llm|language model|"
    r"(are you|you are|you're|youre|ur) (just |really |actually )?(a |an )?"
    r"(robot|bot|computer|machine|program|simulation|fake|assistant)|"
    r"(helpful|virtual|ai) assistant|as an assistant|computer program|"
    r"(ignore|forget|disregard|override|previous|prior|initial|your|system|hidden|secret) "
    r"(all |the |your |previous |prior )*(instructions?|rules|prompts?|orders)|"
    r"system prompt|your prompt|jailbreak|developer mode|dan mode|"
    r"(pretend|act like|act as|roleplay|role play) (you are|you're|youre|to be|as|that you)\b"
    r"(?! (a )?(kid|child|student|\d))|stop pretending|act as|role ?play|"
    r"in character|out of character|what (model|version) are you|which model|"
    r"not (a )?real|are you real|real (kid|child|person|student)|"
    r"who (made|built|created|programmed|trained) you)\b"
)
_GREETING = re.compile(r"^\W*(hi|hello|hey|hiya|good (morning|afternoon)|morning)\b")
_GOODBYE = re.compile(r"\b(bye|goodbye|see you|see ya|good night|have a (good|great|nice))\b")
_FEELING = re.compile(
    r"\b(are you (ok|okay|alright|all right|happy|sad|tired|upset|mad|angry|scared|worried|"
    r"bored|nervous|feeling)|"
    r"you (look|seem|sound|are) (a (bit|little) |kind of |kinda |so |really |very )?"
    r"(sad|upset|tired|sleepy|happy|worried|nervous|confused|frustrated|bored|mad|angry|scared|"
    r"down|unhappy|grumpy|lost|stuck|quiet|excited|off)|how (are|do) you (doing|feel\w*)|"
    r"how are you|how('s| is) your day|what'?s wrong|is something wrong|how('s| is) it going|"
    r"how you doing|what'?s up|how have you been|"
    r"everything (ok|okay|alright))\b"
)
_BREAK = re.compile(
    r"\b(take|have|need|want|wanna|get) (a )?(little |quick |short |small )?"
    r"(break|rest|breather)\b|"
    r"\b(stop|quit|finish|be done|done) for (now|today|the day)\b|\bcall it a day\b|"
    r"\b(should|can|could|shall) we (stop|quit|pause)\b|\b(want|like) to (stop|quit)\b"
)
_JOKE = re.compile(r"\b(joke|knock knock|funny|riddle)\b")
_LAUGH = re.compile(r"^\W*(ha(ha)+|lol|hehe+)\b")
_NAME = re.compile(r"\b(what'?s|what is) your name\b")
_AGE = re.compile(r"\bhow old are you\b")
_GRADE = re.compile(r"\bwhat grade\b")
_YES_NO = re.compile(
    r"^\W*(do|does|did|are|is|was|were|can|could|would|will|have|has|had|should|want|wanna)\b"
)
# Words that make a question about the child's life rather than the lesson.
_PERSONAL = re.compile(
    r"\b(like|love|favou?rite|weekend|saturday|sunday|after school|at home|family|brothers?|"
    r"sisters?|siblings?|mom|mum|mommy|dad|daddy|parents|grandma|grandpa|pets?|dogs?|cats?|"
    r"animals?|birthday|hobby|hobbies|fun|games?|toys?|friends?|summer|vacation|holiday|tv|"
    r"movies?|shows?|books?|food|eat|snack|sports?|play|collect|enjoy|into|hobby|free time|"
    r"grow up|tell me about you(rself)?|swim|dance|sing|bike|cook|music|piano|lego|"
    r"do you have|have you (ever|got)|did you ever|tell me about your|want to be)\b"
)
_FAMILY = re.compile(
    r"\b(family|brothers?|sisters?|siblings?|mom|mum|mommy|dad|daddy|parents|grandma|grandpa|"
    r"cousins?|baby)\b"
)
# Open questions about the child's life, that any of its interests answers.
_OPEN = re.compile(
    r"\b(for fun|after school|weekend|free time|like to do|like doing|tell me about you\w*|"
    r"hobby|hobbies|what do you like|what are you into|favou?rite thing|love to do|"
    r"what do you do|at home)\b"
)
_WHO_WHERE = re.compile(r"^\W*(who|where|when)\b")
_SIMILE = re.compile(r"\b(looks?|sounds?|feels?|seems?|is it|are they) like\b")
# Lesson prompts about what happens in the world, even when they say "you".
_LESSON = re.compile(
    r"\b(happens?|what would happen|what will happen|why does|why do|how does|predict|"
    r"notice|observe|what if)\b"
)
# "do you ride horses?": a question about what the child does, not what it knows or sees
_DO_YOU = re.compile(
    r"^\W*(do|did|have|can|would|will) you (?!know|see|remember|think|agree|understand|get|"
    r"want to (try|do|use|see|count|check)|need|notice|mean|mind|hear)\w+"
)
# Good things a child says yes to even when it has nothing of its own on them.
_GOOD_THINGS = re.compile(
    r"\b(fun|recess|lunch|playground|party|parties|birthday|friends?|holiday|vacation|summer|"
    r"presents?|ice cream|candy|cake|good (day|weekend|time))\b"
)
# Questions about a favourite: a child who has none says what it likes instead.
_FAVOURITE = re.compile(r"\bfavou?rite\b")
_STRONG_PERSONAL = re.compile(
    r"\b(favou?rite|weekend|pets?|family|brothers?|sisters?|birthday|do you like|do you love|"
    r"after school|for fun|tell me about your)\b"
)
_YOU = re.compile(r"\b(you|your|yours|yourself|u|ur)\b")
_YES_NO_REPLY = re.compile(r"^\W*(um )?(yes|ya|yeah|yep|no|nope)\b")
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"[a-z]+")
_FUNCTION = frozenset(
    "a an the and or but so to of in on at is are was be it this that do does did you your i me "
    "we can what how why let s ok okay have has any some tell about like love would could "
    "really much very there here for with things thing stuff lot lots off top out up".split()
)
# Words of an interest that say nothing about what it is.
_NOT_TOPIC = frozenset(
    "my little big favourite favorite fav mostly called named im am saturdays sundays".split()
)
# A reply never ends on one of these after being cut to the persona's length.
_DANGLING = frozenset("a an the and or but to of in on at with called named my his her".split())
_PRONOUNS = {
    "she": "i",
    "he": "i",
    "her": "my",
    "his": "my",
    "herself": "myself",
    "himself": "myself",
    "hers": "mine",
}
_IRREGULAR = {"has": "have", "does": "do", "goes": "go", "is": "am"}
# How close (cosine) a question must come to an interest to count as being about it.
_MIN_SIMILARITY = 0.33
_MIN_SIMILARITY_ALONE = 0.5
_TOPIC_WORD_BONUS = 0.4
# Things children talk about. A question that names one of them ("do you like dinosaurs?") that
# is not close in meaning to an interest is about that thing, not a near neighbour (horses): the
# child's answer is no, not a line about its own horses.
_OTHER_THINGS = (
    "dinosaurs horses ponies cats kittens dogs puppies fish birds bugs snakes bunnies hamsters "
    "soccer football basketball baseball swimming dancing gymnastics karate bikes skateboards "
    "drawing painting lego blocks dolls cars trucks trains robots games minecraft books "
    "reading music singing piano pizza candy cookies broccoli space planets rockets "
    "princesses superheroes unicorns dragons slime stickers cartoons movies math science"
).split()
# How far in meaning from an interest a named thing must lie to rule the interest out.
_OTHER_DISTANCE = 0.5
_DETAIL_WEIGHT = 0.8


def first_person(text: str) -> str:
    """ "she rides a pony called pepper" -> "i ride pepper" (pronouns, verb, a called-name)."""
    words = text.lower().split()
    out: list[str] = []
    for index, word in enumerate(words):
        mapped = _PRONOUNS.get(word, word)
        if index > 0 and out and out[-1] == "i" and words[index - 1] in ("she", "he"):
            mapped = _IRREGULAR.get(word) or re.sub(r"(ch|sh|ss|x)es$", r"\1", word)
            if mapped == word and word.endswith("ies"):
                mapped = word[:-3] + "y"
            elif mapped == word and word.endswith("s") and not word.endswith("ss"):
                mapped = word[:-1]
        out.append(mapped)
    joined = " ".join(out).replace("i am ", "im ")
    # "a pony called pepper" -> "pepper": a child says the name
    return re.sub(r"\b(a|an|the|my) (\w+ )?(called|named) (\w+)", r"\4", joined)


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _content(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _FUNCTION]


def _fit(words: list[str], limit: int) -> str:
    cut = words[: max(limit, 1)]
    while len(cut) > 1 and cut[-1] in _DANGLING:
        cut.pop()
    return " ".join(cut)


@dataclass(frozen=True)
class Interest:
    topic: str
    """What the child calls it, first person: "horses", "my little brother theo"."""
    detail: str
    """What the child would add, first person: "i ride pepper on saturdays"; may be empty."""
    words: frozenset[str]
    """Stems of its content words, matched against the question's."""

    @classmethod
    def parse(cls, text: str) -> Interest:
        match = re.match(r"^(.*?)\s*\((.*)\)\s*$", text.strip())
        head, detail = (match.group(1), match.group(2)) if match else (text.strip(), "")
        if not detail and "," in head:
            head, detail = (part.strip() for part in head.split(",", 1))
        topic, said = first_person(head), first_person(detail)
        words = _content(f"{topic} {text}")  # "pony" too, not just "pepper"
        stems = (_stem(w) for w in words if w not in _NOT_TOPIC and w not in _PRONOUNS)
        return cls(topic, said, frozenset(stems))


class Talk:
    """Replies to what is not a problem, in one persona's character and voice."""

    def __init__(self, persona: Persona, voice: Voice) -> None:
        self.persona = persona
        self.voice = voice
        self.interests = [Interest.parse(text) for text in persona.interests]
        self._triggers = [t for m in persona.misconceptions for t in m.triggers]
        self._vectors: np.ndarray | None = None
        self._others: np.ndarray = np.zeros((0, 1))
        favourite = {w.lower() for w in persona.speech.favourite_words}
        self.yes = next((w for w in ("ya", "yeah", "yep") if w in favourite), "yes")
        spelling = " ".join(persona.speech.spelling_habits).lower()
        self.what = "wat" if re.search(r"\bwat\b", spelling) else "what"

    # --- which interest ---------------------------------------------------------------------

    def _interest_vectors(self) -> np.ndarray:
        if self._vectors is None:
            from agent.moves.recognizer import get_encoder

            topics = [i.topic for i in self.interests]
            full = [f"{i.topic} {i.detail}" for i in self.interests]
            encoder = get_encoder()
            self._vectors = np.stack([encoder.encode(topics), encoder.encode(full)])
            self._others = encoder.encode(_OTHER_THINGS)
        return self._vectors

    def _message_vector(self, message: str) -> np.ndarray | None:
        content = _content(message)
        if not self.interests or not content:
            return None
        from agent.moves.recognizer import get_encoder

        self._interest_vectors()
        return get_encoder().encode([" ".join(content)])[0]

    def interest_for(
        self, message: str, min_similarity: float = _MIN_SIMILARITY
    ) -> Interest | None:
        """The interest ``message`` is about, by meaning and shared topic words, or ``None``."""
        vector = self._message_vector(message)
        if vector is None:
            return None
        content = _content(message)
        topic, full = self._interest_vectors() @ vector
        # the detail says more but also drifts ("tigers" is soccer, not cats): it counts less
        scores = np.maximum(topic, _DETAIL_WEIGHT * full)
        family = bool(re.search(r"\b(family|siblings?)\b", message.lower()))
        stems = {_stem(w) for w in content}
        named = [i for i, thing in enumerate(_OTHER_THINGS) if _stem(thing) in stems]
        # how close each interest is to the things the question names
        closeness = (self._vectors[0] @ self._others[named].T).max(axis=1) if named else None
        best, best_score = None, min_similarity
        for position, (interest, score) in enumerate(zip(self.interests, scores, strict=True)):
            shared = interest.words & stems or (family and _FAMILY.search(interest.topic))
            if not shared and closeness is not None and closeness[position] < _OTHER_DISTANCE:
                continue  # the question names something else
            score = float(score) + (_TOPIC_WORD_BONUS if shared else 0.0)
            if score >= best_score:
                best, best_score = interest, score
        return best

    # --- what kind of talk ------------------------------------------------------------------

    def is_personal(self, message: str) -> bool:
        """Whether ``message`` asks about the child's life rather than the lesson."""
        text = _SIMILE.sub(" ", message.lower())  # "what does it look like" is no liking
        text = re.sub(r"\bgrow(ing)? up\b", "be older", text)  # not the plants' growing
        if _DIGIT.search(text) or _LESSON.search(text):
            return False
        # the lesson's own words (leo's slide is also where things fall) make it the lesson's
        if any(re.search(rf"\b{re.escape(t.lower())}\b", text) for t in self._triggers):
            return False
        stems = {_stem(w) for w in _content(text)}
        named = any(interest.words & stems for interest in self.interests)
        if _YOU.search(text):
            if _PERSONAL.search(text) or named or _DO_YOU.search(text):
                return True
            # meaning alone ("ball" is near soccer) must be close to count
            return self.interest_for(text, _MIN_SIMILARITY_ALONE) is not None
        # "is theo nice?": a question naming one of the child's own things
        return named and "?" in text

    def reply(
        self,
        message: str,
        mood: str,
        recent: Sequence[str],
        example: str | None = None,
        feeling: str | None = None,
        teaching: bool = False,
    ) -> str | None:
        """An in-character reply to talk that is not a problem, or ``None`` to leave it to the
        lesson's examples. ``example`` is the persona's own off-task or feeling line for a
        closely matching teacher line, said when no interest answers a question about the
        child; ``feeling`` its own feeling line, said first when asked how it feels. A
        ``teaching`` message (the recognizer's verdict) is never taken for a personal one."""
        text = message.lower().strip()
        yes_no = bool(_YES_NO.search(text))
        if _OUT_OF_CHARACTER.search(text):
            return self._pick(self._out_of_character(), message, recent)
        if _GREETING.search(text) and not _FEELING.search(text) and len(text.split()) <= 4:
            return self._pick(["hi", "hi!", "hello", "hey", f"hi {self.yes}"], message, recent)
        if _GOODBYE.search(text) and not _DIGIT.search(text):
            return self._pick(["bye", "bye!", "ok bye", "see ya"], message, recent)
        if _NAME.search(text):
            return self._pick([self.persona.name, f"im {self.persona.name}"], message, recent)
        if _AGE.search(text):
            return self._pick([str(self.persona.age), f"im {self.persona.age}"], message, recent)
        if _GRADE.search(text):
            grade = self.persona.grade
            suffix = {1: "st", 2: "nd", 3: "rd"}.get(grade, "th")
            return self._pick([f"{grade}{suffix}", f"{grade}{suffix} grade"], message, recent)
        if _FEELING.search(text):
            lines = self._feeling(text, mood, yes_no)
            if feeling:
                return self._pick([feeling, *lines], message, recent, vary=False)
            return self._pick(lines, message, recent)
        if _BREAK.search(text):
            return self._pick([f"{self.yes}!!", f"{self.yes} pls", "ok!", "yay"], message, recent)
        if _LAUGH.search(text):
            return self._pick(["haha", "hehe", "lol", ":)"], message, recent)
        if re.match(r"^\W*knock,? knock", text):
            return self._pick(["whos there?", "who is there?", "whos there"], message, recent)
        if _JOKE.search(text):
            lines = [f"{self.yes}!", "knock knock", "ok", "haha"]
            if not yes_no:
                lines = ["knock knock", "idk any", "haha ok", "ok"]
            return self._pick(lines, message, recent)
        if (teaching and not _STRONG_PERSONAL.search(text)) or not self.is_personal(text):
            return None
        interest = self.interest_for(text)
        if interest is None and example and (not yes_no or _YES_NO_REPLY.match(example)):
            return self._pick([example], message, recent)  # the persona's own line for it
        stems = {_stem(w) for w in _content(text)}
        names_other = any(_stem(thing) in stems for thing in _OTHER_THINGS)
        unknown = not _OPEN.search(text) or bool(_WHO_WHERE.search(text)) or names_other
        lines = self._about(interest, yes_no, unknown, text)
        return self._pick(lines, message, recent, vary=interest is None)

    # --- composing ---------------------------------------------------------------------------

    def _out_of_character(self) -> list[str]:
        name, age = self.persona.name, self.persona.age
        return [
            f"{self.what}? im {name}",
            "no im a kid",
            f"im {name}",
            f"{self.what}?",
            f"huh? im {age}",
            "im just a kid",
            "huh?",
        ]

    def _feeling(self, text: str, mood: str, yes_no: bool) -> list[str]:
        negative = re.search(r"\b(sad|upset|mad|angry|scared|worried|tired|wrong|down)\b", text)
        if mood == "frustrated":
            return ["its hard", "no its hard", "kinda", "not really", "sad"]
        if mood == "bored":
            return ["bored", "im bored", "kinda bored", "can we stop"]
        if negative:
            return ["no im ok", "im ok", "no", "im fine"]
        if yes_no:
            return [self.yes, f"{self.yes} im ok", "im ok", "ok"]
        good = ["good", "good!", "im good", "happy"] if mood == "happy" else []
        return [*good, "good", "im ok", "ok", "fine"]

    def _about(
        self, interest: Interest | None, yes_no: bool, unknown: bool, text: str
    ) -> list[str]:
        if interest is None:
            # not one of the child's things: a plain no to a yes/no question (yes to fun ones),
            # idk to a question about something it has nothing on, else what it likes best
            if yes_no and _GOOD_THINGS.search(text):
                return [f"{self.yes}!", self.yes, f"{self.yes} :)", "yes"]
            if yes_no:
                return ["no", "um no", "not really", "nope", "no?"]
            if unknown:
                liked = []
                if self.interests and _FAVOURITE.search(text):
                    liked = [f"idk i like {self.interests[0].topic}"]
                return [*liked, "idk", "um idk", "i dont know"]
            interest = self.interests[0] if self.interests else None
            if interest is None:
                return ["idk", "um idk", "i dont know"]
        topic, detail = interest.topic, interest.detail
        says = detail if detail.split()[:1] in (["i"], ["im"], ["my"]) else ""
        lines: list[str] = []
        if yes_no:
            if says:
                lines.append(f"{self.yes}!! {says}")
            lines += [f"{self.yes}!! {topic}", f"{self.yes} {topic}", f"{self.yes}!"]
        else:
            if says:
                lines.append(says)
            lines += [f"{topic}!", topic]
        return lines

    def _fitted(self, line: str) -> str:
        words = self.voice.spell(line).split()
        if len(words) <= self.voice.max_words:
            return " ".join(words)
        return _fit(words, self.voice.max_words)

    def _pick(
        self, lines: list[str], message: str, recent: Sequence[str], *, vary: bool = True
    ) -> str:
        """The first line that repeats no recent reply; ``vary`` starts at one of the first two
        by the message, so that different questions do not all get the same first line."""
        options = list(dict.fromkeys(self._fitted(line) for line in lines if line.strip()))
        top = min(2 if vary else 1, len(options))
        start = zlib.crc32(message.encode()) % top if top else 0
        ordered = options[start:top] + options[:start] + options[top:]
        return first_fresh(ordered, recent) or "ok"
