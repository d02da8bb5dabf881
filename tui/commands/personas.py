"""`utta personas list | show ID | validate PATH...`"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui.commands import CommandError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("personas", help="list, show and validate personas")
    sub = parser.add_subparsers(dest="personas_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="the personas you can teach").set_defaults(handler=list_personas)
    show = sub.add_parser("show", help="one persona in full")
    show.add_argument("persona_id", metavar="ID")
    show.set_defaults(handler=show_persona)
    validate = sub.add_parser("validate", help="check persona files; exit 1 on any problem")
    validate.add_argument("paths", metavar="PATH", nargs="+", type=Path)
    validate.set_defaults(handler=validate_personas)


def list_personas(args: argparse.Namespace) -> int:
    from agent.paths import persona_library

    library = persona_library()
    for persona in library.list():
        topics = ", ".join(t.topic for t in persona.knowledge)
        print(f"{persona.id:<10} {persona.name}, {persona.age} (grade {persona.grade}) — {topics}")
    for problem in library.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    return 0


def show_persona(args: argparse.Namespace) -> int:
    from agent.paths import persona_library
    from personas.loader import UnknownPersona

    library = persona_library()
    try:
        persona = library.get(args.persona_id)
    except UnknownPersona as error:
        raise CommandError(str(error)) from None
    words = persona.speech.words_per_turn
    print(f"{persona.name} ({persona.id}) — age {persona.age}, grade {persona.grade}")
    print(f"file: {library.path_of(persona.id)}")
    print(persona.summary)
    print(f"personality: {'; '.join(persona.personality)}")
    if persona.interests:
        print(f"interests: {', '.join(persona.interests)}")
    print(f"words per turn: {words.min}–{words.max}, typically {words.typical}")
    for topic in persona.knowledge:
        print(f"\n{topic.topic}")
        for known in topic.knows:
            print(f"  knows: {known}")
        for m in topic.misconceptions:
            print(f"  misconception {m.id} (needs {m.moves_needed} good moves): {m.belief}")
            print(f"    works: {'; '.join(move.description for move in m.effective_moves)}")
            print(f"    does not: {'; '.join(move.description for move in m.ineffective_moves)}")
            if m.rule is not None and m.correct_rule is not None:
                print(f"    answers by: {m.rule.name} (held), {m.correct_rule.name} (resolved)")
    print(f"\n{len(persona.examples)} example exchanges")
    return 0


def validate_personas(args: argparse.Namespace) -> int:
    from agent.child.registry import check_persona
    from personas.loader import PersonaError, load_persona_file

    failed = 0
    for path in args.paths:
        try:
            persona = load_persona_file(path, checks=[check_persona])
        except (PersonaError, OSError) as error:
            failed += 1
            print(str(error), file=sys.stderr)
        else:
            print(f"{path}: ok ({persona.id}, {len(persona.examples)} examples)")
    return 1 if failed else 0
