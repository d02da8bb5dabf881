"""The `utta` command line. Sub-commands live in ``tui.commands``; each imports what it needs
inside its handler so that `utta --help` stays fast."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from tui.commands import (
    CommandError,
    brains,
    chat,
    eval,
    keys,
    personas,
    report,
    run,
    score,
    serve,
    sessions,
    train,
)

COMMAND_MODULES = (chat, run, personas, sessions, report, brains, serve, keys, train, score, eval)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="utta",
        description="Practise teaching a simulated second-grader; every turn is logged.",
    )
    parser.add_argument(
        "--db", metavar="PATH", help="transcript database (default: $UTTA_DB or the user data dir)"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="also print the log (see README) to stderr"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.db:
        os.environ["UTTA_DB"] = args.db
    from agent.logs import setup_logging

    setup_logging(verbose=args.verbose)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    from agent.errors import UttaError

    try:
        return handler(args) or 0
    except CommandError as error:
        _log_failure(args)
        print(f"utta: {error}", file=sys.stderr)
        return error.code
    except UttaError as error:  # a damaged or read-only database, a brain that cannot answer
        _log_failure(args)
        print(f"utta: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `utta sessions show 1 | head`: the reader has gone, so go quietly
        _silence_stdout()
        return 141  # what a process killed by SIGPIPE reports, as `cat` would
    except KeyboardInterrupt:
        return 130


def _log_failure(args: argparse.Namespace) -> None:
    """The one line on stderr is for the user; the log keeps the traceback behind it."""
    import logging

    logging.getLogger("utta.cli").warning("utta %s failed", args.command, exc_info=True)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that flushing it at exit raises no second BrokenPipeError."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
