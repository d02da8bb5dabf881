"""`utta sessions list | show ID | export ID... | import FILE... | search QUERY`

`export` writes JSON lines (``--format jsonl``, the default) or a training folder
(``--format openai|hf|dspy -o DIR``, see :mod:`trainers.datasets`), for the sessions named by id
or for every session of ``--persona`` that passes ``--since``/``--until``/``--trainee``/
``--min-rating``. ``export --bundle -o FILE`` writes sessions (all, or those named/selected) as one
scrubbed bundle that ``import`` merges into another store (see :mod:`trainers.bundle`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui.commands import CommandError, add_targets_argument
from tui.commands.report import add_session_report

EXPORT_FORMATS = ("jsonl", "openai", "hf", "dspy")


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
    export = sub.add_parser(
        "export",
        help="write sessions as JSON lines, or as training data (openai, hf, dspy)",
        description="Write the sessions named by ID, or every session of --persona (filtered by "
        "--since/--until/--trainee/--min-rating), as JSON lines (jsonl) or as a training folder: "
        "train.jsonl, validation.jsonl and manifest.json (openai, hf, dspy).",
    )
    export.add_argument("session_ids", metavar="ID", type=int, nargs="*")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="jsonl")
    export.add_argument(
        "-o", "--output", type=Path, help="jsonl: file to write (default: stdout); else a folder"
    )
    export.add_argument("--persona", metavar="ID", help="every session of this persona")
    export.add_argument("--since", metavar="DATE", help="sessions started on or after (UTC)")
    export.add_argument("--until", metavar="DATE", help="sessions started up to this day (UTC)")
    export.add_argument(
        "--trainee", metavar="NAME", action="append", default=[], help="repeat for several"
    )
    export.add_argument(
        "--min-rating", type=float, metavar="R", help="sessions whose rated turns average >= R"
    )
    export.add_argument("--validation-fraction", type=float, default=0.2, metavar="F")
    export.add_argument("--seed", type=int, default=0)
    export.add_argument(
        "--pii-pattern", metavar="REGEX", action="append", default=[],
        help="also redact matches of REGEX (repeatable)",
    )  # fmt: skip
    export.add_argument(
        "--skip-bad", action="store_true", help="leave bad rows out instead of stopping"
    )
    add_targets_argument(export)
    export.add_argument(
        "--no-state", action="store_true", help="system prompt without the child's state line"
    )
    export.add_argument(
        "--bundle", action="store_true",
        help="one scrubbed file of whole sessions for `utta sessions import` (default: all)",
    )  # fmt: skip
    export.set_defaults(handler=export_sessions)
    imported = sub.add_parser(
        "import", help="merge session bundles into this store (re-importing changes nothing)"
    )
    imported.add_argument("bundles", metavar="FILE", type=Path, nargs="+")
    imported.set_defaults(handler=import_sessions)
    search = sub.add_parser("search", help="full-text search over all turns")
    search.add_argument("query")
    search.add_argument("-n", "--limit", type=int, default=20)
    search.set_defaults(handler=search_turns)
    add_session_report(sub)  # `sessions report`: the debrief, in its own module


def _store():
    """Every `sessions` action only reads: open read-only, create nothing."""
    from transcripts.store import Store

    return Store(readonly=True)


def list_sessions(args: argparse.Namespace) -> int:
    rows = _store().sessions(persona_id=args.persona, trainee=args.trainee, limit=args.limit)
    if not rows:
        print("no sessions yet — start one with `utta chat`")
        return 0
    from tui.tables import print_table

    print_table(
        ["id", "started (UTC)", "persona", "trainee", "turns", "brain"],
        [
            [row.id, row.started_at[:19].replace("T", " "), row.persona_id, row.trainee or "-",
             row.turn_count, row.brain_at_start]
            for row in rows
        ],
    )  # fmt: skip
    return 0


def show_session(args: argparse.Namespace) -> int:
    from agent.terminal_text import strip_control as clean  # older rows may hold raw escapes
    from transcripts.store import UnknownSession

    store = _store()
    try:
        session = store.session(args.session_id)
    except UnknownSession as error:
        raise CommandError(str(error)) from None
    print(
        clean(
            f"session {session.id}: {session.persona_id} taught by {session.trainee or '-'}, "
            f"started {session.started_at}, brain {session.brain_at_start}"
        )
    )
    feedback = {f.turn_id: f for f in store.feedback(session.id)}
    swaps = {}
    for swap in store.swaps(session.id):
        swaps.setdefault(swap.at_turn, []).append(swap)
    for turn in store.turns(session.id):
        for swap in swaps.pop(turn.idx, []):
            _print_swap(swap)
        speaker = "teacher" if turn.role == "teacher" else f"student [{turn.brain_id}]"
        print(f"{turn.idx:>3} {clean(speaker)}: {clean(turn.text)}")
        if turn.id in feedback:
            f = feedback[turn.id]
            marks = [f"rated {f.rating}/5" if f.rating else "", "flagged" if f.flagged else ""]
            print(f"      feedback: {' '.join(m for m in marks if m)}".rstrip())
            if f.rewrite:
                print(f"      a real child would say: {clean(f.rewrite)}")
            if f.note:
                print(f"      note: {clean(f.note)}")
    for remaining in swaps.values():
        for swap in remaining:
            _print_swap(swap)
    return 0


def _print_swap(swap) -> None:
    from agent.terminal_text import strip_control as clean

    verdict = "swapped" if swap.accepted else "refused swap"
    reason = f" ({swap.reason})" if swap.reason else ""
    print(clean(f"    — {verdict}: {swap.from_brain} → {swap.to_brain}{reason}"))


def export_sessions(args: argparse.Namespace) -> int:
    from transcripts.store import UnknownSession

    if args.bundle:
        return _export_bundle(args)
    if not args.session_ids and not args.persona:
        raise CommandError("name the sessions to export (IDs) or a persona (--persona ID)")
    store = _store()
    try:
        for session_id in args.session_ids:
            store.session(session_id)
    except UnknownSession as error:
        raise CommandError(str(error)) from None
    if args.format == "jsonl":
        return _export_jsonl(store, args)
    return _export_dataset(store, args)


def _export_jsonl(store, args: argparse.Namespace) -> int:
    from transcripts.export import export_jsonl

    session_ids = args.session_ids
    if args.persona:
        from trainers.datasets import select_sessions

        selection = _selection(args, args.persona)
        sessions = _checked(lambda: select_sessions(store, selection)[0])
        session_ids = [s.id for s in sessions if s.persona_id == args.persona]
    if args.output:
        with args.output.open("w", encoding="utf-8") as out:
            export_jsonl(store, session_ids, out)
        print(f"wrote {len(session_ids)} session(s) to {args.output}", file=sys.stderr)
    else:
        export_jsonl(store, session_ids, sys.stdout)
    return 0


def _selection(args: argparse.Namespace, persona_id: str):
    from trainers.datasets import Selection

    return Selection(
        persona_id=persona_id,
        since=args.since,
        until=args.until,
        trainees=list(args.trainee),
        min_rating=args.min_rating,
        session_ids=list(args.session_ids),
        targets=args.targets,
        examples=args.examples,
    )


def _checked(build):
    try:
        return build()
    except ValueError as error:  # a bad date, fraction or --pii-pattern
        raise CommandError(str(error)) from None


def _export_dataset(store, args: argparse.Namespace) -> int:
    from agent.paths import persona_library
    from personas.loader import UnknownPersona
    from trainers.datasets import BadRows, build_dataset, write_dspy, write_hf, write_openai

    if args.output is None:
        raise CommandError(f"--format {args.format} writes a folder: add -o DIR")
    persona_id = args.persona
    if persona_id is None:
        personas = sorted({store.session(i).persona_id for i in args.session_ids})
        if len(personas) > 1:
            raise CommandError(
                f"the sessions belong to several personas ({', '.join(personas)}); a training "
                "set is for one: export each persona's sessions separately"
            )
        persona_id = personas[0]
    library = persona_library()
    try:
        library.get(persona_id)
    except UnknownPersona as error:
        raise CommandError(str(error)) from None
    dataset = _checked(
        lambda: build_dataset(
            store,
            _selection(args, persona_id),
            validation_fraction=args.validation_fraction,
            seed=args.seed,
            pii_patterns=args.pii_pattern,
            include_state=not args.no_state,
            library=library,
        )
    )
    try:
        dataset.raise_if_bad(skip_bad=args.skip_bad)
    except BadRows as error:
        raise CommandError(str(error)) from None
    if not dataset.rows:
        raise CommandError(_nothing_to_write(dataset.manifest))
    writer = {"openai": write_openai, "hf": write_hf, "dspy": write_dspy}[args.format]
    out = writer(dataset, args.output)
    _print_summary(dataset.manifest, out)
    return 0


def _nothing_to_write(manifest: dict) -> str:
    counts = manifest["counts"]
    message = f"no rows to write: {counts['sessions']} session(s) of {manifest['persona_id']} "
    message += "matched the selection"
    if manifest["excluded_sessions"]:
        left_out = len(manifest["excluded_sessions"])
        message += f", {left_out} left out (kept out of training, or by --min-rating)"
    if counts["dropped"]:
        message += f", {counts['dropped']} turn(s) dropped"
    return message + ". Fix: widen the selection (see `utta sessions list`)."


def _print_summary(manifest: dict, out: Path) -> None:
    splits = manifest["splits"]
    print(
        f"wrote {splits['train']['rows']} train row(s) from {len(splits['train']['session_ids'])}"
        f" session(s) and {splits['validation']['rows']} validation row(s) from "
        f"{len(splits['validation']['session_ids'])} session(s) to {out}"
    )
    for reason, count in manifest["dropped_counts"].items():
        print(f"  dropped {count}: {reason}")
    for skipped in manifest.get("skipped", []):
        where = f" turn {skipped['turn_idx']}" if skipped["turn_idx"] is not None else ""
        print(f"  skipped session {skipped['session_id']}{where}: {skipped['reason']}")
    for excluded in manifest["excluded_sessions"]:
        print(f"  left out session {excluded['session_id']}: {excluded['reason']}")
    if manifest["scrubbed"]["total"]:
        kinds = ", ".join(f"{n} {k}" for k, n in manifest["scrubbed"].items() if n and k != "total")
        print(f"  redacted {kinds}")
    print(f"  content hash {manifest['content_hash']}")


def search_turns(args: argparse.Namespace) -> int:
    for turn in _store().search(args.query, limit=args.limit):
        print(f"session {turn.session_id} turn {turn.idx} {turn.role}: {turn.text}")
    return 0


def _export_bundle(args: argparse.Namespace) -> int:
    from trainers.bundle import bundle, write_bundle
    from transcripts.store import UnknownSession

    if args.output is None:
        raise CommandError("--bundle writes a file: add -o FILE")
    store = _store()
    try:
        sessions = [store.session(i) for i in args.session_ids] or store.sessions(
            persona_id=args.persona
        )
    except UnknownSession as error:
        raise CommandError(str(error)) from None
    if args.trainee:
        sessions = [s for s in sessions if s.trainee in args.trainee]
    document = _checked(
        lambda: bundle(store, [s.id for s in sessions], pii_patterns=args.pii_pattern)
    )
    write_bundle(document, args.output)
    print(
        f"wrote {len(sessions)} session(s) of {', '.join(document['trainees']) or 'nobody'} "
        f"to {args.output} ({document['scrubbed']['total']} redaction(s))"
    )
    return 0


def import_sessions(args: argparse.Namespace) -> int:
    from trainers.bundle import BadBundle, import_bundles

    try:
        from transcripts.store import Store

        report = import_bundles(Store(), args.bundles)
    except BadBundle as error:
        raise CommandError(f"{error}\nnothing was imported") from None
    print(
        f"imported {len(report.imported)} session(s); {report.unchanged} already here unchanged"
        + (
            f"; {len(report.newly_excluded)} now kept out of training"
            if report.newly_excluded
            else ""
        )
    )
    for conflict in report.conflicts:
        print(f"  conflict: {conflict}")
    return 1 if report.conflicts else 0
