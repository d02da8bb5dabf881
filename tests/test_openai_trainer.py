"""`utta train openai | status | cancel` against a local FAKE of OpenAI's fine-tuning API.

OpenAI fine-tuning is a paid cloud service: a test must not spend money, need a real key, or
depend on the network, so these tests talk to a FAKE — a pytest-httpserver that answers the
documented endpoints the way OpenAI's API reference and openai-python 2.x's types describe them:
``POST /v1/files`` (multipart, ``purpose=fine-tune``) returns a ``file`` object; ``POST
/v1/fine_tuning/jobs`` returns a ``fine_tuning.job``; ``GET /v1/fine_tuning/jobs/{id}`` returns
the job, and the fake moves it one status further per call (validating_files → queued → running
→ succeeded or failed); ``GET .../events`` returns a ``list`` of ``fine_tuning.job.event``
(newest first, with ``metrics`` events); ``POST .../cancel``; ``GET /v1/files/{id}/content`` serves
the result CSV. Errors are ``{"error": {...}}`` bodies.

The fake listens on 127.0.0.2, not 127.0.0.1: :func:`agent.keys.resolve_key` sends any
127.0.0.1/localhost server a placeholder, and these tests need the real (fake) secret
``sk-test-UTTA-SECRET-…`` to be sent, so they can show it is used yet never written or printed.
The kill-and-resume test runs the real command line in a subprocess and kills it with SIGKILL.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.support.fake_openai_ft import HOLD, FakeOpenAI
from trainers.lineage import LINEAGE_KEYS
from trainers.openai_validate import token_counter
from transcripts.jobs import get_job, list_jobs
from transcripts.store import Store
from tui.cli import main

DATA = Path(__file__).parent / "data" / "openai"
ROOT = Path(__file__).resolve().parents[1]
SECRET = "sk-test-UTTA-SECRET-4f9c2e7d1b"
MODEL = "gpt-4o-mini-2024-07-18"
MANIFEST_HASH = "sha256:fixture-manifest-hash"


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    http = HTTPServer(host="127.0.0.2", port=0)
    http.start()
    yield http
    http.clear()
    if http.is_running():
        http.stop()


@pytest.fixture
def fake(server: HTTPServer) -> Iterator[FakeOpenAI]:
    server.clear()
    state = FakeOpenAI(server, SECRET)
    server.expect_request(re.compile(r"/v1/.*")).respond_with_handler(state.handle)
    yield state
    state.release()


@pytest.fixture(autouse=True)
def approximate_tokens(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Deterministic token counts, with or without tiktoken's downloaded encoding."""
    monkeypatch.setenv("UTTA_TOKEN_COUNT", "approximate")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    token_counter.cache_clear()
    yield
    token_counter.cache_clear()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "maya-data"
    folder.mkdir()
    shutil.copy(DATA / "train.jsonl", folder / "train.jsonl")
    shutil.copy(DATA / "validation.jsonl", folder / "validation.jsonl")
    (folder / "manifest.json").write_text(json.dumps({"content_hash": MANIFEST_HASH}))
    return folder


def train_args(fake: FakeOpenAI, data: Path, *extra: str) -> list[str]:
    return ["train", "openai", "--persona", "maya", "--model", MODEL, "--data", str(data),
            "--base-url", fake.base_url, "--poll-interval", "0", *extra]  # fmt: skip


def nothing_uploaded(fake: FakeOpenAI) -> bool:
    """No file and no job reached the server (the pre-flight check may have)."""
    return fake.files == {} and fake.jobs == {}


def assert_no_secret(home: Path, *outputs: str) -> None:
    for text in outputs:
        assert SECRET not in text
        assert "UTTA-SECRET" not in text
    for path in home.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


# --- the cookbook checks before uploading -----------------------------------------------------


