"""Keeping API keys out of everything utta writes or sends to a model.

A trainee may paste a key into the chat or a feedback note. :func:`redact_secrets` replaces the
values of keys utta knows (its keys file and every ``*_API_KEY`` variable) and strings shaped like
API keys with ``[redacted]``. The agent applies it to every teacher message before a brain sees
it, and the transcript store to every text before it is written. The OpenAI brain and the OpenAI
fine-tuning trainer apply it to every server message they show, passing their client's key as an
``extra`` secret; it also removes the masked keys (``sk-abc***wxyz``) such messages quote.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from agent.brain import BrainError

REDACTED = "[redacted]"
# A "key" shorter than this (a test's "x") would redact ordinary words.
MIN_SECRET_LENGTH = 8

KEY_PATTERNS = (
    # A key as error messages quote it, partly masked: "sk-proj-ab***wxyz", "sk-abc*****". First,
    # so the unmasked shape below cannot take the head and leave the tail.
    r"\b(?:sk|key)-[A-Za-z0-9_-]*\*[A-Za-z0-9_*-]*",
    r"\bsk-(?:proj-)?[A-Za-z0-9_-]{16,}",
    r"\bkey-[A-Za-z0-9]{16,}",
    r"\bBearer\s+[A-Za-z0-9._~+/=-]{8,}",
    r"\bhf_[A-Za-z0-9]{20,}",
    r"\bgh[pousr]_[A-Za-z0-9]{20,}",
    r"\bAKIA[0-9A-Z]{16}\b",
)
_KEY_SHAPES = re.compile("|".join(KEY_PATTERNS))


def known_secrets() -> list[str]:
    """Values of the keys utta knows, longest first (so a key containing another goes first)."""
    values: set[str] = {v for name, v in os.environ.items() if name.endswith("_API_KEY")}
    try:
        from agent.keys import load_keys

        values.update(load_keys().values())
    except BrainError:  # an unreadable keys file must not stop a chat
        pass
    cleaned = {v.strip() for v in values if len(v.strip()) >= MIN_SECRET_LENGTH}
    return sorted(cleaned, key=len, reverse=True)


def redact_secrets(
    text: str, secrets: list[str] | None = None, *, extra: Iterable[str | None] = ()
) -> str:
    """``text`` with key values and key-shaped strings replaced by ``[redacted]``.

    The values are ``secrets`` if given, else :func:`known_secrets`; plus ``extra`` (e.g. the key
    a client was built with, which may come from neither). ``None`` and values shorter than
    :data:`MIN_SECRET_LENGTH` in ``extra`` are ignored.
    """
    values = set(known_secrets() if secrets is None else secrets)
    values.update(v.strip() for v in extra if v and len(v.strip()) >= MIN_SECRET_LENGTH)
    for secret in sorted(values, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _KEY_SHAPES.sub(REDACTED, text)
