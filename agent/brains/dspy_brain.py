"""The DSPy brain: the student's reply as a DSPy program, optimizable and saved as JSON.

The program is one ``dspy.Predict`` over the :func:`student_reply_signature` (persona, student
state, conversation history, teacher message -> student reply). No chain of thought: a
seven-year-old does not reason aloud. Without a saved program it is a zero-shot brain; a trainer
compiles :func:`build_program` (e.g. with ``BootstrapFewShot``) and writes it with
:func:`save_program`, and the brain loads that JSON (never a pickle).

Spec options (``kind: dspy``):

- ``lm`` (required): the language model, see :mod:`agent.brains.dspy_lm`, e.g.
  ``{kind: vllm, base_url: http://localhost:8000/v1, adapter: maya-a}``.
- ``program``: path to a saved program JSON.
- ``temperature``, ``max_tokens`` (default 120): passed to the LM.
- ``prompt_format``: ``fields`` (default; DSPy's ``[[ ## field ## ]]`` chat format, for general
  instruction models) or ``chat`` (persona + state as the system prompt, then plain teacher /
  student turns: what the project's fine-tuned adapters were trained on, and short enough for
  small context windows). Either way a reply without field markers is taken as plain text.

Each call runs under ``dspy.context(lm=...)``, never a global ``dspy.configure``, so two DSPy
brains can live side by side. dspy is imported inside functions only; :class:`StudentProgram`
and :class:`StudentReply` are built on first access.
"""

# No `from __future__ import annotations` here: DSPy reads the signature's field types at
# class creation, and string annotations would reach it as unresolved forward references.

import asyncio
import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.brain import Brain, BrainError, BrainRequest, Health, Usage
from agent.brains.dspy_lm import DEFAULT_MAX_TOKENS, build_lm
from agent.prompt import persona_prompt
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

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

OPTIONS = ("lm", "program", "temperature", "max_tokens", "prompt_format")
PROMPT_FORMATS = ("fields", "chat")
PROBE_TIMEOUT_S = 30.0
_MARKER = re.compile(r"\[\[\s*##\s*(\w+)\s*##\s*\]\]")
_LABEL = re.compile(r"^\s*(?:student_reply|student|reply)\s*:\s*", re.IGNORECASE)


@cache
def _program_classes() -> tuple[type, type]:
    import dspy

    class StudentReply(dspy.Signature):
        """Reply as the second-grade child described in `persona`, chatting with a teacher.

        Stay in character: the child's words, spelling and feelings, and the beliefs in
        `student_state`, including the wrong ones; when it gives the child's answer to the
        teacher's question, say that answer. Answer only the teacher's latest message, briefly,
        the way a seven-year-old types. Never explain like a teacher or an assistant.
        """

        persona: str = dspy.InputField(desc="who the child is, how they talk, what they believe")
        student_state: str = dspy.InputField(
            desc="how the child feels and believes right now, and what it would answer and why"
        )
        history: dspy.History = dspy.InputField(desc="the conversation so far")
        teacher_message: str = dspy.InputField(desc="what the teacher just wrote")
        student_reply: str = dspy.OutputField(desc="what the child types back")

    class StudentProgram(dspy.Module):
        """One prediction of the child's next message."""

        def __init__(self) -> None:
            super().__init__()
            self.reply = dspy.Predict(StudentReply)

        def forward(
            self, persona: str, student_state: str, history: Any, teacher_message: str
        ) -> Any:
            return self.reply(
                persona=persona,
                student_state=student_state,
                history=history,
                teacher_message=teacher_message,
            )

    for cls in (StudentReply, StudentProgram):
        cls.__module__, cls.__qualname__ = __name__, cls.__name__
    return StudentReply, StudentProgram


@cache
def _chat_turn_adapter_class() -> type:
    import dspy

    class ChatTurnAdapter(dspy.Adapter):
        """Plain chat turns, the format the project's fine-tuned models were trained on.

        System: persona + student state (as :meth:`BrainRequest.as_chat_messages` writes it);
        then demos and history as teacher (user) / student (assistant) turns; then the
        teacher's message. The whole completion is the reply. Signature instructions are not
        sent: this format is for models that learned the child's voice from their data.
        """

        def format(self, signature: Any, demos: list, inputs: dict) -> list[dict[str, Any]]:
            system = f"{inputs['persona']}\n{inputs['student_state']}"
            messages = [{"role": "system", "content": system}]
            turns = [d for d in demos if d.get("teacher_message") and d.get("student_reply")]
            history = inputs.get("history")
            turns += list(history.messages) if history is not None else []
            for turn in turns:
                messages.append({"role": "user", "content": str(turn["teacher_message"])})
                messages.append({"role": "assistant", "content": str(turn["student_reply"])})
            messages.append({"role": "user", "content": str(inputs["teacher_message"])})
            return messages

        def parse(self, signature: Any, completion: str) -> dict[str, Any]:
            return {"student_reply": clean_reply(completion)}

    ChatTurnAdapter.__module__, ChatTurnAdapter.__qualname__ = __name__, "ChatTurnAdapter"
    return ChatTurnAdapter


