"""`utta keys set PROVIDER | list | path` — API keys, stored with mode 0600."""

from __future__ import annotations

import argparse
import sys

from tui.commands import CommandError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("keys", help="store API keys (e.g. for the openai brain)")
    sub = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    setter = sub.add_parser("set", help="store a key, read from the terminal or stdin")
    setter.add_argument("provider", metavar="PROVIDER", help="e.g. openai")
    setter.set_defaults(handler=set_key)
    sub.add_parser("list", help="providers with a stored key (names only)").set_defaults(
        handler=list_keys
    )
    sub.add_parser("path", help="where keys are stored").set_defaults(handler=keys_path)


def _read_key(provider: str) -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"{provider} key (input hidden): ")
    return sys.stdin.readline()


def set_key(args: argparse.Namespace) -> int:
    from agent.brain import BrainError
    from agent.keys import set_key as store

    try:
        path = store(args.provider, _read_key(args.provider))
    except (BrainError, OSError) as error:
        raise CommandError(str(error)) from None
    print(f"stored the {args.provider} key in {path}")
    return 0


def list_keys(args: argparse.Namespace) -> int:
    from agent.brain import BrainError
    from agent.keys import key_names

    try:
        names = key_names()
    except BrainError as error:
        raise CommandError(str(error)) from None
    for name in names:
        print(name)
    if not names:
        print("no keys stored — run `utta keys set openai`", file=sys.stderr)
    return 0


def keys_path(args: argparse.Namespace) -> int:
    from agent.keys import keys_path as path

    print(path())
    return 0
