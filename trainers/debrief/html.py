"""Self-contained HTML reports: one file with inline CSS and inline SVG charts, nothing to fetch.

The Markdown report is rendered with markdown-it (Textual's own Markdown parser) with raw HTML and
images turned off, so nothing a trainee typed can make the page load anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from trainers.debrief.charts import svg_charts, svg_share_bar
from trainers.debrief.model import Debrief
from trainers.debrief.progress import SessionProgress
from trainers.debrief.render import markdown

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1a202c; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #cbd5e0; padding: 0.25rem 0.6rem; text-align: left; }
blockquote { color: #4a5568; border-left: 3px solid #cbd5e0; margin: 0.5rem 0; padding-left: 1rem; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
footer { color: #718096; font-size: 0.85rem; margin-top: 2rem; }
"""


def _render_markdown(text: str) -> str:
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")
    return parser.render(text)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n"
        "<footer>Made by utta from the session transcript; this file needs no network.</footer>"
        "\n</body>\n</html>\n"
    )


def session_html(debrief: Debrief) -> str:
    body = _render_markdown(markdown(debrief))
    share = svg_share_bar(debrief.talk.teacher_word_share)
    body = body.replace("<h2>Your talk</h2>", f"<h2>Your talk</h2>\n{share}", 1)
    return _page(f"utta debrief: session {debrief.session_id}", body)


def progress_markdown(trainee: str, rows: Sequence[SessionProgress], persona: str | None) -> str:
    scope = f" with `{persona}`" if persona else ""
    lines = [
        f"# Progress: {trainee}{scope}\n",
        f"{len(rows)} session(s). Moves that counted are the teaching moves the child model "
        "accepted; turns to resolution is the turn the first misconception let go.\n",
        "| session | started (UTC) | persona | turns | moves counted | not counted | "
        "turns to resolution | your word share | questions (open) | uptake | telling |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for row in rows:
        resolution = row.turns_to_resolution if row.turns_to_resolution is not None else "—"
        lines.append(
            f"| {row.session_id} | {row.started_at[:16].replace('T', ' ')} | {row.persona_id} | "
            f"{row.turns} | {row.counted_moves} | {row.moves_not_counted} | {resolution} | "
            f"{row.teacher_word_share:.0%} | {row.questions} ({row.open_questions}) | "
            f"{row.uptake_rate:.0%} | {row.telling} |"
        )
    return "\n".join(lines) + "\n"


def progress_html(trainee: str, rows: Sequence[SessionProgress], persona: str | None) -> str:
    body = _render_markdown(progress_markdown(trainee, rows, persona))
    body += f'\n<h2>Across sessions</h2>\n<div class="charts">\n{svg_charts(rows)}\n</div>'
    return _page(f"utta progress: {trainee}", body)
