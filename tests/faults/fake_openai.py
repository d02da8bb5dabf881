"""A FAKE OpenAI-compatible server that misbehaves on purpose, on a real local HTTP socket.

OpenAI is a paid cloud API, so the fault tests talk to this instead. It follows the documented
shapes: ``POST /v1/chat/completions`` with ``stream: true`` answers ``text/event-stream`` with
``chat.completion.chunk`` events (the last content chunk carries ``finish_reason``, then a usage
chunk when ``stream_options.include_usage`` is set, then ``data: [DONE]``), sent with chunked
transfer encoding; errors are ``{"error": {"message", "type", "param", "code"}}``; ``GET
/v1/models`` lists ``{"object": "list", "data": [{"id", "object": "model", ...}]}``.

A request without ``stream`` (a health check's one-token request of the persona's size) gets a
plain ``chat.completion`` object; the stream faults below (stall, half, abort) are faults of a
streamed reply, while hang and the errors apply to every request.

``FaultyServer.behaviour`` picks what the next requests get:

- ``"ok"``: a complete reply of :attr:`FaultyServer.pieces`.
- ``"error500"``: HTTP 500 with an error body.
- ``"error400"``: HTTP 400 whose message is :attr:`FaultyServer.error_message`.
- ``"hang"``: accept the request, then say nothing until the server stops.
- ``"stall"``: stream the first pieces, then say nothing until the server stops.
- ``"half"``: stream the first pieces and end the body cleanly, with no ``finish_reason`` and no
  ``[DONE]``: a stream cut off by a proxy or a crashed worker.
- ``"abort"``: stream the first pieces, then close the socket in the middle of the chunked body.

It runs in a thread of the test process: the client under test is the real openai SDK over httpx
over a real TCP connection.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "fake-model"


def _chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


def _event(payload: dict[str, Any] | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return f"data: {data}\n\n".encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    # --- plumbing ---------------------------------------------------------------------------

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _send_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _wait_for_stop(self) -> None:
        self.server.owner.stopping.wait()

    # --- routes -----------------------------------------------------------------------------

    def do_GET(self) -> None:
        owner = self.server.owner
        if self.path.rstrip("/").endswith("/models"):
            data = [{"id": name, "object": "model", "owned_by": "fake"} for name in owner.models]
            self._json(200, {"object": "list", "data": data})
            return
        self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with owner.lock:
            owner.requests.append(body)
        behaviour = owner.behaviour
        if behaviour == "hang":
            self._wait_for_stop()
            self.close_connection = True
            return
        if behaviour == "error500":
            self._json(500, {"error": {"message": "boom", "type": "server_error", "code": None}})
            return
        if behaviour == "error400":
            error = {"message": owner.error_message, "type": "invalid_request_error", "code": None}
            self._json(400, {"error": error})
            return
        pieces = owner.pieces
        if not body.get("stream"):  # e.g. a health check's one-token request of the persona's size
            message = {"role": "assistant", "content": pieces[0] if pieces else ""}
            choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "length"}
            usage = {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}
            self._json(200, {**_chunk({}), "object": "chat.completion", "choices": [choice],
                             "usage": usage})  # fmt: skip
            return
        sent = pieces if behaviour == "ok" else pieces[: owner.sent_before_fault]
        self._start_stream()
        self._send_chunk(_event(_chunk({"role": "assistant", "content": ""})))
        for piece in sent:
            self._send_chunk(_event(_chunk({"content": piece})))
        if behaviour == "ok":
            self._send_chunk(_event(_chunk({}, "stop")))
            usage = {"prompt_tokens": 10, "completion_tokens": len(sent), "total_tokens": 10}
            self._send_chunk(_event({**_chunk({}), "choices": [], "usage": usage}))
            self._send_chunk(_event("[DONE]"))
            self._end_chunks()
        elif behaviour == "half":
            self._end_chunks()  # a well-formed body that simply stops: no finish_reason, no [DONE]
        elif behaviour == "stall":
            self._wait_for_stop()
            self.close_connection = True
        elif behaviour == "abort":
            self.wfile.write(b"40\r\nthis chunk says 64 bytes but the connection dies")
            self.wfile.flush()
            self.close_connection = True
        else:  # pragma: no cover - a typo in a test
            raise ValueError(f"unknown behaviour {behaviour!r}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FaultyServer


class FaultyServer:
    """``with FaultyServer() as server:`` serves on 127.0.0.1 at :attr:`base_url` until exit."""

    def __init__(self) -> None:
        self.behaviour = "ok"
        self.pieces = ["um ", "i ", "thin", "k ", "25?"]
        self.sent_before_fault = 3
        self.error_message = "bad request"
        self.models = [MODEL]
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def full_reply(self) -> str:
        return "".join(self.pieces)

    def __enter__(self) -> FaultyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()  # release hung handlers
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
