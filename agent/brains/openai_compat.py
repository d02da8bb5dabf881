"""Brain kind ``openai``: any OpenAI-compatible chat-completions endpoint, streamed.

Options (all but ``model`` optional)::

    model        the model id, e.g. gpt-4o-mini or a fine-tune ft:gpt-4o-mini-2024-07-18:org::abc
    base_url     e.g. http://127.0.0.1:8000/v1 (default: $OPENAI_BASE_URL or api.openai.com)
    temperature  sampling temperature (0.7)
    max_tokens   longest reply in tokens (150)
    timeout          seconds from sending a message to the first streamed chunk, retries
                     included: a server that has not started answering by then is an error (30)
    token_timeout    seconds the server may fall silent in the middle of a reply (15)
    connect_timeout  seconds to open the connection (5)
    max_retries      retries the SDK makes on connection errors, 429 and 5xx, all within
                     ``timeout`` (2)

A reply counts only when the server says it finished: a chunk with a ``finish_reason``. A stream
that ends without one (the connection closed early, a proxy cut it) or breaks off mid-body is a
:class:`BrainError`, so the agent logs nothing of it.

The key comes from :func:`agent.keys.resolve_key`: a local endpoint gets a placeholder, never the
real key. The key is never logged and never put in an error message. ``openai`` is imported only
when the brain first talks to the server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agent.brain import Brain, BrainError, BrainRequest, Health, Usage
from agent.keys import KEY_FIX, is_local_url, resolve_base_url, resolve_key
from agent.openai_errors import server_message
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
from agent.secrets import redact_secrets

if TYPE_CHECKING:
    import httpx
    from openai import AsyncOpenAI

    from personas.schema import Persona

OPTIONS = (
    "model", "base_url", "temperature", "max_tokens", "timeout", "token_timeout",
    "connect_timeout", "max_retries",
)  # fmt: skip
DEFAULT_TEMPERATURE, DEFAULT_MAX_TOKENS, DEFAULT_TIMEOUT, DEFAULT_MAX_RETRIES = 0.7, 150, 30.0, 2
DEFAULT_TOKEN_TIMEOUT, DEFAULT_CONNECT_TIMEOUT = 15.0, 5.0
HEALTH_TIMEOUT = 10.0
# The persona-size request makes a server read a whole persona prompt (seconds on a CPU server).
PERSONA_CHECK_TIMEOUT = 60.0


def sampling_options(kind: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The numeric options given (temperature, max_tokens, timeouts, max_retries), checked and
    converted; a bad value is a :class:`BrainError` naming the option."""
    numbers: dict[str, tuple[type, Any, bool]] = {
        "temperature": (float, DEFAULT_TEMPERATURE, False),
        "max_tokens": (int, DEFAULT_MAX_TOKENS, True),
        "timeout": (float, DEFAULT_TIMEOUT, True),
        "token_timeout": (float, DEFAULT_TOKEN_TIMEOUT, True),
        "connect_timeout": (float, DEFAULT_CONNECT_TIMEOUT, True),
        "max_retries": (int, DEFAULT_MAX_RETRIES, False),
    }
    return {
        name: option_number(kind, options, name, cast, default, positive=positive)
        for name, (cast, default, positive) in numbers.items()
        if options.get(name) is not None
    }


