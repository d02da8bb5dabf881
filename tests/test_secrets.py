"""A recognisable API key must reach no file a session produces: database, logs, exports.

The cloud brain talks to a local FAKE of OpenAI's chat-completions API (see
tests/test_openai_brain.py for why and how it follows the documented shapes); the key really is
sent to it as a bearer token, so the test proves the key was in use, not merely absent.
"""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from agent.brain import BrainError
from agent.brains.offline import OfflineBrain
from agent.student import StudentAgent
from personas.loader import PersonaLibrary
from tests.test_openai_brain import CHAT, FT_MODEL, cloud_brain, error_body, sse
from transcripts.recorder import SessionRecorder
from transcripts.store import Store
from tui.cli import main

KEY = "sk-proj-UTTA-LEAK-CANARY-0123456789abcdef"


def files_under(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*") if p.is_file()]


async def test_the_key_is_used_but_lands_in_no_file_log_or_export(
    httpserver: HTTPServer, utta_home: Path, tmp_path: Path, monkeypatch, caplog, capsys
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(KEY + "\n"))
    assert main(["keys", "set", "openai"]) == 0
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    caplog.set_level(logging.DEBUG)  # whatever the libraries log, at their most verbose

    seen_auth: list[str] = []
    replies = iter([["i ", "dont ", "no"], ["35"], None])

    def answer(request: Request) -> Response:
        seen_auth.append(request.headers.get("Authorization", ""))
        pieces = next(replies)
        if pieces is None:  # the key is revoked mid-session
            body = error_body(
                f"Incorrect API key provided: {KEY[:8]}***",
                "invalid_request_error",
                "invalid_api_key",
            )
            return Response(
                __import__("json").dumps(body), status=401, content_type="application/json"
            )
        return Response(sse(FT_MODEL, pieces), content_type="text/event-stream")

    httpserver.expect_request(CHAT, method="POST").respond_with_handler(answer)
    maya = PersonaLibrary().get("maya")
    brain, _ = cloud_brain(httpserver)
    store = Store()
    recorder = SessionRecorder.start(store, "maya", "kim", brain.id)
    agent = StudentAgent(maya, brain, recorder=recorder)
    await agent.reply("What is 52 - 27?")
    await agent.reply(f"my key is {KEY}, can you keep it?")  # a trainee pastes it into the chat
    with pytest.raises(BrainError) as failure:
        await agent.reply("What is 43 - 18?")
    assert KEY not in str(failure.value)
    await agent.swap(OfflineBrain(maya))
    await agent.reply("What is 43 - 18?")
    student_turn = next(t for t in store.turns(recorder.session_id) if t.role == "student")
    store.add_feedback(student_turn.id, rating=2, note=f"oops I pasted {KEY}")
    recorder.end()
    assert "my key is [redacted]" in store.turns(recorder.session_id)[2].text
    assert seen_auth[:2] == [f"Bearer {KEY}"] * 2  # the key was really in use

    exports = tmp_path / "exports"
    exports.mkdir()
    session = str(recorder.session_id)
    assert main(["sessions", "export", session, "-o", str(exports / "s.jsonl")]) == 0
    for fmt in ("openai", "hf", "dspy"):
        assert (
            main(
                [
                    "sessions",
                    "export",
                    "--persona",
                    "maya",
                    "--format",
                    fmt,
                    "-o",
                    str(exports / fmt),
                ]
            )
            == 0
        )
    assert main(["sessions", "show", session]) == 0
    store.close()

    produced = [p for p in files_under(utta_home, exports) if p.name != "keys.json"]
    assert any(p.suffix == ".db" for p in produced) and len(produced) >= 8
    leaks = [str(p) for p in produced if KEY.encode() in p.read_bytes()]
    assert leaks == []
    assert KEY not in caplog.text
    out = capsys.readouterr()
    assert KEY not in out.out and KEY not in out.err


def test_brain_specs_lineage_and_swap_reasons_are_stored_redacted(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    store.save_brain("b", "openai", {"model": "m", "api_key": KEY}, "maya", {"note": f"k={KEY}"})
    session_id = store.start_session("maya", "kim", "offline")
    store.record_swap(session_id, "offline", "b", False, f"server said: bad key {KEY}")
    row = store.brain("b")
    assert row.spec["api_key"] == "[redacted]" and row.lineage == {"note": "k=[redacted]"}
    assert "[redacted]" in store.swaps(session_id)[0].reason
    store.close()
    assert all(KEY.encode() not in p.read_bytes() for p in files_under(tmp_path))


def test_masked_keys_and_a_clients_own_key_are_redacted() -> None:
    from agent.secrets import redact_secrets

    quoted = f"Incorrect API key provided: {KEY[:8]}***{KEY[-4:]}. Or sk-abc***, key-xy**z."
    assert redact_secrets(quoted) == (
        "Incorrect API key provided: [redacted]. Or [redacted], [redacted]."
    )
    own = "a-key-no-pattern-knows-1234"
    assert redact_secrets(f"server said: bad {own}", extra=[own, None]) == (
        "server said: bad [redacted]"
    )
    assert redact_secrets("a key-value pair at key stage 2") == "a key-value pair at key stage 2"
