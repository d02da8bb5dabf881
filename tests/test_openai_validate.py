"""The OpenAI cookbook's checks of a chat fine-tuning file, token counts and the cost estimate
(:mod:`trainers.openai_validate`), on the files in tests/data/openai. No server: the command
that runs them before uploading is tested in tests/test_openai_trainer.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainers.openai_validate import (
    approximate_counter,
    default_epochs,
    estimate_cost,
    price_per_million,
    validate_file,
)

DATA = Path(__file__).parent / "data" / "openai"
MODEL = "gpt-4o-mini-2024-07-18"


def test_every_cookbook_error_class_is_reported_with_its_line() -> None:
    report = validate_file(DATA / "cookbook_errors.jsonl", counter=approximate_counter())
    found = [str(problem) for problem in report.errors]
    assert found[0].startswith("cookbook_errors.jsonl:2: invalid JSON (")
    assert found[1:] == [
        "cookbook_errors.jsonl:3: not a JSON object (got list)",
        'cookbook_errors.jsonl:4: missing "messages"',
        "cookbook_errors.jsonl:5: message 1 is missing 'role'",
        "cookbook_errors.jsonl:6: message 2 is missing 'content'",
        "cookbook_errors.jsonl:7: message 2 has unrecognized role 'teacher' "
        "(use system, user, assistant)",
        "cookbook_errors.jsonl:8: message 1 has unrecognized key 'speaker'",
        "cookbook_errors.jsonl:9: message 1 content is not a string (got list)",
        "cookbook_errors.jsonl:10: message 2 content is empty",
        "cookbook_errors.jsonl:11: no assistant message",
    ]
    assert report.good_lines == [1, 12]
    assert not report.ok


def test_token_counts_limit_and_cost_estimate() -> None:
    counter = approximate_counter()
    report = validate_file(DATA / "train.jsonl", counter=counter, max_tokens_per_example=50)
    assert report.ok and report.examples == 12
    assert "approximate (4 characters per token)" in report.counter_method
    assert report.over_limit == sum(1 for n in report.tokens if n > 50) > 0
    assert [p.line for p in report.warnings] == [
        i + 1 for i, n in enumerate(report.tokens) if n > 50
    ]
    assert "over the 50-token limit" in str(report.warnings[0])
    assert report.billed_tokens_per_epoch == sum(min(50, n) for n in report.tokens)
    assert f"max {max(report.tokens):,}" in report.summary()

    estimate = estimate_cost(report, MODEL, epochs=2, price_override=10.0)
    assert estimate.billed_tokens == 2 * report.billed_tokens_per_epoch
    assert estimate.cost == pytest.approx(estimate.billed_tokens / 1e6 * 10.0)
    assert "--price-per-million" in estimate.describe()
    assert estimate_cost(report, "some-other-model").cost is None
    assert default_epochs(12) == 8  # the cookbook: at least 100 examples seen in all
    assert default_epochs(100) == 3
    assert price_per_million(f"ft:{MODEL}:org::abc") == price_per_million(MODEL) is not None
    assert price_per_million("gpt-4o-2024-08-06") != price_per_million(MODEL)
