"""Moving a trained brain between machines: `utta brains export NAME -o FILE` and
`utta brains import FILE`.

The archive is a gzipped tar holding ``brain.json`` (name, kind, persona, spec, lineage, and every
file with its SHA-256) and the files the spec points at under ``files/``: a LoRA adapter folder
(``adapter_path`` of a ``vllm`` brain, ``adapters`` of a ``local`` one) or a DSPy program
(``program``). Import checks before it registers anything: the archive's members are plain files
inside it, every listed file is present with the hash it was exported with, and the persona is
known here. The files land in ``<data dir>/brains/<name>/`` and the spec is pointed there.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.paths import data_dir
from transcripts.store import Store, UnknownBrain

FORMAT = "utta-brain"
VERSION = 1
MANIFEST = "brain.json"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class BrainTransferError(ValueError):
    """The brain cannot be exported or imported; the message says why and the fix."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_options(spec: dict[str, Any]) -> list[tuple[tuple[str, ...], Path]]:
    """(where in the spec, local path) for every option that names files to carry along."""
    found: list[tuple[tuple[str, ...], Path]] = []
    for key in ("adapter_path", "program"):
        if isinstance(spec.get(key), str):
            found.append(((key,), Path(spec[key]).expanduser()))
    adapters = spec.get("adapters")
    if isinstance(adapters, dict):
        for name, value in adapters.items():
            if isinstance(value, str) and Path(value).expanduser().exists():
                found.append((("adapters", name), Path(value).expanduser()))
    return found


def export_brain(store: Store, name: str, out: Path) -> Path:
    """Write the brain ``name`` with its files to ``out`` (a ``.tar.gz``)."""
    row = store.brain(name)
    spec = dict(row.spec)
    entries: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        staging = Path(scratch)
        for number, (where, path) in enumerate(_file_options(spec)):
            if not path.exists():
                raise BrainTransferError(
                    f"brain '{name}' option {'.'.join(where)} points at {path}, which does not "
                    "exist; fix the path with `utta brains add` or retrain the brain"
                )
            root = f"files/{number}"
            target = staging / root / path.name
            if path.is_dir():
                shutil.copytree(path, target)
            else:
                target.parent.mkdir(parents=True)
                shutil.copy2(path, target)
            files = (
                sorted(p for p in target.rglob("*") if p.is_file()) if path.is_dir() else [target]
            )
            entries.append(
                {
                    "option": list(where),
                    "path": f"{root}/{path.name}",
                    "files": {p.relative_to(staging).as_posix(): _sha256(p) for p in files},
                }
            )
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "name": row.name,
            "kind": row.kind,
            "persona_id": row.persona_id,
            "spec": spec,
            "lineage": row.lineage,
            "entries": entries,
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        with tarfile.open(tmp, "w:gz") as archive:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            for entry in entries:
                archive.add(staging / entry["path"], arcname=entry["path"])
        tmp.replace(out)
    return out


def import_brain(
    store: Store,
    archive_path: Path,
    *,
    persona_known: Callable[[str], bool],
    name: str | None = None,
    replace: bool = False,
    options: dict[str, Any] | None = None,
) -> str:
    """Check the archive and register the brain in ``store`` (as ``name`` if given, with
    ``options`` set in its spec, e.g. the class server's ``base_url``); return the name.
    Nothing is registered or left behind when a check fails."""
    where = str(archive_path)
    with tempfile.TemporaryDirectory() as scratch:
        staging = Path(scratch)
        try:
            with tarfile.open(archive_path, "r:gz") as archive:
                archive.extractall(staging, filter="data")  # refuses links and paths outside
        except (tarfile.TarError, OSError) as error:
            raise BrainTransferError(
                f"{where}: not a readable, safe brain archive ({error}); make one with "
                "`utta brains export NAME -o FILE`"
            ) from None
        manifest = _read_manifest(staging / MANIFEST, where)
        name = name or manifest["name"]
        if not _SAFE_NAME.fullmatch(str(name)):
            raise BrainTransferError(
                f"{where}: '{name}' cannot be a brain's folder name; import it under another "
                "name (--name NEW: letters, digits, '.', '-', '_')"
            )
        persona = manifest.get("persona_id")
        if persona and not persona_known(persona):
            raise BrainTransferError(
                f"{where}: brain '{name}' is for persona '{persona}', which this machine does not "
                "know; add the persona's YAML first (`utta personas list` shows the known ones)"
            )
        _check_layout(manifest, staging, where)
        for entry in manifest["entries"]:
            for relative, expected in entry["files"].items():
                path = staging / relative
                if not path.is_file():
                    raise BrainTransferError(f"{where}: {relative} is listed but missing")
                if _sha256(path) != expected:
                    raise BrainTransferError(
                        f"{where}: {relative} does not match the hash it was exported with; the "
                        "file was changed or damaged: export the brain again"
                    )
        try:
            store.brain(name)
            exists = True
        except UnknownBrain:
            exists = False
        if exists and not replace:
            raise BrainTransferError(
                f"a brain named '{name}' is already registered; import under another name "
                "(--name NEW) or replace it (--replace)"
            )
        home = data_dir() / "brains" / name
        if home.exists():
            shutil.rmtree(home)
        home.mkdir(parents=True)
        spec = dict(manifest["spec"])
        for entry in manifest["entries"]:
            target = home / entry["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(staging / entry["path"], target)
            _set_option(spec, entry["option"], str(target))
        spec.update(options or {})
        store.save_brain(name, manifest["kind"], spec, persona, manifest.get("lineage"))
    return name


def _inside(root: Path, relative: str) -> bool:
    return (root / relative).resolve().is_relative_to(root.resolve())


def _check_layout(manifest: dict[str, Any], staging: Path, where: str) -> None:
    """Every listed path stays inside the archive, and every option that names files is one the
    archive carries (a spec pointing at a path on this machine is refused, not trusted)."""
    carried = set()
    for entry in manifest["entries"]:
        paths = [entry.get("path", ""), *entry.get("files", {})]
        if not all(isinstance(p, str) and p and _inside(staging, p) for p in paths):
            raise BrainTransferError(f"{where}: {MANIFEST} lists a path outside the archive")
        carried.add(tuple(entry.get("option", [])))
    spec = manifest["spec"]
    wanted = {(key,) for key in ("adapter_path", "program") if key in spec}
    if isinstance(spec.get("adapters"), dict):
        wanted |= {("adapters", name) for name in spec["adapters"]}
    missing = sorted(".".join(option) for option in wanted - carried)
    if missing:
        raise BrainTransferError(
            f"{where}: the brain's {', '.join(missing)} names files the archive does not carry; "
            "export it again with `utta brains export` on a machine that has them"
        )


def _read_manifest(path: Path, where: str) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise BrainTransferError(f"{where}: {MANIFEST} missing or unreadable ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BrainTransferError(f"{where}: {MANIFEST} is not a utta brain manifest")
    if manifest.get("version") != VERSION:
        raise BrainTransferError(
            f"{where}: brain archive version {manifest.get('version')!r}, this utta reads "
            f"{VERSION}; update utta"
        )
    for key in ("name", "kind", "spec", "entries"):
        if key not in manifest:
            raise BrainTransferError(f"{where}: {MANIFEST} lacks '{key}'")
    return manifest


def _set_option(spec: dict[str, Any], where: list[str], value: str) -> None:
    target = spec
    for key in where[:-1]:
        target = target.setdefault(key, {})
    target[where[-1]] = value
