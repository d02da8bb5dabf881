"""The retrain loop as a new user meets it: the README's commands, as written, in a fresh data
directory, against a real vLLM server (CPU build) that `utta serve vllm` starts with its key.

The commands are read from the README block between ``<!-- e2e:begin -->`` and
``<!-- e2e:end -->`` and run through the real command line (``tui.cli.main``), in a fresh
folder holding ``./base`` (a tiny Llama with a 2048-token context, like a real base's). Sessions
are logged through the store API (there is no `utta run` yet), with trainee feedback, since the
default training targets are approved replies. ``utta chat`` is a TUI: its live swap is done
through the same session service the chat screen calls. The one change to the commands: the
README's `--port 8011` becomes a free port, since CI machines run other servers.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
from pathlib import Path

import pytest

from agent import serving
from agent.brain import BrainError
from agent.brains.vllm_brain import VllmBrain
from personas.loader import PersonaLibrary
from tests.plugins.models import free_port
from tests.tinymodel import REPO_ROOT, build_tiny_model
from transcripts.store import Store
from tui.cli import main
from tui.practice import build_brain, start_practice

README = REPO_ROOT / "README.md"
BRAIN = "maya-v1"

pytestmark = [pytest.mark.vllm, pytest.mark.e2e, pytest.mark.timeout(1800)]


def readme_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- e2e:begin -->(.*?)<!-- e2e:end -->", text, re.S)
    assert block, "README.md lost its <!-- e2e:begin --> ... <!-- e2e:end --> block"
    lines = [line.split("  #")[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line.startswith("utta ")]


def run(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(shlex.split(command)[1:])
    out, err = capsys.readouterr()
    assert code == 0, f"`{command}` exited {code}\n{out}\n{err}"
    return out + err


def log_sessions(store: Store) -> None:
    """Three short maya lessons; the trainee approves most replies and rewrites one."""
    replies = [("what is 52 - 27?", "um 35?"), ("show me with blocks", "5 tens and 2 ones"),
               ("can you break a ten?", "into 10 ones?"), ("how many ones now?", "12")]  # fmt: skip
    for n in range(3):
        session = store.start_session("maya", f"trainee-{n}", "offline")
        for i, (teacher, student) in enumerate(replies):
            store.add_turn(session, "teacher", teacher)
            turn = store.add_turn(session, "student", student, brain_id="offline")
            if i == 2 and n == 0:
                store.add_feedback(turn, rewrite="brake it? into ones?")
            else:
                store.add_feedback(turn, rating=5)


def test_the_readme_retrain_loop_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = readme_commands()
    assert [c.split()[1] for c in commands] == [
        "sessions", "serve", "train", "brains", "chat", "train", "serve",
    ]  # fmt: skip
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("VLLM_API_KEY", raising=False)
    build_tiny_model(tmp_path / "base", context=2048)
    log_sessions(Store())
    export, serve, train_lora, check, chat, train_dspy, stop = commands
    assert "--port 8011" in serve
    serve = serve.replace("--port 8011", f"--port {free_port()}")
    try:
        the_loop(tmp_path, capsys, export, serve, train_lora, check, chat, train_dspy, stop)
    finally:
        serving.stop()  # a failed step must not leave a server behind


def the_loop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], export: str, serve: str,
    train_lora: str, check: str, chat: str, train_dspy: str, stop: str,
) -> None:  # fmt: skip

    # 1. export: the default targets are the approved and rewritten replies plus the examples
    run(export, capsys)
    manifest = json.loads((tmp_path / "data" / "maya" / "manifest.json").read_text())
    targets = manifest["counts"]["targets"]
    assert targets["approved"] >= 3 and targets["rewritten"] == 1 and targets["persona example"]
    assert set(targets) == {"approved", "rewritten", "persona example"}

    # 2. serve, as documented: sized for this machine, with a key stored owner-only
    out = run(serve, capsys)
    record = serving.read_record()
    assert record is not None and record.keyed
    # it returns once the server answers, and says where
    assert f"vLLM ready at {record.base_url}/v1 (pid {record.pid})" in out
    assert record.model in serving.list_models(record.base_url)
    assert f"memory:     {record.sizing}" in out and "KV cache" in record.sizing
    assert record.sizing in Path(record.log_path).read_text().splitlines()[0]
    key_file = serving.serve_dir() / "vllm.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text()
    assert key not in Path(record.log_path).read_text()  # passed by environment, never logged

    # 3. train and load into the running server; the brain is registered once loaded
    run(train_lora, capsys)
    brain_row = Store().brain(BRAIN)
    assert brain_row.kind == "vllm" and BRAIN in serving.list_models(record.base_url)
    adapter_dir = Path(brain_row.spec["adapter_path"])

    # 4. the health check passes (a request of maya's size, sent with the stored key)
    assert f"{BRAIN}: healthy" in run(check, capsys)

    # 5. a live swap mid-session, then a reply from the new brain (what Ctrl+B does)
    assert chat.split()[1:] == ["chat", "--persona", "maya", "--brain", BRAIN]
    maya = PersonaLibrary().get("maya")
    store = Store()
    practice = start_practice(maya, None, store, "e2e-trainee")
    practice.ensure_session()

    async def swap_and_talk() -> tuple[str, str]:
        first = await practice.agent.reply("hi maya, what is 40 + 2?")
        await practice.agent.swap(build_brain(BRAIN, store, maya))
        second = await practice.agent.reply("what is 52 - 27?")
        await practice.agent.brain.aclose()
        return first, second

    first, second = asyncio.run(swap_and_talk())
    assert first and second.strip()
    turns = store.turns(practice.session_id)
    assert [t.brain_id for t in turns if t.role == "student"] == ["offline", BRAIN]
    assert [s.to_brain for s in store.swaps(practice.session_id) if s.accepted] == [BRAIN]

    # 6. the key is required: without it a brain and an adapter load are refused with the fix
    other_name = record.base_url.replace("127.0.0.1", "localhost")  # not the recorded URL
    keyless = VllmBrain(name="keyless", server_url=other_name, base=record.base, adapter=BRAIN)
    health = asyncio.run(keyless.health())
    assert not health.ok and "401" in health.detail and "VLLM_API_KEY" in health.detail
    with pytest.raises(BrainError, match="requires a key"):
        serving.load_adapter(record.base_url, "intruder", adapter_dir, api_key=None)
    assert "intruder" not in serving.list_models(record.base_url)

    # 7. DSPy on the new brain's LM
    run(train_dspy, capsys)
    assert Store().brain(train_dspy.split("--name ")[1].split()[0]).kind == "dspy"

    # 8. stop returns once the server and its engine workers are gone
    run(stop, capsys)
    assert not serving.group_alive(record.pid)
    assert serving.read_record() is None and not key_file.exists()
