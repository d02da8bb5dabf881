"""`utta train dspy` — optimize the DSPy student program on a persona's logged sessions.

    utta train dspy --persona maya --optimizer bootstrap --lm-brain maya-lora-20260101-120000
    utta train dspy --persona maya --optimizer random-search --lm-kind vllm \\
        --lm-base-url http://127.0.0.1:8000 --lm-adapter maya-a --prompt-format chat
    utta train dspy --persona maya --optimizer gepa --lm-kind openai --lm-model gpt-4o-mini \\
        --reflection-lm '{"kind": "openai", "model": "gpt-4o"}'

Prints the dataset, the authenticity before and after, where the program was saved and the
brain to swap to. See :mod:`trainers.dspy_trainer`.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from tui.commands import CommandError, add_targets_argument

OPTIMIZERS = ("bootstrap", "random-search", "mipro", "gepa")  # trainers.dspy_trainer.OPTIMIZERS
LM_KINDS = ("openai", "vllm", "local")  # agent.brains.dspy_lm.LM_KINDS


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "dspy",
        help="optimize the DSPy program (few-shot demos, instructions) for a persona",
        description="Build the persona's dataset from the logged sessions, compile the DSPy "
        "student program with the chosen optimizer and the authenticity metric, report the "
        "validation authenticity before and after, save program.json and register a `dspy` "
        "brain.",
    )
    parser.add_argument("--persona", required=True, metavar="ID", help="the persona to train")
    parser.add_argument("--optimizer", required=True, choices=OPTIMIZERS)
    lm = parser.add_argument_group(
        "language model", "a registered brain's model (--lm-brain), or one given with --lm-kind"
    )
    lm.add_argument("--lm-brain", metavar="NAME", help="use the model of this registered brain")
    lm.add_argument("--lm-kind", choices=LM_KINDS)
    lm.add_argument("--lm-model", metavar="M", help="model name (openai; vllm base model)")
    lm.add_argument("--lm-base-url", metavar="URL", help="an OpenAI-compatible or vLLM server")
    lm.add_argument("--lm-adapter", metavar="A", help="vllm: served adapter; local: adapter name")
    lm.add_argument("--lm-base", metavar="PATH", help="local: the base model folder")
    lm.add_argument(
        "--lm-adapter-path", metavar="DIR", help="local: the adapter folder for --lm-adapter"
    )
    lm.add_argument(
        "--reflection-lm",
        metavar="BRAIN_OR_JSON",
        help="gepa's reflection LM and mipro's instruction proposer: a brain name or an lm spec "
        'as JSON, e.g. \'{"kind": "openai", "model": "gpt-4o"}\' (default: the same LM)',
    )
    data = parser.add_argument_group("sessions (default: all of the persona's)")
    data.add_argument("--since", metavar="DATE", help="sessions started on or after (UTC)")
    data.add_argument("--until", metavar="DATE", help="sessions started up to this day (UTC)")
    data.add_argument("--trainee", metavar="NAME", action="append", default=[])
    data.add_argument("--min-rating", type=float, metavar="R", help="rated turns average >= R")
    data.add_argument("--session", metavar="ID", type=int, action="append", default=[])
    data.add_argument(
        "--skip-bad", action="store_true", help="train without bad rows (listed in the manifest)"
    )
    add_targets_argument(data)
    opt = parser.add_argument_group("optimizer")
    opt.add_argument(
        "--max-demos", type=int, default=4, metavar="N", help="the LM's own replies that pass "
        "the metric, as demos (default: 4)",
    )  # fmt: skip
    opt.add_argument(
        "--max-labeled-demos", type=int, metavar="N", help="demos in all, topped up with logged "
        "replies (default: --max-demos)",
    )  # fmt: skip
    opt.add_argument(
        "--threshold", type=float, default=0.6, metavar="S", help="authenticity a bootstrapped "
        "reply needs to become a demo (default: 0.6)",
    )  # fmt: skip
    opt.add_argument(
        "--candidates", type=int, default=4, metavar="N", help="random-search: demo sets tried "
        "(default: 4)",
    )  # fmt: skip
    opt.add_argument(
        "--auto", choices=("light", "medium", "heavy"), default="light", help="mipro/gepa budget"
    )
    opt.add_argument(
        "--max-metric-calls", type=int, metavar="N", help="gepa: exact budget instead of --auto"
    )
    opt.add_argument("--prompt-format", choices=("fields", "chat"), help="(default: the LM "
                     "brain's; chat for a vllm brain; else fields)")  # fmt: skip
    opt.add_argument("--temperature", type=float, metavar="T")
    opt.add_argument(
        "--max-tokens",
        type=int,
        metavar="N",
        help="LM output limit (default: the persona's longest reply plus DSPy's field markers)",
    )
    opt.add_argument(
        "--verbose", action="store_true", help="also print library warnings (always in the log)"
    )
    opt.add_argument("--threads", type=int, default=1, metavar="N", help="parallel LM calls")
    opt.add_argument("--seed", type=int, default=0)
    out = parser.add_argument_group("output")
    out.add_argument("--name", metavar="BRAIN", help="(default: PERSONA-dspy-OPTIMIZER-DATE-TIME)")
    out.add_argument("--out", metavar="DIR", help="(default: $UTTA_HOME/brains/NAME)")
    parser.set_defaults(handler=train_dspy_command)


def lm_spec(args: argparse.Namespace) -> dict[str, Any] | str:
    """The registered brain's name, or the lm spec the --lm-* flags describe."""
    flags = {
        "model": args.lm_model, "base_url": args.lm_base_url, "adapter": args.lm_adapter,
        "base": args.lm_base, "adapter_path": args.lm_adapter_path,
    }  # fmt: skip
    if args.lm_brain:
        if args.lm_kind or any(flags.values()):
            raise CommandError("--lm-brain and the --lm-* options do not mix", code=2)
        return str(args.lm_brain)
    if not args.lm_kind:
        raise CommandError(
            "no language model: pass --lm-brain NAME, or --lm-kind with its options "
            "(e.g. --lm-kind vllm --lm-base-url http://127.0.0.1:8000 --lm-adapter NAME)",
            code=2,
        )
    spec: dict[str, Any] = {"kind": args.lm_kind}
    if args.lm_kind == "local":
        if not args.lm_base:
            raise CommandError("--lm-kind local needs --lm-base PATH", code=2)
        spec["base"] = args.lm_base
        if args.lm_adapter:
            if not args.lm_adapter_path:
                raise CommandError(
                    "--lm-adapter with --lm-kind local needs --lm-adapter-path DIR", code=2
                )
            spec["adapters"] = {args.lm_adapter: args.lm_adapter_path}
            spec["adapter"] = args.lm_adapter
        return spec
    for key in ("model", "base_url", "adapter"):
        if flags[key]:
            spec[key] = flags[key]
    return spec


