"""AWS Bedrock (Converse / ConverseStream / InvokeModel) through the scenario suite, plus its
quirks: SigV4 signatures (verified by the fake with botocore), API keys, assumed roles, the
binary event-stream, reasoning, JSON output, guardrails and embeddings."""

from __future__ import annotations

import base64
import json
import struct
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from botocore.eventstream import EventStreamBuffer
from harness import Adapter, adapter, assemble, chunks_of, end_of, unary_message
from scenarios import (
    INPUT_PRICE,
    JSON_SCHEMA,
    OUTPUT_PRICE,
    PNG_B64,
    TOOL_HISTORY,
    TOOLS,
    ChatScenarios,
)

from switchyard.llm.v1 import chat_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.provider.v1 import provider_pb2
from switchyard_fakes import bedrock_server as fake_bedrock
from switchyard_fakes.base import Recorded, Reply, Running
from switchyard_llm.openai_codec.embeddings import embedding_request_from_json
from switchyard_provider_adapter.domain.providers.bedrock.errors import bedrock_error
from switchyard_provider_adapter.domain.providers.bedrock.stream import (
    AwsEvent,
    BedrockStreamDecoder,
    EventStreamFrames,
)

# A cross-region inference profile: its ':' must survive URL encoding and signing.
MODEL = "us.anthropic.claude-3-5-sonnet-20241022-v2:0"
REGION = fake_bedrock.REGION

_ERRORS: dict[str, tuple[int, str, str, dict[str, str]]] = {
    "auth": (403, "UnrecognizedClientException", "The security token included in the request is invalid.", {}),
    "permission": (
        403,
        "AccessDeniedException",
        "You don't have access to the model with the specified model ID.",
        {},
    ),
    "not_found": (
        404,
        "ResourceNotFoundException",
        "Could not resolve the foundation model from the provided model identifier.",
        {},
    ),
    "bad_request": (
        400,
        "ValidationException",
        "Malformed input request: #/temperature: 3.0 is not less or equal to 1.0, please reformat your input "
        "and try again.",
        {},
    ),
    "context_window": (400, "ValidationException", "Input is too long for requested model.", {}),
    # Bedrock itself sends no retry-after; proxies in front of it (and AWS for some quotas) do,
    # and the adapter passes it on when present. The case without one is tested below.
    "rate_limit": (
        429,
        "ThrottlingException",
        "Too many requests, please wait before trying again.",
        {"retry-after": "3"},
    ),
    "server": (500, "InternalServerException", "The server encountered an internal error.", {}),
}


def _params(base_url: str, model: str = MODEL, **extra: Any) -> dict[str, Any]:
    return {
        "model": f"bedrock/{model}",
        "api_base": base_url,
        "aws_access_key_id": fake_bedrock.ACCESS_KEY_ID,
        "aws_secret_access_key": fake_bedrock.SECRET_ACCESS_KEY,
        "aws_region_name": REGION,
        **extra,
    }


def _deployment(name: str, params: dict[str, Any], **info: Any) -> dict[str, Any]:
    return {
        "model_name": name,
        "litellm_params": params,
        "model_info": {
            "id": f"{name}-1",
            "input_cost_per_token": float(INPUT_PRICE),
            "output_cost_per_token": float(OUTPUT_PRICE),
            **info,
        },
    }


def _credential_scope(rec: Recorded, service: str = "bedrock") -> str:
    auth = rec.header("authorization") or ""
    assert auth.startswith(f"AWS4-HMAC-SHA256 Credential={fake_bedrock.ACCESS_KEY_ID}/"), auth
    scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
    assert scope.endswith(f"/{REGION}/{service}/aws4_request"), scope
    return scope


class TestBedrock(ChatScenarios):
    # The secret the suite checks never reaches an error message.
    api_key = fake_bedrock.SECRET_ACCESS_KEY
    # Bedrock has no error for content policy: guardrails and model filters end a *successful*
    # answer with stopReason guardrail_intervened / content_filtered (→ finish_reason
    # content_filter, tested below).
    errors_not_applicable = {"content_policy"}
    # Bedrock answers bad credentials with 403 UnrecognizedClientException; the adapter reports
    # them as authentication failures (401), keeping 403 for AccessDeniedException.

    def fake_app(self) -> web.Application:
        return fake_bedrock.create_app()

    def litellm_params(self, base_url: str) -> dict[str, Any]:
        return _params(base_url)

    def reply_text(self, text: str, prompt_tokens: int, completion_tokens: int) -> Reply:
        return fake_bedrock.reply_text(text, prompt_tokens, completion_tokens)

    def reply_tool_calls(self, calls: list[tuple[str, str, str]]) -> Reply:
        return fake_bedrock.reply_tool_uses([(i, n, json.loads(a)) for i, n, a in calls])

    def stream_text(self, pieces: list[str], prompt_tokens: int, completion_tokens: int) -> Reply:
        frames = fake_bedrock.stream_blocks(
            [("text", pieces)], "end_turn", fake_bedrock.usage(prompt_tokens, completion_tokens)
        )
        return fake_bedrock.reply_stream(frames)

    def stream_tool_calls(self, calls: list[tuple[str, str, list[str]]]) -> Reply:
        blocks: list[tuple[Any, ...]] = [("text", ["Checking both."])]
        blocks += [("tool", cid, name, pieces) for cid, name, pieces in calls]
        return fake_bedrock.reply_stream(fake_bedrock.stream_blocks(blocks, "tool_use", fake_bedrock.usage(30, 20)))

    def reply_error(self, name: str) -> Reply:
        status, etype, message, headers = _ERRORS[name]
        return fake_bedrock.reply_error(status, etype, message, headers)

    def reply_cached_usage(self, prompt: int, completion: int, cache_read: int, cache_write: int) -> Reply:
        u = fake_bedrock.usage(prompt - cache_read - cache_write, completion, cache_read, cache_write)
        return fake_bedrock.reply_json(fake_bedrock.converse_body([{"text": "cached"}], "end_turn", u))

    def reply_json(self, text: str) -> Reply:
        # Claude 3.5 has no native structured output: the schema is a forced tool.
        return fake_bedrock.reply_tool_uses([("tooluse_json", "json_tool_call", json.loads(text))])

    # --- what the adapter sent ----------------------------------------------------------
    def check_plain(self, rec: Recorded) -> None:
        assert rec.method == "POST" and rec.path == f"/model/{MODEL}/converse"
        _credential_scope(rec)
        assert rec.header("x-amz-date")
        assert rec.header("x-amz-security-token") is None
        assert rec.json() == {"messages": [{"role": "user", "content": [{"text": "Say hi"}]}]}

    def check_system(self, rec: Recorded) -> None:
        body = rec.json()
        assert body["system"] == [{"text": "You are terse."}]
        assert body["messages"] == [{"role": "user", "content": [{"text": "Say hi"}]}]

    def check_sampling(self, rec: Recorded) -> None:
        body = rec.json()
        assert body["inferenceConfig"] == {"maxTokens": 77, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]}
        assert body["requestMetadata"] == {"user": "user-7"}
        assert "seed" not in json.dumps(body)

    def check_tool_history(self, rec: Recorded) -> None:
        body = rec.json()
        assert body["messages"] == [
            {"role": "user", "content": [{"text": "Weather in Paris?"}]},
            {
                "role": "assistant",
                "content": [{"toolUse": {"toolUseId": "call_1", "name": "get_weather", "input": {"city": "Paris"}}}],
            },
            {
                "role": "user",
                "content": [{"toolResult": {"toolUseId": "call_1", "content": [{"text": "18C and sunny"}]}}],
            },
        ]
        assert body["toolConfig"] == {
            "tools": [
                {
                    "toolSpec": {
                        "name": "get_weather",
                        "description": "Weather for a city",
                        "inputSchema": {"json": TOOLS[0]["function"]["parameters"]},
                    }
                }
            ]
        }

    def check_forced_tool(self, rec: Recorded) -> None:
        assert rec.json()["toolConfig"]["toolChoice"] == {"tool": {"name": "get_weather"}}

    def check_json_schema(self, rec: Recorded) -> None:
        config = rec.json()["toolConfig"]
        assert config["toolChoice"] == {"tool": {"name": "json_tool_call"}}
        assert config["tools"] == [
            {
                "toolSpec": {
                    "name": "json_tool_call",
                    "description": "Respond with a JSON object that matches this schema.",
                    "inputSchema": {"json": JSON_SCHEMA["json_schema"]["schema"]},
                }
            }
        ]

    def check_image(self, rec: Recorded) -> None:
        assert rec.json()["messages"] == [
            {
                "role": "user",
                "content": [
                    {"text": "What is in these images?"},
                    {"image": {"format": "png", "source": {"bytes": PNG_B64}}},
                ],
            }
        ]

    def check_stream(self, rec: Recorded) -> None:
        assert rec.path == f"/model/{MODEL}/converse-stream"
        _credential_scope(rec)

    async def test_sampling_params(self, ad: Adapter, fake: Running) -> None:
        # Converse has no seed: the suite's request, with drop_params (without it `seed` is a
        # 400 naming the param, tested below); everything else is mapped.
        self.script(fake, self.reply_text("ok", 5, 1))
        resp = await ad.chat(
            self.model_name,
            {
                "messages": [{"role": "user", "content": "Say hi"}],
                "temperature": 0.5,
                "top_p": 0.9,
                "max_tokens": 77,
                "stop": ["END"],
                "seed": 42,
                "user": "user-7",
                "drop_params": True,
            },
        )
        assert resp.WhichOneof("result") == "completion", resp.error
        self.check_sampling(fake.state.last)


