"""Faults for the chat's tests: a real local OpenAI-compatible HTTP server that misbehaves on
purpose (markup in model names and error bodies, errors instead of replies), and a second
database connection that holds the write lock (a slow database).

It is pytest-httpserver's werkzeug server on a free loopback port, answering the two endpoints a
vllm brain uses (``GET /v1/models``, ``POST /v1/chat/completions``) in the shapes the OpenAI API
documents, so the brain, its SDK client and the chat run unchanged against it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Response

from transcripts.store import Store


class FaultServer:
    def __init__(self, server: HTTPServer) -> None:
        self.server = server

    @property
    def base_url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def serve_models(self, *names: str) -> None:
        """``/v1/models`` lists ``names`` (the first as the base model)."""
        data = [
            {"id": name, "object": "model", "owned_by": "vllm", "parent": None if i == 0 else "b"}
            for i, name in enumerate(names)
        ]
        self.server.expect_request("/v1/models", method="GET").respond_with_json(
            {"object": "list", "data": data}
        )

    def pass_size_check(self) -> None:
        """The next chat completion (the brain's non-streaming health check of the persona's
        size) is answered with one token, as vLLM does; later ones fall through to the others."""
        body = {
            "id": "c0", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "length",
                         "message": {"role": "assistant", "content": "um"}}],
            "usage": {"prompt_tokens": 300, "completion_tokens": 1, "total_tokens": 301},
        }  # fmt: skip
        self.server.expect_oneshot_request(
            "/v1/chat/completions", method="POST"
        ).respond_with_json(body)

    def fail_chat(self, status: int, message: str) -> None:
        """Every chat completion is refused with ``status`` and OpenAI's error body."""
        body = {"error": {"message": message, "type": "invalid_request_error", "code": None}}
        self.server.expect_request("/v1/chat/completions", method="POST").respond_with_json(
            body, status=status
        )

    def answer_chat(self, reply: str) -> None:
        """Every chat completion streams ``reply`` word by word and finishes properly."""

        def chunk(delta: dict, finish: str | None) -> str:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            body = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m"}
            return "data: " + json.dumps({**body, "choices": [choice]}) + "\n\n"

        words = reply.split(" ")
        events = [chunk({"role": "assistant", "content": ""}, None)]
        events += [
            chunk({"content": w + (" " if i < len(words) - 1 else "")}, None)
            for i, w in enumerate(words)
        ]
        events += [chunk({}, "stop"), "data: [DONE]\n\n"]
        self.server.expect_request("/v1/chat/completions", method="POST").respond_with_response(
            Response("".join(events), content_type="text/event-stream")
        )

    def save_brain(self, store: Store, name: str, model: str, persona_id: str) -> None:
        """A vllm brain on this server answering as ``model``."""
        store.save_brain(name, "vllm", {"base_url": self.base_url, "base": model}, persona_id)


@contextmanager
def fault_server() -> Iterator[FaultServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield FaultServer(server)
    finally:
        server.clear()
        server.stop()


class WriteLock:
    """Another connection (as a second chat would) holding the database's write lock."""

    def __init__(self, db: Path) -> None:
        self.db, self.taken, self.release = db, threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        connection = sqlite3.connect(self.db)
        connection.execute("BEGIN IMMEDIATE")
        self.taken.set()
        self.release.wait(30)
        connection.rollback()
        connection.close()

    def __enter__(self) -> WriteLock:
        self.thread.start()
        self.taken.wait(10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        self.thread.join(10)
