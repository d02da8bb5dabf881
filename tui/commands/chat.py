"""`utta chat [--persona ID|FILE] [--brain NAME] [--resume SESSION] [--trainee NAME]`"""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from tui.commands import CommandError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("chat", help="open the practice chat")
    parser.add_argument(
        "--persona", metavar="ID|FILE", help="who to teach (default: choose in the app)"
    )
    parser.add_argument("--brain", metavar="NAME", help="brain to start on (default: offline)")
    parser.add_argument("--resume", metavar="SESSION", type=int, help="continue a logged session")
    parser.add_argument(
        "--trainee", metavar="NAME", help="your name in the transcript (default: login name)"
    )
    parser.set_defaults(handler=run_chat)


def _trainee(name: str | None) -> str:
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "trainee"


def _require_brain(name: str) -> None:
    """An unknown brain fails here, before the chat opens; whether a known one can answer is
    the chat's start-up health check (the one Ctrl+B runs)."""
    from transcripts.store import Store, UnknownBrain
    from tui.practice import require_brain

    try:
        require_brain(name, Store())
    except UnknownBrain as error:
        raise CommandError(
            f"{error} — pick one from `utta brains list`, or a brain kind that needs no "
            "options (e.g. offline)"
        ) from None


def run_chat(args: argparse.Namespace) -> int:
    from agent.child.registry import check_persona
    from personas.loader import PersonaError, PersonaLibrary, UnknownPersona, load_persona_file

    library = PersonaLibrary()
    persona_id = args.persona
    try:
        if persona_id and (persona_id.endswith((".yaml", ".yml")) or Path(persona_id).is_file()):
            persona = load_persona_file(Path(persona_id), checks=[check_persona])
            library.add(persona, Path(persona_id))
            persona_id = persona.id
        elif persona_id:
            library.get(persona_id)
    except (PersonaError, UnknownPersona, OSError) as error:
        raise CommandError(str(error)) from None
    if args.resume is not None:
        from transcripts.store import Store, UnknownSession

        try:
            Store().session(args.resume)
        except UnknownSession as error:
            raise CommandError(str(error)) from None
    if args.brain:
        _require_brain(args.brain)
    from tui.app import UttaApp

    def open_store():
        from transcripts.store import Store

        return Store()

    app = UttaApp(
        store=open_store,
        trainee=_trainee(args.trainee),
        persona_id=persona_id,
        brain=args.brain,
        resume=args.resume,
        library=library,
    )
    app.run()
    return app.return_code or 0
