"""`utta run --persona P [--brain NAME] [--no-log] [FILE|-]`: a conversation without the TUI.

Each non-empty input line is one teacher message of one session, in order; stdout gets one JSON
object per turn: ``{"teacher", "student", "state"}`` (the full student state: misconceptions,
mood, active topic, the computed answer, the last move). The session is logged like a chat,
unless ``--no-log``, which writes nothing to the store (not even a new database file).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from tui.commands import CommandError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "run", help="a scripted conversation: teacher lines in, one JSON object per turn out"
    )
    parser.add_argument("--persona", metavar="ID|FILE", required=True, help="who to teach")
    parser.add_argument("--brain", metavar="NAME", help="brain to answer with (default: offline)")
    parser.add_argument("--no-log", action="store_true", help="write nothing to the store")
    parser.add_argument(
        "--trainee", metavar="NAME", help="your name in the transcript (default: login name)"
    )
    parser.add_argument(
        "input",
        metavar="FILE|-",
        nargs="?",
        default="-",
        help="teacher messages, one a line (default: standard input)",
    )
    parser.set_defaults(handler=run_script)


def _persona(reference: str):
    from agent.child.registry import check_persona
    from personas.loader import PersonaError, PersonaLibrary, UnknownPersona, load_persona_file

    try:
        if reference.endswith((".yaml", ".yml")) or Path(reference).is_file():
            return load_persona_file(Path(reference), checks=[check_persona])
        return PersonaLibrary().get(reference)
    except (PersonaError, UnknownPersona, OSError) as error:
        raise CommandError(str(error)) from None


def _lines(source: str) -> list[str]:
    if source == "-":
        return _read(sys.stdin)
    path = Path(source)
    try:
        with path.open(encoding="utf-8") as handle:
            return _read(handle)
    except FileNotFoundError:
        raise CommandError(
            f"no input file {source} — give a file of teacher messages, one a line, or - for "
            "standard input"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"cannot read {source}: {error} — save it as UTF-8 text") from None


def _read(handle: TextIO) -> list[str]:
    return [line.strip() for line in handle if line.strip()]


def run_script(args: argparse.Namespace) -> int:
    import asyncio

    from agent.errors import UttaError

    persona = _persona(args.persona)
    messages = _lines(args.input)
    try:
        return asyncio.run(_converse(persona, messages, args))
    except UttaError as error:
        raise CommandError(str(error)) from None


def _brain_without_store(name: str, persona):
    """The brain for ``--no-log``: a brain kind, or a saved brain read from an existing store."""
    from agent.paths import database_path
    from agent.registry import BrainContext, BrainSpec, available_kinds, create_brain

    if name in available_kinds():
        return create_brain(
            BrainSpec(name=name, kind=name, persona_id=persona.id), BrainContext(persona)
        )
    if not database_path().exists():
        raise CommandError(
            f"no brain called '{name}' — saved brains live in the store, which does not exist "
            f"yet; choose a brain kind ({', '.join(available_kinds())})"
        )
    from transcripts.store import Store
    from tui.practice import build_brain

    with Store() as store:
        return build_brain(name, store, persona)


async def _converse(persona, messages: list[str], args: argparse.Namespace) -> int:
    from agent.registry import DEFAULT_BRAIN
    from agent.student import StudentAgent
    from transcripts.store import UnknownBrain

    name = args.brain or DEFAULT_BRAIN
    practice = None
    try:
        if args.no_log:
            agent = StudentAgent(persona, _brain_without_store(name, persona))
        else:
            from transcripts.store import Store
            from tui.commands.chat import _trainee
            from tui.practice import start_practice

            practice = start_practice(persona, name, Store(), _trainee(args.trainee))
            practice.ensure_session()
            agent = practice.agent
    except UnknownBrain as error:
        from agent.registry import available_kinds

        kinds = ", ".join(available_kinds())
        raise CommandError(
            f"{str(error).strip(chr(39) + chr(34))} — pass --brain with a saved brain's name "
            f"(`utta brains list`) or a brain kind ({kinds})"
        ) from None
    try:
        for message in messages:
            reply = await agent.reply(message)
            turn = {"teacher": message, "student": reply, "state": agent.state.to_dict()}
            if practice is not None:
                turn["session"] = practice.session_id
            print(json.dumps(turn, ensure_ascii=False), flush=True)
    finally:
        if practice is not None:
            practice.end()
            practice.store.close()
        await agent.brain.aclose()
    return 0