def _reflection(value: str | None) -> dict[str, Any] | str | None:
    if value is None or not value.lstrip().startswith("{"):
        return value
    try:
        spec = json.loads(value)
    except ValueError as error:
        raise CommandError(f"--reflection-lm is not valid JSON: {error}", code=2) from None
    if not isinstance(spec, dict):
        raise CommandError("--reflection-lm JSON must be an object with a `kind`", code=2)
    return spec


def _reply_limit(persona_id: str) -> int:
    """Output tokens for the persona's longest reply plus DSPy's ``[[ ## field ## ]]`` markers;
    an unknown persona is reported by the trainer, so any default does here."""
    from agent.prompt import reply_token_budget
    from personas.loader import PersonaLibrary, UnknownPersona

    try:
        return reply_token_budget(PersonaLibrary().get(persona_id)) + 32
    except UnknownPersona:
        return 120


def train_dspy_command(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from trainers.datasets import BadRows
    from trainers.dspy_trainer import DSPyTrainingError, train_dspy
    from trainers.quiet import library_output
    from transcripts.store import Store

    store = Store()
    try:
        with library_output(verbose=args.verbose) as log_path:
            result = train_dspy(
                store,
                args.persona,
                optimizer=args.optimizer,
                lm_spec=lm_spec(args),
                since=args.since,
                until=args.until,
                trainees=args.trainee,
                min_rating=args.min_rating,
                session_ids=args.session,
                max_demos=args.max_demos,
                max_labeled_demos=args.max_labeled_demos,
                seed=args.seed,
                out_dir=args.out,
                name=args.name,
                skip_bad=args.skip_bad,
                targets=args.targets,
                examples=args.examples,
                prompt_format=args.prompt_format,
                threshold=args.threshold,
                num_candidates=args.candidates,
                auto=args.auto,
                max_metric_calls=args.max_metric_calls,
                reflection_lm_spec=_reflection(args.reflection_lm),
                temperature=args.temperature,
                max_tokens=args.max_tokens or _reply_limit(args.persona),
                threads=args.threads,
                log=tqdm.write,  # above DSPy's progress bars, not through them
            )
    except (BadRows, DSPyTrainingError) as error:
        raise CommandError(str(error)) from None
    finally:
        store.close()
    print(result.summary())
    print(f"library messages: {log_path}")
    print(f"data manifest and training config beside it in {result.out_dir}")
    print(f"swap it in with `utta chat --persona {args.persona} --brain {result.name}`, "
          "or Ctrl+B in a running chat")  # fmt: skip
    return 0
