"""Brain kind ``vllm``: a LoRA adapter (or the base model) served by a local vLLM server.

Options (all optional)::

    base_url       the server, e.g. http://127.0.0.1:8000 (default: the `utta serve vllm` record)
    adapter        the adapter's served name; replies come from it (default: the base model)
    adapter_path   the adapter folder, loaded at runtime when the server does not list it yet
    base           the base model's served name (default: the record's base model)
    max_lora_rank  the server's --max-lora-rank, for checking adapters (default: record, else 8)
    max_tokens     longest reply in tokens (default: the persona's longest reply, see
                   :func:`agent.prompt.reply_token_budget`)
    temperature, timeout, max_retries   as for the ``openai`` brain

It is the ``openai`` brain pointed at the server, with the adapter name as the model: streaming,
usage and error messages are shared. Its health check also makes sure the adapter is loaded.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.brain import BrainError, Health
from agent.brains.openai_compat import OpenAICompatBrain, sampling_options
from agent.keys import LOCAL_PLACEHOLDER_KEY
from agent.prompt import reply_token_budget
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

OPTIONS = (
    "base_url", "adapter", "adapter_path", "base", "max_lora_rank",
    "temperature", "max_tokens", "timeout", "max_retries",
)  # fmt: skip
if TYPE_CHECKING:
    from personas.schema import Persona

_NO_SERVER = "no vLLM server is running"
_START = "start one with `utta serve vllm --base MODEL`"


class VllmBrain(OpenAICompatBrain):
    """Replies from ``adapter`` (or the base model) on a running vLLM server."""

    def __init__(
        self,
        *,
        name: str,
        server_url: str | None,
        base: str | None = None,
        adapter: str | None = None,
        adapter_path: str | Path | None = None,
        max_lora_rank: int | None = None,
        persona: Persona | None = None,
        **sampling: Any,
    ) -> None:
        from agent.serving import api_root

        self.server_url = api_root(server_url) if server_url else None
        self.base = base
        self.adapter = adapter
        self.adapter_path = Path(adapter_path).expanduser() if adapter_path else None
        self.max_lora_rank = max_lora_rank
        self._served: list[dict[str, Any]] = []
        """The server's ``/v1/models`` entries, as last listed."""
        self._adapter_ready = False
        served = adapter or base or "(base model)"
        what = f"LoRA adapter {adapter} on {base or 'the base model'}" if adapter else served
        super().__init__(
            name=name,
            model=served,
            base_url=f"{self.server_url}/v1" if self.server_url else "http://127.0.0.1/v1",
            description=f"Fine-tuned brain: {what}, served by a local vLLM server.",
            persona=persona,
            **sampling,
        )

    def _api_key(self) -> str:
        # Never the OpenAI key, even for a vLLM server on another machine: the key `utta serve
        # vllm` stored for the recorded server, else VLLM_API_KEY, else a placeholder.
        from agent.serving import server_key

        return server_key(self.server_url) or LOCAL_PLACEHOLDER_KEY

    def not_answering(self) -> BrainError:
        from agent.serving import not_answering

        if self.server_url is None:
            return BrainError(_NO_SERVER, fix=_START)
        return not_answering(self.server_url, self.base)

    async def _before_stream(self) -> None:
        if not self._adapter_ready:
            await self.ensure_ready()

    context_fix = (
        "restart the server with a larger `--max-model-len` (up to the base's context), or give "
        "the brain a smaller `max_tokens`"
    )

    async def health(self) -> Health:
        """Ready (the adapter loaded), and the server takes a request of the persona's size: its
        system prompt, a teacher message and room for the brain's longest reply."""
        try:
            detail = await self.ensure_ready()
            await self.fits_persona()
        except BrainError as error:
            return Health(ok=False, detail=str(error))
        except Exception as error:  # health must never raise
            return Health(ok=False, detail=f"health check failed: {type(error).__name__}")
        return Health(ok=True, detail=detail)

    def _context_length(self) -> int | None:
        """The served model's ``max_model_len`` (an adapter's, else its base's)."""
        by_id = {entry["id"]: entry for entry in self._served}
        entry = by_id.get(self.model, {})
        for candidate in (entry, by_id.get(entry.get("parent") or "", {})):
            if isinstance(candidate.get("max_model_len"), int):
                return candidate["max_model_len"]
        return None

    async def _served_models(self) -> list[dict[str, Any]]:
        """``/v1/models`` through the brain's own pooled client: a swap's health check must not
        pay for a new HTTP client and connection (that alone cost ~90 ms a swap)."""
        import openai

        from agent.serving import unauthorized

        try:
            page = await self._get_client().models.list(timeout=5.0)
        except openai.AuthenticationError:
            raise unauthorized(
                self.server_url or "", self._api_key() != LOCAL_PLACEHOLDER_KEY
            ) from None
        except openai.APIStatusError as error:
            raise BrainError(
                f"vLLM server at {self.server_url} answered HTTP {error.status_code} to "
                "GET /v1/models",
                fix="check the brain's base_url points at a vLLM server's root",
            ) from None
        except openai.APIError:
            raise self.not_answering() from None
        entries = [model.model_dump() for model in page.data]
        self._served = entries
        return entries

    async def ensure_ready(self) -> str:
        """Check the server answers and serves the model; load the adapter if it is missing.

        Returns what was found or done; raises :class:`BrainError` with a fix.
        """
        from agent import serving

        if self.server_url is None:
            raise self.not_answering()
        entries = await self._served_models()
        names = [entry["id"] for entry in entries]
        if self.model == "(base model)":
            self.model = next((e["id"] for e in entries if not e.get("parent")), names[0])
            self.name = f"{self.id} ({self.model})"
        if self.model in names:
            self._adapter_ready = True
            return f"{self.model} is served at {self.server_url}"
        served_base = next((e["id"] for e in entries if not e.get("parent")), None)
        if (
            self.adapter
            and self.base
            and served_base
            and not serving.same_model(served_base, self.base)
        ):
            raise BrainError(
                f"the vLLM server at {self.server_url} serves {served_base}, but adapter "
                f"{self.adapter} was trained on {self.base}",
                fix=f"restart it with `utta serve stop && utta serve vllm --base {self.base}`",
            )
        if not self.adapter or self.adapter_path is None:
            raise BrainError(
                f"the vLLM server at {self.server_url} does not serve `{self.model}` "
                f"(it serves: {', '.join(names)})",
                fix="give the brain an `adapter_path` to load it from, or restart with "
                f"`utta serve vllm --base MODEL --adapter {self.model}=PATH`",
            )
        rank = self.max_lora_rank or self._recorded_rank() or serving.DEFAULT_MAX_LORA_RANK
        key = self._api_key()
        await asyncio.to_thread(
            serving.load_adapter, self.server_url, self.adapter, self.adapter_path, max_rank=rank,
            api_key=None if key == LOCAL_PLACEHOLDER_KEY else key,
        )  # fmt: skip
        self._adapter_ready = True
        return f"loaded adapter {self.adapter} from {self.adapter_path} into {self.server_url}"

    def _recorded_rank(self) -> int | None:
        from agent.serving import read_record

        record = read_record()
        if record and record.base_url == self.server_url:
            return record.max_lora_rank
        return None


