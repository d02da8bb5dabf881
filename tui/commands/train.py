"""`utta train lora | openai | dspy | status | cancel` — each trainer registers its own actions."""

from __future__ import annotations

import argparse

from tui.commands import train_dspy, train_lora, train_openai


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("train", help="build a better brain from logged sessions")
    sub = parser.add_subparsers(dest="train_command", metavar="METHOD", required=True)
    for module in (train_lora, train_dspy, train_openai):
        module.register(sub)
