"""`utta train lora` — LoRA / QLoRA-train a persona's brain from logged sessions or a dataset
folder, register it, and optionally load it into the running vLLM server.

    utta train lora --persona maya --base ./models/tiny                 # data from the store
    utta train lora --persona maya --base ./models/tiny --data ./datasets/maya --quantize 4bit
    utta train lora --persona maya --base ./models/tiny --load-into-server --name maya-v2
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from trainers.lora_config import field_help
from tui.commands import CommandError, add_targets_argument

# CLI flag -> config field, for the hyperparameters passed through as given.
_HYPERPARAMETERS = {
    "rank": int, "alpha": float, "dropout": float, "epochs": int, "lr": float,
    "batch_size": int, "max_seq_len": int, "patience": int, "seed": int, "max_lora_rank": int,
}  # fmt: skip
_FIELD = {"patience": "early_stopping_patience"}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "lora",
        help="LoRA/QLoRA-train a brain for a persona (TRL + PEFT)",
        description="Train a LoRA adapter on a persona's logged sessions (or a dataset folder), "
        "save it with its config and data manifest, and register it as a brain. Loss falls on "
        "the student's replies only.",
    )
    parser.add_argument("--persona", required=True, metavar="ID", help=field_help("persona"))
    parser.add_argument("--base", required=True, metavar="PATH_OR_ID", help=field_help("base"))
    data = parser.add_argument_group("data (default: built from the transcript store)")
    data.add_argument(
        "--data",
        metavar="DIR",
        help="a dataset folder: train.jsonl, validation.jsonl, manifest "
        "(e.g. from `utta sessions export --format openai`)",
    )
    data.add_argument("--since", metavar="DATE", help="only sessions started on or after DATE")
    data.add_argument(
        "--trainee", action="append", default=[], metavar="NAME", help="only this trainee's "
        "sessions (repeatable)",
    )  # fmt: skip
    add_targets_argument(data)
    data.add_argument(
        "--skip-bad", action="store_true", help="train without bad rows (listed in the manifest) "
        "instead of stopping",
    )  # fmt: skip
    hyper = parser.add_argument_group("hyperparameters")
    hyper.add_argument("--quantize", choices=("4bit", "8bit"), help=field_help("quantize"))
    for flag, kind in _HYPERPARAMETERS.items():
        field = _FIELD.get(flag, flag)
        option = f"--{flag.replace('_', '-')}"
        hyper.add_argument(option, dest=flag, type=kind, metavar="N", help=field_help(field))
    hyper.add_argument("--gpu", action="store_true", help="train on the GPU when there is one")
    out = parser.add_argument_group("output")
    out.add_argument("--name", metavar="BRAIN", help="brain name (default: PERSONA-lora-DATE-TIME)")
    out.add_argument(
        "--out", metavar="DIR", help="adapter folder (default: $UTTA_HOME/brains/NAME)"
    )
    out.add_argument(
        "--kind", choices=("vllm", "local"), help="brain kind to register (default: vllm when a "
        "vLLM server runs or --load-into-server is given, else local)",
    )  # fmt: skip
    out.add_argument(
        "--load-into-server", action="store_true", help="load the adapter into the running "
        "`utta serve vllm` server (no restart)",
    )  # fmt: skip
    out.add_argument("--quiet", action="store_true", help="no progress bars")
    out.add_argument(
        "--verbose", action="store_true", help="also print library warnings (always in the log)"
    )
    parser.set_defaults(handler=train_lora_command)


def _config(args: argparse.Namespace, out: Path) -> Any:
    from trainers.lora_config import ConfigError, LoraTrainingConfig

    given = {
        _FIELD.get(flag, flag): getattr(args, flag)
        for flag in _HYPERPARAMETERS
        if getattr(args, flag) is not None
    }
    if "max_lora_rank" not in given:  # check the adapter against the recorded server, if any
        from agent.serving import read_record

        record = read_record()
        if record is not None:
            given["max_lora_rank"] = record.max_lora_rank
    try:
        return LoraTrainingConfig(
            base=args.base, persona=args.persona, output_dir=out, quantize=args.quantize,
            use_cpu=not args.gpu, **given,
        )  # fmt: skip
    except ConfigError as error:
        raise CommandError(f"bad training option: {error}", code=2) from None


def _data(args: argparse.Namespace, out: Path) -> Any:
    from trainers.lora_data import BadRowsError, ChatData

    if args.data:
        if args.since or args.trainee:
            raise CommandError("--since/--trainee select sessions; not with --data DIR", code=2)
        try:
            return ChatData.from_folder(args.data, skip_bad=args.skip_bad)
        except (BadRowsError, FileNotFoundError) as error:
            raise CommandError(str(error)) from None
    from trainers.datasets import BadRows, Selection, build_dataset, write_openai
    from transcripts.store import Store

    selection = Selection(
        args.persona, since=args.since, trainees=list(args.trainee), targets=args.targets,
        examples=args.examples,
    )  # fmt: skip
    try:
        dataset = build_dataset(Store(), selection)
        dataset.raise_if_bad(skip_bad=args.skip_bad)
    except BadRows as error:
        raise CommandError(str(error)) from None
    except ValueError as error:
        raise CommandError(str(error), code=2) from None
    if not dataset.train:
        raise CommandError(
            f"no training rows: no logged sessions of persona '{args.persona}' match "
            "(see `utta sessions list`); practise with `utta chat` first or pass --data DIR"
        )
    folder = write_openai(dataset, out / "data")
    print(f"dataset: {len(dataset.train)} train / {len(dataset.validation)} validation rows "
          f"written to {folder}")  # fmt: skip
    try:
        return ChatData.from_dataset(dataset, skip_bad=args.skip_bad)
    except BadRowsError as error:
        raise CommandError(str(error)) from None


def _check_server(args: argparse.Namespace, config: Any) -> Any:
    """With --load-into-server, the running server must serve ``--base`` and accept the
    adapter's rank: checked before any work, so a run never trains an adapter it cannot load."""
    from agent.serving import same_model
    from trainers.lora_register import running_server

    if not args.load_into_server:
        return None
    record = running_server()
    if record is None:
        raise CommandError(
            "--load-into-server: no vLLM server is running (checked before training) — start "
            f"one with `utta serve vllm --base {config.base}`, or leave out --load-into-server"
        )
    if not same_model(record.base, config.base):
        raise CommandError(
            f"--load-into-server: the running vLLM server serves {record.base}, not --base "
            f"{config.base} (checked before training) — restart it with `utta serve stop && "
            f"utta serve vllm --base {config.base}`, or train on --base {record.base}"
        )
    if config.rank > record.max_lora_rank:
        raise CommandError(
            f"--load-into-server: --rank {config.rank} is above the server's --max-lora-rank "
            f"{record.max_lora_rank} (checked before training) — use --rank "
            f"{record.max_lora_rank}, or restart the server with --max-lora-rank {config.rank}"
        )
    return record


