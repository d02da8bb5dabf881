"""`utta train lora | openai | dspy | status | cancel` — each trainer registers its own action."""

from __future__ import annotations

import argparse
import importlib

# Modules with ``register(subparsers)``; each adds one or more `utta train` actions.
TRAINER_COMMANDS = (
    "tui.commands.train_lora",
    "tui.commands.train_openai",
    "tui.commands.train_dspy",
)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("train", help="build a better brain from logged sessions")
    sub = parser.add_subparsers(dest="train_command", metavar="METHOD", required=True)
    for name in TRAINER_COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue  # that trainer is not built yet
        module.register(sub)