class OpenAICompatBrain(Brain):
    """Streams replies from an OpenAI-compatible ``/v1/chat/completions`` endpoint."""

    provider = "openai"

    def __init__(
        self,
        *,
        name: str,
        model: str,
        base_url: str | None = None,
        temperature: float = DEFAULT_TEMPERATURE,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        timeout: float = DEFAULT_TIMEOUT,
        token_timeout: float = DEFAULT_TOKEN_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        description: str | None = None,
        persona: Persona | None = None,
    ) -> None:
        if not model:
            raise BrainError("the openai brain needs a `model` option", fix="e.g. gpt-4o-mini")
        self.model = model
        self._base_url_option = base_url
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.timeout = float(timeout)
        self.token_timeout = float(token_timeout)
        self.connect_timeout = float(connect_timeout)
        self.max_retries = int(max_retries)
        self._http_client = http_client
        self.persona = persona
        """The persona the brain answers as; :meth:`health` checks a request of its size fits."""
        self._client: AsyncOpenAI | None = None
        self._key: str | None = None
        super().__init__(
            id=name,
            name=f"{name} ({model})",
            description=description
            or f"Language model {model} over the OpenAI chat API at {self.host}.",
        )

    # --- where and how to connect ---------------------------------------------------------

    @property
    def base_url(self) -> str:
        return resolve_base_url(self._base_url_option)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url

    @property
    def is_local(self) -> bool:
        return is_local_url(self.base_url)

    def _get_client(self) -> AsyncOpenAI:
        if self._client is None:
            import httpx
            from openai import AsyncOpenAI

            self._key = self._api_key()
            # One attempt never outlives the deadlines that stream() enforces around it.
            wait = max(self.timeout, self.token_timeout)
            self._client = AsyncOpenAI(
                api_key=self._key,
                base_url=self.base_url,
                timeout=httpx.Timeout(wait, connect=min(self.connect_timeout, wait)),
                max_retries=self.max_retries,
                http_client=self._http_client,
            )
        return self._client

    def _api_key(self) -> str:
        return resolve_key(self.provider, self.base_url)

    def _token_limit(self, tokens: int | None = None) -> dict[str, int]:
        # OpenAI's newer models accept only max_completion_tokens; other servers know max_tokens.
        limit = self.max_tokens if tokens is None else tokens
        if urlsplit(self.base_url).hostname == "api.openai.com":
            return {"max_completion_tokens": limit}
        return {"max_tokens": limit}

    # --- the Brain interface --------------------------------------------------------------

    async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        await self._before_stream()
        client = self._get_client()
        self.usage = Usage()
        import httpx
        import openai

        started = False  # whether the server began streaming (which timeout applies)
        finish_reason: str | None = None
        response = None
        try:
            # `timeout` bounds the wait for the first chunk, the SDK's retries included, so a hung
            # server fails after `timeout` seconds and not (1 + max_retries) times that.
            async with asyncio.timeout(self.timeout):
                response = await client.chat.completions.create(
                    model=self.model,
                    messages=request.as_chat_messages(),  # type: ignore[arg-type]
                    stream=True,
                    stream_options={"include_usage": True},
                    temperature=self.temperature,
                    **self._token_limit(),  # type: ignore[arg-type]
                )
                chunks = response.__aiter__()
                chunk = await anext(chunks, None)
            started = True
            while chunk is not None:
                if chunk.usage is not None:
                    self.usage = Usage(
                        prompt_tokens=chunk.usage.prompt_tokens,
                        completion_tokens=chunk.usage.completion_tokens,
                    )
                for choice in chunk.choices:
                    finish_reason = choice.finish_reason or finish_reason
                    text = choice.delta.content if choice.delta else None
                    if text:
                        yield text
                async with asyncio.timeout(self.token_timeout):
                    chunk = await anext(chunks, None)
        except TimeoutError:
            raise self._timed_out(started) from None
        except openai.APITimeoutError as error:
            raise self._timed_out(started, connecting=_is_connect_timeout(error)) from None
        except openai.OpenAIError as error:
            raise self.explain(error) from None
        except httpx.TimeoutException:  # a read that outlived its timeout mid-stream
            raise self._timed_out(started) from None
        except httpx.TransportError:  # e.g. a chunked body aborted: RemoteProtocolError
            raise self._broke_off() from None
        finally:
            if response is not None:
                with contextlib.suppress(Exception):  # the connection may already be gone
                    await response.close()
        if finish_reason is None:
            raise self._broke_off()
        if finish_reason == "content_filter":
            raise BrainError(
                f"{self._where()} stopped the reply with its content filter",
                fix="rephrase the message, or swap to another brain",
            )

    async def _before_stream(self) -> None:
        """Hook for subclasses that must prepare the server (e.g. load an adapter) first."""

    async def health(self) -> Health:
        """The endpoint answers, has the model, and takes a request of the persona's size."""
        try:
            if self.is_local:
                found = await self._local_health()
                if not found.ok:
                    return found
            else:
                client = self._get_client()
                wait = min(self.timeout, HEALTH_TIMEOUT)
                async with asyncio.timeout(wait):
                    await client.models.retrieve(self.model, timeout=wait)
                found = Health(ok=True, detail=f"{self.model} is available at {self.host}")
            await self.fits_persona()
            return found
        except BrainError as error:
            return Health(ok=False, detail=str(error))
        except TimeoutError:
            return Health(ok=False, detail=str(self._timed_out(False)))
        except Exception as error:  # health must never raise
            import openai

            if isinstance(error, openai.OpenAIError):
                return Health(ok=False, detail=str(self.explain(error)))
            detail = f"health check failed: {error}"
            return Health(ok=False, detail=redact_secrets(detail, extra=[self._key]))

    context_fix = (
        "serve the model with a longer context, choose a model with one, or give the brain a "
        "smaller `max_tokens`"
    )
    """What to do when the persona's prompt and a reply do not fit the served context."""

    async def fits_persona(self) -> None:
        """Send one request as large as the persona needs (a one-token reply, so it is cheap):
        an endpoint whose context cannot hold it refuses it here, at the swap, rather than on the
        trainee's first message. Raises :class:`BrainError`."""
        if self.persona is None:
            return
        import openai

        from agent.prompt import system_message
        from agent.state import StudentState

        persona = self.persona
        messages = [
            {"role": "system", "content": system_message(persona, StudentState.initial(persona))},
            {"role": "user", "content": persona.examples[0].teacher},
        ]
        try:
            response = await self._get_client().chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                temperature=0,
                timeout=PERSONA_CHECK_TIMEOUT,
                **self._token_limit(1),  # type: ignore[arg-type]
            )
        except openai.APIStatusError as error:
            if error.status_code not in (400, 413, 422):
                raise self.explain(error) from None
            detail = redact_secrets(server_message(error), extra=[self._key])
            raise BrainError(
                f"{self.model} cannot answer as {persona.name}: {self._where()} refused a request "
                f"of the persona's size (HTTP {error.status_code}: {detail})",
                fix=self.context_fix,
            ) from None
        except openai.OpenAIError as error:
            raise self.explain(error) from None
        used = response.usage.prompt_tokens if response.usage else 0
        limit = self._context_length()
        if limit and used + self.max_tokens > limit:
            raise BrainError(
                f"{self.model} cannot answer as {persona.name}: the persona's prompt is {used} "
                f"tokens and a reply may take {self.max_tokens}, over the served context of "
                f"{limit} tokens",
                fix=self.context_fix,
            )

    def _context_length(self) -> int | None:
        """The served context in tokens, where the endpoint says it (OpenAI's does not)."""
        return None

    async def _local_health(self) -> Health:
        from agent.serving import NotAnswering, list_models

        try:
            models = await asyncio.to_thread(list_models, self.base_url, timeout=5.0)
        except NotAnswering:  # an HTTP error (a 404, say) keeps its own message
            raise self.not_answering() from None
        if self.model not in models:
            return Health(
                ok=False,
                detail=f"{self.base_url} does not serve `{self.model}` — "
                f"choose one of: {', '.join(models) or '(none)'}",
            )
        return Health(ok=True, detail=f"{self.model} is served at {self.base_url}")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    # --- errors a trainee can act on ------------------------------------------------------

    def not_answering(self) -> BrainError:
        if self.is_local:
            return BrainError(
                f"the model server at {self.base_url} is not answering",
                fix="start it (for vLLM: `utta serve vllm --base MODEL`) or fix `base_url`",
            )
        return BrainError(
            f"could not reach {self.host}",
            fix="check the internet connection (and any proxy), then send again",
        )

    def _where(self) -> str:
        return "OpenAI" if self.host == "api.openai.com" else f"the server at {self.host}"

    def _timed_out(self, started: bool, *, connecting: bool = False) -> BrainError:
        where = self._where()
        if connecting:
            return BrainError(
                f"could not connect to {where} within {self.connect_timeout:g} s",
                fix="check that it is running and reachable, or raise the brain's "
                "`connect_timeout` option",
            )
        if started:
            return BrainError(
                f"{where} stopped in the middle of the reply (nothing for "
                f"{self.token_timeout:g} s); nothing of it was logged",
                fix="send again, or raise the brain's `token_timeout` option",
            )
        return BrainError(
            f"{where} took longer than {self.timeout:g} s to answer",
            fix="send again, or raise the brain's `timeout` option",
        )

    def _broke_off(self) -> BrainError:
        return BrainError(
            f"the reply from {self._where()} broke off before the server said it had finished; "
            "nothing of it was logged",
            fix="send again; if it keeps happening, check the server or its proxy",
        )

    def explain(self, error: Exception) -> BrainError:
        """Turn an ``openai`` SDK exception into a :class:`BrainError` with a fix."""
        import openai

        where = self._where()
        if isinstance(error, openai.APITimeoutError):
            return self._timed_out(False, connecting=_is_connect_timeout(error))
        if isinstance(error, openai.APIConnectionError):
            return self.not_answering()
        if isinstance(error, openai.AuthenticationError):
            if self.is_local:
                return BrainError(
                    f"{where} asked for an API key (utta sends local servers a placeholder)",
                    fix="start the local server without --api-key",
                )
            return BrainError(f"{where} did not accept the API key", fix=KEY_FIX)
        if isinstance(error, openai.PermissionDeniedError):
            return BrainError(
                f"your API key may not use the model `{self.model}`",
                fix="check the model id and your organisation's access, or `utta keys set openai`",
            )
        if isinstance(error, openai.RateLimitError):
            if getattr(error, "code", None) == "insufficient_quota":
                return BrainError(
                    f"{where} says the account has no credit left",
                    fix="add credit to the account or switch to another brain",
                )
            return BrainError(
                f"{where} is rate-limiting requests (too many in a short time)",
                fix="wait a minute and send again, or switch to another brain",
            )
        if isinstance(error, openai.NotFoundError):
            return BrainError(
                f"{where} has no model called `{self.model}`",
                fix="check the brain's `model` option (fine-tuned ids look like "
                "ft:gpt-4o-mini-2024-07-18:org::id)",
            )
        if isinstance(error, openai.BadRequestError | openai.UnprocessableEntityError):
            detail = redact_secrets(server_message(error), extra=[self._key])
            if "context length" in detail.lower():
                return BrainError(
                    f"the conversation no longer fits the model's context: {detail}",
                    fix="lower the brain's `max_tokens`, or serve the model with a larger "
                    "`--max-model-len`",
                )
            return BrainError(
                f"{where} refused the request: {detail}",
                fix="check the brain's options (model, max_tokens, temperature)",
            )
        if isinstance(error, openai.APIStatusError):
            return BrainError(
                f"{where} had an error (HTTP {error.status_code})", fix="send again in a moment"
            )
        return BrainError(
            f"the reply from {where} broke off: {redact_secrets(str(error), extra=[self._key])}",
            fix="send again in a moment",
        )


