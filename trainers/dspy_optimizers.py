"""The DSPy side of :mod:`trainers.dspy_trainer`: examples, metrics, adapter and optimizers.

Each optimizer gets the authenticity metric of :mod:`trainers.metric`:

=================  ===============================================================================
``bootstrap``      ``dspy.BootstrapFewShot``: replies the LM writes for training rows become demos
                   when their authenticity reaches the threshold; logged replies fill the rest
``random-search``  ``dspy.BootstrapFewShotWithRandomSearch``: several such demo sets, the best on
                   the validation rows wins
``mipro``          ``dspy.MIPROv2`` (``auto`` budget): demo sets and proposed instructions,
                   searched with optuna
``gepa``           ``dspy.GEPA``: instructions rewritten by a reflection LM that reads the metric's
                   reasons (:func:`feedback_metric`)
=================  ===============================================================================

dspy is imported inside functions only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from personas.schema import Persona
    from trainers.datasets import Dataset
    from trainers.dspy_trainer import DSPyTrainingConfig


@dataclass(frozen=True)
class Evaluation:
    """Mean authenticity of the program's replies to ``n`` rows; failed calls score 0."""

    mean: float | None
    n: int
    errors: int = 0
    first_error: str | None = None

    def __str__(self) -> str:
        if self.mean is None:
            return "not measured (no rows)"
        failed = f", {self.errors} failed ({self.first_error})" if self.errors else ""
        return f"{self.mean:.3f} over {self.n} rows{failed}"


def to_examples(rows: Sequence[dict[str, Any]], dataset: Dataset) -> list[Any]:
    """Dataset rows as ``dspy.Example`` objects whose inputs are the program's input fields."""
    import dspy

    from agent.brains.dspy_brain import student_reply_signature
    from trainers.manifest import dspy_row

    inputs = list(student_reply_signature().input_fields)
    examples = []
    for row in rows:
        data = dspy_row(row, dataset)
        data["history"] = dspy.History(messages=data["history"])
        examples.append(dspy.Example(**data).with_inputs(*inputs))
    return examples


def feedback_metric(persona: Persona) -> Callable[..., Any]:
    """GEPA's metric: the authenticity score with the components' reasons as feedback."""
    import dspy

    from trainers.metric import score_example

    def metric(
        gold: Any, pred: Any, trace: Any = None, pred_name: Any = None, pred_trace: Any = None
    ) -> Any:
        score = score_example(gold, str(getattr(pred, "student_reply", "") or ""), persona)
        lost = "; ".join(score.reasons) or "nothing: the reply reads like the child"
        feedback = (
            f"Authenticity {score.total:.2f} of 1. Points lost: {lost}. The child's reply logged "
            f"for this turn (after any trainee rewrite): {gold.get('student_reply')!r}"
        )
        return dspy.Prediction(score=score.total, feedback=feedback)

    return metric


# --- running the program ------------------------------------------------------------------------


def training_adapter(prompt_format: str) -> Any:
    """The student's adapter; under ``chat``, other signatures (an optimizer's own) get DSPy's
    ChatAdapter, since the chat turns only fit the student's fields."""
    import dspy

    from agent.brains.dspy_brain import make_adapter

    student = make_adapter(prompt_format)
    if prompt_format != "chat":
        return student

    class RoutingAdapter(dspy.Adapter):
        def __init__(self) -> None:
            super().__init__()
            self.other = dspy.ChatAdapter()

        def pick(self, signature: Any) -> Any:
            mine = "teacher_message" in signature.input_fields
            return (
                student
                if mine and list(signature.output_fields) == ["student_reply"]
                else self.other
            )

        def __call__(self, lm: Any, lm_kwargs: Any, signature: Any, demos: Any, inputs: Any) -> Any:
            return self.pick(signature)(lm, lm_kwargs, signature, demos, inputs)

        async def acall(
            self, lm: Any, lm_kwargs: Any, signature: Any, demos: Any, inputs: Any
        ) -> Any:
            return await self.pick(signature).acall(lm, lm_kwargs, signature, demos, inputs)

        def format(self, signature: Any, demos: Any, inputs: Any) -> Any:
            return self.pick(signature).format(signature, demos, inputs)

        def parse(self, signature: Any, completion: str) -> Any:
            return self.pick(signature).parse(signature, completion)

    return RoutingAdapter()


def evaluate(program: Any, examples: Sequence[Any], persona: Persona) -> Evaluation:
    """Mean authenticity of the program's replies, taken as the DSPy brain takes them (plain
    text without field markers counts as the reply). Run it inside ``dspy.context``."""
    from dspy.utils.exceptions import AdapterParseError

    from agent.brains.dspy_brain import clean_reply
    from trainers.metric import dspy_metric

    metric = dspy_metric(persona)
    scores, errors, first = [], 0, None
    for example in examples:
        try:
            text = str(program(**example.inputs()).student_reply or "")
        except AdapterParseError as error:
            text = str(error.lm_response or "")
        except Exception as error:
            errors, first, text = errors + 1, first or f"{type(error).__name__}: {error}", ""
        scores.append(metric(example, {"student_reply": clean_reply(text)}) if text else 0.0)
    mean = round(sum(scores) / len(scores), 4) if scores else None
    return Evaluation(mean, len(scores), errors, first)


def make_optimizer(config: DSPyTrainingConfig, persona: Persona, lm: Any, reflection: Any) -> Any:
    """The DSPy optimizer ``config.optimizer`` names, with the authenticity metric."""
    import dspy

    from trainers.metric import dspy_metric

    metric = dspy_metric(persona)
    demos = {
        "max_bootstrapped_demos": config.max_demos,
        "max_labeled_demos": config.max_labeled_demos,
    }
    if config.optimizer == "bootstrap":
        return dspy.BootstrapFewShot(metric=metric, metric_threshold=config.threshold, **demos)
    if config.optimizer == "random-search":
        return dspy.BootstrapFewShotWithRandomSearch(
            metric=metric,
            metric_threshold=config.threshold,
            num_candidate_programs=config.num_candidates,
            num_threads=config.threads,
            **demos,
        )
    if config.optimizer == "mipro":
        from trainers.dspy_trainer import DSPyTrainingError

        try:
            import optuna  # noqa: F401  (MIPROv2 imports it only after bootstrapping)
        except ImportError:
            raise DSPyTrainingError(
                "the mipro optimizer needs optuna", fix="pip install 'dspy[optuna]'"
            ) from None
        return dspy.MIPROv2(
            metric=metric,
            prompt_model=reflection,
            task_model=lm,
            auto=config.auto,
            num_threads=config.threads,
            seed=config.seed,
            metric_threshold=config.threshold,
            **demos,
        )
    budget = (
        {"auto": config.auto}
        if config.max_metric_calls is None
        else {"max_metric_calls": config.max_metric_calls}
    )
    return dspy.GEPA(
        metric=feedback_metric(persona),
        reflection_lm=reflection,
        num_threads=config.threads,
        seed=config.seed,
        **budget,
    )


def compile_program(
    optimizer: Any, config: DSPyTrainingConfig, train: list[Any], val: list[Any]
) -> Any:
    from agent.brains.dspy_brain import build_program

    if config.optimizer == "bootstrap":
        return optimizer.compile(build_program(), trainset=train)
    return optimizer.compile(build_program(), trainset=train, valset=val or None)
