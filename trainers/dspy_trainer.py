"""Optimize the DSPy student program on a persona's logged sessions and register it as a brain.

From the command line (see ``utta train dspy --help``)::

    # few-shot demos picked by the authenticity metric, on the model a registered brain uses
    utta train dspy --persona maya --optimizer bootstrap --lm-brain maya-lora-20260101-120000
    # an adapter on a running vLLM server, in the plain chat format it was trained on
    utta train dspy --persona maya --optimizer random-search --lm-kind vllm \\
        --lm-base-url http://127.0.0.1:8000 --lm-adapter maya-a --prompt-format chat
    # instructions too (MIPROv2 needs optuna; GEPA rewrites instructions from the metric's reasons)
    utta train dspy --persona maya --optimizer gepa --lm-kind openai --lm-model gpt-4o-mini

From Python::

    result = train_dspy(Store(), "maya", optimizer="bootstrap",
                        lm_spec={"kind": "vllm", "base_url": "http://127.0.0.1:8000",
                                 "adapter": "maya-a"})
    print(result.summary())

Steps: the dataset (:mod:`trainers.datasets`, split by session) becomes ``dspy.Example`` rows
with the program's input fields; the zero-shot :func:`agent.brains.dspy_brain.build_program` is
scored on the validation rows with the authenticity metric (:mod:`trainers.metric`), compiled with
the chosen optimizer, scored again; ``program.json`` is written beside ``data_manifest.json`` and
``training_config.json`` in ``$UTTA_HOME/brains/<name>/``, and a ``dspy`` brain is registered
with its lineage. Every LM call runs under ``dspy.context(lm=...)``, never ``dspy.configure``.
dspy is imported inside functions only.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainers.dspy_optimizers import (
    Evaluation,
    compile_program,
    evaluate,
    make_optimizer,
    to_examples,
    training_adapter,
)
from trainers.errors import TrainingError
from trainers.lineage import build_lineage, dataset_lineage

if TYPE_CHECKING:
    from personas.loader import PersonaLibrary
    from personas.schema import Persona
    from transcripts.records import BrainRow
    from transcripts.store import Store

OPTIMIZERS = ("bootstrap", "random-search", "mipro", "gepa")
AUTO_CHOICES = ("light", "medium", "heavy")
PROGRAM_FILE, MANIFEST_FILE, CONFIG_FILE = (
    "program.json",
    "data_manifest.json",
    "training_config.json",
)
DEFAULT_THRESHOLD = 0.6
DEFAULT_MAX_TOKENS = 120  # agent.brains.dspy_lm.DEFAULT_MAX_TOKENS; repeated to keep imports light
_SECRET = re.compile(r"key|token|secret|password", re.IGNORECASE)
Log = Callable[[str], None]


class DSPyTrainingError(TrainingError):
    """DSPy training could not run; ``str(error)`` names the fix."""


@dataclass(frozen=True)
class DSPyTrainingConfig:
    """Everything that shaped the program; saved as ``training_config.json`` beside it."""

    persona: str
    optimizer: str
    lm: dict[str, Any]
    """The task LM's spec (the dspy brain's ``lm`` option), without keys."""
    lm_brain: str | None = None
    """The registered brain the LM spec came from, if any."""
    prompt_format: str = "fields"
    max_demos: int = 4
    """Bootstrapped demos at most (``max_bootstrapped_demos``): the LM's own replies that passed."""
    max_labeled_demos: int = 4
    """Demos in all, topped up with logged replies after the bootstrapped ones (DSPy's
    ``max_labeled_demos``); also the logged demos the bootstrapping teacher sees."""
    threshold: float = DEFAULT_THRESHOLD
    """A bootstrapped reply becomes a demo when its authenticity is at least this."""
    num_candidates: int = 4
    """random-search: candidate demo sets tried (besides the zero-shot and labeled-only ones)."""
    auto: str | None = "light"
    """mipro and gepa: budget preset."""
    max_metric_calls: int | None = None
    """gepa: an exact metric-call budget instead of ``auto``."""
    reflection_lm: dict[str, Any] | None = None
    """gepa's reflection LM and mipro's instruction proposer (default: the task LM)."""
    reflection_max_tokens: int = 1000
    """The reflection / proposer LM's reply limit: instructions are longer than replies."""
    temperature: float | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS
    threads: int = 1
    seed: int = 0
    validation_fraction: float = 0.2
    selection: dict[str, Any] = field(default_factory=dict)
    skip_bad: bool = False

    def problems(self) -> list[str]:
        checks = [
            ("optimizer", self.optimizer in OPTIMIZERS, f"use one of {', '.join(OPTIMIZERS)}"),
            ("prompt_format", self.prompt_format in ("fields", "chat"), "use fields or chat"),
            ("max_demos", self.max_demos >= 0, "use 0 or more"),
            ("max_labeled_demos", self.max_labeled_demos >= 0, "use 0 or more"),
            ("threshold", 0 <= self.threshold <= 1, "use a score from 0 to 1"),
            ("num_candidates", self.num_candidates >= 1, "use 1 or more"),
            ("auto", self.auto in (None, *AUTO_CHOICES), f"use {', '.join(AUTO_CHOICES)}"),
            ("max_tokens", self.max_tokens >= 1, "use 1 or more"),
            ("reflection_max_tokens", self.reflection_max_tokens >= 1, "use 1 or more"),
            ("threads", self.threads >= 1, "use 1 or more"),
            ("validation_fraction", 0 <= self.validation_fraction < 1, "use 0 up to 1"),
        ]
        found = [f"{name} is {getattr(self, name)!r}: {fix}" for name, ok, fix in checks if not ok]
        if self.optimizer == "gepa" and self.prompt_format == "chat":
            found.append(
                "gepa rewrites the program's instructions, and the chat prompt format never "
                "sends them: use --prompt-format fields, or the bootstrap/random-search optimizer"
            )
        if self.optimizer == "gepa" and (self.auto is None) == (self.max_metric_calls is None):
            found.append(
                "gepa needs exactly one budget: auto (light/medium/heavy) or max_metric_calls"
            )
        if self.optimizer == "mipro" and self.auto is None:
            found.append("mipro runs with an auto budget: use light, medium or heavy")
        return found

    def hyperparameters(self) -> dict[str, Any]:
        """The settings that shaped the program (for lineage), without the LM or the data."""
        data = asdict(self)
        for key in ("persona", "lm", "lm_brain", "selection", "skip_bad"):
            data.pop(key)
        return data

    def save(self, folder: Path) -> Path:
        path = folder / CONFIG_FILE
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        return path


