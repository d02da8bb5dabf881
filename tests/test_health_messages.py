"""A health check says what the server answered, not only that it "is not answering"."""

from __future__ import annotations

from pytest_httpserver import HTTPServer

from agent.registry import BrainContext, BrainSpec, create_brain


async def test_a_404_from_a_local_server_is_reported_as_a_404(httpserver: HTTPServer, maya) -> None:
    """A real HTTP server on 127.0.0.1 that has no /v1/models (a web app on the wrong port)."""
    httpserver.expect_request("/v1/models").respond_with_data("Not Found", status=404)
    spec = BrainSpec("wrong-port", "openai", {"model": "m", "base_url": httpserver.url_for("/v1")})
    brain = create_brain(spec, BrainContext(maya))
    health = await brain.health()
    await brain.aclose()
    assert not health.ok
    assert "answered HTTP 404 to GET /v1/models" in health.detail
    assert "not answering" not in health.detail
