"""Loading a Hugging Face model folder with its LoRA adapters, and generating from it.

:class:`LocalModel` loads the base model once, lazily (off the event loop with :meth:`aload`),
keeps every adapter loaded side by side so switching costs no reload, and generates either a
whole :class:`Completion` or a stream through ``transformers.TextIteratorStreamer`` from a
generation thread that a stopping criterion ends when the consumer goes away
(:class:`GenerationRun`). Used by the local brain (:mod:`agent.brains.local`) and the DSPy
brain's local LM (:mod:`agent.brains.dspy_lm`). torch, transformers and peft are imported inside
methods only.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from agent.brain import BrainError

DEFAULT_MAX_NEW_TOKENS = 60
DEFAULT_TEMPERATURE = 0.7
DEVICES = ("cpu", "cuda")
_THREAD_NAME = "utta-local-generate"


@dataclass(frozen=True)
class Completion:
    """A whole reply with its token counts."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"
    """``"stop"`` (end of turn) or ``"length"`` (``max_new_tokens`` reached)."""


@dataclass
class GenerationRun:
    """One streamed generation: its thread, the event that stops it, and what it produced."""

    stop: threading.Event
    prompt_tokens: int
    max_new_tokens: int
    completion_tokens: int = 0
    error: BaseException | None = None
    finished: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread = field(init=False)

    @property
    def cancelled(self) -> bool:
        return self.stop.is_set()


@cache
def _streamer_class() -> type:
    """``TextIteratorStreamer`` that hands text over after every token, not only at spaces.

    The stock streamer holds text back until a space or newline; a child's "um 35?" or a word
    being typed would then arrive in one piece. Only an incomplete UTF-8 character is held.
    """
    from transformers import TextIteratorStreamer

    class EagerStreamer(TextIteratorStreamer):
        def put(self, value: Any) -> None:
            if len(value.shape) > 1:
                if value.shape[0] > 1:
                    raise ValueError("streaming supports one sequence at a time")
                value = value[0]
            if self.skip_prompt and self.next_tokens_are_prompt:
                self.next_tokens_are_prompt = False
                return
            self.token_cache.extend(value.tolist())
            text = self.tokenizer.decode(self.token_cache, **self.decode_kwargs)
            if text.endswith("\ufffd"):
                return  # the rest of a multi-byte character is in the next token
            printable, self.print_len = text[self.print_len :], len(text)
            if printable:
                self.on_finalized_text(printable)

    return EagerStreamer


@cache
def _stop_criteria_class() -> type:
    """A transformers ``StoppingCriteria`` that ends generation once an Event is set."""
    import torch
    from transformers import StoppingCriteria

    class StopOnEvent(StoppingCriteria):
        def __init__(self, event: threading.Event) -> None:
            self.event = event

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full(
                (input_ids.shape[0],),
                self.event.is_set(),
                dtype=torch.bool,
                device=input_ids.device,
            )

    return StopOnEvent


