"""Sub-commands of `utta`. Each module has ``register(subparsers)``; handlers import lazily."""

from __future__ import annotations


class CommandError(Exception):
    """A user-facing failure: printed without a traceback, exit status ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


TARGETS = ("approved", "unflagged", "all")
TARGETS_HELP = (
    "which logged replies the brain learns from: approved (default) = replies a trainee rated "
    "4-5 or rewrote; unflagged = also unreviewed replies, but not those of trained brains still "
    "under evaluation; all = every reply not flagged. The persona's example exchanges are always "
    "added; the manifest counts each source"
)


def add_targets_argument(parser) -> None:  # argparse parser or argument group
    """``--targets approved|unflagged|all`` and ``--no-examples``, shared by every export and
    trainer."""
    parser.add_argument("--targets", choices=TARGETS, default="approved", help=TARGETS_HELP)
    parser.add_argument(
        "--no-examples",
        dest="examples",
        action="store_false",
        help="leave out the persona's example exchanges",
    )
