"""Language models for the DSPy brain, from the nested ``lm`` option of its spec.

``lm`` names the model the way a brain spec would::

    {"kind": "openai", "model": "gpt-4o-mini"}           # api.openai.com, key from agent.keys
    {"kind": "openai", "model": "m", "base_url": "http://localhost:8000/v1"}   # placeholder key
    {"kind": "vllm", "base_url": "http://localhost:8000", "adapter": "maya-a"}  # model = adapter
    {"kind": "local", "base": "/models/tiny", "adapters": {"a": "/adapters/a"}, "adapter": "a"}

The first three become ``dspy.LM("openai/<model>", api_base=..., api_key=...)`` (a bare server
root gets ``/v1``); keys come from :func:`agent.keys.resolve_key`, so a local endpoint gets a
placeholder and a real OpenAI key never leaks to it. ``local`` runs the model in-process
through :class:`LocalEngine`, which reuses the local brain's
:class:`~agent.brains.local_model.LocalModel`.

DSPy 3.4 deprecates custom LMs written as ``BaseLM.forward()`` returning an OpenAI-shaped response
(removed in 3.5); its replacement, used here, is an engine with ``complete(Request) -> Response``
handed to ``dspy.LM(engine=...)``. dspy is imported inside functions only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from agent.brain import BrainError
from agent.brains.local_model import (
    DEFAULT_TEMPERATURE,
    LocalModel,
    local_model_from_options,
)

LM_KINDS = ("openai", "vllm", "local")
DEFAULT_MAX_TOKENS = 120

_ROLES = {"user": "user", "assistant": "assistant", "developer": "system", "tool": "user"}


class LocalEngine:
    """A DSPy engine that answers with a :class:`LocalModel` (transformers, in-process)."""

    def __init__(self, model: LocalModel, *, temperature: float = DEFAULT_TEMPERATURE) -> None:
        self.local_model = model
        self.temperature = temperature

    @staticmethod
    def chat_messages(request: Any) -> list[dict[str, str]]:
        """The DSPy request as plain chat messages for the tokenizer's chat template."""
        messages = []
        system = request.system
        if system is not None:
            text = (
                system
                if isinstance(system, str)
                else "".join(getattr(part, "text", "") for part in system)
            )
            messages.append({"role": "system", "content": text})
        for message in request.messages:
            messages.append(
                {"role": _ROLES.get(message.role, "user"), "content": message.text or ""}
            )
        return messages

    def complete(self, request: Any) -> Any:
        from dspy.lm15 import Message, Response, Usage

        config = request.config
        temperature = self.temperature if config.temperature is None else config.temperature
        completion = self.local_model.generate(
            self.chat_messages(request),
            max_new_tokens=config.max_tokens or DEFAULT_MAX_TOKENS,
            temperature=temperature,
        )
        return Response(
            id=None,
            model=request.model,
            message=Message.assistant(completion.text or " "),
            finish_reason=completion.finish_reason,  # type: ignore[arg-type]
            usage=Usage(
                input_tokens=completion.prompt_tokens, output_tokens=completion.completion_tokens
            ),
        )

    def close(self) -> None:
        """The model outlives one DSPy call; :meth:`LocalModel.close` releases it."""


def _api_key(kind: str, base_url: str | None) -> str:
    """The key for the endpoint (see :func:`agent.keys.resolve_key`).

    A local endpoint gets the placeholder. A remote vLLM server without a stored or exported key
    (``VLLM_API_KEY``) gets the placeholder too: servers started without ``--api-key`` take any.
    """
    from agent.keys import LOCAL_PLACEHOLDER_KEY, resolve_key

    if kind == "vllm":
        from agent.serving import server_key

        key = server_key(base_url)  # the key `utta serve vllm` stored for its server
        if key:
            return key
        try:
            return resolve_key("vllm", base_url)
        except BrainError:
            return LOCAL_PLACEHOLDER_KEY
    return resolve_key("openai", base_url)


def api_base(base_url: str) -> str:
    """An OpenAI-compatible base URL ending in ``/v1`` when it was given as the bare server root."""
    base_url = base_url.rstrip("/")
    return base_url + "/v1" if urlparse(base_url).path in ("", "/") else base_url


def build_lm(
    lm: Mapping[str, Any],
    *,
    temperature: float | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> tuple[Any, LocalModel | None]:
    """A ``dspy.LM`` for the ``lm`` spec, and the :class:`LocalModel` behind it when local.

    Raises :class:`BrainError` for a spec that cannot work (unknown kind, no model, no key).
    Responses are not cached: a trainee asking the same thing twice gets a fresh reply.
    """
    if not isinstance(lm, Mapping):
        raise BrainError(
            "the DSPy brain's `lm` option must be a mapping with a `kind`",
            fix="write lm: {kind: openai, model: gpt-4o-mini}",
        )
    kind = lm.get("kind")
    if kind not in LM_KINDS:
        raise BrainError(
            f"unknown lm kind {kind!r} for the DSPy brain",
            fix=f"set lm.kind to one of: {', '.join(LM_KINDS)}",
        )
    # litellm (under dspy) fetches a model price list from the network at import unless told
    # to use its bundled copy; nothing here needs a network request it did not ask for.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import dspy

    if kind == "local":
        model = local_model_from_options(lm, where="DSPy brain's local lm")
        engine = LocalEngine(
            model, temperature=DEFAULT_TEMPERATURE if temperature is None else temperature
        )
        name = f"local/{model.active_adapter or model.base.name}"
        return dspy.LM(
            name,
            engine=engine,
            cache=False,
            temperature=temperature,
            max_tokens=max_tokens,
            num_retries=0,
        ), model

    base_url = lm.get("base_url")
    if kind == "vllm":
        if not base_url:
            raise BrainError(
                "a vllm lm needs base_url",
                fix="set lm.base_url to the server, e.g. http://localhost:8000/v1",
            )
        model_name = lm.get("adapter") or lm.get("model")
    else:
        model_name = lm.get("model")
    if not model_name:
        raise BrainError(
            f"the DSPy brain's {kind} lm names no model",
            fix="set lm.model (or lm.adapter for a vLLM LoRA adapter)",
        )
    kwargs: dict[str, Any] = {"api_key": _api_key(kind, base_url)}
    if base_url:
        kwargs["api_base"] = api_base(str(base_url))
    return dspy.LM(
        f"openai/{model_name}",
        cache=False,
        temperature=temperature,
        max_tokens=max_tokens,
        num_retries=1,
        **kwargs,
    ), None