def make_adapter(prompt_format: str) -> Any:
    """The DSPy adapter for ``prompt_format``: ``"fields"`` (DSPy's field markers) or ``"chat"``.

    ``fields`` retries nothing on a reply without markers: the brain takes the raw text instead.
    """
    import dspy

    if prompt_format == "chat":
        return _chat_turn_adapter_class()()
    if prompt_format == "fields":
        return dspy.ChatAdapter(use_json_adapter_fallback=False)
    raise BrainError(
        f"unknown prompt_format {prompt_format!r}",
        fix=f"set prompt_format to one of: {', '.join(PROMPT_FORMATS)}",
    )


def __getattr__(name: str) -> Any:
    """``StudentReply`` and ``StudentProgram`` are built (and dspy imported) on first access."""
    if name in ("StudentReply", "StudentProgram"):
        reply, program = _program_classes()
        return reply if name == "StudentReply" else program
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def student_reply_signature() -> type:
    """The ``dspy.Signature`` StudentReply."""
    return _program_classes()[0]


def build_program() -> Any:
    """A fresh, unoptimized StudentProgram (a zero-shot brain until compiled)."""
    return _program_classes()[1]()


def save_program(program: Any, path: str | Path) -> Path:
    """Write the program's state (instructions, demos) as JSON; return the path written."""
    path = Path(path)
    if path.suffix != ".json":
        raise ValueError(f"save programs as .json, not {path.suffix or 'no suffix'}: {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    program.save(str(path))
    return path


def load_program(path: str | Path) -> Any:
    """A StudentProgram with the state saved at ``path``; :class:`BrainError` if it cannot."""
    path = Path(path).expanduser()
    fix = "train one with the DSPy trainer, or remove `program` for a zero-shot brain"
    if not path.is_file():
        raise BrainError(f"DSPy program file not found: {path}", fix=fix)
    if path.suffix != ".json":
        raise BrainError(
            f"DSPy program {path} is not a .json file",
            fix="save programs with save_program(program, 'name.json'); pickles are never loaded",
        )
    program = build_program()
    try:
        program.load(str(path))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BrainError(f"cannot load the DSPy program {path}: {error}", fix=fix) from error
    _restore_histories(program)
    return program


def _restore_histories(program: Any) -> None:
    """Saved demos come back as plain dicts; turn their ``history`` back into ``dspy.History``."""
    import dspy

    for _, predictor in program.named_predictors():
        for demo in predictor.demos:
            value = demo.get("history") if isinstance(demo, dict) else None
            if isinstance(value, dict) and isinstance(value.get("messages"), list):
                demo["history"] = dspy.History(**value)


def to_history(messages: "Sequence[BaseMessage]") -> Any:
    """Teacher/student turns as a ``dspy.History`` of {teacher_message, student_reply} pairs."""
    import dspy

    turns, teacher = [], None
    for message in messages:
        if message.type == "human":
            teacher = str(message.content)
        elif message.type == "ai" and teacher is not None:
            turns.append({"teacher_message": teacher, "student_reply": str(message.content)})
            teacher = None
    return dspy.History(messages=turns)


def program_inputs(request: BrainRequest) -> dict[str, Any]:
    """The StudentProgram's inputs for a brain request (a trainer builds examples the same way)."""
    return {
        "persona": persona_prompt(request.persona),  # as in the dspy training rows
        "student_state": request.state.describe(request.persona),
        "history": to_history(request.history),
        "teacher_message": request.message,
    }


def clean_reply(text: str) -> str:
    """The reply without DSPy field markers, JSON wrapping or a 'student_reply:' label."""
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("student_reply"), str):
            text = data["student_reply"]
    markers = list(_MARKER.finditer(text))
    for marker in markers:
        if marker.group(1) == "student_reply":
            text = text[marker.end() :]
            break
    if (after := _MARKER.search(text)) is not None:
        text = text[: after.start()]
    return _LABEL.sub("", text).strip()


def _usage(calls: Sequence[Mapping[str, Any]]) -> Usage:
    """Token counts summed over LM history entries (one per LM call of a reply)."""
    counts = [entry.get("usage") or {} for entry in calls]
    if not any(counts):
        return Usage()
    return Usage(
        sum(int(c.get("prompt_tokens") or c.get("input_tokens") or 0) for c in counts),
        sum(int(c.get("completion_tokens") or c.get("output_tokens") or 0) for c in counts),
    )


