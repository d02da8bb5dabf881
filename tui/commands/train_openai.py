"""`utta train openai | status | cancel` — fine-tuning through OpenAI's (or a compatible) API.

Examples::

    utta train openai --persona maya --model gpt-4o-mini-2024-07-18 --suffix maya
    utta train openai --persona maya --model gpt-4o-mini-2024-07-18 --data ./maya-data --yes
    utta train status                 # the recorded jobs
    utta train status ftjob-abc123    # resume watching after a restart; registers on success
    utta train cancel ftjob-abc123
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from tui.commands import CommandError, add_targets_argument

if TYPE_CHECKING:
    from openai import OpenAI

    from trainers.openai_ft import PreparedData
    from transcripts.jobs import JobRow
    from transcripts.store import Store

DEFAULT_MAX_TOKENS = 65_536  # trainers.openai_validate.DEFAULT_MAX_TOKENS_PER_EXAMPLE
OPENAI_SELF_SERVE_ENDS = date(2027, 1, 6)


def register(sub: argparse._SubParsersAction) -> None:
    start = sub.add_parser(
        "openai",
        help="fine-tune a model through OpenAI's (or a compatible) fine-tuning API",
        description="Check the data like OpenAI's cookbook, show the cost, ask, upload, start a "
        "supervised fine-tuning job, watch it, and register the model as an `openai` brain.",
    )
    start.add_argument("--persona", required=True, metavar="ID", help="the persona to train")
    start.add_argument("--model", required=True, metavar="M", help="e.g. gpt-4o-mini-2024-07-18")
    start.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="train.jsonl (+ validation.jsonl, manifest.json) to use instead of exporting the "
        "persona's sessions from the logs (see --targets)",
    )
    chosen = start.add_argument_group(
        "selection", "which logged sessions to export when there is no --data"
    )
    add_targets_argument(chosen)
    chosen.add_argument("--since", metavar="DATE", help="sessions started on or after (UTC)")
    chosen.add_argument("--until", metavar="DATE", help="sessions started up to this day (UTC)")
    chosen.add_argument("--trainee", metavar="NAME", action="append", default=[])
    chosen.add_argument("--min-rating", type=float, metavar="R", help="rated turns average >= R")
    chosen.add_argument("--session", metavar="ID", type=int, action="append", default=[])
    start.add_argument("--suffix", help="added to the fine-tuned model's name (max 64 chars)")
    start.add_argument("--epochs", type=int, metavar="N", help="n_epochs (default: provider's)")
    start.add_argument("--batch-size", type=int, metavar="N")
    start.add_argument("--lr-multiplier", type=float, metavar="X", help="learning_rate_multiplier")
    start.add_argument(
        "--base-url", metavar="URL", help="API base (default: $OPENAI_BASE_URL or api.openai.com)"
    )
    start.add_argument("--yes", "-y", action="store_true", help="spend without asking")
    start.add_argument("--skip-bad", action="store_true", help="leave out examples with errors")
    start.add_argument("--name", metavar="BRAIN", help="the brain to register on success")
    start.add_argument(
        "--max-tokens-per-example",
        type=int,
        default=DEFAULT_MAX_TOKENS,
        metavar="N",
        help=f"longer examples are truncated by the provider (default {DEFAULT_MAX_TOKENS:,})",
    )
    start.add_argument(
        "--price-per-million",
        type=float,
        metavar="USD",
        help="training price per 1M tokens, overriding the built-in table",
    )
    _poll_interval(start)
    start.add_argument(
        "--detach", action="store_true", help="start the job and return without watching it"
    )
    start.set_defaults(handler=train_openai)

    status = sub.add_parser(
        "status",
        help="resume watching the newest unfinished fine-tuning job (or JOB_ID); lists the others",
    )
    status.add_argument("job_id", nargs="?", metavar="JOB_ID")
    status.add_argument("--list", action="store_true", help="only list the jobs, watch none")
    _poll_interval(status)
    status.set_defaults(handler=job_status)

    cancel = sub.add_parser("cancel", help="cancel a running fine-tuning job")
    cancel.add_argument("job_id", metavar="JOB_ID")
    cancel.set_defaults(handler=cancel_job)


def _poll_interval(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--poll-interval", type=float, default=10.0, metavar="S", help="seconds between polls"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bars (upload, training steps)"
    )


def _store() -> Store:
    from transcripts.store import Store

    return Store()


def _client(base_url: str) -> OpenAI:
    from trainers.openai_jobs import TrainingError, make_client

    try:
        return make_client(base_url)
    except TrainingError as error:
        raise CommandError(str(error)) from None


# --- utta train openai ----------------------------------------------------------------------


def train_openai(args: argparse.Namespace) -> int:
    from agent.keys import resolve_base_url
    from trainers.openai_ft import DataInvalid, FineTuneRequest, launch, prepare
    from trainers.openai_jobs import Hyperparameters, TrainingError, check_endpoint, host_of
    from trainers.openai_validate import format_report

    store = _store()
    base_url = resolve_base_url(args.base_url)
    _require_persona(args.persona)
    if args.name and args.name in {brain.name for brain in store.brains()}:
        raise CommandError(
            f"a brain named {args.name!r} exists — pick another --name or run "
            f"`utta brains remove {args.name}`",
            code=2,
        )
    selection = {
        "since": args.since,
        "until": args.until,
        "trainees": args.trainee,
        "min_rating": args.min_rating,
        "session_ids": args.session,
    }
    if args.data and any(selection.values()):
        raise CommandError("--data and the session selection options do not mix", code=2)
    if not args.data:
        selection.update(targets=args.targets, examples=args.examples)
    request = FineTuneRequest(
        persona_id=args.persona,
        model=args.model,
        data=args.data,
        selection=selection,
        suffix=args.suffix,
        hyperparameters=Hyperparameters(args.epochs, args.batch_size, args.lr_multiplier),
        base_url=base_url,
        brain_name=args.name,
        skip_bad=args.skip_bad,
        max_tokens_per_example=args.max_tokens_per_example,
        price_per_million=args.price_per_million,
    )
    client = _client(base_url)
    try:  # the key and the endpoint, before any data is prepared or anything uploaded
        check_endpoint(client, base_url)
    except TrainingError as error:
        raise CommandError(f"{error} (nothing was prepared or uploaded)") from None
    try:
        prepared = prepare(request, store)
    except DataInvalid as error:
        print(format_report(error.reports), file=sys.stderr)
        raise CommandError(str(error)) from None
    except TrainingError as error:
        raise CommandError(str(error)) from None
    print(format_report(prepared.reports, prepared.estimate))
    if prepared.authenticity:
        score = prepared.authenticity
        print(
            f"authenticity of the training replies (trainers.metric): mean {score['mean']:.2f}, "
            f"{score['share_above_0_6']:.0%} above 0.6"
        )
    if prepared.skipped_lines:
        listed = prepared.train.parent / "manifest.json"
        print(
            f"left out {prepared.skipped_lines} line(s) with errors (--skip-bad); "
            f"{listed} lists them, and so will the brain's lineage"
        )
    if host_of(base_url) == "api.openai.com":
        print(
            f"note: OpenAI stops new self-serve fine-tuning jobs on {OPENAI_SELF_SERVE_ENDS}; "
            "--base-url (or $OPENAI_BASE_URL) selects a compatible provider"
        )
    _confirm(prepared, args.yes)
    try:
        row = launch(request, prepared, store, client, progress=not args.quiet)
    except TrainingError as error:
        raise CommandError(str(error)) from None
    print(
        f"started fine-tuning job {row.job_id} on {host_of(base_url)} ({row.status}); "
        f"if this stops, resume with `utta train status {row.job_id}`"
    )
    if args.detach:
        return 0
    return _watch(store, row, client, args.poll_interval, progress=not args.quiet)


def _require_persona(persona_id: str) -> None:
    from agent.paths import persona_library
    from personas.loader import UnknownPersona

    try:
        persona_library().get(persona_id)
    except UnknownPersona as error:
        raise CommandError(str(error), code=2) from None


def _confirm(prepared: PreparedData, yes: bool) -> None:
    cost = prepared.estimate.cost
    costing = "an unknown amount" if cost is None else f"about ${cost:,.2f}"
    question = (
        f"Upload {prepared.examples} examples and start a fine-tuning job costing {costing}? [y/N] "
    )
    if yes:
        return
    stdin = sys.stdin
    if stdin is None or stdin.closed or not stdin.isatty():
        raise CommandError(
            "not starting a paid fine-tuning job without confirmation: there is no terminal to "
            "ask on — pass --yes to confirm",
            code=2,
        )
    try:
        answer = input(question)
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise CommandError("not started; nothing was uploaded", code=1)


def _watch(
    store: Store, row: JobRow, client: OpenAI, interval: float, *, progress: bool = False
) -> int:
    from trainers.openai_jobs import TrainingError, Watcher, host_of

    try:
        row = Watcher(client, store, row, interval=interval, progress=progress).run()
    except KeyboardInterrupt:
        print(
            f"\nstopped watching; job {row.job_id} keeps running on {host_of(row.base_url)} — "
            f"resume with `utta train status {row.job_id}`, or `utta train cancel {row.job_id}`",
            file=sys.stderr,
        )
        return 130
    except TrainingError as error:
        raise CommandError(str(error)) from None
    return 0 if row.status == "succeeded" else 1


# --- utta train status | cancel -------------------------------------------------------------


def job_status(args: argparse.Namespace) -> int:
    from transcripts.jobs import UnknownJob, get_job, list_jobs

    store = _store()
    if args.job_id:
        try:
            row = get_job(store, args.job_id)
        except UnknownJob as error:
            raise CommandError(str(error)) from None
        return _resume_or_describe(store, row, args.poll_interval, progress=not args.quiet)
    jobs = list_jobs(store)
    if not jobs:
        print("no fine-tuning jobs recorded — start one with `utta train openai --persona ID "
              "--model M`")  # fmt: skip
        return 0
    registered = {brain.name for brain in store.brains()}
    pending = [job for job in jobs if _needs_watching(job, registered)]  # newest first
    if args.list or not pending:
        _print_jobs(jobs)
        if pending:
            print("\nresume watching the newest unfinished job: utta train status")
        return 0
    newest, others = pending[0], [job for job in jobs if job is not pending[0]]
    if others:
        _print_jobs(others, title="other jobs")
        print()
    return _resume_or_describe(store, newest, args.poll_interval, progress=not args.quiet)


def _needs_watching(row: JobRow, registered: set[str]) -> bool:
    return not row.finished or (row.status == "succeeded" and row.brain_name not in registered)


def _resume_or_describe(
    store: Store, row: JobRow, interval: float, *, progress: bool = False
) -> int:
    registered = {brain.name for brain in store.brains()}
    if _needs_watching(row, registered):
        print(f"resuming job {row.job_id} ({row.status}) on {row.base_url}")
        return _watch(store, row, _client(row.base_url), interval, progress=progress)
    _describe(row, row.brain_name in registered)
    return 0 if row.status == "succeeded" else 1


def _print_jobs(jobs: list[JobRow], title: str | None = None) -> None:
    from tui.tables import print_table

    print_table(
        ["job", "status", "persona", "brain", "model", "created"],
        [
            [
                job.job_id,
                job.status,
                job.persona_id or "-",
                job.brain_name or "-",
                job.model,
                job.created_at[:19],
            ]
            for job in jobs
        ],
        title=title,
    )


def _describe(row: JobRow, registered: bool) -> None:
    print(f"job {row.job_id}: {row.status} (base model {row.model}, on {row.base_url})")
    if row.fine_tuned_model:
        print(f"fine-tuned model: {row.fine_tuned_model}")
    if registered:
        print(f"brain: {row.brain_name} — `utta brains show {row.brain_name}`")
    if row.error:
        print(f"error: {row.error}")


def cancel_job(args: argparse.Namespace) -> int:
    from trainers.openai_jobs import TrainingError
    from trainers.openai_jobs import cancel_job as cancel
    from transcripts.jobs import UnknownJob, get_job

    store = _store()
    try:
        row = get_job(store, args.job_id)
    except UnknownJob as error:
        raise CommandError(str(error)) from None
    if row.finished:
        print(f"job {row.job_id} already {row.status}; nothing to cancel")
        return 0
    try:
        row = cancel(_client(row.base_url), store, row)
    except TrainingError as error:
        raise CommandError(str(error)) from None
    print(f"asked to cancel job {row.job_id}: now {row.status}")
    return 0
