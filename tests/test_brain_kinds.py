"""Brain kinds say what they need and read; the brain and session tables keep long values whole."""

from __future__ import annotations

import importlib.util

from tests.plugins.models import free_port
from transcripts.store import Store
from tui.cli import main


def test_an_unknown_option_is_refused_with_the_known_ones(capsys) -> None:
    code = main(["brains", "add", "x", "--kind", "offline", "--persona", "maya", "-o", "nosuch=1"])
    assert code == 1
    err = capsys.readouterr().err
    assert "no option 'nosuch'" in err and "its options are: none" in err
    code = main(["brains", "add", "y", "--kind", "vllm", "--persona", "maya", "-o", "adpter=a"])
    err = capsys.readouterr().err
    assert code == 1 and "no option 'adpter'" in err and "adapter (text)" in err
    assert Store().brains() == []


def test_a_mistyped_option_is_refused_naming_its_type_and_help(capsys) -> None:
    argv = ["brains", "add", "x", "--kind", "local", "--persona", "maya", "-o", "adapters=[1]"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "option `adapters` must be a mapping, not [1]" in err and "{name: folder}" in err
    assert Store().brains() == []


def test_brains_list_says_which_kinds_this_install_can_build(monkeypatch, capsys) -> None:
    """The light `make chat` install: no dspy, openai or torch (hidden from find_spec)."""
    light = {"dspy", "openai", "httpx", "torch", "transformers", "peft"}
    real = importlib.util.find_spec
    monkeypatch.setattr(
        "agent.registry.find_spec", lambda name: None if name in light else real(name)
    )
    assert main(["brains", "list"]) == 0
    out = capsys.readouterr().out
    assert "no: needs dspy — .venv/bin/pip install -e '.[dspy]'" in out
    assert "no: needs openai, httpx — .venv/bin/pip install -e '.[openai]'" in out
    assert "no: needs torch, transformers, peft" in out
    offline = next(
        line for line in out.splitlines() if line.startswith("offline") and "yes" in line
    )
    assert "no model" in offline


def test_long_names_and_paths_are_never_cut(capsys) -> None:
    store = Store()
    name = "maya-lora-20261128-052823-with-a-rather-long-suffix"
    common = "/data/brains/a-deeply/nested/folder/that/goes/on/and/on/"
    store.save_brain(name, "vllm", {"adapter_path": common + "first", "base": "b"}, "maya")
    store.save_brain(name + "-2", "vllm", {"adapter_path": common + "second", "base": "b"}, "maya")
    assert main(["brains", "list"]) == 0
    assert name + "-2" in capsys.readouterr().out  # piped: one line per brain, whole
    assert main(["brains", "compare", name, name + "-2"]) == 0
    out = capsys.readouterr().out
    assert common + "first" in out and common + "second" in out
    session = store.start_session("maya", "a-trainee-with-a-very-long-name-indeed", "offline")
    store.add_turn(session, "teacher", "hi")
    assert main(["sessions", "list"]) == 0
    assert "a-trainee-with-a-very-long-name-indeed" in capsys.readouterr().out


def test_the_picker_says_kind_method_base_and_whether_the_server_can_serve_it(maya) -> None:
    from agent.serving import ServerRecord
    from tui.practice import describe_brain, swappable_brains

    store = Store()
    lineage = {"method": "lora", "base": "/models/tiny-a"}
    store.save_brain("maya-a", "vllm", {"adapter": "maya-a"}, "maya", lineage=lineage)
    row = store.brain("maya-a")
    serving_a = ServerRecord(pid=1, host="127.0.0.1", port=1, base="/models/tiny-a")
    serving_b = ServerRecord(pid=1, host="127.0.0.1", port=1, base="/models/tiny-b")
    assert describe_brain(row, serving_a) == (
        "vllm · lora · base tiny-a · the running server can serve it"
    )
    assert "server runs another base (tiny-b)" in describe_brain(row, serving_b)
    assert dict(swappable_brains(store, maya))["maya-a"].endswith("no vLLM server running")


def test_brains_check_says_healthy_or_why_not_with_its_exit_status(capsys) -> None:
    """`utta brains check` builds the saved brain and runs its health check: 0 and "healthy", or 1
    and the reason with its fix on stderr. The unhealthy one is a vllm brain whose server is down
    (a closed local port), so no server is needed."""
    store = Store()
    store.save_brain("maya-second", "offline", {}, "maya")
    store.save_brain("down", "vllm", {"base_url": f"http://127.0.0.1:{free_port()}"}, "maya")
    store.save_brain("odd", "openai", {"model": "m", "max_tokens": "lots"}, "maya")

    assert main(["brains", "check", "maya-second"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("maya-second: healthy") and err == ""

    assert main(["brains", "check", "down"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("utta: down is not healthy: ")
    assert "utta serve vllm" in err  # the fix

    assert main(["brains", "check", "odd"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("utta: brain 'odd' cannot be built: ") and "lots" in err

    assert main(["brains", "check", "nosuch"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "nosuch" in err and "maya-second" in err  # lists the saved brains

    assert main(["brains", "check", "maya-second", "--persona", "nobody"]) == 1
    assert "nobody" in capsys.readouterr().err
