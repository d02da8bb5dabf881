"""`utta brains list | show NAME | add NAME --kind KIND ... | remove NAME | check NAME |
export NAME -o FILE | import FILE`"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from tui.commands import CommandError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("brains", help="the registry of brains you can swap in")
    sub = parser.add_subparsers(dest="brains_command", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="registered brains and the installed kinds")
    listing.add_argument("--persona", metavar="ID", help="only brains usable for this persona")
    listing.add_argument(
        "--kinds", action="store_true", help="also each kind's options, with their types and help"
    )
    listing.set_defaults(handler=list_brains)
    show = sub.add_parser("show", help="a brain's spec and lineage")
    show.add_argument("name")
    show.set_defaults(handler=show_brain)
    add = sub.add_parser(
        "add",
        help="register a brain",
        description="Register a brain. Example: utta brains add maya-a --kind vllm --persona maya "
        "--option adapter=maya-a --option adapter_path=./adapters/maya-a",
    )
    add.add_argument("name")
    add.add_argument("--kind", required=True, help="offline, openai, vllm, local, dspy, ...")
    add.add_argument("--persona", metavar="ID", help="the persona it answers for (default: any)")
    add.add_argument(
        "--option",
        "-o",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="a spec option; VALUE is read as JSON when it parses, else as text",
    )
    add.add_argument("--check", action="store_true", help="build it and run its health check")
    add.set_defaults(handler=add_brain)
    remove = sub.add_parser("remove", help="unregister a brain (its files stay)")
    remove.add_argument("name")
    remove.set_defaults(handler=remove_brain)
    compare = sub.add_parser("compare", help="two brains' specs and lineage side by side")
    compare.add_argument("first")
    compare.add_argument("second")
    compare.add_argument("--all", action="store_true", help="also show the fields that agree")
    compare.set_defaults(handler=compare_brains)
    check = sub.add_parser("check", help="build a brain and run its health check")
    check.add_argument("name")
    check.add_argument("--persona", metavar="ID", help="persona to build it for")
    check.set_defaults(handler=check_brain)
    export = sub.add_parser(
        "export", help="write a brain with its adapter or program and lineage to one file"
    )
    export.add_argument("name")
    export.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    export.set_defaults(handler=export_brain)
    imported = sub.add_parser(
        "import", help="register a brain from `utta brains export` (files and hashes checked)"
    )
    imported.add_argument("archive", type=Path, metavar="FILE")
    imported.add_argument("--name", metavar="NEW", help="register it under another name")
    imported.add_argument("--replace", action="store_true", help="replace a brain of that name")
    imported.add_argument(
        "--option", "-o", metavar="KEY=VALUE", action="append", default=[],
        help="set a spec option, e.g. -o base_url=https://utta.example.edu (the class server)",
    )  # fmt: skip
    imported.set_defaults(handler=import_brain)


def _store(*, readonly: bool = True):
    """Read-only unless the action writes (add, remove): reading creates nothing."""
    from transcripts.store import Store

    return Store(readonly=readonly)


def _options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"--option needs KEY=VALUE, got '{pair}'", code=2)
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def list_brains(args: argparse.Namespace) -> int:
    from tui.tables import print_table

    rows = [
        b for b in _store().brains() if not args.persona or b.persona_id in (None, args.persona)
    ]
    table = []
    if not any(row.name == "offline" for row in rows):  # saved once `utta eval` scored it
        table.append(["offline", "offline", "-", "-", "(any)", "built in"])
    for row in rows:
        lineage = row.lineage if isinstance(row.lineage, dict) else {}
        table.append([
            row.name, row.kind, lineage.get("method"), lineage.get("base") or row.spec.get("base"),
            row.persona_id or "(any)", row.created_at[:19].replace("T", " "),
        ])  # fmt: skip
    print_table(["name", "kind", "method", "base", "persona", "created"], table, title="brains")
    print()
    _print_kinds(args.kinds)
    return 0


def _print_kinds(with_options: bool) -> None:
    """Which kinds this install can build, and the install command for the others."""
    from agent.registry import available_kinds, kind_info
    from tui.tables import print_table

    table = []
    for kind in available_kinds():
        info = kind_info(kind)
        if info is None:
            table.append([kind, "yes", "-", "(options not declared)"])
            continue
        missing = info.missing()
        state = "yes" if not missing else f"no: needs {', '.join(missing)} — {info.install}"
        options = ", ".join(option.name for option in info.options) or "none"
        table.append([kind, state, info.summary, options])
    print_table(["kind", "can build here", "what answers", "options"], table, title="kinds")
    if not with_options:
        print("\n`utta brains list --kinds` explains each option")
        return
    for kind in available_kinds():
        info = kind_info(kind)
        if info and info.options:
            print()
            print_table(
                ["option", "type", "help"],
                [[o.name, o.type, o.help] for o in info.options],
                title=f"{kind} options (-o NAME=VALUE)",
            )


def _get(name: str):
    from transcripts.store import UnknownBrain

    try:
        return _store().brain(name)
    except UnknownBrain as error:
        raise CommandError(str(error)) from None


def show_brain(args: argparse.Namespace) -> int:
    row = _get(args.name)
    persona = row.persona_id or "(any)"
    print(f"{row.name}: kind {row.kind}, persona {persona}, created {row.created_at}")
    print("spec:")
    print(json.dumps(row.spec, indent=2, sort_keys=True))
    if row.lineage is not None:
        print("lineage:")
        print(json.dumps(row.lineage, indent=2, sort_keys=True))
    return 0


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def compare_brains(args: argparse.Namespace) -> int:
    from tui.tables import print_table

    first, second = _get(args.first), _get(args.second)
    rows = {"kind": (first.kind, second.kind), "persona": (first.persona_id, second.persona_id)}
    for section, a, b in (
        ("spec", first.spec, second.spec),
        ("lineage", first.lineage or {}, second.lineage or {}),
    ):
        flat_a, flat_b = _flatten(a, section), _flatten(b, section)
        for key in sorted(flat_a.keys() | flat_b.keys()):
            rows[key] = (flat_a.get(key, "—"), flat_b.get(key, "—"))
    shown = [
        [key, " " if a == b else "*", _cell(a), _cell(b)]
        for key, (a, b) in rows.items()
        if a != b or args.all
    ]
    if not shown:
        print("(no differences)")
        return 0
    print_table(["field", "", first.name, second.name], shown)  # long values wrap, never cut
    return 0


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def add_brain(args: argparse.Namespace) -> int:
    from agent.brain import BrainError
    from agent.registry import factory_for

    try:
        factory_for(args.kind)
    except BrainError as error:
        raise CommandError(str(error), code=2) from None
    options = _options(args.option)
    store = _store(readonly=False)
    # Always built once, so a bad option is refused here and not in the middle of a lesson.
    _verify(args.name, args.kind, options, args.persona, health=args.check)
    store.save_brain(args.name, args.kind, options, persona_id=args.persona)
    print(f"registered {args.name} ({args.kind}); swap to it in the chat with Ctrl+B")
    return 0


def remove_brain(args: argparse.Namespace) -> int:
    from transcripts.store import UnknownBrain

    try:
        _store(readonly=False).remove_brain(args.name)
    except UnknownBrain as error:
        raise CommandError(str(error)) from None
    print(f"removed {args.name}")
    return 0


def check_brain(args: argparse.Namespace) -> int:
    row = _get(args.name)
    _verify(row.name, row.kind, row.spec, args.persona or row.persona_id, health=True)
    return 0


def _verify(name: str, kind: str, options: dict, persona_id: str | None, *, health: bool) -> None:
    """Build the brain (checking its options); with ``health``, also run its health check."""
    from agent.brain import BrainError
    from agent.paths import persona_library
    from agent.registry import BrainContext, BrainSpec, create_brain
    from personas.loader import UnknownPersona

    library = persona_library()
    try:
        persona = library.get(persona_id) if persona_id else library.list()[0]
    except UnknownPersona as error:
        raise CommandError(str(error)) from None
    try:
        brain = create_brain(BrainSpec(name, kind, options, persona_id), BrainContext(persona))
    except (BrainError, ValueError, TypeError) as error:
        raise CommandError(f"brain '{name}' cannot be built: {error}") from None
    if not health:
        asyncio.run(brain.aclose())
        return

    async def probe():
        try:
            return await brain.health()
        finally:
            await brain.aclose()

    result = asyncio.run(probe())
    if not result.ok:
        raise CommandError(f"{name} is not healthy: {result.detail}")
    print(f"{name}: healthy {('— ' + result.detail) if result.detail else ''}".rstrip())


def export_brain(args: argparse.Namespace) -> int:
    from trainers.brain_transfer import BrainTransferError
    from trainers.brain_transfer import export_brain as write_archive
    from transcripts.store import UnknownBrain

    try:
        out = write_archive(_store(), args.name, args.output)
    except (UnknownBrain, BrainTransferError) as error:
        raise CommandError(str(error)) from None
    print(f"wrote brain {args.name} to {out}")
    return 0


def import_brain(args: argparse.Namespace) -> int:
    from personas.loader import PersonaLibrary, UnknownPersona
    from trainers.brain_transfer import BrainTransferError
    from trainers.brain_transfer import import_brain as read_archive

    library = PersonaLibrary()

    def known(persona_id: str) -> bool:
        try:
            library.get(persona_id)
        except UnknownPersona:
            return False
        return True

    try:
        name = read_archive(
            _store(readonly=False),
            args.archive,
            persona_known=known,
            name=args.name,
            replace=args.replace,
            options=_options(args.option),
        )
    except BrainTransferError as error:
        raise CommandError(str(error)) from None
    print(
        f"registered brain {name} (files and hashes checked); "
        f"try it with `utta brains check {name}`"
    )
    return 0
