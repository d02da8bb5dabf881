"""Progress charts: in the terminal with plotext, and as inline SVG for the HTML report.

The SVG is written here, element by element, so the HTML report is one file that needs nothing
else: no script, no stylesheet and no font to fetch.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from trainers.debrief.progress import SessionProgress

# (title, value of a row, upper bound of the axis or None for the data's maximum)
SERIES: tuple[tuple[str, str, float | None], ...] = (
    ("moves that counted", "counted_moves", None),
    ("turns to the first resolution", "turns_to_resolution", None),
    ("your share of the words (%)", "teacher_word_share", 100.0),
    ("questions (open)", "questions", None),
)
COLOURS = ("#2b6cb0", "#2f855a", "#c05621", "#6b46c1")


def series_values(rows: Sequence[SessionProgress], field: str) -> list[float | None]:
    values: list[float | None] = []
    for row in rows:
        value = getattr(row, field)
        if field == "teacher_word_share":
            value = round(value * 100, 1)
        values.append(None if value is None else float(value))
    return values


def terminal_chart(rows: Sequence[SessionProgress], width: int = 100, height: int = 30) -> str:
    """Four small plotext charts (one per figure) over the sessions, as text."""
    import plotext as plt

    plt.clear_figure()
    plt.subplots(2, 2)
    plt.plotsize(width, height)
    plt.theme("clear")
    xs = list(range(1, len(rows) + 1))
    labels = [f"#{row.session_id}" for row in rows]
    for index, (title, field, top) in enumerate(SERIES):
        plt.subplot(index // 2 + 1, index % 2 + 1)
        points = [
            (x, y) for x, y in zip(xs, series_values(rows, field), strict=True) if y is not None
        ]
        if points:
            plt.plot([p[0] for p in points], [p[1] for p in points], marker="dot")
            if field == "questions":
                opens = [float(row.open_questions) for row in rows]
                plt.plot(xs, opens, marker="dot", label="open")
        plt.title(title)
        plt.xticks(xs, labels)
        plt.xlim(0.5, len(rows) + 0.5)
        if top is not None:
            plt.ylim(0, top)
    text = plt.build()
    plt.clear_figure()
    return plt.uncolorize(text)


def svg_chart(
    rows: Sequence[SessionProgress],
    title: str,
    field: str,
    top: float | None,
    colour: str,
    width: int = 420,
    height: int = 220,
) -> str:
    """One line chart of ``field`` over the sessions, as an inline <svg> element."""
    values = series_values(rows, field)
    extra = [float(r.open_questions) for r in rows] if field == "questions" else []
    present = [v for v in values + extra if v is not None]
    upper = top if top is not None else max([*present, 1.0]) * 1.15
    left, right, top_pad, bottom = 44, 12, 28, 34
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    n = len(rows)

    def x_at(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n if n else 0)

    def y_at(v: float) -> float:
        return top_pad + plot_h * (1 - v / upper)

    parts = [
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">',
        f'<text x="{left}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" '
        'stroke="#888"/>',
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" stroke="#888"/>',
    ]
    for tick in (0.0, upper / 2, upper):
        parts.append(
            f'<text x="{left - 6}" y="{y_at(tick) + 4:.1f}" font-size="10" text-anchor="end">'
            f"{tick:.0f}</text>"
        )
    for i, row in enumerate(rows):
        parts.append(
            f'<text x="{x_at(i):.1f}" y="{height - 14}" font-size="10" text-anchor="middle">'
            f"#{row.session_id}</text>"
        )
    for series, stroke, name in ((values, colour, "all"), (extra, "#999", "open")):
        points = [(x_at(i), y_at(v)) for i, v in enumerate(series) if v is not None]
        if not points:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{stroke}" stroke-width="2"/>')
        for (x, y), value in zip(points, [v for v in series if v is not None], strict=True):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{stroke}">'
                f"<title>{escape(name)}: {value:g}</title></circle>"
            )
    if field == "questions" and extra:
        parts.append(
            f'<text x="{width - right}" y="16" font-size="10" text-anchor="end" fill="#999">'
            "grey: open</text>"
        )
    if field == "turns_to_resolution" and any(v is None for v in values):
        parts.append(
            f'<text x="{width - right}" y="16" font-size="10" text-anchor="end" fill="#999">'
            "no point: nothing resolved</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_charts(rows: Sequence[SessionProgress]) -> str:
    return "\n".join(
        svg_chart(rows, title, field, top, colour)
        for (title, field, top), colour in zip(SERIES, COLOURS, strict=True)
    )


def svg_share_bar(teacher: float, label: str = "share of the words", width: int = 420) -> str:
    """A single stacked bar: the teacher's share against the child's."""
    split = round(width * teacher)
    return (
        f'<svg width="{width}" height="40" viewBox="0 0 {width} 40" role="img" '
        f'aria-label="{escape(label)}">'
        f'<rect x="0" y="4" width="{split}" height="18" fill="#2b6cb0"/>'
        f'<rect x="{split}" y="4" width="{width - split}" height="18" fill="#2f855a"/>'
        f'<text x="4" y="36" font-size="11">you {teacher:.0%}</text>'
        f'<text x="{width - 4}" y="36" font-size="11" text-anchor="end">'
        f"child {1 - teacher:.0%}</text></svg>"
    )
