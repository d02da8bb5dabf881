"""Removing terminal control sequences from a model's reply.

A model (or a server pretending to be one) can write ANSI escapes: colours, cursor moves, window
titles, hyperlinks. Printed raw by `utta sessions show` they repaint the trainee's terminal; stored,
they end up in training data. The agent strips them, and other control characters except tabs
and newlines, before a reply is shown or logged.
"""

from __future__ import annotations

import re

# ECMA-48: CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \), and two-byte ESC sequences;
# then the C0/C1 controls that are left, except tab and newline.
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)
# The start of a sequence whose end may come in the next chunk of a stream.
_UNFINISHED = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?)?\Z")


def strip_control(text: str) -> str:
    """``text`` without terminal escape sequences and control characters (tab, newline kept)."""
    return _SEQUENCE.sub("", text)


class ControlFilter:
    """:func:`strip_control` for a stream: a sequence split across chunks is held back whole."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, chunk: str) -> str:
        text = self._held + chunk
        unfinished = _UNFINISHED.search(text)
        cut = unfinished.start() if unfinished else len(text)
        self._held = text[cut:]
        return strip_control(text[:cut])  # an unfinished sequence at the very end is never sent
