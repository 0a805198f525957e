"""Retries, cooldowns and fallbacks through the whole stack: a router, provider adapter and edge
run with a config of their own (routing settings) beside the session's stack, against the fake
upstream failing on command."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import orjson
import pytest

from devstack import stack
from e2e.router_stack import (
    BrokenStreamUpstream,
    chat,
    client,
    deployment,
    replica_sets,
    upstream_calls,
    wait_until,
    write_config,
)


@pytest.fixture(scope="module")
def routed(stack_cfg: stack.StackConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    fake = f"http://127.0.0.1:{stack_cfg.fake_port}/v1"
    with BrokenStreamUpstream() as broken:
        # Background health checks only for the rt-health group: a check of another deployment
        # could take a failure the tests script for it.
        quiet = {"disable_background_health_check": True}
        models = [
            deployment("rt-retry", "rt-retry-1", fake, model_info=quiet),
            deployment("rt-429", "rt-429-a", fake, order=1, model_info=quiet),
            deployment("rt-429", "rt-429-b", fake, order=2, model_info=quiet),
            deployment("rt-small", "rt-small-1", fake, model_info=quiet),
            deployment("rt-large", "rt-large-1", fake, model_info=quiet),
            deployment("rt-tiny", "rt-tiny-1", fake, model_info={"max_input_tokens": 20, **quiet}),
            deployment("rt-down", "rt-down-1", fake, model="openai/status-429", cooldown_time=30, model_info=quiet),
            deployment("rt-mock", "rt-mock-1", fake, model_info=quiet),
            deployment("rt-policy", "rt-policy-1", fake, model_info=quiet),
            deployment("rt-fail", "rt-fail-1", fake, model="openai/status-503", model_info=quiet),
            deployment("rt-broken", "rt-broken-1", f"http://127.0.0.1:{broken.port}/v1", model_info=quiet),
            deployment("rt-client", "rt-client-1", fake, model_info=quiet),
            deployment(
                "rt-anthropic",
                "rt-anthropic-1",
                f"http://127.0.0.1:{stack_cfg.fake_port + 1}",
                model="anthropic/claude-sonnet-4-5-20250929",
                api_key="sk-ant-fake-key-0123456789",
                model_info=quiet,
            ),
            deployment("rt-health", "rt-health-ok", fake),
            deployment("rt-health", "rt-health-bad", fake, model="openai/status-401"),
        ]
        path = write_config(
            tmp_path_factory.mktemp("router") / "config.yaml",
            models,
            router_settings={
                "num_retries": 1,
                "cooldown_time": 5,
                "allowed_fails": 3,
                "enable_pre_call_checks": True,
                "context_window_fallbacks": [{"rt-small": ["rt-large"]}, {"rt-tiny": ["rt-large"]}],
                "content_policy_fallbacks": [{"rt-policy": ["rt-large"]}],
                "fallbacks": [{"rt-mock": ["rt-large"]}, {"rt-broken": ["rt-large"]}],
                "enable_health_check_routing": True,
            },
            # One round of checks at start.
            general_settings={"background_health_checks": True, "health_check_interval": 3600},
        )
        with (
            replica_sets(
                stack_cfg,
                [(1, ["router", "provider-adapter", "edge"])],
                config_path=path,
                redis_prefix=f"e2e-{uuid.uuid4().hex[:8]}:",
            ) as (r1,),
            client(r1) as http,
        ):
            http.broken = broken  # type: ignore[attr-defined]
            yield http


def script(fake: httpx.Client, model: str, *responses: dict[str, object]) -> None:
    fake.post("/__script", json={"model": model, "responses": list(responses)}).raise_for_status()


def cooling(http: httpx.Client, group: str, healthy: int = 0) -> bool:
    """True once only ``healthy`` deployments of the group are not cooling down (read from the
    router's state; /health would run real checks)."""
    info = http.get("/model_group/info", params={"model_group": group}).json()["data"]
    return bool(info) and info[0]["healthy_deployments"] == healthy


def test_500_then_success_is_retried(routed: httpx.Client, fake: httpx.Client) -> None:
    script(fake, "rt-retry-1", {"status": 500})
    before = upstream_calls(fake, "rt-retry-1")
    resp = chat(routed, "rt-retry")
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-litellm-attempted-retries"] == "1"
    assert resp.headers["x-litellm-attempted-fallbacks"] == "0"
    assert resp.headers["x-litellm-model-id"] == "rt-retry-1"
    assert resp.headers["x-litellm-model-group"] == "rt-retry"
    assert resp.headers["x-litellm-max-fallbacks"] == "5"
    assert upstream_calls(fake, "rt-retry-1") == before + 2


def test_stream_failing_before_its_first_byte_is_retried(routed: httpx.Client, fake: httpx.Client) -> None:
    script(fake, "rt-retry-1", {"status": 502})
    with routed.stream(
        "POST",
        "/v1/chat/completions",
        json={"model": "rt-retry", "stream": True, "messages": [{"role": "user", "content": "x"}]},
    ) as resp:
        assert resp.status_code == 200
        assert resp.headers["x-litellm-attempted-retries"] == "1"
        body = resp.read().decode()
    assert "Hello from the Switchyard fake upstream" in "".join(
        orjson.loads(e[6:])["choices"][0]["delta"].get("content", "")
        for e in body.split("\n\n")
        if e.startswith("data: {") and orjson.loads(e[6:])["choices"]
    )
    assert body.rstrip().endswith("data: [DONE]")


def test_stream_is_never_retried_after_its_first_byte(routed: httpx.Client, fake: httpx.Client) -> None:
    broken: BrokenStreamUpstream = routed.broken  # type: ignore[attr-defined]
    before_large = upstream_calls(fake, "rt-large-1")
    with routed.stream(
        "POST",
        "/v1/chat/completions",
        json={"model": "rt-broken", "stream": True, "messages": [{"role": "user", "content": "x"}]},
    ) as resp:
        assert resp.status_code == 200
        events = [e for e in resp.read().decode().split("\n\n") if e]
    assert broken.calls == 1, "a stream that reached the client must not be retried"
    assert upstream_calls(fake, "rt-large-1") == before_large, "nor sent to a fallback"
    assert orjson.loads(events[1][6:])["choices"][0]["delta"]["content"] == "partial"
    last = orjson.loads(events[-1][6:])
    assert "error" in last and isinstance(last["error"]["code"], str)


def test_429_cools_the_deployment_down_and_the_next_one_serves(routed: httpx.Client, fake: httpx.Client) -> None:
    script(fake, "rt-429-a", {"status": 429})
    a_before = upstream_calls(fake, "rt-429-a")
    resp = chat(routed, "rt-429")
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-litellm-model-id"] == "rt-429-b"  # order 2, after order 1 answered 429
    assert resp.headers["x-litellm-attempted-retries"] == "1"
    wait_until(lambda: cooling(routed, "rt-429", healthy=1), what="rt-429-a cooling down")
    for _ in range(3):
        r = chat(routed, "rt-429")
        assert r.status_code == 200 and r.headers["x-litellm-model-id"] == "rt-429-b"
        assert r.headers["x-litellm-attempted-retries"] == "0"
    assert upstream_calls(fake, "rt-429-a") == a_before + 1, "a cooling deployment gets no traffic"


def test_context_window_error_goes_to_the_context_window_fallback(routed: httpx.Client, fake: httpx.Client) -> None:
    script(fake, "rt-small-1", {"status": 400, "message": "This model's maximum context length is 10 tokens."})
    resp = chat(routed, "rt-small")
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-litellm-model-group"] == "rt-large"
    assert resp.headers["x-litellm-model-id"] == "rt-large-1"
    assert resp.headers["x-litellm-attempted-fallbacks"] == "1"
    assert resp.headers["x-litellm-attempted-retries"] == "0"  # a context-window error is not retried


def test_pre_call_check_skips_a_deployment_whose_window_is_too_small(routed: httpx.Client, fake: httpx.Client) -> None:
    before = upstream_calls(fake, "rt-tiny-1")
    resp = chat(routed, "rt-tiny", content="word " * 200)
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-litellm-model-group"] == "rt-large"
    assert upstream_calls(fake, "rt-tiny-1") == before
    assert chat(routed, "rt-tiny", content="short").headers["x-litellm-model-group"] == "rt-tiny"


def test_disable_fallbacks_returns_the_context_window_error(routed: httpx.Client, fake: httpx.Client) -> None:
    script(fake, "rt-small-1", {"status": 400, "message": "This model's maximum context length is 10 tokens."})
    resp = chat(routed, "rt-small", disable_fallbacks=True)
    assert resp.status_code == 400
    assert "maximum context length" in resp.json()["error"]["message"]


def test_content_policy_error_goes_to_the_content_policy_fallback(routed: httpx.Client, fake: httpx.Client) -> None:
    script(fake, "rt-policy-1", {"status": 400, "message": "content_policy_violation: refused by the safety system"})
    resp = chat(routed, "rt-policy")
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-litellm-model-group"] == "rt-large"


def test_client_side_fallbacks(routed: httpx.Client) -> None:
    resp = chat(routed, "rt-fail", fallbacks=["rt-large"])
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-litellm-model-group"] == "rt-large"
    assert resp.headers["x-litellm-attempted-fallbacks"] == "1"
    assert resp.headers["x-litellm-attempted-retries"] == "1"  # num_retries=1 on the 503 first


def test_mock_testing_fallbacks_fails_the_primary_on_purpose(routed: httpx.Client, fake: httpx.Client) -> None:
    before = upstream_calls(fake, "rt-mock-1")
    resp = chat(routed, "rt-mock", mock_testing_fallbacks=True)
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-litellm-model-group"] == "rt-large"
    assert resp.headers["x-litellm-attempted-fallbacks"] == "1"
    assert upstream_calls(fake, "rt-mock-1") == before
    time.sleep(0.2)
    assert cooling(routed, "rt-mock", healthy=1), "failures made on purpose must not cool the deployment down"
    assert chat(routed, "rt-mock").headers["x-litellm-model-id"] == "rt-mock-1"


def test_every_deployment_cooling_down_is_429_with_retry_after(routed: httpx.Client, fake: httpx.Client) -> None:
    first = chat(routed, "rt-down")
    assert first.status_code == 429  # the upstream's own rate limit, after one retry
    wait_until(lambda: cooling(routed, "rt-down"), what="rt-down-1 cooling down")
    calls = upstream_calls(fake, "status-429")
    t0 = time.monotonic()
    resp = chat(routed, "rt-down")
    assert time.monotonic() - t0 < 1.0
    assert resp.status_code == 429
    err = resp.json()["error"]
    assert err["code"] == "429" and err["message"].startswith("No deployments available")
    assert 20 <= int(resp.headers["retry-after"]) <= 30  # the deployment's cooldown_time is 30 s
    assert upstream_calls(fake, "status-429") == calls


def test_background_health_checks_and_health_aware_routing(routed: httpx.Client, fake: httpx.Client) -> None:
    def result(model_id: str) -> dict[str, object] | None:
        health = routed.get("/health").json()
        for e in health["healthy_endpoints"] + health["unhealthy_endpoints"]:
            if e["model_id"] == model_id and e["checked_at"]:
                return dict(e)
        return None

    wait_until(lambda: result("rt-health-bad") is not None, timeout=10.0, what="the first round of health checks")
    bad, ok = result("rt-health-bad"), result("rt-health-ok")
    assert bad is not None and "401" in str(bad["error"]) and not bad["cooling_down"]
    assert ok is not None and "error" not in ok
    before = upstream_calls(fake, "status-401")
    for _ in range(10):
        r = chat(routed, "rt-health")
        assert r.status_code == 200 and r.headers["x-litellm-model-id"] == "rt-health-ok"
        assert r.headers["x-litellm-attempted-retries"] == "0"
    assert upstream_calls(fake, "status-401") == before, "an unhealthy deployment gets no traffic"


def never_cooling(http: httpx.Client, group: str, seconds: float = 1.5) -> None:
    """The group keeps its one healthy deployment for ``seconds`` (failure reports reach the router
    within milliseconds; a cooldown they caused would show up here)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert not cooling(http, group), f"{group} started cooling down"
        time.sleep(0.05)


def test_a_clients_own_timeout_does_not_cool_the_deployment_down(routed: httpx.Client, fake: httpx.Client) -> None:
    """A timeout is an immediate cooldown when it is the deployment's; a client that sets a short
    ``timeout`` of its own must not take the model down for every other tenant."""
    script(fake, "rt-client-1", *({"delay_ms": 800} for _ in range(4)))
    for stream in (False, True, False, True):
        resp = chat(routed, "rt-client", timeout=0.2, stream=stream, num_retries=0)
        assert resp.status_code == 408, resp.text
    never_cooling(routed, "rt-client")
    resp = chat(routed, "rt-client")
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-litellm-model-id"] == "rt-client-1"


def test_a_request_that_cannot_be_sent_does_not_cool_the_deployment_down(routed: httpx.Client) -> None:
    """A header value the HTTP client refuses (here a line break in anthropic-beta) fails the
    request with a 400 before anything reaches the provider; the deployment stays in service."""
    for _ in range(5):
        resp = chat(routed, "rt-anthropic", extra_headers={"anthropic-beta": "x\r\ninjected: 1"}, num_retries=0)
        assert resp.status_code == 400, resp.text
        assert "could not be sent" in resp.json()["error"]["message"]
    never_cooling(routed, "rt-anthropic")
    resp = chat(routed, "rt-anthropic")
    assert resp.status_code == 200, resp.text