@dataclass(frozen=True)
class DSPyTrainResult:
    name: str
    out_dir: Path
    program_path: Path
    config: DSPyTrainingConfig
    before: Evaluation
    after: Evaluation
    evaluated_on: str
    """``validation``, or ``train`` when no session was held out (one session only)."""
    train_rows: int
    demos: int
    lineage: dict[str, Any]
    brain: BrainRow

    def summary(self) -> str:
        return (
            f"authenticity on {self.evaluated_on} before: {self.before}\n"
            f"authenticity on {self.evaluated_on} after:  {self.after}\n"
            f"program with {self.demos} demo(s) saved to {self.program_path}\n"
            f"registered brain '{self.name}' (dspy, dspy-{self.config.optimizer})"
        )


# --- the language models ------------------------------------------------------------------------


def without_keys(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The spec without any key-, token-, secret- or password-named entry (at any depth)."""
    return {
        name: without_keys(value) if isinstance(value, Mapping) else value
        for name, value in spec.items()
        if not _SECRET.search(str(name))
    }


@dataclass(frozen=True)
class ResolvedLM:
    spec: dict[str, Any]
    brain: str | None = None
    prompt_format: str = "fields"
    """The format the LM is used with when none is asked for."""


def resolve_lm(store: Store, lm: Mapping[str, Any] | str) -> ResolvedLM:
    """An lm spec as given, or the one a registered brain's spec implies.

    A ``dspy`` brain gives its ``lm`` (and its prompt format); a ``vllm`` brain its server and
    adapter (the server from `utta serve vllm`'s record when the spec names none), with the chat
    format its adapter learned; ``openai`` and ``local`` brains their model.
    """
    if isinstance(lm, Mapping):
        return ResolvedLM(without_keys(lm))
    from transcripts.errors import UnknownBrain

    try:
        row = store.brain(lm)
    except UnknownBrain as error:
        raise DSPyTrainingError(str(error), fix="see `utta brains list`") from None
    options = dict(row.spec)
    if row.kind == "dspy" and isinstance(options.get("lm"), Mapping):
        return ResolvedLM(without_keys(options["lm"]), lm, options.get("prompt_format", "fields"))
    if row.kind == "vllm":
        return ResolvedLM(_vllm_lm(lm, options), lm, "chat")
    if row.kind == "openai" and options.get("model"):
        spec = {"kind": "openai", "model": options["model"]}
        if options.get("base_url"):
            spec["base_url"] = options["base_url"]
        return ResolvedLM(spec, lm)
    if row.kind == "local" and options.get("base"):
        keep = ("base", "adapters", "adapter", "device")
        return ResolvedLM({"kind": "local", **{k: options[k] for k in keep if k in options}}, lm)
    raise DSPyTrainingError(
        f"brain '{lm}' is a {row.kind} brain with no language model DSPy can use",
        fix="pass a dspy, vllm, openai or local brain, or --lm-kind/--lm-model",
    )


def _vllm_lm(name: str, options: dict[str, Any]) -> dict[str, Any]:
    from agent.serving import read_record

    base_url, model = options.get("base_url"), options.get("adapter") or options.get("base")
    record = read_record() if base_url is None or model is None else None
    if base_url is None and record is not None:
        base_url = record.base_url
    if model is None and record is not None:
        model = record.model
    if base_url is None or model is None:
        raise DSPyTrainingError(
            f"brain '{name}' names no vLLM server and none is running",
            fix="start one with `utta serve vllm --base MODEL`",
        )
    return {"kind": "vllm", "base_url": str(base_url), "adapter": str(model)}


def _build_lm(
    spec: dict[str, Any], config: DSPyTrainingConfig, what: str, max_tokens: int
) -> tuple[Any, Any]:
    """A ``dspy.LM`` that answers (probed once), and the local model behind it, if any."""
    from agent.brain import BrainError
    from agent.brains.dspy_lm import build_lm

    try:
        lm, local = build_lm(spec, temperature=config.temperature, max_tokens=max_tokens)
        lm("Say ok.", max_tokens=1)
    except BrainError as error:
        raise DSPyTrainingError(f"the {what} cannot be used: {error}") from None
    except Exception as error:
        fix = "check the server runs and serves the model"
        if config.lm_brain:
            fix += f" (`utta brains check {config.lm_brain}` loads a vLLM adapter)"
        raise DSPyTrainingError(
            f"the {what} ({spec.get('kind')}) did not answer: {type(error).__name__}: {error}",
            fix=fix,
        ) from None
    return lm, local


# --- training -----------------------------------------------------------------------------------


def default_brain_name(persona: str, optimizer: str, now: datetime | None = None) -> str:
    """``<persona>-dspy-<optimizer>-YYYYmmdd-HHMMSS`` (UTC)."""
    return f"{persona}-dspy-{optimizer}-{(now or datetime.now(UTC)).strftime('%Y%m%d-%H%M%S')}"


def train_dspy(
    store: Store,
    persona_id: str,
    *,
    optimizer: str,
    lm_spec: Mapping[str, Any] | str,
    since: str | None = None,
    until: str | None = None,
    trainees: Sequence[str] = (),
    min_rating: float | None = None,
    session_ids: Sequence[int] = (),
    max_demos: int = 4,
    max_labeled_demos: int | None = None,
    seed: int = 0,
    out_dir: Path | str | None = None,
    name: str | None = None,
    skip_bad: bool = False,
    targets: str = "approved",
    examples: bool = True,
    prompt_format: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    num_candidates: int = 4,
    auto: str | None = "light",
    max_metric_calls: int | None = None,
    reflection_lm_spec: Mapping[str, Any] | str | None = None,
    temperature: float | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    threads: int = 1,
    lm: Any = None,
    reflection_lm: Any = None,
    library: PersonaLibrary | None = None,
    log: Log | None = None,
) -> DSPyTrainResult:
    """Compile the student program for ``persona_id`` and register it as a ``dspy`` brain.

    ``lm_spec`` is the dspy brain's ``lm`` option or a registered brain's name (see
    :func:`resolve_lm`); it is what the registered brain will use. ``lm`` / ``reflection_lm``
    pass ready DSPy LMs instead of building them from the specs (tests: ``DummyLM``).
    ``prompt_format`` defaults to the LM brain's (chat for a vllm brain), else ``fields``.
    Raises :class:`DSPyTrainingError` with a fix, or :class:`trainers.datasets.BadRows` listing
    the bad rows unless ``skip_bad`` (then the manifest lists them).
    """
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price-list download
    import dspy

    from agent.brains.dspy_brain import build_program, save_program
    from trainers.datasets import Selection, build_dataset

    say = log or (lambda _: None)
    if max_metric_calls is not None and optimizer == "gepa":
        auto = None  # an exact budget replaces the preset
    resolved = resolve_lm(store, lm_spec)
    reflection_spec = None
    if reflection_lm_spec is not None:
        reflection_spec = resolve_lm(store, reflection_lm_spec).spec
    selection = Selection(
        persona_id, since=since, until=until, trainees=list(trainees),
        min_rating=min_rating, session_ids=list(session_ids), targets=targets,
        examples=examples,
    )  # fmt: skip
    config = DSPyTrainingConfig(
        persona=persona_id, optimizer=optimizer, lm=resolved.spec, lm_brain=resolved.brain,
        prompt_format=prompt_format or resolved.prompt_format, max_demos=max_demos,
        max_labeled_demos=max_demos if max_labeled_demos is None else max_labeled_demos,
        threshold=threshold, num_candidates=num_candidates, auto=auto,
        max_metric_calls=max_metric_calls, reflection_lm=reflection_spec,
        temperature=temperature, max_tokens=max_tokens, threads=threads, seed=seed,
        selection=selection.to_dict(), skip_bad=skip_bad,
    )  # fmt: skip
    if problems := config.problems():
        raise DSPyTrainingError("bad training option: " + "; ".join(problems))
    persona = _persona(persona_id, library)
    name = name or default_brain_name(persona_id, optimizer)
    if name in {brain.name for brain in store.brains()}:
        raise DSPyTrainingError(
            f"a brain named {name!r} exists",
            fix=f"pick another --name or run `utta brains remove {name}`",
        )

    try:
        dataset = build_dataset(store, selection, seed=seed, library=library)
    except ValueError as error:  # a date that is not ISO
        raise DSPyTrainingError(str(error)) from None
    dataset.raise_if_bad(skip_bad)
    if not dataset.train:
        raise DSPyTrainingError(
            f"the selected sessions of {persona_id!r} give no training rows",
            fix="log some sessions with `utta chat`, or widen the selection",
        )
    train, validation = (
        to_examples(dataset.train, dataset),
        to_examples(dataset.validation, dataset),
    )
    held_out, evaluated_on = (validation, "validation") if validation else (train, "train")
    say(f"dataset: {len(train)} train / {len(validation)} validation rows "
        f"(content hash {dataset.manifest['content_hash'][:12]})")  # fmt: skip
    if dataset.problems:
        say(f"left out {len(dataset.problems)} bad row(s) (--skip-bad; listed in the manifest)")
    if not validation:
        say("no session held out for validation (one session only): scores are on train rows")

    local, built = None, lm is None
    if built:
        lm, local = _build_lm(config.lm, config, "language model", config.max_tokens)
    if reflection_lm is None and config.reflection_lm is not None:
        reflection_lm, _ = _build_lm(
            config.reflection_lm, config, "reflection language model", config.reflection_max_tokens
        )
    elif reflection_lm is None and built and config.optimizer in ("mipro", "gepa"):
        reflection_lm = lm.copy(max_tokens=config.reflection_max_tokens)
    try:
        with dspy.context(lm=lm, adapter=training_adapter(config.prompt_format)):
            say(f"scoring the zero-shot program on {len(held_out)} {evaluated_on} rows")
            before = evaluate(build_program(), held_out, persona)
            say(f"before: {before}")
            chosen = make_optimizer(config, persona, lm, reflection_lm or lm)
            say(f"compiling with {type(chosen).__name__} ({config.optimizer})")
            try:
                program = compile_program(chosen, config, train, validation)
            except DSPyTrainingError:
                raise
            except Exception as error:
                raise DSPyTrainingError(
                    f"{type(chosen).__name__} failed: {type(error).__name__}: {error}",
                    fix="with a small model, try --prompt-format chat; check the LM answers",
                ) from error
            after = evaluate(program, held_out, persona)
            say(f"after: {after}")
    finally:
        if local is not None:
            local.close()

    folder = Path(out_dir).expanduser() if out_dir else _brains_dir() / name
    folder.mkdir(parents=True, exist_ok=True)
    program_path = save_program(program, folder / PROGRAM_FILE).resolve()
    (folder / MANIFEST_FILE).write_text(
        json.dumps(dataset.manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    config.save(folder)
    demos = sum(len(predictor.demos) for _, predictor in program.named_predictors())
    lineage = build_lineage(
        method=f"dspy-{config.optimizer}",
        persona=persona_id,
        base=config.lm,
        dataset=dataset_lineage(
            dataset.manifest, rows={"train": len(train), "validation": len(validation)}
        ),
        hyperparameters=config.hyperparameters(),
        metrics={
            "validation_authenticity_before": before.mean,
            "validation_authenticity_after": after.mean,
            "n": after.n,
            "evaluated_on": evaluated_on,
            "demos": demos,
        },
        extra={
            "lm_brain": config.lm_brain,
            "prompt_format": config.prompt_format,
            "program": str(program_path),
        },
    )
    spec: dict[str, Any] = {
        "program": str(program_path),
        "lm": config.lm,
        "prompt_format": config.prompt_format,
    }
    if config.temperature is not None:
        spec["temperature"] = config.temperature
    if config.max_tokens != DEFAULT_MAX_TOKENS:
        spec["max_tokens"] = config.max_tokens
    brain = store.save_brain(name, "dspy", spec, persona_id=persona_id, lineage=lineage)
    return DSPyTrainResult(
        name, folder, program_path, config, before, after, evaluated_on, len(train), demos,
        lineage, brain,
    )  # fmt: skip


def _persona(persona_id: str, library: PersonaLibrary | None) -> Persona:
    from agent.paths import persona_library
    from personas.loader import UnknownPersona

    try:
        return (library or persona_library()).get(persona_id)
    except UnknownPersona as error:
        raise DSPyTrainingError(str(error), fix="see `utta personas list`") from None


def _brains_dir() -> Path:
    from agent.paths import data_dir

    return data_dir() / "brains"