def _is_connect_timeout(error: Exception) -> bool:
    import httpx

    return isinstance(error.__cause__, httpx.ConnectTimeout)


def create(spec: BrainSpec, context: BrainContext) -> OpenAICompatBrain:
    require("openai", "openai", "httpx", extra="openai")
    options = dict(spec.options)
    check_options("openai", options, OPTIONS)
    options.update(sampling_options("openai", options))
    options["base_url"] = option_text("openai", options, "base_url")
    model = option_text("openai", options, "model")
    options.pop("model", None)
    if not model:
        raise BrainError(
            f"brain '{spec.name}' needs a `model` option",
            fix="e.g. model: gpt-4o-mini, or a fine-tuned ft:gpt-4o-mini-2024-07-18:org::id",
        )
    return OpenAICompatBrain(name=spec.name, model=str(model), persona=context.persona, **options)


KIND = BrainKind(
    summary="any OpenAI-compatible chat model, including ft: fine-tunes",
    requires=("openai", "httpx"),
    extra="openai",
    options=(
        Option("model", "text", "the model name, e.g. gpt-4o-mini (required)"),
        Option("base_url", "text", "an OpenAI-compatible endpoint (default: OpenAI's)"),
        Option("temperature", "number", "sampling temperature (0.7)"),
        Option("max_tokens", "integer", "longest reply in tokens (150)"),
        Option("timeout", "number", "seconds to wait (30)"),
        Option("max_retries", "integer", "retries after a failed request (2)"),
    ),
)
