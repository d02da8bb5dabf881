"""`utta sessions list | show ID | export ID... | search QUERY`"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui.commands import CommandError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("sessions", help="list, show, search and export logged sessions")
    sub = parser.add_subparsers(dest="sessions_command", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="sessions, newest first")
    listing.add_argument("--persona", metavar="ID")
    listing.add_argument("--trainee", metavar="NAME")
    listing.add_argument("-n", "--limit", type=int, default=20)
    listing.set_defaults(handler=list_sessions)
    show = sub.add_parser("show", help="one session's turns, swaps and feedback")
    show.add_argument("session_id", metavar="ID", type=int)
    show.set_defaults(handler=show_session)
    export = sub.add_parser("export", help="write sessions as JSON lines")
    export.add_argument("session_ids", metavar="ID", type=int, nargs="+")
    export.add_argument("--format", choices=["jsonl"], default="jsonl")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.set_defaults(handler=export_sessions)
    search = sub.add_parser("search", help="full-text search over all turns")
    search.add_argument("query")
    search.add_argument("-n", "--limit", type=int, default=20)
    search.set_defaults(handler=search_turns)


def _store():
    from transcripts.store import Store

    return Store()


def list_sessions(args: argparse.Namespace) -> int:
    rows = _store().sessions(persona_id=args.persona, trainee=args.trainee, limit=args.limit)
    if not rows:
        print("no sessions yet — start one with `utta chat`")
        return 0
    print(f"{'id':>5}  {'started (UTC)':<20} {'persona':<10} {'trainee':<14} {'turns':>5}  brain")
    for row in rows:
        started = row.started_at[:19].replace("T", " ")
        print(
            f"{row.id:>5}  {started:<20} {row.persona_id:<10} {row.trainee or '-':<14} "
            f"{row.turn_count:>5}  {row.brain_at_start}"
        )
    return 0


def show_session(args: argparse.Namespace) -> int:
    from transcripts.store import UnknownSession

    store = _store()
    try:
        session = store.session(args.session_id)
    except UnknownSession as error:
        raise CommandError(error.args[0]) from None
    print(
        f"session {session.id}: {session.persona_id} taught by {session.trainee or '-'}, "
        f"started {session.started_at}, brain {session.brain_at_start}"
    )
    feedback = {f.turn_id: f for f in store.feedback(session.id)}
    swaps = {}
    for swap in store.swaps(session.id):
        swaps.setdefault(swap.at_turn, []).append(swap)
    for turn in store.turns(session.id):
        for swap in swaps.pop(turn.idx, []):
            _print_swap(swap)
        speaker = "teacher" if turn.role == "teacher" else f"student [{turn.brain_id}]"
        print(f"{turn.idx:>3} {speaker}: {turn.text}")
        if turn.id in feedback:
            f = feedback[turn.id]
            marks = [f"rated {f.rating}/5" if f.rating else "", "flagged" if f.flagged else ""]
            print(f"      feedback: {' '.join(m for m in marks if m)}".rstrip())
            if f.rewrite:
                print(f"      a real child would say: {f.rewrite}")
            if f.note:
                print(f"      note: {f.note}")
    for remaining in swaps.values():
        for swap in remaining:
            _print_swap(swap)
    return 0


def _print_swap(swap) -> None:
    verdict = "swapped" if swap.accepted else "refused swap"
    reason = f" ({swap.reason})" if swap.reason else ""
    print(f"    — {verdict}: {swap.from_brain} → {swap.to_brain}{reason}")


def export_sessions(args: argparse.Namespace) -> int:
    from transcripts.export import export_jsonl
    from transcripts.store import UnknownSession

    store = _store()
    try:
        for session_id in args.session_ids:
            store.session(session_id)
    except UnknownSession as error:
        raise CommandError(error.args[0]) from None
    if args.output:
        with args.output.open("w", encoding="utf-8") as out:
            export_jsonl(store, args.session_ids, out)
        print(f"wrote {len(args.session_ids)} session(s) to {args.output}", file=sys.stderr)
    else:
        export_jsonl(store, args.session_ids, sys.stdout)
    return 0


def search_turns(args: argparse.Namespace) -> int:
    for turn in _store().search(args.query, limit=args.limit):
        print(f"session {turn.session_id} turn {turn.idx} {turn.role}: {turn.text}")
    return 0