# --- fixtures for the Bedrock-specific tests ---------------------------------------------------


@pytest.fixture
async def fake() -> Any:
    async with Running(fake_bedrock.create_app()) as running:
        yield running


@pytest.fixture
async def ad(fake: Running, tmp_path: Path) -> Any:
    deployments = [
        _deployment("claude", _params(fake.url)),
        _deployment("claude-45", _params(fake.url, "us.anthropic.claude-sonnet-4-5-20250929-v1:0")),
        _deployment("nova", _params(fake.url, "amazon.nova-pro-v1:0")),
        _deployment(
            "profile-arn",
            _params(fake.url, "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3"),
            base_model="anthropic.claude-3-5-sonnet-20241022-v2:0",
        ),
        _deployment(
            "guarded",
            _params(
                fake.url,
                guardrailConfig={"guardrailIdentifier": "gr-123", "guardrailVersion": "1", "trace": "enabled"},
            ),
        ),
        _deployment("titan", _params(fake.url, "amazon.titan-embed-text-v2:0"), mode="embedding"),
        _deployment("cohere-embed", _params(fake.url, "cohere.embed-english-v3"), mode="embedding"),
        _deployment(
            "api-key",
            {
                "model": f"bedrock/{MODEL}",
                "api_base": fake.url,
                "aws_region_name": REGION,
                "aws_bearer_token_bedrock": fake_bedrock.API_KEY,
            },
        ),
    ]
    async with adapter(tmp_path, deployments, allowed_s3_buckets=["bucket"]) as a:
        yield a


HI = {"messages": [{"role": "user", "content": "Say hi"}]}


async def _embed(ad: Adapter, model_name: str, body: dict[str, Any]) -> provider_pb2.EmbedResponse:
    req = embedding_request_from_json({"model": model_name, **body})
    return await ad.stub.Embed(
        provider_pb2.EmbedRequest(deployment=ad.deployment(model_name), request=req, call_id="t"), timeout=30
    )


# --- signatures and credentials -----------------------------------------------------------------


async def test_wrong_secret_is_rejected_by_the_signature_check(fake: Running, tmp_path: Path) -> None:
    wrong = _params(fake.url, aws_secret_access_key="not-the-secret-0000000000000000000000000")
    async with adapter(tmp_path, [_deployment("m", wrong)]) as ad:
        fake.state.script("*", fake_bedrock.reply_text("never sent", 1, 1))
        resp = await ad.chat("m", HI)
    assert resp.WhichOneof("result") == "error"
    assert (resp.error.kind, resp.error.http_status) == (ErrorKind.ERROR_KIND_AUTHENTICATION, 401)
    assert "InvalidSignatureException" in resp.error.message
    assert "signature we calculated does not match" in resp.error.message
    # AWS's canonical-request dump (which can hold the session token) stays out of the error.
    assert "Canonical String" not in resp.error.message
    assert fake.state.scripts["*"], "the scripted answer was not used: the fake refused the request"


async def test_unknown_access_key_is_an_authentication_error(fake: Running, tmp_path: Path) -> None:
    params = _params(fake.url, aws_access_key_id="AKIAUNKNOWNKEY000000")
    async with adapter(tmp_path, [_deployment("m", params)]) as ad:
        resp = await ad.chat("m", HI)
    assert resp.error.kind == ErrorKind.ERROR_KIND_AUTHENTICATION
    assert "UnrecognizedClientException" in resp.error.message


async def test_region_is_part_of_the_signature(fake: Running, tmp_path: Path) -> None:
    params = _params(fake.url, aws_region_name="eu-west-1")
    async with adapter(tmp_path, [_deployment("m", params)]) as ad:
        resp = await ad.chat("m", HI)
    assert resp.error.kind == ErrorKind.ERROR_KIND_AUTHENTICATION
    assert "scoped to a valid region" in resp.error.message