class LocalModel:
    """A tokenizer and causal LM loaded once from ``base``, with LoRA ``adapters`` beside it.

    Loading (:meth:`load`) is thread-safe and idempotent; a failed load raises
    :class:`BrainError` and is retried on the next call. Generations run one at a time.
    """

    def __init__(
        self,
        base: str | Path,
        adapters: Mapping[str, str | Path] | None = None,
        *,
        adapter: str | None = None,
        device: str = "cpu",
    ) -> None:
        self.base = Path(base).expanduser()
        self.adapters = {name: Path(path).expanduser() for name, path in (adapters or {}).items()}
        if adapter is not None and adapter not in self.adapters:
            raise BrainError(
                f"no adapter called '{adapter}'",
                fix=f"choose one of: {', '.join(self.adapters) or '(no adapters configured)'}",
            )
        if device not in DEVICES:
            raise BrainError(f"unknown device '{device}'", fix="set device to 'cpu' or 'cuda'")
        self.device = device
        self.active_adapter: str | None = adapter or next(iter(self.adapters), None)
        self._model: Any = None
        self._tokenizer: Any = None
        self._load_lock = threading.Lock()
        self._generate_lock = threading.Lock()
        self.last_run: GenerationRun | None = None

    # --- loading --------------------------------------------------------------------------

    @property
    def model(self) -> Any:
        """The model generation runs on: a ``PeftModel`` when there are adapters."""
        if self._model is None:
            raise BrainError("the local model is not loaded yet", fix="call load() first")
        return self._model

    @property
    def base_model(self) -> Any:
        """The transformers model under any adapters (the same object across adapter switches)."""
        model = self.model
        return model.get_base_model() if self.adapters else model

    @property
    def tokenizer(self) -> Any:
        self.model  # noqa: B018 - raises the same error when not loaded
        return self._tokenizer

    def check_paths(self) -> None:
        """Raise :class:`BrainError` naming the first missing or incomplete folder."""
        if not self.base.is_dir():
            raise BrainError(
                f"model folder not found: {self.base}",
                fix="set the brain's `base` option to a folder saved with save_pretrained "
                "(it holds config.json and the tokenizer files)",
            )
        if not (self.base / "config.json").is_file():
            raise BrainError(
                f"{self.base} is not a model folder: it has no config.json",
                fix="point `base` at the folder save_pretrained wrote, not its parent",
            )
        for name, path in self.adapters.items():
            if not (path / "adapter_config.json").is_file():
                what = "not found" if not path.exists() else "has no adapter_config.json"
                raise BrainError(
                    f"adapter '{name}' folder {what}: {path}",
                    fix=f"set adapters.{name} to a folder written by a PEFT save_pretrained, "
                    "or remove it from the spec",
                )

    def load(self) -> None:
        """Load tokenizer, model and adapters once. Blocking: call it off the event loop."""
        with self._load_lock:
            if self._model is None:
                self._load()

    async def aload(self) -> None:
        if self._model is None:
            await asyncio.to_thread(self.load)

    def _load(self) -> None:
        self.check_paths()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if self.device == "cuda" and not torch.cuda.is_available():
            raise BrainError(
                "device 'cuda' was asked for but torch sees no GPU",
                fix="set device: cpu, or install a CUDA build of torch",
            )
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.base)
            model = AutoModelForCausalLM.from_pretrained(
                self.base, dtype=torch.float32 if self.device == "cpu" else "auto"
            )
        except (OSError, ValueError, KeyError) as error:
            raise BrainError(
                f"could not load the model in {self.base}: {error}",
                fix="re-export it with save_pretrained (model and tokenizer) into that folder",
            ) from error
        if not tokenizer.chat_template:
            raise BrainError(
                f"the tokenizer in {self.base} has no chat template",
                fix="save the tokenizer with a chat_template (tokenizer.chat_template = ...)",
            )
        model = self._with_adapters(model)
        model.to(self.device)
        model.eval()
        self._tokenizer = tokenizer
        self._model = model

    def _with_adapters(self, model: Any) -> Any:
        if not self.adapters:
            return model
        from peft import PeftModel

        names = list(self.adapters)
        try:
            peft_model = PeftModel.from_pretrained(
                model, self.adapters[names[0]], adapter_name=names[0]
            )
            for name in names[1:]:
                peft_model.load_adapter(self.adapters[name], adapter_name=name)
        except (OSError, ValueError, KeyError, RuntimeError) as error:
            raise BrainError(
                f"could not load the adapters {', '.join(names)} onto {self.base}: {error}",
                fix="check that every adapter was trained on this base model",
            ) from error
        if self.active_adapter is not None:
            peft_model.set_adapter(self.active_adapter)
        return peft_model

    def close(self) -> None:
        if self.last_run is not None:
            self.last_run.stop.set()
        with self._load_lock:
            self._model = None
            self._tokenizer = None

    # --- adapters -------------------------------------------------------------------------

    def use_adapter(self, name: str | None) -> None:
        """Make ``name`` the adapter of the next generation (``None``: the bare base model)."""
        if name is not None and name not in self.adapters:
            raise BrainError(
                f"no adapter called '{name}'",
                fix=f"choose one of: {', '.join(self.adapters) or '(no adapters configured)'}",
            )
        self.active_adapter = name

    def _apply_adapter(self) -> Any:
        """Activate the chosen adapter; return a context manager that generation runs inside."""
        from contextlib import nullcontext

        if not self.adapters:
            return nullcontext()
        if self.active_adapter is None:
            return self.model.disable_adapter()
        if self.model.active_adapter != self.active_adapter:
            self.model.set_adapter(self.active_adapter)
        return nullcontext()

    # --- generation -----------------------------------------------------------------------

    def encode(self, messages: list[dict[str, str]]) -> Any:
        """Chat messages rendered with the tokenizer's chat template, as tensors on the device."""
        encoded = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_dict=True, return_tensors="pt"
        )
        return encoded.to(self.device)

    def _generate_kwargs(self, inputs: Any, max_new_tokens: int, temperature: float) -> dict:
        pad = self.tokenizer.pad_token_id
        kwargs: dict[str, Any] = {
            **inputs,
            "max_new_tokens": max_new_tokens,
            "pad_token_id": self.tokenizer.eos_token_id if pad is None else pad,
        }
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature, top_p=1.0)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kwargs

    def generate(
        self,
        messages: list[dict[str, str]],
        *,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
    ) -> Completion:
        """The whole reply to ``messages``. Blocking: call it off the event loop."""
        import torch

        self.load()
        inputs = self.encode(messages)
        prompt_tokens = int(inputs["input_ids"].shape[1])
        with self._generate_lock, torch.inference_mode(), self._apply_adapter():
            output = self.model.generate(
                **self._generate_kwargs(inputs, max_new_tokens, temperature)
            )
        new_tokens = output[0, prompt_tokens:]
        text = self.tokenizer.decode(new_tokens, skip_special_tokens=True)
        count = int(new_tokens.shape[0])
        ended = count > 0 and int(new_tokens[-1]) == self.tokenizer.eos_token_id
        reason = "length" if count >= max_new_tokens and not ended else "stop"
        return Completion(text, prompt_tokens, count, reason)

    def start_stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
    ) -> tuple[GenerationRun, Iterator[str]]:
        """Start generating in a thread; return the run and an iterator of text chunks.

        Setting ``run.stop`` ends the generation after the current token. The model must be
        loaded. The iterator blocks between chunks: read it off the event loop.
        """
        from transformers import StoppingCriteriaList

        inputs = self.encode(messages)
        streamer = _streamer_class()(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        stop = threading.Event()
        kwargs = self._generate_kwargs(inputs, max_new_tokens, temperature)
        kwargs.update(
            streamer=streamer,
            stopping_criteria=StoppingCriteriaList([_stop_criteria_class()(stop)]),
        )
        prompt_tokens = int(inputs["input_ids"].shape[1])
        run = GenerationRun(stop=stop, prompt_tokens=prompt_tokens, max_new_tokens=max_new_tokens)
        run.thread = threading.Thread(
            target=self._run_stream, args=(run, streamer, kwargs), name=_THREAD_NAME, daemon=True
        )
        self.last_run = run
        run.thread.start()
        return run, streamer

    def _run_stream(self, run: GenerationRun, streamer: Any, kwargs: dict) -> None:
        import torch

        try:
            with self._generate_lock, torch.inference_mode(), self._apply_adapter():
                if run.stop.is_set():
                    streamer.end()
                    return
                output = self.model.generate(**kwargs)
            run.completion_tokens = int(output.shape[1]) - run.prompt_tokens
        except BaseException as error:  # handed to the consumer, which raises it as BrainError
            run.error = error
            streamer.end()  # unblock the reader; generate() did not get to end the stream
        finally:
            run.finished.set()


def local_model_from_options(
    options: Mapping[str, Any], *, where: str = "local brain"
) -> LocalModel:
    """A :class:`LocalModel` from spec options ``base``, ``adapters``, ``adapter``, ``device``."""
    base = options.get("base")
    if not base:
        raise BrainError(
            f"the {where} needs a `base` option",
            fix="set base: /path/to/model-folder in the brain spec",
        )
    adapters = options.get("adapters") or {}
    if not isinstance(adapters, Mapping):
        raise BrainError(
            f"the {where}'s `adapters` must map names to folders",
            fix="write adapters: {name: /path/to/adapter-folder}",
        )
    return LocalModel(
        base, adapters, adapter=options.get("adapter"), device=str(options.get("device", "cpu"))
    )