def create(spec: BrainSpec, context: BrainContext) -> VllmBrain:
    from agent.serving import read_record

    require("vllm", "openai", "httpx", extra="openai")

    options = dict(spec.options)
    check_options("vllm", options, OPTIONS)
    given_max_tokens = options.get("max_tokens") is not None
    options.update(sampling_options("vllm", options))
    if not given_max_tokens:  # the persona's longest reply, not a chat assistant's
        options["max_tokens"] = reply_token_budget(context.persona)
    options["max_lora_rank"] = option_number(
        "vllm", options, "max_lora_rank", int, None, positive=True, example=16
    )
    for name in ("base_url", "adapter", "adapter_path", "base"):
        options[name] = option_text("vllm", options, name)
    server_url = options.pop("base_url", None)
    base = options.pop("base", None)
    if server_url is None or base is None:
        record = read_record()
        if record is not None:
            if server_url is None:
                server_url = record.base_url
            if base is None and server_url.rstrip("/").removesuffix("/v1") == record.base_url:
                base = record.model
    return VllmBrain(
        name=spec.name,
        server_url=server_url,
        base=base,
        adapter=options.pop("adapter", None),
        adapter_path=options.pop("adapter_path", None),
        max_lora_rank=options.pop("max_lora_rank", None),
        persona=context.persona,
        **options,
    )


KIND = BrainKind(
    summary="a LoRA adapter (or the base model) on a local vLLM server (`utta serve vllm`)",
    requires=("openai", "httpx"),
    extra="openai",
    options=(
        Option("base_url", "text", "the server, e.g. http://127.0.0.1:8000 (default: the record)"),
        Option("adapter", "text", "the adapter's served name (default: the base model)"),
        Option("adapter_path", "text", "adapter folder, loaded at runtime when not served yet"),
        Option("base", "text", "the base model the adapter was trained on"),
        Option("max_lora_rank", "integer", "the server's --max-lora-rank (default: record, 8)"),
        Option("temperature", "number", "sampling temperature, 0 or more (0.7)"),
        Option("max_tokens", "integer", "longest reply in tokens (default: the persona's)"),
        Option("timeout", "number", "seconds to wait for the server (30)"),
        Option("max_retries", "integer", "retries after a failed request (2)"),
    ),
)
