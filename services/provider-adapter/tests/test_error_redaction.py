"""What of a provider's failure reaches the client: no credential, signed URL, upstream address,
other tenant's request id or internal detail, only the fields that classify the error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from harness import adapter, openai_upstream

from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_fakes import azure_server as fake_azure
from switchyard_fakes.base import Reply, Running

SECRET = "sk-upstream-0123456789"


@pytest.fixture
async def upstream() -> AsyncIterator[Running]:
    async with Running(openai_upstream()) as running:
        yield running


def _openai(base: Running) -> dict[str, str]:
    return {"model": "openai/gpt-4o-mini", "api_base": f"{base.url}/v1", "api_key": SECRET}


async def test_provider_error_details_and_message_are_redacted(upstream: Running, tmp_path: Path) -> None:
    signed = "https://media.s3.amazonaws.com/x.png?X-Amz-Signature=0a1b2c3d&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
    error = {
        "message": f"Could not fetch {signed} with key {SECRET} (Authorization: Bearer {SECRET}x)",
        "type": "invalid_request_error",
        "code": "invalid_image_url",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.DebugInfo", "detail": "at 10.1.2.3 /srv/internal/handler.py"},
            {"@type": "type.googleapis.com/google.rpc.RequestInfo", "requestId": "req-of-another-tenant"},
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "BAD_IMAGE",
                "domain": "example.com",
                "metadata": {"consumer": "projects/123456789", "key": SECRET},
            },
        ],
    }
    upstream.state.script("gpt-4o-mini", Reply(status=400, body={"error": error}))
    async with adapter(tmp_path, [{"model_name": "m", "litellm_params": _openai(upstream)}]) as ad:
        resp = await ad.chat("m", {"messages": [{"role": "user", "content": "hi"}]})
    err = resp.error
    assert (
        err.kind == ErrorKind.ERROR_KIND_BAD_REQUEST
        and "Could not fetch https://media.s3.amazonaws.com/x.png" in err.message
    )
    shown = err.message + err.provider_details_json.decode()
    for leaked in (SECRET, "X-Amz-Signature", "0a1b2c3d", "AKIAIOSFODNN7EXAMPLE", "10.1.2.3", "req-of-another-tenant"):
        assert leaked not in shown, leaked
    assert "projects/123456789" not in shown
    assert orjson.loads(err.provider_details_json) == [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "BAD_IMAGE", "domain": "example.com"}
    ]


async def test_connection_errors_do_not_name_the_upstream_address(tmp_path: Path) -> None:
    with_closed_port = {"model": "openai/gpt-4o-mini", "api_base": "http://127.0.0.1:9/v1", "api_key": SECRET}
    async with adapter(tmp_path, [{"model_name": "m", "litellm_params": with_closed_port}]) as ad:
        resp = await ad.chat("m", {"messages": [{"role": "user", "content": "hi"}]})
    assert resp.error.kind == ErrorKind.ERROR_KIND_API_CONNECTION
    assert "127.0.0.1" not in resp.error.message and ":9" not in resp.error.message


async def test_azure_innererror_keeps_only_the_content_filter_verdicts(tmp_path: Path) -> None:
    reply = fake_azure.content_filter_error()
    inner = reply.body["error"]["innererror"]
    verdicts = dict(inner["content_filter_result"])
    inner["content_filter_result"]["hate"] = {"filtered": False, "severity": f"safe {SECRET}"}
    inner["debug_endpoint"] = "https://eastus.internal.example/trace?sig=0a1b2c3d4e"
    inner["request_id"] = "req-of-another-tenant"
    async with Running(fake_azure.create_app(api_key=SECRET)) as fake:
        fake.state.script("*", reply)
        params = {"model": "azure/gpt4o", "api_base": fake.url, "api_key": SECRET, "api_version": "2024-10-21"}
        async with adapter(tmp_path, [{"model_name": "az", "litellm_params": params}]) as ad:
            resp = await ad.chat("az", {"messages": [{"role": "user", "content": "hi"}]})
    err = resp.error
    assert err.kind == ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION and err.code == "content_filter"
    details = orjson.loads(err.provider_details_json)
    verdicts["hate"] = {"filtered": False, "severity": "safe [REDACTED]"}
    assert details == {"innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": verdicts}}