async def test_session_token_is_signed_and_sent(fake: Running, tmp_path: Path) -> None:
    fake.app[fake_bedrock.BEDROCK].keys["ASIATEMPORARYKEY0001"] = "temporary-secret-0123456789"
    fake.app[fake_bedrock.BEDROCK].session_tokens["ASIATEMPORARYKEY0001"] = "session-token-abc"
    params = _params(
        fake.url,
        aws_access_key_id="ASIATEMPORARYKEY0001",
        aws_secret_access_key="temporary-secret-0123456789",
        aws_session_token="session-token-abc",
    )
    async with adapter(tmp_path, [_deployment("m", params)]) as ad:
        resp = await ad.chat("m", HI)
    assert resp.WhichOneof("result") == "completion", resp.error
    rec = fake.state.last
    assert rec.header("x-amz-security-token") == "session-token-abc"
    assert "x-amz-security-token" in (rec.header("authorization") or "").split("SignedHeaders=", 1)[1]


async def test_arn_model_id_is_one_signed_path_segment(ad: Adapter, fake: Running) -> None:
    resp = await ad.chat("profile-arn", HI)
    assert resp.WhichOneof("result") == "completion", resp.error
    assert (
        fake.state.last.path
        == "/model/arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3/converse"
    )


async def test_bedrock_api_key_is_a_bearer_token(ad: Adapter, fake: Running, tmp_path: Path) -> None:
    resp = await ad.chat("api-key", HI)
    assert resp.WhichOneof("result") == "completion", resp.error
    assert fake.state.last.header("authorization") == f"Bearer {fake_bedrock.API_KEY}"
    assert fake.state.last.header("x-amz-date") is None
    bad = {"model": f"bedrock/{MODEL}", "api_base": fake.url, "aws_bearer_token_bedrock": "ABSKbm90LWEta2V5"}
    async with adapter(tmp_path, [_deployment("bad", bad)]) as ad2:
        resp = await ad2.chat("bad", HI)
    assert (resp.error.kind, resp.error.http_status) == (ErrorKind.ERROR_KIND_AUTHENTICATION, 401)
    assert "ABSKbm90LWEta2V5" not in resp.error.message


async def test_missing_credentials_fail_clearly(fake: Running, tmp_path: Path) -> None:
    params = {"model": f"bedrock/{MODEL}", "api_base": fake.url, "aws_region_name": REGION}
    async with adapter(tmp_path, [_deployment("m", params)]) as ad:
        resp = await ad.chat("m", HI)
    assert resp.error.kind == ErrorKind.ERROR_KIND_AUTHENTICATION
    assert "aws_access_key_id" in resp.error.message
    assert not fake.state.requests


async def test_assumed_role_credentials_are_fetched_once_and_reused(fake: Running, tmp_path: Path) -> None:
    params = _params(
        fake.url, aws_role_name=fake_bedrock.ROLE_ARN, aws_session_name="gateway", aws_sts_endpoint=fake.url
    )
    async with adapter(tmp_path, [_deployment("m", params)]) as ad:
        first = await ad.chat("m", HI)
        streamed = await ad.stream("m", HI)
        second = await ad.chat("m", HI)
    assert first.WhichOneof("result") == "completion", first.error
    assert second.WhichOneof("result") == "completion", second.error
    end_of(streamed)
    sts_calls = [r for r in fake.state.requests if r.path == "/"]
    assert len(sts_calls) == 1
    form = dict(x.split("=", 1) for x in sts_calls[0].body.decode().split("&"))
    assert form["Action"] == "AssumeRole" and form["RoleSessionName"] == "gateway"
    _credential_scope(sts_calls[0], service="sts")
    issued = fake.app[fake_bedrock.BEDROCK].issued
    assert len(issued) == 1
    for rec in fake.state.requests[1:]:
        assert f"Credential={issued[0]}/" in (rec.header("authorization") or "")
        assert rec.header("x-amz-security-token") == fake.app[fake_bedrock.BEDROCK].session_tokens[issued[0]]


async def test_expiring_role_credentials_are_renewed(fake: Running, tmp_path: Path) -> None:
    # STS grants 4 minutes, inside the 5-minute renewal margin: every call renews.
    fake.app[fake_bedrock.BEDROCK].session_seconds_cap = 240
    params = _params(fake.url, aws_role_name=fake_bedrock.ROLE_ARN, aws_sts_endpoint=fake.url)
    async with adapter(tmp_path, [_deployment("m", params)]) as ad:
        for _ in range(2):
            resp = await ad.chat("m", HI)
            assert resp.WhichOneof("result") == "completion", resp.error
    assert len(fake.app[fake_bedrock.BEDROCK].issued) == 2


async def test_web_identity_role_needs_no_keys(fake: Running, tmp_path: Path) -> None:
    params = {
        "model": f"bedrock/{MODEL}",
        "api_base": fake.url,
        "aws_region_name": REGION,
        "aws_role_name": fake_bedrock.ROLE_ARN,
        "aws_web_identity_token": fake_bedrock.WEB_IDENTITY_TOKEN,
        "aws_sts_endpoint": fake.url,
    }
    async with adapter(tmp_path, [_deployment("m", params)]) as ad:
        resp = await ad.chat("m", HI)
    assert resp.WhichOneof("result") == "completion", resp.error
    sts = fake.state.requests[0]
    assert sts.header("authorization") is None
    assert b"Action=AssumeRoleWithWebIdentity" in sts.body


async def test_web_identity_token_file_as_on_eks(fake: Running, tmp_path: Path) -> None:
    """IRSA: the role and a projected token file come from the pod's environment; the file is
    read when credentials are fetched (Kubernetes rotates it in place)."""
    token_file = tmp_path / "token"
    token_file.write_text(fake_bedrock.WEB_IDENTITY_TOKEN + "\n")
    env = {"SY_TEST_AWS_ROLE_ARN": fake_bedrock.ROLE_ARN, "SY_TEST_AWS_TOKEN_FILE": str(token_file)}
    params = {
        "model": f"bedrock/{MODEL}",
        "api_base": fake.url,
        "aws_region_name": REGION,
        "aws_role_name": "os.environ/SY_TEST_AWS_ROLE_ARN",
        "aws_web_identity_token_file": "os.environ/SY_TEST_AWS_TOKEN_FILE",
        "aws_sts_endpoint": fake.url,
    }
    async with adapter(tmp_path, [_deployment("m", params)], env=env) as ad:
        resp = await ad.chat("m", HI)
        assert resp.WhichOneof("result") == "completion", resp.error
        sts_form = fake.state.requests[0].body.decode()
        assert f"WebIdentityToken={fake_bedrock.WEB_IDENTITY_TOKEN}" in sts_form
    missing = {**params, "aws_web_identity_token_file": str(tmp_path / "absent")}
    async with adapter(tmp_path, [_deployment("m", missing)], env=env) as ad:
        resp = await ad.chat("m", HI)
    assert resp.error.kind == ErrorKind.ERROR_KIND_AUTHENTICATION
    assert "aws_web_identity_token_file" in resp.error.message