def train_lora_command(args: argparse.Namespace) -> int:
    from agent.errors import UttaError
    from agent.paths import data_dir
    from agent.serving import same_model
    from trainers.lora import train_lora
    from trainers.lora_register import (
        default_brain_name,
        load_into_server,
        register_brain,
        running_server,
    )
    from transcripts.store import Store

    name = args.name or default_brain_name(args.persona)
    out = Path(args.out).expanduser() if args.out else data_dir() / "brains" / name
    config = _config(args, out)
    _check_server(args, config)
    data = _data(args, out)
    for row in data.skipped:
        print(f"skipped {row.format(data.source)}")
    from trainers.quiet import library_output

    try:
        with library_output(verbose=args.verbose) as log_path:
            result = train_lora(config, data, progress=not args.quiet)
    except (UttaError, OSError) as error:
        raise CommandError(f"training failed (nothing registered): {error}") from None
    print(f"library messages: {log_path}")
    print(result.summary())
    if args.load_into_server:  # loaded first: a brain is registered only once it can answer
        try:
            record = load_into_server(out, name, base=config.base)
        except UttaError as error:
            raise CommandError(
                f"the adapter in {out} was not loaded, so no brain was registered: {error}"
            ) from None
        print(f"loaded into the vLLM server at {record.base_url} as '{name}'")
    server = running_server()
    # A running server only makes it a vllm brain when it serves the base the adapter was
    # trained on; an adapter on another base would answer with garbage.
    serves_base = server is not None and same_model(server.base, config.base)
    kind = args.kind or ("vllm" if args.load_into_server or serves_base else "local")
    register_brain(Store(), name, result, kind=kind)
    print(f"registered brain '{name}' ({kind}, {config.method}) for persona {args.persona}")
    print(f"swap it in with `utta chat --persona {args.persona} --brain {name}`")
    return 0
