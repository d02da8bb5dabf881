"""`utta sessions report ID` (one session's debrief) and `utta report --trainee NAME` (progress).

Both read only the store, so they work for every past session. Markdown and JSON go to stdout
unless ``-o FILE``; HTML is one self-contained file (inline CSS and SVG, nothing to fetch).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui.commands import CommandError

SESSION_FORMATS = ("md", "html", "json")
PROGRESS_FORMATS = ("text", "md", "html", "json")


def add_session_report(sessions: argparse._SubParsersAction) -> None:
    """Registers `utta sessions report` under the `sessions` sub-commands."""
    report = sessions.add_parser(
        "report",
        help="one session's debrief: the child's timeline, your talk, three suggestions",
    )
    report.add_argument("session_id", metavar="ID", type=int)
    report.add_argument("--format", choices=SESSION_FORMATS, default="md")
    report.add_argument("-o", "--output", type=Path, metavar="FILE", help="default: stdout")
    report.set_defaults(handler=session_report)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "report",
        help="a trainee's progress across sessions, with charts",
        description="Moves that counted, turns to resolution, your share of the words and your "
        "questions, per session, oldest first; a chart in the terminal or in the HTML file.",
    )
    parser.add_argument("--trainee", metavar="NAME", required=True)
    parser.add_argument("--persona", metavar="ID", help="only this persona's sessions")
    parser.add_argument("--format", choices=PROGRESS_FORMATS, default="text")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="default: stdout")
    parser.set_defaults(handler=progress_report)


def _write(text: str, output: Path | None, what: str) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise CommandError(f"could not write {output}: {error.strerror}; pick another -o") from None
    print(f"wrote {what} to {output}", file=sys.stderr)


def session_report(args: argparse.Namespace) -> int:
    from trainers.debrief.compute import debrief_session
    from transcripts.store import Store, UnknownSession

    try:
        debrief = debrief_session(Store(), args.session_id)
    except UnknownSession as error:
        raise CommandError(str(error)) from None
    if args.format == "json":
        from trainers.debrief.render import to_json

        text = to_json(debrief) + "\n"
    elif args.format == "html":
        from trainers.debrief.html import session_html

        text = session_html(debrief)
    else:
        from trainers.debrief.render import markdown

        text = markdown(debrief)
    _write(text, args.output, f"the debrief of session {debrief.session_id}")
    return 0


def progress_report(args: argparse.Namespace) -> int:
    from trainers.debrief.progress import trainee_progress
    from transcripts.store import Store

    rows = trainee_progress(Store(), args.trainee, args.persona)
    if not rows:
        scope = f" with persona {args.persona}" if args.persona else ""
        raise CommandError(
            f"no sessions for trainee {args.trainee!r}{scope}; `utta sessions list` shows the "
            "trainees and personas that have sessions"
        )
    if args.format == "json":
        import json

        data = {
            "trainee": args.trainee,
            "persona": args.persona,
            "sessions": [row.to_dict() for row in rows],
        }
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    elif args.format == "html":
        from trainers.debrief.html import progress_html

        text = progress_html(args.trainee, rows, args.persona)
    else:
        from trainers.debrief.html import progress_markdown

        text = progress_markdown(args.trainee, rows, args.persona)
        if args.format == "text":
            import shutil

            from trainers.debrief.charts import terminal_chart

            columns = shutil.get_terminal_size((100, 30)).columns
            text += "\n" + terminal_chart(rows, width=max(60, min(columns, 140))) + "\n"
    _write(text, args.output, f"the progress of {args.trainee}")
    return 0