async def test_role_the_identity_may_not_assume(fake: Running, tmp_path: Path) -> None:
    params = _params(fake.url, aws_role_name="arn:aws:iam::123456789012:role/other", aws_sts_endpoint=fake.url)
    async with adapter(tmp_path, [_deployment("m", params)]) as ad:
        resp = await ad.chat("m", HI)
    assert (resp.error.kind, resp.error.http_status) == (ErrorKind.ERROR_KIND_PERMISSION_DENIED, 403)
    assert "AccessDenied" in resp.error.message
    assert all(r.path == "/" for r in fake.state.requests)


# --- request translation -------------------------------------------------------------------------


async def test_unsupported_params_name_the_param(ad: Adapter, fake: Running) -> None:
    for extra, param in (
        ({"seed": 7}, "seed"),
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"parallel_tool_calls": False, "tools": TOOLS}, "parallel_tool_calls"),
    ):
        resp = await ad.chat("claude", {**HI, **extra})
        assert (resp.error.kind, resp.error.param) == (ErrorKind.ERROR_KIND_UNSUPPORTED_PARAMS, param), resp.error
    assert not fake.state.requests
    resp = await ad.chat("claude", {**HI, "seed": 7, "n": 1, "logprobs": True, "drop_params": True})
    assert resp.WhichOneof("result") == "completion", resp.error
    assert fake.state.last.json() == {"messages": [{"role": "user", "content": [{"text": "Say hi"}]}]}


async def test_messages_are_merged_into_alternating_turns(ad: Adapter, fake: Running) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "First."},
        {"role": "user", "content": [{"type": "text", "text": "Second."}, {"type": "text", "text": "  "}]},
        *TOOL_HISTORY[1:],
        {"role": "user", "content": "And tomorrow?"},
        {"role": "developer", "content": "Answer in Celsius."},
    ]
    resp = await ad.chat("claude", {"messages": messages, "tools": TOOLS})
    assert resp.WhichOneof("result") == "completion", resp.error
    body = fake.state.last.json()
    assert body["system"] == [{"text": "Be brief."}, {"text": "Answer in Celsius."}]
    assert body["messages"] == [
        {"role": "user", "content": [{"text": "First."}, {"text": "Second."}]},
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "call_1", "name": "get_weather", "input": {"city": "Paris"}}}],
        },
        {
            "role": "user",
            "content": [
                {"toolResult": {"toolUseId": "call_1", "content": [{"text": "18C and sunny"}]}},
                {"text": "And tomorrow?"},
            ],
        },
    ]


async def test_tool_history_without_tools_declares_the_used_tools(ad: Adapter, fake: Running) -> None:
    # Converse rejects toolUse blocks without toolConfig; the adapter declares what the history used.
    history = [
        *TOOL_HISTORY[:1],
        {**TOOL_HISTORY[1], "tool_calls": [{**TOOL_HISTORY[1]["tool_calls"][0], "id": "call|odd id"}]},
    ]
    history.append({"role": "tool", "tool_call_id": "call|odd id", "content": "18C"})
    resp = await ad.chat("claude", {"messages": history})
    assert resp.WhichOneof("result") == "completion", resp.error
    body = fake.state.last.json()
    assert body["toolConfig"]["tools"] == [
        {"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object", "properties": {}}}}}
    ]
    # Tool-call ids Bedrock would reject are rewritten the same way in the call and its result.
    assert body["messages"][1]["content"][0]["toolUse"]["toolUseId"] == "call_odd_id"
    assert body["messages"][2]["content"][0]["toolResult"]["toolUseId"] == "call_odd_id"


async def test_tool_choice_modes(ad: Adapter, fake: Running) -> None:
    for choice, expected in (("auto", {"auto": {}}), ("required", {"any": {}})):
        resp = await ad.chat("claude", {**HI, "tools": TOOLS, "tool_choice": choice})
        assert resp.WhichOneof("result") == "completion", resp.error
        assert fake.state.last.json()["toolConfig"]["toolChoice"] == expected
    resp = await ad.chat("claude", {**HI, "tools": TOOLS, "tool_choice": "none"})
    assert resp.WhichOneof("result") == "completion", resp.error
    assert "toolConfig" not in fake.state.last.json(), "tool_choice none: the model is given no tools"
    resp = await ad.chat("claude", {"messages": TOOL_HISTORY, "tools": TOOLS, "tool_choice": "none"})
    assert (resp.error.kind, resp.error.param) == (ErrorKind.ERROR_KIND_UNSUPPORTED_PARAMS, "tool_choice")


async def test_images_need_bytes_or_s3(ad: Adapter, fake: Running) -> None:
    url_image = [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}
    ]
    resp = await ad.chat("claude", {"messages": url_image})
    assert (resp.error.kind, resp.error.param) == (ErrorKind.ERROR_KIND_BAD_REQUEST, "messages")
    assert "data: URL" in resp.error.message
    s3 = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look"},
                {"type": "image_url", "image_url": {"url": "s3://bucket/cat.jpg"}},
            ],
        }
    ]
    resp = await ad.chat("claude", {"messages": s3})
    assert resp.WhichOneof("result") == "completion", resp.error
    assert fake.state.last.json()["messages"][0]["content"][1] == {
        "image": {"format": "jpeg", "source": {"s3Location": {"uri": "s3://bucket/cat.jpg"}}}
    }


@pytest.mark.parametrize(
    "part",
    [
        {"type": "image_url", "image_url": {"url": "s3://payroll/cat.jpg"}},
        {"type": "file", "file": {"file_id": "s3://payroll/q3.pdf", "filename": "q3.pdf"}},
        # A block in Converse's own shape passes through, but not its S3 object.
        {"document": {"format": "pdf", "name": "q3", "source": {"s3Location": {"uri": "s3://payroll/q3.pdf"}}}},
    ],
)
async def test_s3_objects_outside_the_allowed_buckets_are_refused(
    ad: Adapter, fake: Running, part: dict[str, Any]
) -> None:
    """Bedrock reads s3:// objects with the deployment's credentials: a request may name only
    objects of the buckets the operator listed (ALLOWED_S3_BUCKETS), never others those
    credentials can read."""
    messages = [{"role": "user", "content": [{"type": "text", "text": "Summarise"}, part]}]
    resp = await ad.chat("claude", {"messages": messages})
    assert (resp.error.kind, resp.error.http_status, resp.error.param) == (
        ErrorKind.ERROR_KIND_BAD_REQUEST,
        400,
        "messages",
    )
    assert "s3://payroll" in resp.error.message and "ALLOWED_S3_BUCKETS" in resp.error.message
    assert not fake.state.requests


