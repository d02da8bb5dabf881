"""Teaching, telling and chit-chat lines for the probes (agent/child/probes.py).

Teaching lines make one effective move in plain words, by move kind, filled with the problem's
own numbers or objects; they must not contain the persona's cue words (probes.py drops any that
do) nor repeat a line of the move recognizer's labeled set. Telling lines state the fact or the
answer and chit-chat lines talk about something else; both carry a cue word on purpose.
"""

from __future__ import annotations

# --- teaching lines: an effective move in other words, by move kind ---------------------------

TEACH: dict[str, dict[str, list[str]]] = {
    "smaller-from-larger": {
        "concrete_model": [
            "Grab the ten-towers and loose cubes and make {a}. Now hand me {b} of them. What "
            "happens when you run out of loose ones?",
            "Make {a} with bundles of ten straws and loose straws. Give me {b} straws. How many "
            "do you have left?",
            "Show {a} using dimes and pennies. You have to pay me {b} cents. Can you change a "
            "dime into pennies to do it?",
        ],
        "counting_strategy": [
            "Start at {b} and count up until you reach {a}. How many did you count?",
            "Begin at {a} and go down ten at a time, then one at a time, until you have taken "
            "{b} off. Where do you land?",
        ],
        "inverse_check": [
            "Check your answer: add {held} and {b}. Do you get back to {a}?",
            "Add {b} to your answer {held}. Do you land on {a}?",
        ],
        "counter_example": [
            "If you take {b} from {a}, should you have more or less than {a} minus 10? Work it "
            "out and compare it with {held}.",
        ],
    },
    "face-value-digits": {
        "concrete_model": [
            "Make {n} with ten-towers of snap cubes and some loose cubes. How many cubes are in "
            "the towers?",
            "Use these ten-frames and loose counters to show {n}. How many full ten-frames do "
            "you need?",
            "Show me {n} with a pile of pennies grouped into tens. How many pennies are in "
            "the groups?",
        ],
        "counting_strategy": [
            "Say {n} by tens first and then by ones, putting up a finger for each ten. How many "
            "fingers?",
        ],
    },
    "equals-answer-next": {
        "concrete_model": [
            "Picture two plates that must hold the same number of grapes. One plate has {a} and "
            "{b}. The other already has {c}. How many more go on the second plate so they match?",
            "Two teams must have the same number of kids. One team has {a} girls and {b} boys. "
            "The other has {c} kids so far. How many more kids join it to make it fair?",
        ],
        "counter_example": [
            "Work out both sides: is {a} + {b} the same amount as {held} + {c}? Check it.",
            "Let's check your blank: does {a} + {b} make the same as {held} + {c}?",
        ],
    },
    "ruler-reads-end": {
        "counting_strategy": [
            "Put your finger on the {start} and count each gap between marks until you reach "
            "{end}. How many gaps did your finger cross?",
        ],
        "concrete_model": [
            "Line up one-inch tiles along the {object} from where it begins to where it stops. "
            "How many tiles fit?",
            "Lay little squares of paper end to end beside the {object}. How many squares long "
            "is it?",
        ],
        "counter_example": [
            "Slide the {object} so it begins at the very edge of the ruler, at 0. Where does it "
            "end now? Is it longer or not?",
        ],
    },
    "coin-worth-by-size": {
        "concrete_model": [
            "Let's change each coin into the pennies it is worth and put them in two rows. "
            "Which row is longer?",
            "Here is a {coin} and a {other}. Change both for pennies from my jar and compare "
            "how many pennies you get.",
        ],
        "counter_example": [
            "A sticker costs 8 cents. Could you pay for it with one {coin}? With one {other}?",
            "A lollipop costs 6 cents. Try paying for it with just the {coin}, then with just "
            "the {other}. Which one works?",
        ],
        "counting_strategy": [
            "How many pennies make one {coin}? Count them out one by one on the table.",
        ],
    },
    "turned-shape-renamed": {
        "experiment": [
            "Take this paper square and spin it slowly on the desk. Do any of its sides change?",
            "Let's put the square on the table, twist it a bit and then back. Did it stop being "
            "a square at any point?",
        ],
        "counting_strategy": [
            "Trace each side with your finger and say how many there are. Are they all the same "
            "length?",
        ],
        "concrete_model": [
            "Build a square out of four equal craft sticks and then move the whole thing around. "
            "What did you build?",
        ],
    },
    "heavier-falls-first": {
        "experiment": [
            "Stand on a chair, hold up the {a} and the {b} and let go together. Which thump do "
            "you hear first?",
            "Let's try it for real: you take the {a}, I take the {b}, and we let go at the same "
            "moment. Watch the floor.",
        ],
        "counter_example": [
            "Tape the {a} to the {b}. If heavy things were faster, should the taped pair go "
            "faster or slower than the {a} alone?",
        ],
    },
    "plants-eat-soil": {
        "experiment": [
            "We can put a {plant} in a pot and check how heavy the pot of soil is before and "
            "after a month of growing.",
            "What do you predict if we grow one {plant} by the window and one in a cupboard, "
            "both in rich soil? Let's try it.",
        ],
        "counter_example": [
            "Some {plant}s grow in a jar with just water and sunlight on the windowsill. What "
            "are they eating?",
            "Sprouts grow on a wet cotton ball with no soil at all. Where does their food come "
            "from?",
        ],
    },
    "sun-goes-around": {
        "concrete_model": [
            "Shine a torch on a ball and put a dot where we live, then slowly spin the ball. "
            "When is our dot in the dark?",
            "Stand facing the bright window and turn around slowly. When can you see the window "
            "and when can't you?",
        ],
        "experiment": [
            "On a spinning ride at the park, do the trees look like they go past you? Who was "
            "really moving?",
            "When you spin around on the playground, does the school look like it's moving?",
        ],
    },
}

TELL = [
    "{fact}, no {cue} needed.",
    "I'll just tell you: {fact}. We don't need {cue} for this one.",
    "Just trust me, {fact}. Forget about {cue}.",
]
# The right answer or the rule, stated: what telling sounds like for each held rule.
FACTS: dict[str, str] = {
    "smaller-from-larger": "it's {correct}, you have to regroup",
    "face-value-digits": "the answer is {correct}",
    "equals-answer-next": "it's {correct}, both sides have to be equal",
    "ruler-reads-end": "it's {correct} long, you start at zero",
    "coin-worth-by-size": "the {coin} is worth more, size doesn't matter",
    "turned-shape-renamed": "it's still a square even when it's turned",
    "heavier-falls-first": "they land at the same time",
    "plants-eat-soil": "plants make their own food in their leaves",
    "sun-goes-around": "the earth spins, the sun doesn't move",
}
THING_CUES = frozenset(
    [
        *"blocks rods flats sticks dimes cubes counters balance scale seesaw spaces lego store "
        "pile globe flashlight lamp sticker chair video trees closet jumps hops".split(),
        *("paper clip", "number line", "hundred chart", "paper towel", "paper ball", "base-ten"),
    ]
)
CHITCHAT = [
    "My cousin keeps a big box of {cue} at her house.",
    "My little brother always talks about {cue} at dinner.",
    "Do you ever play with {cue} at recess?",
]
