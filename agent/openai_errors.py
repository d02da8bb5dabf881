"""What an OpenAI-compatible server said when it refused a request.

Shared by the ``openai`` brain (:mod:`agent.brains.openai_compat`) and the OpenAI fine-tuning
trainer (:mod:`trainers.openai_jobs`). It imports nothing from ``openai``: it reads the
exception's attributes, so it works on any SDK exception (and on a fake in a test).
"""

from __future__ import annotations

from typing import Any

NO_REASON = "no reason given"


def server_message(error: Any) -> str:
    """The server's own words from an ``openai`` SDK exception, unredacted.

    OpenAI sends ``{"error": {"message": ...}}``; the SDK keeps the inner object as ``body``
    (some servers send ``{"message": ...}`` or ``{"error": "...", "message": ...}``). Falls back
    to the exception's ``message``, then to ``"no reason given"``. Redact the result before
    showing it (:func:`agent.secrets.redact_secrets`): servers quote keys, even masked ones.
    """
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if body.get("message"):
            return str(body["message"])
    return str(getattr(error, "message", None) or NO_REASON)