async def test_pdf_document_and_cache_points(ad: Adapter, fake: Running) -> None:
    pdf = base64.b64encode(b"%PDF-1.4 fake").decode()
    messages = [
        {
            "role": "system",
            "content": [{"type": "text", "text": "Long instructions.", "cache_control": {"type": "ephemeral"}}],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "file",
                    "file": {"file_data": f"data:application/pdf;base64,{pdf}", "filename": "Q3 report.pdf"},
                },
                {"type": "text", "text": "Summarise.", "cache_control": {"type": "ephemeral"}},
            ],
        },
    ]
    resp = await ad.chat("claude", {"messages": messages})
    assert resp.WhichOneof("result") == "completion", resp.error
    body = fake.state.last.json()
    assert body["system"] == [{"text": "Long instructions."}, {"cachePoint": {"type": "default"}}]
    assert body["messages"][0]["content"] == [
        {"document": {"format": "pdf", "name": "Q3 report", "source": {"bytes": pdf}}},
        {"text": "Summarise."},
        {"cachePoint": {"type": "default"}},
    ]


async def test_provider_specific_fields(ad: Adapter, fake: Running) -> None:
    body = {
        **HI,
        "top_k": 40,
        "service_tier": "priority",
        "performanceConfig": {"latency": "optimized"},
        "anthropic_beta": ["x"],
    }
    resp = await ad.chat("claude", body)
    assert resp.WhichOneof("result") == "completion", resp.error
    sent = fake.state.last.json()
    assert sent["additionalModelRequestFields"] == {"top_k": 40, "anthropic_beta": ["x"]}
    assert sent["serviceTier"] == {"type": "priority"}
    assert sent["performanceConfig"] == {"latency": "optimized"}
    resp = await ad.chat("nova", {**HI, "top_k": 5})
    assert resp.WhichOneof("result") == "completion", resp.error
    assert fake.state.last.json()["additionalModelRequestFields"] == {"inferenceConfig": {"topK": 5}}


async def test_guardrail_config_and_trace(ad: Adapter, fake: Running) -> None:
    trace = {"guardrail": {"inputAssessment": {"gr-123": {"contentPolicy": {"filters": []}}}}}
    answer = fake_bedrock.converse_body(
        [{"text": "Sorry, I can't help with that."}], "guardrail_intervened", fake_bedrock.usage(9, 7)
    )
    fake.state.script("*", fake_bedrock.reply_json({**answer, "trace": trace}))
    resp = await ad.chat("guarded", HI)
    assert resp.WhichOneof("result") == "completion", resp.error
    assert fake.state.last.json()["guardrailConfig"] == {
        "guardrailIdentifier": "gr-123",
        "guardrailVersion": "1",
        "trace": "enabled",
    }
    assert resp.completion.choices[0].finish_reason == "content_filter"
    assert json.loads(resp.completion.extra_json) == {"trace": trace}


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("content_filtered", "content_filter"),
        ("guardrail_intervened", "content_filter"),
    ],
)
async def test_stop_reasons_unary_and_streamed(ad: Adapter, fake: Running, stop_reason: str, finish: str) -> None:
    fake.state.script(
        "*",
        fake_bedrock.reply_text("Partial", 3, 1, stop_reason),
        fake_bedrock.reply_stream(
            fake_bedrock.stream_blocks([("text", ["Par", "tial"])], stop_reason, fake_bedrock.usage(3, 1))
        ),
    )
    unary = await ad.chat("claude", HI)
    streamed = await ad.stream("claude", HI)
    assert unary.completion.choices[0].finish_reason == finish
    assert assemble(chunks_of(streamed)) == unary_message(unary)


# --- reasoning -------------------------------------------------------------------------------------


