"""Which logged sessions go into a training dataset: :class:`Selection` (persona, dates, trainees,
minimum rating, explicit ids, targets) and :func:`select_sessions`, which applies it to a store.
:mod:`trainers.datasets` turns the picked sessions into rows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transcripts.records import SessionRow
    from transcripts.store import Store

__all__ = ["KEPT_OUT", "Selection", "select_sessions"]

KEPT_OUT = "kept out of training"


@dataclass
class Selection:
    """Which sessions go into a dataset. Every filter given must hold."""

    persona_id: str
    since: str | None = None
    """ISO date or datetime; sessions started on or after it (UTC)."""
    until: str | None = None
    """ISO date (that whole day included) or datetime; sessions started up to it (UTC)."""
    trainees: list[str] = field(default_factory=list)
    min_rating: float | None = None
    """Only sessions whose rated student turns average at least this (unrated sessions are left
    out); ``None`` keeps every session."""
    session_ids: list[int] = field(default_factory=list)
    """Only these sessions (they must be the persona's); empty means all of the persona's."""
    targets: str = "approved"
    """Which replies become targets: ``approved``, ``unflagged`` or ``all`` (module docstring)."""
    examples: bool = True
    """Add the persona's example exchanges as rows."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _bound(value: str | None, end: bool) -> str | None:
    """An ISO bound as a UTC string comparable with ``started_at``. A date alone means the start
    of that day, or with ``end`` the start of the next one; ``end`` bounds are exclusive."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            moment += timedelta(milliseconds=1 if end else 0)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD) or datetime") from None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def select_sessions(
    store: Store, selection: Selection
) -> tuple[list[SessionRow], list[dict[str, Any]]]:
    """The sessions ``selection`` picks, oldest first, and those left out (as
    ``{"session_id", "reason"}``): marked "keep out of training", or below ``min_rating``.
    Raises ``UnknownSession`` for an unknown explicit id and :class:`ValueError` for a date
    that is not ISO."""
    since, until = _bound(selection.since, end=False), _bound(selection.until, end=True)
    if selection.session_ids:
        sessions = [
            store.session(session_id) for session_id in dict.fromkeys(selection.session_ids)
        ]
    else:
        sessions = store.sessions(persona_id=selection.persona_id)
    picked, kept_out = [], []
    for session in sorted(sessions, key=lambda s: s.id):
        if session.excluded:  # the trainee marked it "keep out of training"
            kept_out.append({"session_id": session.id, "reason": KEPT_OUT})
            continue
        if since is not None and session.started_at < since:
            continue
        if until is not None and session.started_at >= until:
            continue
        if selection.trainees and session.trainee not in selection.trainees:
            continue
        picked.append(session)
    if selection.min_rating is None:
        return picked, kept_out
    kept, excluded = [], kept_out
    for session in picked:
        latest = {f.turn_id: f for f in store.feedback(session.id)}
        ratings = [f.rating for f in latest.values() if f.rating is not None]
        if not ratings:
            excluded.append({"session_id": session.id, "reason": "no rated turns"})
        elif sum(ratings) / len(ratings) < selection.min_rating:
            average = sum(ratings) / len(ratings)
            reason = f"average rating {average:.2f} < {selection.min_rating}"
            excluded.append({"session_id": session.id, "reason": reason})
        else:
            kept.append(session)
    return kept, excluded
