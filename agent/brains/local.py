"""The local brain: a Hugging Face model folder, plus LoRA adapters, run in-process by transformers.

Spec options (``kind: local``):

- ``base`` (required): a folder saved with ``save_pretrained`` holding the model, its tokenizer
  and a chat template.
- ``adapters``: ``{name: folder}`` of PEFT LoRA adapters trained on that base.
- ``adapter``: the adapter to start with (default: the first one; none when there are none).
- ``device``: ``"cpu"`` (default) or ``"cuda"``.
- ``max_new_tokens`` (default 60) and ``temperature`` (default 0.7; 0 means greedy decoding).

The model is loaded once, lazily, off the event loop. Adapters stay loaded side by side on the
one base model, so :meth:`LocalBrain.use_adapter` switches between them without reloading.
A reply streams through ``transformers.TextIteratorStreamer`` from a generation thread; when
the consumer stops early, a stopping criterion ends that thread.

:class:`LocalModel` (:mod:`agent.brains.local_model`) is the loading and generation half, shared
with the DSPy brain's local LM (:mod:`agent.brains.dspy_lm`). torch, transformers and peft are
imported inside methods only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from agent.brain import Brain, BrainError, BrainRequest, Health, Usage
from agent.brains.local_model import (
    DEFAULT_MAX_NEW_TOKENS,
    DEFAULT_TEMPERATURE,
    DEVICES,
    Completion,
    GenerationRun,
    LocalModel,
    local_model_from_options,
)
from agent.registry import (
    BrainContext,
    BrainKind,
    BrainSpec,
    Option,
    check_options,
    option_number,
    option_text,
    require,
)

OPTIONS = ("base", "adapters", "adapter", "device", "max_new_tokens", "temperature")

__all__ = [
    "DEFAULT_MAX_NEW_TOKENS",
    "DEFAULT_TEMPERATURE",
    "DEVICES",
    "KIND",
    "OPTIONS",
    "Completion",
    "GenerationRun",
    "LocalBrain",
    "LocalModel",
    "create",
    "local_model_from_options",
]


class LocalBrain(Brain):
    """Streams replies from a :class:`LocalModel`; switches adapters without reloading it."""

    def __init__(
        self,
        model: LocalModel,
        *,
        name: str = "local",
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
    ) -> None:
        super().__init__(id=name, name=name, description="")
        self.local_model = model
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self._spec_name = name
        self._describe()

    def _describe(self) -> None:
        adapter = self.local_model.active_adapter
        self.name = f"{self._spec_name} (local{': ' + adapter if adapter else ''})"
        self.description = (
            f"Local model {self.local_model.base.name} run by transformers on "
            f"{self.local_model.device}" + (f" with LoRA adapter '{adapter}'." if adapter else ".")
        )

    def use_adapter(self, name: str | None) -> None:
        """Switch to adapter ``name`` (``None``: the bare base) for the next reply; no reload."""
        self.local_model.use_adapter(name)
        self._describe()

    async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        await self.local_model.aload()
        run, chunks = self.local_model.start_stream(
            request.as_chat_messages(),
            max_new_tokens=self.max_new_tokens,
            temperature=self.temperature,
        )
        completed = False
        try:
            while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
                if chunk:
                    yield chunk
            await asyncio.to_thread(run.finished.wait)
            if run.error is not None:
                raise BrainError(
                    f"the local model failed while writing: {run.error}",
                    fix="check the model folder and the device; try a smaller max_new_tokens",
                ) from run.error
            completed = True
            self.usage = Usage(run.prompt_tokens, run.completion_tokens)
        finally:
            if not completed:
                run.stop.set()  # the consumer went away: end the generation thread

    async def health(self) -> Health:
        try:
            await self.local_model.aload()
        except BrainError as error:
            return Health(ok=False, detail=str(error))
        except Exception as error:  # health must never raise
            return Health(ok=False, detail=f"could not load {self.local_model.base}: {error}")
        return Health(ok=True, detail=self.description)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.local_model.close)


def create(spec: BrainSpec, context: BrainContext) -> LocalBrain:
    require("local", "torch", "transformers", "peft", extra="train")
    options = spec.options
    check_options("local", options, OPTIONS)
    for name in ("base", "adapter", "device"):
        option_text("local", options, name)
    max_new_tokens = option_number(
        "local", options, "max_new_tokens", int, DEFAULT_MAX_NEW_TOKENS, positive=True
    )
    temperature = option_number("local", options, "temperature", float, DEFAULT_TEMPERATURE)
    return LocalBrain(
        local_model_from_options(options),
        name=spec.name,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
    )


KIND = BrainKind(
    summary="a transformers model + PEFT adapters run in this process, CPU or GPU",
    requires=("torch", "transformers", "peft"),
    extra="train",
    options=(
        Option("base", "text", "model folder saved with save_pretrained (required)"),
        Option("adapters", "mapping", '{name: folder} of LoRA adapters, e.g. {"a": "./a"}'),
        Option("adapter", "text", "the adapter to start with (default: the first)"),
        Option("device", "text", '"cpu" (default) or "cuda"'),
        Option("max_new_tokens", "integer", "longest reply in tokens (60)"),
        Option("temperature", "number", "0 means greedy decoding (0.7)"),
    ),
)