async def test_reasoning_effort_thinking_and_signatures(ad: Adapter, fake: Running) -> None:
    content = [
        {"reasoningContent": {"reasoningText": {"text": "Paris is in France.", "signature": "sig-1"}}},
        {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}},
    ]
    fake.state.script(
        "*", fake_bedrock.reply_json(fake_bedrock.converse_body(content, "tool_use", fake_bedrock.usage(50, 30)))
    )
    resp = await ad.chat(
        "claude",
        {"messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": TOOLS, "reasoning_effort": "low"},
    )
    assert resp.WhichOneof("result") == "completion", resp.error
    sent = fake.state.last.json()
    assert sent["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    assert sent["inferenceConfig"]["maxTokens"] == 4096
    msg = resp.completion.choices[0].message
    assert msg.reasoning_content == "Paris is in France."
    blocks = json.loads(msg.extra_json)["thinking_blocks"]
    assert blocks == [{"type": "thinking", "thinking": "Paris is in France.", "signature": "sig-1"}]
    # The next turn sends the signed reasoning back ahead of the tool call.
    history = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "thinking_blocks": blocks,
            "tool_calls": [
                {
                    "id": "tooluse_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "tooluse_1", "content": "18C"},
    ]
    resp = await ad.chat("claude", {"messages": history, "tools": TOOLS, "reasoning_effort": "low"})
    assert resp.WhichOneof("result") == "completion", resp.error
    assert fake.state.last.json()["messages"][1]["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "Paris is in France.", "signature": "sig-1"}}},
        {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}},
    ]


async def test_thinking_fits_under_a_token_cap_that_leaves_no_room_for_its_budget(ad: Adapter, fake: Running) -> None:
    fake.state.script(
        "*", fake_bedrock.reply_json(fake_bedrock.converse_body([{"text": "ok"}], "end_turn", fake_bedrock.usage(5, 1)))
    )
    resp = await ad.chat(
        "claude", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4096, "reasoning_effort": "high"}
    )
    assert resp.WhichOneof("result") == "completion", resp.error
    sent = fake.state.last.json()
    assert sent["inferenceConfig"]["maxTokens"] == 4096
    assert sent["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 3072}}


async def test_streamed_reasoning(ad: Adapter, fake: Running) -> None:
    frames = fake_bedrock.stream_blocks(
        [("reasoning", ["Let me ", "think."], "sig-2"), ("text", ["Hi", "!"])], "end_turn", fake_bedrock.usage(8, 20)
    )
    fake.state.script("*", fake_bedrock.reply_stream(frames))
    msgs = await ad.stream("claude", {**HI, "reasoning_effort": "medium"})
    got = assemble(chunks_of(msgs))
    assert got["message"] == {"role": "assistant", "content": "Hi!", "reasoning_content": "Let me think."}
    signatures = [
        json.loads(c.choices[0].delta.extra_json)["thinking_blocks"][0]["signature"]
        for c in chunks_of(msgs)
        if c.choices and c.choices[0].delta.extra_json
    ]
    assert signatures == ["sig-2"]
    assert fake.state.last.json()["additionalModelRequestFields"]["thinking"]["budget_tokens"] == 2048


async def test_thinking_from_the_body_keeps_the_json_tool_unforced(ad: Adapter, fake: Running) -> None:
    # Claude rejects a forced tool while thinking; the JSON tool is then offered with auto.
    fake.state.script("*", fake_bedrock.reply_tool_uses([("tooluse_j", "json_tool_call", {"answer": "42"})]))
    thinking = {"type": "enabled", "budget_tokens": 2000}
    resp = await ad.chat("claude", {**HI, "thinking": thinking, "response_format": JSON_SCHEMA})
    assert resp.WhichOneof("result") == "completion", resp.error
    assert json.loads(resp.completion.choices[0].message.text) == {"answer": "42"}
    sent = fake.state.last.json()
    assert sent["additionalModelRequestFields"] == {"thinking": thinking}
    assert sent["toolConfig"]["toolChoice"] == {"auto": {}}


async def test_reasoning_effort_on_a_model_without_thinking(ad: Adapter, fake: Running) -> None:
    resp = await ad.chat("nova", {**HI, "reasoning_effort": "high"})
    assert (resp.error.kind, resp.error.param) == (ErrorKind.ERROR_KIND_UNSUPPORTED_PARAMS, "reasoning_effort")


# --- JSON output -------------------------------------------------------------------------------------


async def test_native_structured_output_on_claude_4_5(ad: Adapter, fake: Running) -> None:
    fake.state.script("*", fake_bedrock.reply_text('{"answer": "42"}', 20, 6))
    resp = await ad.chat(
        "claude-45", {"messages": [{"role": "user", "content": "Answer"}], "response_format": JSON_SCHEMA}
    )
    assert resp.WhichOneof("result") == "completion", resp.error
    assert json.loads(resp.completion.choices[0].message.text) == {"answer": "42"}
    sent = fake.state.last.json()
    assert "toolConfig" not in sent
    fmt = sent["outputConfig"]["textFormat"]
    assert fmt["type"] == "json_schema"
    assert fmt["structure"]["jsonSchema"]["name"] == "answer"
    assert json.loads(fmt["structure"]["jsonSchema"]["schema"]) == JSON_SCHEMA["json_schema"]["schema"]


async def test_streamed_json_through_the_forced_tool(ad: Adapter, fake: Running) -> None:
    frames = fake_bedrock.stream_blocks(
        [("tool", "tooluse_j", "json_tool_call", ['{"answer"', ': "42"}'])], "tool_use", fake_bedrock.usage(20, 6)
    )
    fake.state.script("*", fake_bedrock.reply_stream(frames))
    msgs = await ad.stream(
        "claude", {"messages": [{"role": "user", "content": "Answer"}], "response_format": {"type": "json_object"}}
    )
    got = assemble(chunks_of(msgs))
    assert json.loads(got["message"]["content"]) == {"answer": "42"}
    assert "tool_calls" not in got["message"] and got["finish_reason"] == "stop"
    assert fake.state.last.json()["toolConfig"]["toolChoice"] == {"tool": {"name": "json_tool_call"}}


# --- streams and errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exception", "kind"),
    [
        ("throttlingException", ErrorKind.ERROR_KIND_RATE_LIMIT),
        ("modelStreamErrorException", ErrorKind.ERROR_KIND_INTERNAL_SERVER),
        ("validationException", ErrorKind.ERROR_KIND_BAD_REQUEST),
        ("serviceUnavailableException", ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE),
        ("internalServerException", ErrorKind.ERROR_KIND_INTERNAL_SERVER),
    ],
)
async def test_exception_event_mid_stream(ad: Adapter, fake: Running, exception: str, kind: int) -> None:
    frames = fake_bedrock.stream_blocks(
        [("text", ["Hel", "lo"])], "end_turn", fake_bedrock.usage(1, 1), exception=exception
    )
    fake.state.script("*", fake_bedrock.reply_stream(frames))
    msgs = await ad.stream("claude", HI)
    assert assemble(chunks_of(msgs))["message"]["content"] == "Hello", "chunks before the exception were passed on"
    last = msgs[-1]
    assert last.WhichOneof("event") == "error"
    assert last.error.kind == kind
    assert "The stream broke off" in last.error.message


async def test_stream_usage_with_cache_and_cost(ad: Adapter, fake: Running) -> None:
    frames = fake_bedrock.stream_blocks(
        [("text", ["ok"])], "end_turn", fake_bedrock.usage(100, 10, cache_read=300, cache_write=50)
    )
    fake.state.script("*", fake_bedrock.reply_stream(frames))
    end = end_of(await ad.stream("claude", HI))
    u = end.usage
    assert (u.prompt_tokens, u.completion_tokens, u.total_tokens) == (450, 10, 460)
    assert (u.prompt_tokens_details.cached_tokens, u.prompt_tokens_details.cache_creation_tokens) == (300, 50)


@pytest.mark.parametrize(
    ("status", "etype", "message", "kind", "http"),
    [
        (
            400,
            "ValidationException",
            "prompt is too long: 205000 tokens > 200000 maximum",
            ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED,
            400,
        ),
        (
            400,
            "ValidationException",
            "The model returned the following errors: too many input tokens",
            ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED,
            400,
        ),
        (408, "ModelTimeoutException", "The request took too long to process.", ErrorKind.ERROR_KIND_TIMEOUT, 408),
        (
            503,
            "ServiceUnavailableException",
            "Bedrock is unable to process your request.",
            ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE,
            503,
        ),
        (
            429,
            "ThrottlingException",
            "Too many tokens, please wait before trying again.",
            ErrorKind.ERROR_KIND_RATE_LIMIT,
            429,
        ),
        (424, "ModelErrorException", "The model returned an error.", ErrorKind.ERROR_KIND_INTERNAL_SERVER, 500),
        (
            403,
            "AccessDeniedException",
            "User is not authorized to perform: bedrock:InvokeModel",
            ErrorKind.ERROR_KIND_PERMISSION_DENIED,
            403,
        ),
    ],
)
async def test_more_error_types(
    ad: Adapter, fake: Running, status: int, etype: str, message: str, kind: int, http: int
) -> None:
    fake.state.script("*", fake_bedrock.reply_error(status, etype, message))
    resp = await ad.chat("claude", HI)
    assert (resp.error.kind, resp.error.http_status) == (kind, http), resp.error
    assert message in resp.error.message
    # Without a retry-after header (Bedrock's usual answer) there is no retry hint.
    assert not resp.error.HasField("retry_after_seconds")