def test_bad_data_is_listed_and_nothing_is_uploaded(
    fake: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(DATA / "cookbook_errors.jsonl", bad / "train.jsonl")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert main(train_args(fake, bad, "--yes")) == 1
    err = capsys.readouterr().err
    assert "train.jsonl:7: message 2 has unrecognized role 'teacher'" in err
    assert "train.jsonl:11: no assistant message" in err
    assert "the training data has 10 problems" in err and "--skip-bad" in err
    assert nothing_uploaded(fake)


def test_skip_bad_uploads_only_the_good_lines_and_records_the_rest(
    fake: FakeOpenAI,
    tmp_path: Path,
    utta_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(DATA / "cookbook_errors.jsonl", bad / "train.jsonl")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert main(train_args(fake, bad, "--yes", "--skip-bad", "--detach")) == 0
    (uploaded,) = fake.files.values()
    lines = (DATA / "cookbook_errors.jsonl").read_text().splitlines()
    assert uploaded["content"] == f"{lines[0]}\n{lines[11]}\n"

    # Each line left out is recorded with its reason: in the manifest beside the cleaned
    # copy, and (through the job record, so a resumed watcher has it) in the brain's lineage.
    (manifest_file,) = (utta_home / "training" / "openai").glob("*/cleaned/manifest.json")
    manifest = json.loads(manifest_file.read_text())
    assert f"left out 10 line(s) with errors (--skip-bad); {manifest_file} lists them" in (
        capsys.readouterr().out
    )
    skipped = manifest["skipped_by_trainer"]
    assert [item["line"] for item in skipped] == list(range(2, 12))
    assert skipped[5] == {
        "split": "train", "file": "train.jsonl", "line": 7,
        "reason": "message 2 has unrecognized role 'teacher' (use system, user, assistant)",
    }  # fmt: skip
    assert manifest["rows"] == {"train": 2, "validation": 0}
    assert manifest["source"] == str(bad) and manifest["files"] == ["train.jsonl"]
    assert main(["train", "status", "ftjob-fake0001", "--poll-interval", "0"]) == 0
    (brain,) = Store().brains()
    assert brain.lineage["dataset"]["skipped_by_trainer"] == skipped
    assert brain.lineage["dataset"]["content_hash"] == manifest["content_hash"]


# --- the job lifecycle ----------------------------------------------------------------------


def test_full_lifecycle_registers_the_brain_with_lineage(
    fake: FakeOpenAI,
    data_dir: Path,
    utta_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    code = main(train_args(fake, data_dir, "--yes", "--suffix", "maya", "--epochs", "2",
                           "--price-per-million", "3"))  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err

    # What was checked, estimated, uploaded and asked for.
    assert "train.jsonl: 12 examples" in out and "validation.jsonl: 3 examples" in out
    assert "estimated cost: $" in out
    assert "authenticity of the training replies (trainers.metric): mean" in out
    assert [f["name"] for f in fake.files.values()] == ["train.jsonl", "validation.jsonl"]
    assert fake.files["file-0001"]["content"] == (data_dir / "train.jsonl").read_text()
    (body,) = fake.created
    assert body == {
        "model": MODEL, "training_file": "file-0001", "validation_file": "file-0002",
        "suffix": "maya",
        "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
    }  # fmt: skip

    # Each status once, in order; each event once.
    statuses = re.findall(r"ftjob-fake0001: (\w+)", out)
    assert statuses == ["validating_files", "queued", "running", "succeeded"]
    for message in ("Fine-tuning job started", "Step 30/30", "The job has successfully"):
        assert out.count(message) == 1, message
    assert "registered brain 'maya-maya'" in out

    store = Store()
    brain = store.brain("maya-maya")
    assert brain.kind == "openai" and brain.persona_id == "maya"
    assert brain.spec == {"model": "ft:gpt-4o-mini-2024-07-18:utta-test:maya:fake0001",
                          "base_url": fake.base_url}  # fmt: skip
    lineage = brain.lineage
    assert set(lineage) == set(LINEAGE_KEYS)  # the shape every trainer's lineage has
    assert lineage["method"] == "openai-fine-tuning"
    assert lineage["base"] == MODEL and lineage["extra"]["job_id"] == "ftjob-fake0001"
    assert lineage["persona"] == "maya"
    assert lineage["dataset"] == {
        "content_hash": MANIFEST_HASH, "source": str(data_dir),
        "rows": {"train": 12, "validation": 3}, "skipped": [], "skipped_by_trainer": [],
    }  # fmt: skip
    assert lineage["hyperparameters"] == {"n_epochs": 2, "batch_size": 1,
                                          "learning_rate_multiplier": 1.8}  # fmt: skip
    assert lineage["extra"]["trained_tokens"] == 12_345
    assert lineage["metrics"]["last_event"]["valid_loss"] == 0.61
    assert lineage["metrics"]["result_file"]["final"]["valid_mean_token_accuracy"] == 0.83
    assert lineage["extra"]["job_created_at"] and lineage["created_at"]

    row = get_job(store, "ftjob-fake0001")
    assert row.status == "succeeded" and row.fine_tuned_model == brain.spec["model"]
    assert row.base_url == fake.base_url and row.manifest_hash == MANIFEST_HASH

    # The key was sent to the (fake) API, and written or printed nowhere.
    assert set(fake.auth) == {f"Bearer {SECRET}"}
    assert_no_secret(utta_home, out, err)


def test_a_failed_job_shows_its_error_message(
    fake: FakeOpenAI,
    data_dir: Path,
    utta_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    fake.script = ["validating_files", "failed"]
    assert main(train_args(fake, data_dir, "--yes")) == 1
    out = capsys.readouterr().out
    assert (
        "job ftjob-fake0001 failed [invalid_training_file]: The job failed: training file has 3 "
        "examples over the limit" in out
    )
    row = get_job(Store(), "ftjob-fake0001")
    assert row.status == "failed" and row.error == fake.failure["message"]
    assert Store().brains() == []


def test_cancel_and_status_listing(
    fake: FakeOpenAI,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert main(train_args(fake, data_dir, "--yes", "--detach")) == 0
    assert main(["train", "status", "--list"]) == 0
    listing = capsys.readouterr().out
    assert re.search(r"ftjob-fake0001\s+validating_files\s+maya", listing)
    assert "resume watching the newest unfinished job: utta train status" in listing

    assert main(["train", "cancel", "ftjob-fake0001"]) == 0
    assert "now cancelled" in capsys.readouterr().out
    assert main(["train", "status", "ftjob-fake0001"]) == 1  # finished, but not a success
    assert "cancelled" in capsys.readouterr().out
    assert main(["train", "cancel", "ftjob-fake0001"]) == 0
    assert "already cancelled" in capsys.readouterr().out


def test_without_data_the_personas_sessions_are_exported(
    fake: FakeOpenAI,
    utta_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from trainers import datasets  # a project module: an import error must fail, not skip

    store = Store()
    for k in range(5):
        session = store.start_session("maya", "trainee-a", "offline")
        for i in range(3):
            store.add_turn(session, "teacher", f"What is {50 + i + k} - {20 + i}?")
            store.add_turn(session, "student", f"Um, {30 + k}? I counted back.")
    every = datasets.Selection("maya", targets="all", examples=False)
    expected = datasets.build_dataset(store, every).manifest["content_hash"]
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    args = ["train", "openai", "--persona", "maya", "--model", MODEL, "--base-url", fake.base_url,
            "--yes", "--detach", "--trainee", "trainee-a", "--targets", "all",
            "--no-examples"]  # fmt: skip
    assert main(args) == 0, capsys.readouterr().err
    assert "train.jsonl: 12 examples" in capsys.readouterr().out
    assert [f["name"] for f in fake.files.values()] == ["train.jsonl", "validation.jsonl"]
    (row,) = list_jobs(Store())
    assert row.manifest_hash == expected
    exported = list((utta_home / "training" / "openai").glob("maya-*/dataset/manifest.json"))
    assert len(exported) == 1


# --- asking before spending, and the key ----------------------------------------------------


def test_refuses_to_spend_without_yes_when_stdin_is_not_a_terminal(
    fake: FakeOpenAI, data_dir: Path, utta_home: Path
) -> None:
    env = {**os.environ, "OPENAI_API_KEY": SECRET}
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli", *train_args(fake, data_dir)],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "pass --yes" in result.stderr
    assert "estimated cost" in result.stdout  # the estimate is shown before refusing
    assert (
        fake.files == {} and fake.jobs == {}
    )  # only the pre-flight check ran and Store().brains() == [] and list_jobs(Store()) == []
    assert_no_secret(utta_home, result.stdout, result.stderr)


def test_answering_no_at_the_prompt_uploads_nothing(
    fake: FakeOpenAI,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    assert main(train_args(fake, data_dir, "--price-per-million", "3")) == 1
    out, err = capsys.readouterr()
    assert re.search(r"Upload 15 examples and start a fine-tuning job costing about \$\d", out)
    assert (
        "nothing was uploaded" in err and fake.files == {} and fake.jobs == {}
    )  # only the pre-flight check ran


def test_a_missing_key_fails_with_the_fix(
    fake: FakeOpenAI, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(train_args(fake, data_dir, "--yes")) == 1
    err = capsys.readouterr().err
    assert "No OpenAI key found — run `utta keys set openai` or set OPENAI_API_KEY" in err
    assert nothing_uploaded(fake)


def test_a_rejected_key_is_not_echoed(
    fake: FakeOpenAI,
    data_dir: Path,
    utta_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrong = "sk-test-UTTA-SECRET-wrong-0000"
    monkeypatch.setenv("OPENAI_API_KEY", wrong)
    assert main(train_args(fake, data_dir, "--yes")) == 1
    out, err = capsys.readouterr()
    assert "did not accept the API key — run `utta keys set openai`" in err
    assert wrong not in out + err and "UTTA-SECRET" not in out + err
    assert_no_secret(utta_home, out, err)


# --- killed mid-poll, resumed by `utta train status` ----------------------------------------


def test_killed_mid_poll_then_status_resumes_and_registers(
    fake: FakeOpenAI, data_dir: Path, utta_home: Path
) -> None:
    fake.script = ["validating_files", "queued", "running", HOLD, "succeeded"]
    env = {**os.environ, "OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": fake.base_url}
    args = ["train", "openai", "--persona", "maya", "--model", MODEL, "--data", str(data_dir),
            "--yes", "--name", "maya-resumed", "--poll-interval", "0.05"]  # fmt: skip
    watcher = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", *args], cwd=ROOT, env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        # Recorded in the store, and already polling a running job: kill it there.
        while not (fake.retrieves >= 5 and list_jobs(Store())):
            assert watcher.poll() is None, watcher.communicate()
            assert time.monotonic() < deadline, "the job was never recorded and polled"
            time.sleep(0.05)
        watcher.send_signal(signal.SIGKILL)
        first_out, first_err = watcher.communicate(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == -signal.SIGKILL
    assert "ftjob-fake0001: running" in first_out
    (row,) = list_jobs(Store())
    assert row.status == "running" and row.brain_name == "maya-resumed"
    assert Store().brains() == []

    fake.release()
    resumed = subprocess.run(
        [sys.executable, "-m", "tui.cli", "train", "status", "ftjob-fake0001",
         "--poll-interval", "0.05"],
        cwd=ROOT, env={**os.environ, "OPENAI_API_KEY": SECRET}, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming job ftjob-fake0001 (running) on {fake.base_url}" in resumed.stdout
    assert "ftjob-fake0001: succeeded" in resumed.stdout
    assert "registered brain 'maya-resumed'" in resumed.stdout
    brain = Store().brain("maya-resumed")
    assert brain.lineage["extra"]["job_id"] == "ftjob-fake0001"
    assert brain.lineage["dataset"]["content_hash"] == MANIFEST_HASH
    assert brain.spec["base_url"] == fake.base_url  # the recorded URL, not an env var
    assert get_job(Store(), "ftjob-fake0001").status == "succeeded"
    assert_no_secret(utta_home, first_out, first_err, resumed.stdout, resumed.stderr)


def test_status_alone_resumes_the_newest_unfinished_job_and_lists_the_others(
    fake: FakeOpenAI,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert main(train_args(fake, data_dir, "--yes", "--detach", "--name", "maya-first")) == 0
    assert main(train_args(fake, data_dir, "--yes", "--detach", "--name", "maya-second")) == 0
    capsys.readouterr()
    assert main(["train", "status", "--poll-interval", "0"]) == 0
    out = capsys.readouterr().out
    assert "resuming job ftjob-fake0002" in out
    assert re.search(r"other jobs[\s\S]*ftjob-fake0001\s+validating_files", out)
    assert [brain.name for brain in Store().brains()] == ["maya-second"]
    assert main(["train", "status", "--poll-interval", "0"]) == 0  # then the older one
    assert "resuming job ftjob-fake0001" in capsys.readouterr().out
    assert {brain.name for brain in Store().brains()} == {"maya-first", "maya-second"}


def test_the_key_and_the_endpoint_are_checked_before_any_data_is_prepared(
    fake: FakeOpenAI,
    data_dir: Path,
    utta_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The fake answers like OpenAI: 401 for a wrong key; a server root without /v1 is a 404."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key-0000000000000000")
    assert main(train_args(fake, data_dir, "--yes")) == 1
    err = capsys.readouterr().err
    assert "did not accept the API key" in err and "nothing was prepared or uploaded" in err
    assert fake.files == {} and not (utta_home / "training").exists()

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    no_api = ["train", "openai", "--persona", "maya", "--model", MODEL, "--data", str(data_dir),
              "--base-url", fake.base_url + "/nothing", "--yes"]  # fmt: skip
    assert main(no_api) == 1
    err = capsys.readouterr().err
    assert "answered 404 to GET /fine_tuning/jobs" in err and "--base-url" in err
    assert fake.files == {} and Store().brains() == []


def test_uploads_and_training_steps_show_progress_bars_unless_quiet(
    fake: FakeOpenAI,
    data_dir: Path,
    utta_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The bars go to stderr (tqdm); the job's own status lines and events stay on stdout."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert main(train_args(fake, data_dir, "--yes")) == 0
    out, err = capsys.readouterr()
    assert "uploading train.jsonl" in err and "uploading validation.jsonl" in err
    assert re.search(r"training: 100%.*30/30", err), err  # the metrics events' step/total_steps
    assert "loss=0.420" in err  # the last train_loss as the bar's postfix
    assert "Step 30/30" in out and "registered brain" in out
    # The bar reads the file as it is sent: the upload is byte for byte the file.
    assert fake.files["file-0001"]["content"] == (data_dir / "train.jsonl").read_text()

    fake.release()
    fake.jobs.clear()
    fake.files.clear()
    assert main(train_args(fake, data_dir, "--yes", "--quiet", "--name", "quiet-maya")) == 0
    out, err = capsys.readouterr()
    assert "uploading" not in err and "training:" not in err
    assert "Step 30/30" in out and "registered brain 'quiet-maya'" in out