def _brain_error_in(error: BaseException) -> BrainError | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, BrainError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class DSPyBrain(Brain):
    """Answers through a StudentProgram on the configured LM."""

    def __init__(
        self,
        lm: Any,
        *,
        program: str | Path | None = None,
        name: str = "dspy",
        temperature: float | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        prompt_format: str = "fields",
    ) -> None:
        """``lm`` is an lm spec (see :mod:`agent.brains.dspy_lm`) or a ready ``dspy.BaseLM``."""
        spec = dict(lm) if isinstance(lm, Mapping) else {"kind": type(lm).__name__}
        where = f"program {Path(program).name}" if program else "zero-shot program"
        super().__init__(
            id=name,
            name=f"{name} (DSPy)",
            description=f"DSPy {where} on a {spec.get('kind', '?')} language model.",
        )
        self.lm_spec = spec
        self.program_path = Path(program).expanduser() if program else None
        self.temperature = temperature
        self.max_tokens = max_tokens
        if prompt_format not in PROMPT_FORMATS:
            raise BrainError(
                f"unknown prompt_format {prompt_format!r}",
                fix=f"set prompt_format to one of: {', '.join(PROMPT_FORMATS)}",
            )
        self.prompt_format = prompt_format
        self._program: Any = None
        self._lm: Any = None if isinstance(lm, Mapping) else lm
        self._local_model: Any = None

    def _ensure(self) -> None:
        """Build the program and the LM once. Blocking (imports dspy, reads the program)."""
        if self._program is None:
            self._program = (
                load_program(self.program_path) if self.program_path else build_program()
            )
        if self._lm is None:
            self._lm, self._local_model = build_lm(
                self.lm_spec, temperature=self.temperature, max_tokens=self.max_tokens
            )

    @property
    def program(self) -> Any:
        """The StudentProgram (built on first use)."""
        self._ensure()
        return self._program

    def reply(self, request: BrainRequest) -> tuple[str, Usage]:
        """The whole reply to ``request``, with token usage. Blocking: run it in a thread."""
        import dspy
        from dspy.utils.exceptions import AdapterParseError

        self._ensure()
        adapter = make_adapter(self.prompt_format)
        calls_before = len(self._lm.history)
        try:
            with dspy.context(lm=self._lm, adapter=adapter):
                prediction = self._program(**program_inputs(request))
            text = str(prediction.student_reply or "")
        except AdapterParseError as error:
            # Small fine-tuned models often answer in plain text without DSPy's field markers:
            # that text is the child's reply.
            text = str(error.lm_response or "")
        except BrainError:
            raise
        except Exception as error:
            if (inner := _brain_error_in(error)) is not None:
                raise inner from error
            raise BrainError(
                f"the DSPy brain's {self.lm_spec.get('kind')} LM failed: {error}",
                fix="check the lm options (model, base_url) and that the server is running",
            ) from error
        usage = _usage(self._lm.history[calls_before:])
        reply = clean_reply(text)
        if not reply:
            raise BrainError(
                "the DSPy program returned an empty reply",
                fix="try again, or check the program and the LM",
            )
        return reply, usage

    async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        reply, usage = await asyncio.to_thread(self.reply, request)
        self.usage = usage
        words = reply.split(" ")
        for index, word in enumerate(words):
            yield word if index == len(words) - 1 else word + " "
            await asyncio.sleep(0)

    def _probe(self) -> None:
        self._ensure()
        self._lm("Say ok.", max_tokens=1)

    async def health(self) -> Health:
        try:
            await asyncio.wait_for(asyncio.to_thread(self._probe), PROBE_TIMEOUT_S)
        except BrainError as error:
            return Health(ok=False, detail=str(error))
        except TimeoutError:
            return Health(ok=False, detail=f"the LM did not answer within {PROBE_TIMEOUT_S:g} s")
        except Exception as error:  # health must never raise
            inner = _brain_error_in(error)
            detail = str(inner) if inner else f"the {self.lm_spec.get('kind')} LM failed: {error}"
            return Health(ok=False, detail=detail)
        return Health(ok=True, detail=self.description)

    async def aclose(self) -> None:
        if self._local_model is not None:
            await asyncio.to_thread(self._local_model.close)


def create(spec: BrainSpec, context: BrainContext) -> DSPyBrain:
    require("dspy", "dspy", extra="dspy")
    options = spec.options
    check_options("dspy", options, OPTIONS)
    if not isinstance(options.get("lm"), Mapping):
        raise BrainError(
            "the DSPy brain needs an `lm` option",
            fix="e.g. lm: {kind: vllm, base_url: http://localhost:8000/v1, adapter: NAME}",
        )
    max_tokens = option_number(
        "dspy", options, "max_tokens", int, DEFAULT_MAX_TOKENS, positive=True
    )
    return DSPyBrain(
        options["lm"],
        program=option_text("dspy", options, "program"),
        name=spec.name,
        temperature=option_number("dspy", options, "temperature", float, None, example=0.7),
        max_tokens=max_tokens,
        prompt_format=option_text("dspy", options, "prompt_format", "fields") or "fields",
    )


KIND = BrainKind(
    summary="a DSPy program (zero-shot or optimised) over an openai, vllm or local LM",
    requires=("dspy",),
    extra="dspy",
    options=(
        Option("lm", "mapping", 'the LM, e.g. {"kind": "vllm", "adapter": "maya-a"} (required)'),
        Option("program", "text", "a program.json saved by `utta train dspy`"),
        Option("temperature", "number", "sampling temperature"),
        Option("max_tokens", "integer", "longest LM output in tokens"),
        Option("prompt_format", "text", "fields or chat"),
    ),
)