def test_error_type_from_the_body_when_the_header_is_missing() -> None:
    body = json.dumps(
        {"__type": "com.amazon.coral.validate#ValidationException", "message": "Input is too long."}
    ).encode()
    err = bedrock_error(400, {}, body)
    assert err.kind == ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED and err.code == "ValidationException"
    api_key = bedrock_error(403, {}, b'{"Message":"Authentication failed: Please make sure your API Key is valid."}')
    assert api_key.kind == ErrorKind.ERROR_KIND_AUTHENTICATION


# --- event-stream framing ----------------------------------------------------------------------------


def test_fake_frames_decode_with_botocore() -> None:
    frames = fake_bedrock.stream_blocks(
        [("tool", "t1", "get_weather", ['{"city": "Paris"}'])], "tool_use", fake_bedrock.usage(3, 4)
    )
    buf = EventStreamBuffer()
    buf.add_data(b"".join(frames))
    messages = list(buf)
    assert [m.headers[":event-type"] for m in messages] == [
        "messageStart",
        "contentBlockStart",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert all(
        m.headers[":message-type"] == "event" and m.headers[":content-type"] == "application/json" for m in messages
    )
    start = json.loads(messages[1].payload)
    assert start["start"] == {"toolUse": {"toolUseId": "t1", "name": "get_weather"}} and start["p"]
    exc = EventStreamBuffer()
    exc.add_data(fake_bedrock.exception_event("throttlingException", "slow down"))
    (m,) = list(exc)
    assert m.headers == {
        ":exception-type": "throttlingException",
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    assert json.loads(m.payload) == {"message": "slow down"}


def test_frame_decoder_is_incremental_and_strict() -> None:
    stream = b"".join(fake_bedrock.stream_blocks([("text", ["a", "b"])], "end_turn", fake_bedrock.usage(1, 2)))
    frames = EventStreamFrames()
    events: list[AwsEvent] = []
    for i in range(len(stream)):  # one byte at a time
        events += frames.feed(stream[i : i + 1])
    assert frames.close() == []
    decoder = BedrockStreamDecoder("m", json_tool=False)
    chunks = [c for e in events for c in decoder.feed(e)]
    assert "".join(c.choices[0].delta.content for c in chunks) == "ab"
    assert decoder.finished and decoder.usage == chat_pb2.Usage(
        prompt_tokens=1,
        completion_tokens=2,
        total_tokens=3,
        prompt_tokens_details=chat_pb2.PromptTokensDetails(cached_tokens=0, cache_creation_tokens=0),
    )
    corrupt = bytearray(stream)
    corrupt[20] ^= 0xFF
    with pytest.raises(ValueError, match="corrupt AWS event-stream"):
        EventStreamFrames().feed(bytes(corrupt))
    truncated = EventStreamFrames()
    truncated.feed(stream[:-3])
    with pytest.raises(ValueError, match="ended inside a message"):
        truncated.close()


async def test_corrupt_stream_is_a_bad_gateway_error(ad: Adapter, fake: Running) -> None:
    good = fake_bedrock.stream_blocks([("text", ["Hi"])], "end_turn", fake_bedrock.usage(1, 1))
    broken = bytearray(good[2])
    broken[-1] ^= 0xFF  # the message CRC
    fake.state.script("*", fake_bedrock.reply_stream([good[0], good[1], bytes(broken), *good[3:]]))
    msgs = await ad.stream("claude", HI)
    assert msgs[-1].WhichOneof("event") == "error"
    assert msgs[-1].error.kind == ErrorKind.ERROR_KIND_BAD_GATEWAY


# --- embeddings ----------------------------------------------------------------------------------------


async def test_titan_embeddings(ad: Adapter, fake: Running) -> None:
    resp = await _embed(ad, "titan", {"input": "hello world", "dimensions": 256, "normalize": True})
    assert resp.WhichOneof("result") == "embeddings", resp.error
    rec = fake.state.last
    assert rec.path == "/model/amazon.titan-embed-text-v2:0/invoke"
    _credential_scope(rec)
    assert rec.json() == {"inputText": "hello world", "dimensions": 256, "normalize": True}
    emb = resp.embeddings
    assert len(emb.data) == 1 and len(emb.data[0].floats.values) == 256
    assert (emb.usage.prompt_tokens, emb.usage.total_tokens) == (2, 2)
    assert Decimal(resp.stats.cost_usd) == 2 * INPUT_PRICE
    # OpenAI's base64 encoding is little-endian float32 of the same vector.
    b64 = await _embed(ad, "titan", {"input": ["hello world"], "dimensions": 256, "encoding_format": "base64"})
    raw = base64.b64decode(b64.embeddings.data[0].base64)
    floats = struct.unpack(f"<{len(raw) // 4}f", raw)
    assert floats == pytest.approx(list(emb.data[0].floats.values), rel=1e-6)


async def test_titan_with_several_inputs_makes_one_call_each(ad: Adapter, fake: Running) -> None:
    # Titan embeds one text per InvokeModel: the adapter sends one call per input and joins
    # the answers in input order, with usage and cost summed.
    texts = [f"text number {i}" for i in range(11)]
    resp = await _embed(ad, "titan", {"input": texts, "dimensions": 256})
    assert resp.WhichOneof("result") == "embeddings", resp.error
    sent = sorted(r.json()["inputText"] for r in fake.state.requests)
    assert sent == sorted(texts) and all(r.json()["dimensions"] == 256 for r in fake.state.requests)
    assert [e.index for e in resp.embeddings.data] == list(range(11))
    for text, e in zip(texts, resp.embeddings.data, strict=True):
        one = await _embed(ad, "titan", {"input": text, "dimensions": 256})
        assert list(e.floats.values) == list(one.embeddings.data[0].floats.values)
    singles = [await _embed(ad, "titan", {"input": t, "dimensions": 256}) for t in texts]
    assert resp.embeddings.usage.prompt_tokens == sum(x.embeddings.usage.prompt_tokens for x in singles)
    assert Decimal(resp.stats.cost_usd) == sum(Decimal(x.stats.cost_usd) for x in singles)


async def test_titan_parts_failing_fail_the_request(ad: Adapter, fake: Running) -> None:
    fake.state.script(
        "*", fake_bedrock.reply_error(429, "ThrottlingException", "Too many requests, please wait before trying again.")
    )
    resp = await _embed(ad, "titan", {"input": ["a", "b", "c"]})
    assert resp.WhichOneof("result") == "error" and resp.error.kind == ErrorKind.ERROR_KIND_RATE_LIMIT
    assert not resp.stats.cost_usd


async def test_cohere_embeddings_usage_from_the_header(ad: Adapter, fake: Running) -> None:
    resp = await _embed(
        ad, "cohere-embed", {"input": ["first text", "second longer text"], "input_type": "search_query"}
    )
    assert resp.WhichOneof("result") == "embeddings", resp.error
    assert fake.state.last.json() == {"texts": ["first text", "second longer text"], "input_type": "search_query"}
    assert [e.index for e in resp.embeddings.data] == [0, 1]
    assert len(resp.embeddings.data[1].floats.values) == 1024
    assert resp.embeddings.usage.prompt_tokens == 5  # x-amzn-bedrock-input-token-count
    default = await _embed(ad, "cohere-embed", {"input": "x"})
    assert default.WhichOneof("result") == "embeddings", default.error
    assert fake.state.last.json()["input_type"] == "search_document"


async def test_embedding_errors_are_typed(ad: Adapter, fake: Running) -> None:
    fake.state.script(
        "*", fake_bedrock.reply_error(429, "ThrottlingException", "Too many requests, please wait before trying again.")
    )
    resp = await _embed(ad, "titan", {"input": "x"})
    assert resp.error.kind == ErrorKind.ERROR_KIND_RATE_LIMIT
    resp = await _embed(ad, "claude", {"input": "x"})
    assert (resp.error.kind, resp.error.param) == (ErrorKind.ERROR_KIND_BAD_REQUEST, "model")


# --- the fake's own checks (so a translation mistake cannot pass unnoticed) --------------------------------


@pytest.mark.parametrize("body", [b"", b'{"messages": []}', "é".encode() * 5000])
@pytest.mark.parametrize("token", [None, "session-token"])
def test_signer_shortcuts_match_botocore(body: bytes, token: str | None) -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from switchyard_provider_adapter.domain.providers.bedrock.sigv4 import _SigV4

    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    for day in ("20260101T000000Z", "20260102T235959Z", "20260101T120000Z"):
        signatures = []
        for signer_class in (SigV4Auth, _SigV4):
            req = AWSRequest(
                method="POST",
                url="https://bedrock-runtime.us-east-1.amazonaws.com/model/a%2Fb:0/converse",
                data=body,
                headers={"content-type": "application/json", "X-Amz-Date": day},
            )
            req.context["timestamp"] = day
            signer = signer_class(creds, "bedrock", "us-east-1")
            signatures.append(signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req))
        assert signatures[0] == signatures[1]


def test_fake_rejects_what_bedrock_rejects() -> None:
    ok = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    assert fake_bedrock.validate_converse(ok) is None
    cases = [
        ({"messages": [{"role": "assistant", "content": [{"text": "hi"}]}]}, "start with a user message"),
        ({"messages": [ok["messages"][0], ok["messages"][0]]}, "alternate between user and assistant"),
        ({"messages": [{"role": "user", "content": [{"text": " "}]}]}, "is blank"),
        ({**ok, "model": "x"}, "extraneous key [model]"),
        (
            {
                "messages": [
                    ok["messages"][0],
                    {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t", "name": "f", "input": {}}}]},
                    {"role": "user", "content": [{"toolResult": {"toolUseId": "t", "content": []}}]},
                ]
            },
            "toolConfig field must be defined",
        ),
    ]
    for body, message in cases:
        problem = fake_bedrock.validate_converse(body)
        assert problem and message in problem, (body, problem)


async def test_signature_over_another_body_is_rejected(fake: Running, tmp_path: Path) -> None:
    """A signed request replayed with a changed body fails the fake's check (the signature
    covers the payload hash)."""
    import aiohttp

    async with adapter(tmp_path, [_deployment("m", _params(fake.url))]) as ad:
        resp = await ad.chat("m", HI)
        assert resp.WhichOneof("result") == "completion", resp.error
    rec = fake.state.last
    headers = {k: v for k, v in rec.headers.items() if k.lower() not in ("content-length",)}
    tampered = rec.body.replace(b"Say hi", b"Say bye")
    async with aiohttp.ClientSession() as s:
        async with s.post(
            f"{fake.url}/model/{MODEL.replace(':', '%3A')}/converse", data=tampered, headers=headers
        ) as r:
            assert r.status == 403
            assert r.headers["x-amzn-ErrorType"].startswith("InvalidSignatureException:")
        async with s.post(
            f"{fake.url}/model/{MODEL.replace(':', '%3A')}/converse", data=rec.body, headers=headers
        ) as r:
            assert r.status == 200, await r.text()


async def test_stale_signature_is_rejected(fake: Running) -> None:
    """AWS refuses signatures more than five minutes old; so does the fake."""
    import aiohttp
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = json.dumps({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}).encode()
    url = f"{fake.url}/model/{MODEL}/converse"

    def signed(at: datetime) -> dict[str, str]:
        stamp = at.strftime("%Y%m%dT%H%M%SZ")
        headers = {"content-type": "application/json", "host": f"127.0.0.1:{fake.port}", "X-Amz-Date": stamp}
        req = AWSRequest(method="POST", url=url, data=body, headers=headers)
        req.context["timestamp"] = stamp
        signer = SigV4Auth(Credentials(fake_bedrock.ACCESS_KEY_ID, fake_bedrock.SECRET_ACCESS_KEY), "bedrock", REGION)
        signature = signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)
        signed_headers = signer.signed_headers(signer.headers_to_sign(req))
        auth = f"AWS4-HMAC-SHA256 Credential={signer.scope(req)}, SignedHeaders={signed_headers}, Signature={signature}"
        return {**headers, "Authorization": auth}

    now = datetime.now(UTC)
    async with aiohttp.ClientSession() as s:
        async with s.post(url, data=body, headers=signed(now - timedelta(minutes=10))) as r:
            assert r.status == 403
            assert "Signature expired" in (await r.json())["message"]
        async with s.post(url, data=body, headers=signed(now)) as r:
            assert r.status == 200, await r.text()


async def test_native_structured_output_on_claude_mythos(fake: Running, tmp_path: Path) -> None:
    # Claude Mythos models have structured outputs on Bedrock as on Anthropic's API: one
    # version rule serves both (Bedrock's copy of it did not know Mythos).
    fake.state.script("*", fake_bedrock.reply_text('{"answer": "42"}', 20, 6))
    mythos = _deployment("mythos", _params(fake.url, "us.anthropic.claude-mythos-1-v1:0"))
    async with adapter(tmp_path, [mythos]) as a:
        resp = await a.chat(
            "mythos", {"messages": [{"role": "user", "content": "Answer"}], "response_format": JSON_SCHEMA}
        )
    assert resp.WhichOneof("result") == "completion", resp.error
    assert json.loads(resp.completion.choices[0].message.text) == {"answer": "42"}
    sent = fake.state.last.json()
    assert "toolConfig" not in sent
    assert sent["outputConfig"]["textFormat"]["type"] == "json_schema"
