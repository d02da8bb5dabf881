"""`utta score --persona P [--conversation] [FILE|-]`: the authenticity of each input line.

Each input line is one student reply, as plain text, or a JSON object with ``text`` (or
``student``, as `utta run` prints it) and optionally ``teacher`` and ``state`` (whose ``answer``
the score checks). stdout gets one JSON object a line, in input order: ``{"text", "score",
"child_likeness", "components", "reasons"}``. Needs only the core install.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from tui.commands import CommandError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "score",
        help="score replies for authenticity and child-likeness (JSON lines out)",
        description="Score each input line (a reply, or a JSON object with text/student, "
        "teacher, state) as the persona's reply. Output: one JSON object a line.",
    )
    parser.add_argument("--persona", required=True, metavar="ID|FILE", help="whose replies")
    parser.add_argument(
        "--conversation",
        action="store_true",
        help="the lines are one conversation: a reply repeating an earlier one loses points",
    )
    parser.add_argument("file", nargs="?", default="-", metavar="FILE|-", help="default: stdin")
    parser.set_defaults(handler=run_score)


def _lines(name: str) -> Iterator[tuple[int, str]]:
    if name == "-":
        yield from enumerate((line.rstrip("\n") for line in sys.stdin), 1)
        return
    try:
        handle: TextIO = open(name, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as error:
        raise CommandError(f"{name}: cannot read it ({error.strerror}); check the path") from None
    with handle:
        try:
            yield from enumerate((line.rstrip("\n") for line in handle), 1)
        except UnicodeDecodeError as error:
            message = f"{name}: not UTF-8 text ({error.reason}); save it as UTF-8"
            raise CommandError(message) from None


def parse_line(line: str, where: str) -> dict[str, Any]:
    """``{"text", "teacher", "state"}`` of one input line (plain text or a JSON object)."""
    if line.lstrip().startswith("{"):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        if isinstance(row, dict):
            text = row.get("text", row.get("student"))
            if not isinstance(text, str):
                raise CommandError(
                    f'{where}: a JSON line needs a "text" (or "student") string; '
                    "give the reply there, or pass the line as plain text"
                )
            state = row.get("state")
            return {"text": text, "teacher": str(row.get("teacher") or ""), "state": state}
    return {"text": line, "teacher": "", "state": None}


def run_score(args: argparse.Namespace) -> int:
    from trainers.metric import score_reply
    from tui.commands.persona_arg import resolve_persona

    persona = resolve_persona(args.persona)
    source = "stdin" if args.file == "-" else args.file
    previous: list[str] = []
    out = sys.stdout
    for number, line in _lines(args.file):
        item = parse_line(line, f"{source}:{number}")
        state = item["state"] if isinstance(item["state"], dict) else None
        score = score_reply(
            item["text"],
            persona,
            state=state,
            previous_replies=previous,
            teacher_message=item["teacher"],
        )
        record = {
            "text": item["text"],
            "score": round(score.total, 4),
            "child_likeness": round(score.child_likeness, 4),
            "components": {n: round(c.score, 4) for n, c in score.components.items()},
            "reasons": score.reasons,
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
        if args.conversation:
            previous.append(item["text"])
    return 0
