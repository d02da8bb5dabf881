"""A FAKE of OpenAI's fine-tuning API (files + fine_tuning.jobs) for tests/test_openai_trainer.py.

OpenAI fine-tuning is a paid cloud service, so tests run against this in-memory stand-in served by
pytest-httpserver. It answers only what the trainer uses, in the shapes OpenAI's API reference and
openai-python 2.x's types (``FileObject``, ``FineTuningJob``, ``FineTuningJobEvent``, cursor
pages) document: ``POST /v1/files`` (multipart, ``purpose=fine-tune``), ``POST
/v1/fine_tuning/jobs``, ``GET /v1/fine_tuning/jobs/{id}`` (one status further per call, along
``script``), ``GET .../events`` (newest first), ``POST .../cancel`` and ``GET
/v1/files/{id}/content`` (the result CSV). A wrong key gets a 401 whose message echoes it, as
OpenAI's does, so tests can check it is never shown.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

HOLD = "hold"  # a script step: stay "running" until the test calls fake.release()
RESULT_CSV = (
    "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n"
    "1,1.9,0.41,2.0,0.40\n30,0.42,0.88,0.61,0.83\n"
)


class FakeOpenAI:
    """In-memory state behind the fake endpoints. ``script`` is the status sequence the next
    created job walks through, one step per retrieve."""

    def __init__(self, server: HTTPServer, key: str) -> None:
        self.server = server
        self.key = key
        self.lock = threading.Lock()
        self.files: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.created: list[dict[str, Any]] = []
        self.auth: list[str] = []
        self.retrieves = 0
        self.script = ["validating_files", "queued", "running", "running", "succeeded"]
        self.failure = {
            "code": "invalid_training_file",
            "param": "training_file",
            "message": "The job failed: training file has 3 examples over the limit",
        }
        self.released = threading.Event()
        self.clock = 1_790_000_000
        self.requests = 0

    @property
    def base_url(self) -> str:
        return self.server.url_for("/v1")

    def release(self) -> None:
        self.released.set()

    def tick(self) -> int:
        self.clock += 7
        return self.clock

    # --- dispatch ---

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.requests += 1
            self.auth.append(request.headers.get("Authorization", ""))
            if request.headers.get("Authorization") != f"Bearer {self.key}":
                shown = request.headers.get("Authorization", "").removeprefix("Bearer ")
                return error(401, f"Incorrect API key provided: {shown}.", "invalid_api_key")
            path, method = request.path, request.method
            if path == "/v1/files" and method == "POST":
                return self.upload(request)
            if match := re.fullmatch(r"/v1/files/([\w-]+)/content", path):
                return Response(RESULT_CSV, content_type="text/csv")
            if path == "/v1/fine_tuning/jobs" and method == "GET":  # list, newest first
                data = [
                    {k: v for k, v in job.items() if not k.startswith("_")}
                    for job in reversed(self.jobs.values())
                ]
                limit = int(request.args.get("limit", 20))
                body = {"object": "list", "data": data[:limit], "has_more": len(data) > limit}
                return Response(json.dumps(body), content_type="application/json")
            if path == "/v1/fine_tuning/jobs" and method == "POST":
                return self.create(request.get_json())
            match = re.fullmatch(r"/v1/fine_tuning/jobs/([\w-]+)(/events|/cancel)?", path)
            if not match or match.group(1) not in self.jobs:
                return error(404, f"No such path or job: {path}", None)
            job = self.jobs[match.group(1)]
            if match.group(2) == "/events":
                events = sorted(job["_events"], key=lambda e: e["created_at"], reverse=True)
                return ok({"object": "list", "data": events, "has_more": False})
            if match.group(2) == "/cancel":
                self.advance(job, "cancelled")
                return ok(public(job))
            self.retrieves += 1
            self.step(job)
            return ok(public(job))

    def upload(self, request: Request) -> Response:
        assert request.form["purpose"] == "fine-tune"
        storage = request.files["file"]
        content = storage.read()
        file_id = f"file-{len(self.files) + 1:04d}"
        self.files[file_id] = {"name": storage.filename, "content": content.decode()}
        return ok({"id": file_id, "object": "file", "bytes": len(content), "purpose": "fine-tune",
                   "created_at": self.tick(), "filename": storage.filename,
                   "status": "processed"})  # fmt: skip

    def create(self, body: dict[str, Any]) -> Response:
        self.created.append(body)
        if body["training_file"] not in self.files:
            return error(400, f"invalid training_file: {body['training_file']}", "invalid_file")
        job_id = f"ftjob-fake{len(self.jobs) + 1:04d}"
        chosen = body.get("method", {}).get("supervised", {}).get("hyperparameters", {})
        job = {
            "object": "fine_tuning.job", "id": job_id, "model": body["model"],
            "created_at": self.tick(), "finished_at": None, "fine_tuned_model": None,
            "organization_id": "org-fake", "result_files": [], "status": "validating_files",
            "validation_file": body.get("validation_file"), "training_file": body["training_file"],
            "hyperparameters": {"n_epochs": chosen.get("n_epochs", "auto"),
                                "batch_size": chosen.get("batch_size", "auto"),
                                "learning_rate_multiplier":
                                    chosen.get("learning_rate_multiplier", "auto")},
            "method": body.get("method"), "trained_tokens": None, "error": None, "seed": 42,
            "estimated_finish": None, "integrations": [], "metadata": None,
            "_suffix": body.get("suffix"), "_script": list(self.script), "_events": [],
        }  # fmt: skip
        self.event(job, "Validating training file: " + body["training_file"])
        self.jobs[job_id] = job
        return ok(public(job))

    def step(self, job: dict[str, Any]) -> None:
        script = job["_script"]
        if not script:
            return
        if script[0] == HOLD:
            if not self.released.is_set():
                return
            script.pop(0)
            if not script:
                return
        self.advance(job, script.pop(0))

    def advance(self, job: dict[str, Any], status: str) -> None:
        if status == job["status"]:
            return
        job["status"] = status
        if status == "queued":
            self.event(job, "Files validated, moving job to queued state")
        elif status == "running":
            self.event(job, "Fine-tuning job started")
            resolved = {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8}
            for name, value in resolved.items():
                if job["hyperparameters"][name] == "auto":
                    job["hyperparameters"][name] = value
            job["estimated_finish"] = self.clock + 600
            self.event(job, "Step 1/30: training loss=1.90", type_="metrics",
                       data={"step": 1, "train_loss": 1.9, "total_steps": 30})  # fmt: skip
        elif status == "succeeded":
            self.event(job, "Step 30/30: training loss=0.42, validation loss=0.61",
                       type_="metrics", data={"step": 30, "train_loss": 0.42, "valid_loss": 0.61,
                                              "total_steps": 30})  # fmt: skip
            tail = job["id"].removeprefix("ftjob-")
            job["fine_tuned_model"] = f"ft:{job['model']}:utta-test:{job['_suffix'] or ''}:{tail}"
            job["trained_tokens"] = 12_345
            job["finished_at"] = self.tick()
            job["result_files"] = ["file-result-1"]
            job["estimated_finish"] = None
            self.event(job, f"New fine-tuned model created: {job['fine_tuned_model']}")
            self.event(job, "The job has successfully completed")
        elif status == "failed":
            job["error"] = dict(self.failure)
            job["finished_at"] = self.tick()
            self.event(job, self.failure["message"], level="error")
        elif status == "cancelled":
            job["finished_at"] = self.tick()
            self.event(job, "Fine-tuning job cancelled")

    def event(self, job: dict[str, Any], message: str, *, level: str = "info",
              type_: str = "message", data: Any = None) -> None:  # fmt: skip
        number = len(job["_events"]) + 1
        job["_events"].append({"object": "fine_tuning.job.event", "id": f"ftevent-{number:03d}",
                               "created_at": self.tick(), "level": level, "message": message,
                               "data": data or {}, "type": type_})  # fmt: skip


def public(job: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in job.items() if not key.startswith("_")}


def ok(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=200, content_type="application/json")


def error(status: int, message: str, code: str | None) -> Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None,
                      "code": code}}  # fmt: skip
    return Response(json.dumps(body), status=status, content_type="application/json")
