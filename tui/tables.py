"""Tables on the command line that stay readable: long names and paths wrap inside their column
(nothing is cut, so two different paths never look the same), every cell is plain text (never
markup), and piped output is not wrapped at all, so it greps cleanly."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, TextIO

PIPE_WIDTH = 10_000


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    title: str | None = None,
    file: TextIO | None = None,
) -> None:
    """Print ``rows`` under ``headers``; ``None`` cells show as ``-``."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    out = file or sys.stdout
    tty = out.isatty()
    table = Table(
        box=box.SIMPLE_HEAD, title=title, title_justify="left", show_edge=False, pad_edge=False
    )
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(Text("-" if cell is None else str(cell)) for cell in row))
    console = Console(
        file=out, width=None if tty else PIPE_WIDTH, highlight=False, emoji=False,
        markup=False, color_system="auto" if tty else None,
    )  # fmt: skip
    console.print(table)
