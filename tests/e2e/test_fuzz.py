"""Property-based fuzzing of the HTTP API with schemathesis, from the edge's own OpenAPI document:
valid and invalid bodies, query strings, methods and content types against the running stack. No
answer may be a 5xx or take long, every error is in its route's own shape (OpenAI error JSON on
model routes, Anthropic's on the Messages API's, ``{"detail"}`` on management routes), and billing
keeps up with what was served.

Examples are derandomized so CI runs are repeatable; FUZZ_EXAMPLES=500 fuzzes deeper by hand."""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from e2e.support import MASTER_KEY, wait_for_spend

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
# Models the e2e stack serves, per route, so that valid examples travel the whole path.
MODELS = {
    "/v1/chat/completions": ["fake-chat", "anthropic-chat"],
    "/v1/embeddings": ["fake-embedding"],
    "/v1/images/generations": ["openai-image"],
    "/v1/messages": ["fake-chat", "anthropic-chat"],
    "/v1/messages/count_tokens": ["fake-chat", "anthropic-chat"],
    "/v1/responses": ["fake-chat", "anthropic-chat"],
    "/v1/completions": ["fake-chat", "anthropic-chat"],
}
MODEL_ROUTES = ("/v1/", "/chat/", "/embeddings", "/images/", "/models")
# Model routes of Anthropic's dialect, whose errors are in its shape.
ANTHROPIC_ROUTES = ("/v1/messages",)
# Answers slower than this count as a hang (a valid chat example may wait for a fake provider).
SLOW_SECONDS = 10.0


def _api_document() -> dict[str, Any]:
    """The edge's OpenAPI document, built from its code (the public port does not serve it by
    default), with each model route's ``model`` set to models the e2e stack serves."""
    from switchyard_edge.app import create_app
    from switchyard_edge.config import Settings

    settings = Settings(
        kafka_bootstrap_servers="unused:9092", redis_url="redis://unused", database_url="postgresql://unused"
    )
    doc: dict[str, Any] = create_app(SimpleNamespace(settings=settings), ready=lambda: True).openapi()  # type: ignore[arg-type]
    for path, names in MODELS.items():
        body = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        body["properties"]["model"] = {"type": "string", "enum": names}
    return doc


schema = schemathesis.openapi.from_dict(_api_document())


@pytest.fixture(scope="module")
def served() -> Iterator[list[tuple[str, str]]]:
    """(call id, x-litellm-response-cost) of every answered model request the fuzzing made."""
    yield []


def _error_shape_problem(path: str, status: int, body: Any) -> str | None:
    if status < 400:
        return None
    if path.startswith(ANTHROPIC_ROUTES):
        err = body.get("error") if isinstance(body, dict) else None
        ok = isinstance(err, dict) and isinstance(err.get("type"), str) and isinstance(err.get("message"), str)
        if not (ok and body.get("type") == "error"):
            return f"{status} on a Messages API route is not Anthropic's error JSON: {body!r:.300}"
        return None
    if path.startswith(MODEL_ROUTES):
        err = body.get("error") if isinstance(body, dict) else None
        if not (isinstance(err, dict) and isinstance(err.get("message"), str) and isinstance(err.get("code"), str)):
            return f"{status} on a model route is not OpenAI error JSON: {body!r:.300}"
        if err["code"] != str(status) and not err["code"]:
            return f"error code {err['code']!r} for status {status}"
        return None
    if not (isinstance(body, dict) and "detail" in body):
        return f"{status} on a management route is not {{'detail'}}: {body!r:.300}"
    return None


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    # Shrinking replays a failing example many times against the stack; the failure report
    # already carries a curl line that reproduces it.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
def test_no_answer_is_a_5xx_a_hang_or_in_the_wrong_shape(
    case: schemathesis.Case, base_url: str, served: list[tuple[str, str]]
) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {MASTER_KEY}"}
    response = case.call(base_url=base_url, timeout=SLOW_SECONDS)
    checks = [response_schema_conformance, content_type_conformance]
    # mock_testing_fallbacks fails the primary group on purpose with a 500 (as LiteLLM does); with
    # no fallback to go to, that 500 is the answer the client asked for.
    if b"mock_testing_fallbacks=True" not in response.content:
        checks.append(not_a_server_error)
    case.validate_response(response, checks=checks)
    assert response.elapsed <= SLOW_SECONDS, f"{case.method} {case.path} took {response.elapsed:.1f}s"
    is_json = response.headers.get("content-type", [""])[0].startswith("application/json")
    body = response.json() if is_json and response.content else None
    problem = _error_shape_problem(case.path, response.status_code, body)
    assert problem is None, problem
    cost = (response.headers.get("x-litellm-response-cost") or [""])[0]
    call_id = (response.headers.get("x-litellm-call-id") or [""])[0]
    if response.status_code == 200 and call_id and cost:
        served.append((call_id, cost))


def test_after_fuzzing_billing_is_whole(http: httpx.Client, served: list[tuple[str, str]]) -> None:
    """Whatever the fuzzing sent, the usage pipeline kept going: the next ordinary request's spend
    row arrives within seconds, and every answer the fuzzing was served is in the ledger at the
    cost its response stated."""
    resp = http.post(
        "/v1/chat/completions", json={"model": "fake-chat", "messages": [{"role": "user", "content": "x"}]}
    )
    assert resp.status_code == 200, resp.text
    wait_for_spend(http, resp.headers["x-litellm-call-id"], timeout=15)
    assert served, "the fuzzing never reached a provider"
    for call_id, cost in served:
        rows = wait_for_spend(http, call_id, timeout=15)
        final = [r for r in rows if r["status"] == "success"]
        assert len(final) == 1 and Decimal(str(final[0]["spend"])) == Decimal(cost), (call_id, cost, rows)
