"""Dependency outages: a stopped service gives a clear 503 within its deadline and recovers on
restart; a Kafka outage loses no usage event. These tests stop real processes, so they run last."""

from __future__ import annotations

import signal
import time
import uuid

import httpx
import pytest

from devstack import infra, stack
from e2e.support import wait_for_spend

CHAT = {"model": "fake-chat", "messages": [{"role": "user", "content": "are you there?"}]}


def _post(base_url: str, key: str, body: dict[str, object]) -> tuple[httpx.Response, float]:
    t0 = time.monotonic()
    resp = httpx.post(
        f"{base_url}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    return resp, time.monotonic() - t0


@pytest.mark.parametrize("service", ["router", "provider-adapter", "auth", "copilot-budget", "guardrail"])
def test_stopped_service_gives_503_then_recovers(
    service: str, stack_cfg: stack.StackConfig, base_url: str, http: httpx.Client
) -> None:
    body: dict[str, object] = dict(CHAT)
    key = stack_cfg.master_key or ""
    leased = ""
    if service == "copilot-budget":
        # Never used, so the edge holds no budget lease for it and must ask copilot-budget.
        key = http.post("/key/generate", json={"max_budget": "100"}).json()["key"]
        # This one already has a lease: it keeps being admitted from it while copilot-budget is down.
        leased = http.post("/key/generate", json={"max_budget": "100"}).json()["key"]
        time.sleep(1.0)  # the limits reach copilot-budget through identity events
        assert _post(base_url, leased, body)[0].status_code == 200
    if service == "guardrail":
        body["guardrails"] = ["secret_detection"]
    if service == "auth":
        key = http.post("/key/generate", json={}).json()["key"]  # never used, so not cached by the edge
    elif service != "copilot-budget":
        assert _post(base_url, key, body)[0].status_code == 200
    stack.stop_service(stack_cfg, service, sig=signal.SIGKILL)
    try:
        resp, took = _post(base_url, key, body)
        assert resp.status_code == 503, resp.text
        err = resp.json()["error"]
        assert err["code"] == "503" and service.split("-", maxsplit=1)[0] in err["message"]
        assert took < 5.0, f"answer took {took:.1f}s"
        if leased:
            assert _post(base_url, leased, body)[0].status_code == 200, "admitted from its lease"
    finally:
        stack.start_service(stack_cfg, service)
    deadline = time.monotonic() + 10
    while True:
        resp, _ = _post(base_url, key, body)
        if resp.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert resp.status_code == 200, resp.text


def test_kafka_outage_loses_no_usage_event(stack_cfg: stack.StackConfig, base_url: str, http: httpx.Client) -> None:
    key = stack_cfg.master_key or ""
    infra.stop(stack_cfg.infra, ["kafka"])
    stopped_at = time.monotonic()
    call_ids = []
    try:
        for i in range(5):
            resp, took = _post(base_url, key, {**CHAT, "user": f"outage-{uuid.uuid4()}-{i}"})
            assert resp.status_code == 200, resp.text
            assert took < 2.0, "the request path must not wait for Kafka"
            call_ids.append(resp.headers["x-litellm-call-id"])
        time.sleep(max(0.0, 30 - (time.monotonic() - stopped_at)))
    finally:
        infra.start(stack_cfg.infra, ["kafka"])
    for call_id in call_ids:
        rows = wait_for_spend(http, call_id, timeout=90)
        assert len(rows) == 1 and rows[0]["status"] == "success"
