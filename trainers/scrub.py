"""Scrubbing secrets and personal data out of training text.

Every text that goes into a dataset passes through :class:`Scrubber` first. It replaces, with
``[redacted]``:

- the actual values of API keys utta knows about (its keys file and every ``*_API_KEY``
  environment variable) and strings shaped like API keys (``sk-...``, ``sk-proj-...``,
  ``Bearer ...``, Hugging Face, GitHub and AWS tokens): the rules of :mod:`agent.secrets`, which
  the store applies when it writes. They are applied again here because a database logged
  before the store redacted, or a key added since, must not reach a training file;
- e-mail addresses and phone numbers;
- whatever extra regular expressions the caller passes (``--pii-pattern`` on the command line).

Phone numbers need a 3-3-4 digit grouping or a leading ``+``: a child counting
"10 20 30 40 50" or writing "1005" must not be redacted. Counts per kind are kept for the
dataset manifest.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from agent.secrets import KEY_PATTERNS, REDACTED, known_secrets

__all__ = ["REDACTED", "Scrubber", "compile_patterns", "known_secrets"]

_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_PHONE = (
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,4}){1,4}"  # +44 20 7946 0958
    r"|(?:1[\s.-])?(?:\(\d{3}\)\s?|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}"  # (555) 123-4567, 5551234567
    r")(?!\w)"
)


def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    """Compile user patterns; :class:`ValueError` names the one that is not a valid regex."""
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as error:
            message = f"--pii-pattern {pattern!r} is not a valid regular expression: {error}"
            raise ValueError(message) from None
    return compiled


class Scrubber:
    """Replaces secrets and personal data with ``[redacted]`` and counts what it replaced."""

    def __init__(
        self, pii_patterns: Sequence[str] = (), *, secrets: Sequence[str] | None = None
    ) -> None:
        self.pii_patterns = list(pii_patterns)
        secret_values = known_secrets() if secrets is None else list(secrets)
        self._rules: list[tuple[str, re.Pattern[str]]] = []
        if secret_values:
            alternation = "|".join(re.escape(v) for v in sorted(secret_values, key=len)[::-1])
            self._rules.append(("known_key", re.compile(alternation)))
        self._rules += [("api_key", re.compile(p)) for p in KEY_PATTERNS]
        self._rules.append(("email", re.compile(_EMAIL)))
        self._rules.append(("phone", re.compile(_PHONE)))
        self._rules += [("custom", p) for p in compile_patterns(self.pii_patterns)]
        self.counts: Counter[str] = Counter()

    def __call__(self, text: str) -> str:
        return self.scrub(text)

    def scrub(self, text: str) -> str:
        for kind, pattern in self._rules:
            text, replaced = pattern.subn(REDACTED, text)
            if replaced:
                self.counts[kind] += replaced
        return text

    def summary(self) -> dict[str, int]:
        """Replacements by kind (every kind listed, zero included) and a ``total``."""
        kinds = ["known_key", "api_key", "email", "phone", "custom"]
        summary = {kind: self.counts.get(kind, 0) for kind in kinds}
        summary["total"] = sum(summary.values())
        return summary
