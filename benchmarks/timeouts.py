"""How long an `openai` brain takes to give up on a hung server, against what its options say.

A real local HTTP server (the fault suite's fake OpenAI-compatible server, tests/faults) accepts
each request and never answers, or sends half a reply and falls silent. The brain runs with the
default ``max_retries`` (2). Target: the error comes after ``timeout`` (first chunk) or
``token_timeout`` (mid-reply) seconds, within 10 %, not (1 + max_retries) times that. Prints the
figures and writes benchmarks/results/timeouts.json.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


async def time_until_error(base_url: str, **options: float) -> float:
    from agent.brain import BrainError, BrainRequest
    from agent.brains.openai_compat import OpenAICompatBrain
    from agent.paths import persona_library
    from agent.state import StudentState
    from tests.faults.fake_openai import MODEL

    maya = persona_library().get("maya")
    request = BrainRequest(maya, StudentState.initial(maya), [], "What is 52 - 27?")
    brain = OpenAICompatBrain(name="hung", model=MODEL, base_url=base_url, **options)
    brain._get_client()  # the SDK's import and set-up are not part of the wait being measured
    started = time.perf_counter()
    try:
        async for _ in brain.stream(request):
            pass
    except BrainError:
        return time.perf_counter() - started
    finally:
        await brain.aclose()
    raise AssertionError("the hung server answered")


async def warm_up(base_url: str) -> None:
    from agent.brain import BrainRequest
    from agent.brains.openai_compat import OpenAICompatBrain
    from agent.paths import persona_library
    from agent.state import StudentState
    from tests.faults.fake_openai import MODEL

    maya = persona_library().get("maya")
    request = BrainRequest(maya, StudentState.initial(maya), [], "What is 52 - 27?")
    brain = OpenAICompatBrain(name="warm", model=MODEL, base_url=base_url)
    async for _ in brain.stream(request):
        pass
    await brain.aclose()


def main() -> None:
    from tests.faults.fake_openai import FaultyServer

    results: dict[str, float] = {}
    with FaultyServer() as server:
        # Warm up: the SDK's first request imports and builds its types (seconds on a loaded
        # machine), once per process; the figures below are the waits themselves.
        server.behaviour = "ok"
        asyncio.run(warm_up(server.base_url))
        for timeout in (2.0, 8.0):
            server.behaviour = "hang"
            elapsed = asyncio.run(time_until_error(server.base_url, timeout=timeout))
            results[f"hung server, timeout={timeout:g} (s)"] = elapsed
        server.behaviour = "stall"
        elapsed = asyncio.run(time_until_error(server.base_url, token_timeout=3.0))
        results["silent mid-reply, token_timeout=3 (s)"] = elapsed
    for name, value in results.items():
        print(f"{name:<40} {value:.2f}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "timeouts.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
