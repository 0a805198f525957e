"""Azure OpenAI through the scenario suite, plus deployment URLs, Entra ID auth, content-filter
errors, base-model pricing, embeddings and image generation."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from harness import adapter, assemble, chunks_of, end_of
from scenarios import IMAGE_MESSAGES, JSON_SCHEMA, TOOL_HISTORY, TOOLS, ChatScenarios

from switchyard.llm.v1 import embeddings_pb2, images_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.provider.v1 import provider_pb2
from switchyard_fakes import azure_server as fake_azure
from switchyard_fakes.base import Recorded, Reply, Running

DEPLOYMENT = "my-gpt4o"

_ERRORS: dict[str, Reply] = {
    "auth": fake_azure.unauthorized(),
    "permission": Reply(
        status=403,
        body=fake_azure.azure_error(403, "PermissionDenied", "Principal does not have access to API/Operation."),
    ),
    "not_found": Reply(
        status=404,
        body=fake_azure.azure_error(
            404,
            "DeploymentNotFound",
            "The API deployment for this resource does not exist. If you created the deployment within the last "
            "5 minutes, please wait a moment and try again.",
        ),
    ),
    "bad_request": Reply(
        status=400,
        body={
            "error": {
                "message": "Invalid value for 'temperature'",
                "type": "invalid_request_error",
                "param": "temperature",
                "code": None,
            }
        },
    ),
    "context_window": Reply(
        status=400,
        body={
            "error": {
                "message": "This model's maximum context length is 128000 tokens. However, your messages resulted "
                "in 130000 tokens. Please reduce the length of the messages.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        },
    ),
    "content_policy": fake_azure.content_filter_error(),
    "rate_limit": Reply(
        status=429,
        body=fake_azure.azure_error(
            429,
            "429",
            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have "
            "exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds.",
        ),
        headers={"retry-after": "6", "retry-after-ms": "6000", "x-ratelimit-remaining-requests": "0"},
    ),
    "server": Reply(
        status=500,
        body=fake_azure.azure_error(
            500, "InternalServerError", "The server had an error while processing your request."
        ),
    ),
}


class TestAzure(ChatScenarios):
    reports_cache_writes = False

    def fake_app(self) -> web.Application:
        return fake_azure.create_app(api_key=self.api_key)

    def litellm_params(self, base_url: str) -> dict[str, Any]:
        return {
            "model": f"azure/{DEPLOYMENT}",
            "api_base": base_url,
            "api_key": self.api_key,
            "api_version": "2024-10-21",
        }

    def reply_text(self, text: str, prompt_tokens: int, completion_tokens: int) -> Reply:
        return Reply(
            body=fake_azure.completion(
                {"role": "assistant", "content": text}, "stop", fake_azure.usage(prompt_tokens, completion_tokens)
            )
        )

    def reply_tool_calls(self, calls: list[tuple[str, str, str]]) -> Reply:
        tool_calls = [{"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in calls]
        return Reply(
            body=fake_azure.completion(
                {"role": "assistant", "content": None, "tool_calls": tool_calls}, "tool_calls", fake_azure.usage(30, 12)
            )
        )

    def stream_text(self, pieces: list[str], prompt_tokens: int, completion_tokens: int) -> Reply:
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": "", "refusal": None}]
        deltas += [{"content": p} for p in pieces]
        frames = fake_azure.stream_frames(deltas, "stop", fake_azure.usage(prompt_tokens, completion_tokens))
        return Reply(frames=frames, content_type="text/event-stream")

    def stream_tool_calls(self, calls: list[tuple[str, str, list[str]]]) -> Reply:
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": None}]
        for idx, (cid, name, pieces) in enumerate(calls):
            deltas.append(
                {
                    "tool_calls": [
                        {"index": idx, "id": cid, "type": "function", "function": {"name": name, "arguments": ""}}
                    ]
                }
            )
            deltas += [{"tool_calls": [{"index": idx, "function": {"arguments": p}}]} for p in pieces]
        frames = fake_azure.stream_frames(deltas, "tool_calls", fake_azure.usage(30, 20))
        return Reply(frames=frames, content_type="text/event-stream")

    def reply_error(self, name: str) -> Reply:
        return _ERRORS[name]

    def reply_cached_usage(self, prompt: int, completion: int, cache_read: int, cache_write: int) -> Reply:
        return Reply(
            body=fake_azure.completion(
                {"role": "assistant", "content": "cached"},
                "stop",
                fake_azure.usage(prompt, completion, cached=cache_read),
            )
        )

    def check_plain(self, rec: Recorded) -> None:
        assert rec.method == "POST" and rec.path == f"/openai/deployments/{DEPLOYMENT}/chat/completions"
        assert rec.query == {"api-version": "2024-10-21"}
        assert rec.header("api-key") == self.api_key and rec.header("authorization") is None
        assert rec.json() == {"model": DEPLOYMENT, "messages": [{"role": "user", "content": "Say hi"}]}

    def check_system(self, rec: Recorded) -> None:
        assert rec.json()["messages"] == [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Say hi"},
        ]

    def check_sampling(self, rec: Recorded) -> None:
        body = rec.json()
        assert {k: body[k] for k in ("temperature", "top_p", "max_tokens", "stop", "seed", "user")} == {
            "temperature": 0.5,
            "top_p": 0.9,
            "max_tokens": 77,
            "stop": ["END"],
            "seed": 42,
            "user": "user-7",
        }

    def check_tool_history(self, rec: Recorded) -> None:
        assert rec.json()["messages"] == TOOL_HISTORY and rec.json()["tools"] == TOOLS

    def check_forced_tool(self, rec: Recorded) -> None:
        assert rec.json()["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}

    def check_json_schema(self, rec: Recorded) -> None:
        assert rec.json()["response_format"] == JSON_SCHEMA

    def check_image(self, rec: Recorded) -> None:
        assert rec.json()["messages"] == IMAGE_MESSAGES

    def check_stream(self, rec: Recorded) -> None:
        body = rec.json()
        assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
        assert rec.path == f"/openai/deployments/{DEPLOYMENT}/chat/completions"


# --- Azure-specific behaviour -------------------------------------------------------------

KEY = TestAzure.api_key
HI = {"messages": [{"role": "user", "content": "hi"}]}


def _dep(base_url: str, model_name: str = "az", **params: Any) -> dict[str, Any]:
    info = params.pop("model_info", {"input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002})
    return {
        "model_name": model_name,
        "litellm_params": {"model": f"azure/{DEPLOYMENT}", "api_base": base_url, **params},
        "model_info": {"id": f"{model_name}-1", **info},
    }


@pytest.fixture
async def fake() -> Any:
    async with Running(fake_azure.create_app(api_key=KEY)) as running:
        yield running


async def test_default_api_version_and_v1_api(fake: Running, tmp_path: Path) -> None:
    models = [_dep(fake.url, "dated", api_key=KEY), _dep(fake.url, "v1", api_key=KEY, api_version="v1")]
    async with adapter(tmp_path, models) as a:
        dated = await a.chat("dated", HI)
        dated_rec = fake.state.last
        v1 = await a.chat("v1", HI)
        v1_rec = fake.state.last
    assert dated.WhichOneof("result") == "completion" and v1.WhichOneof("result") == "completion"
    assert dated_rec.query == {"api-version": "2024-10-21"}
    assert v1_rec.path == "/openai/v1/chat/completions" and v1_rec.query == {}
    assert v1_rec.json()["model"] == DEPLOYMENT
    assert dated.completion.model == fake_azure.BASE_MODEL, "Azure names the base model in its answer"


async def test_azure_ad_token_is_a_bearer(fake: Running, tmp_path: Path) -> None:
    async with adapter(tmp_path, [_dep(fake.url, azure_ad_token=fake_azure.DEFAULT_AD_TOKEN)]) as a:
        resp = await a.chat("az", HI)
    assert resp.WhichOneof("result") == "completion", resp.error
    assert fake.state.last.header("authorization") == f"Bearer {fake_azure.DEFAULT_AD_TOKEN}"
    assert fake.state.last.header("api-key") is None


async def test_client_credentials_token_is_fetched_once_and_reused(fake: Running, tmp_path: Path) -> None:
    dep = _dep(
        fake.url,
        tenant_id="contoso-tenant",
        client_id=fake_azure.DEFAULT_CLIENT_ID,
        client_secret="os.environ/SY_TEST_AZURE_SECRET",
        azure_authority_host=fake.url,
    )
    async with adapter(tmp_path, [dep], env={"SY_TEST_AZURE_SECRET": fake_azure.DEFAULT_CLIENT_SECRET}) as a:
        results = await asyncio.gather(*(a.chat("az", HI) for _ in range(5)))
        streamed = await a.stream("az", HI)
    assert all(r.WhichOneof("result") == "completion" for r in results), [r.error for r in results]
    assert end_of(streamed).usage.completion_tokens > 0
    token_calls = [r for r in fake.state.requests if r.path.endswith("/oauth2/v2.0/token")]
    assert len(token_calls) == 1, "concurrent calls share one token fetch; later calls use the cache"
    assert token_calls[0].path == "/contoso-tenant/oauth2/v2.0/token"
    form = dict(p.split("=", 1) for p in token_calls[0].body.decode().split("&"))
    assert form["grant_type"] == "client_credentials"
    assert form["scope"] == "https%3A%2F%2Fcognitiveservices.azure.com%2F.default"
    chat_calls = [r for r in fake.state.requests if "chat/completions" in r.path]
    assert len(chat_calls) == 6
    assert all((r.header("authorization") or "").startswith("Bearer fake-entra-") for r in chat_calls)


async def test_wrong_client_secret_is_an_authentication_error_without_the_secret(fake: Running, tmp_path: Path) -> None:
    secret = "not-the-right-secret-123456"
    dep = _dep(
        fake.url,
        tenant_id="t1",
        client_id=fake_azure.DEFAULT_CLIENT_ID,
        client_secret=secret,
        azure_authority_host=fake.url,
    )
    async with adapter(tmp_path, [dep]) as a:
        resp = await a.chat("az", HI)
    assert resp.error.kind == ErrorKind.ERROR_KIND_AUTHENTICATION and resp.error.http_status == 401
    assert "AADSTS7000215" in resp.error.message and secret not in resp.error.message
    assert not [r for r in fake.state.requests if "chat/completions" in r.path]


async def test_no_credentials_is_a_clear_authentication_error(fake: Running, tmp_path: Path) -> None:
    async with adapter(tmp_path, [_dep(fake.url)]) as a:
        resp = await a.chat("az", HI)
    assert resp.error.kind == ErrorKind.ERROR_KIND_AUTHENTICATION and "api_key" in resp.error.message


async def test_content_filter_error_keeps_innererror(fake: Running, tmp_path: Path) -> None:
    fake.state.script("*", fake_azure.content_filter_error())
    async with adapter(tmp_path, [_dep(fake.url, api_key=KEY)]) as a:
        resp = await a.chat("az", HI)
    err = resp.error
    assert err.kind == ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION and err.http_status == 400
    assert err.code == "content_filter"
    details = json.loads(err.provider_details_json)
    assert details["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert details["innererror"]["content_filter_result"]["violence"]["filtered"] is True


async def test_cost_uses_model_info_base_model(fake: Running, tmp_path: Path) -> None:
    from genai_prices import Usage, calc_price

    dep = _dep(fake.url, api_key=KEY, model_info={"base_model": "azure/gpt-4o"})
    fake.state.script(
        "*",
        Reply(body=fake_azure.completion({"role": "assistant", "content": "x"}, "stop", fake_azure.usage(1000, 100))),
    )
    async with adapter(tmp_path, [dep]) as a:
        resp = await a.chat("az", HI)
    expected = calc_price(
        Usage(input_tokens=1000, output_tokens=100), model_ref="gpt-4o", provider_id="azure"
    ).total_price
    assert Decimal(resp.stats.cost_usd) == expected > 0


async def test_stream_folds_the_prompt_filter_chunk(fake: Running, tmp_path: Path) -> None:
    async with adapter(tmp_path, [_dep(fake.url, api_key=KEY)]) as a:
        msgs = await a.stream("az", HI)
    chunks = chunks_of(msgs)
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-AZ")
    assert json.loads(chunks[0].extra_json)["prompt_filter_results"][0]["prompt_index"] == 0
    assert assemble(chunks)["message"]["content"] == fake_azure.REPLY


async def test_reasoning_model_by_base_model_gets_max_completion_tokens(fake: Running, tmp_path: Path) -> None:
    dep = _dep(fake.url, api_key=KEY, model_info={"base_model": "azure/o3-mini"})
    async with adapter(tmp_path, [dep]) as a:
        ok = await a.chat("az", {**HI, "max_tokens": 50})
        sent = fake.state.last.json()
        bad = await a.chat("az", {**HI, "temperature": 0.2})
    assert ok.WhichOneof("result") == "completion"
    assert sent["max_completion_tokens"] == 50 and "max_tokens" not in sent
    assert bad.error.kind == ErrorKind.ERROR_KIND_UNSUPPORTED_PARAMS and bad.error.param == "temperature"


async def test_embeddings_on_azure(fake: Running, tmp_path: Path) -> None:
    async with adapter(tmp_path, [_dep(fake.url, "emb", api_key=KEY)]) as a:
        req = embeddings_pb2.EmbeddingRequest(model="emb", dimensions=4)
        req.texts.values.extend(["a b", "c"])
        resp = await a.stub.Embed(provider_pb2.EmbedRequest(deployment=a.deployment("emb"), request=req, call_id="t"))
    assert resp.WhichOneof("result") == "embeddings", resp.error
    assert [len(e.floats.values) for e in resp.embeddings.data] == [4, 4]
    assert resp.embeddings.usage.prompt_tokens == 3
    assert Decimal(resp.stats.cost_usd) == Decimal("0.000003")
    rec = fake.state.last
    assert rec.path == f"/openai/deployments/{DEPLOYMENT}/embeddings" and rec.query == {"api-version": "2024-10-21"}
    assert rec.json() == {"model": DEPLOYMENT, "input": ["a b", "c"], "dimensions": 4}


async def test_image_generation_on_azure(fake: Running, tmp_path: Path) -> None:
    async with adapter(tmp_path, [_dep(fake.url, "img", api_key=KEY, api_version="2025-04-01-preview")]) as a:
        req = images_pb2.ImageGenerationRequest(model="img", prompt="a red fox", n=2, size="1024x1024")
        resp = await a.stub.GenerateImage(
            provider_pb2.GenerateImageRequest(deployment=a.deployment("img"), request=req, call_id="t")
        )
    assert resp.WhichOneof("result") == "images", resp.error
    assert [d.url for d in resp.images.data] == ["https://fake.blob.core.windows.net/images/generated.png"] * 2
    rec = fake.state.last
    assert rec.path == f"/openai/deployments/{DEPLOYMENT}/images/generations"
    assert rec.query == {"api-version": "2025-04-01-preview"}
    assert rec.json() == {"model": DEPLOYMENT, "prompt": "a red fox", "n": 2, "size": "1024x1024"}


async def test_dall_e_images_cost_their_published_price_per_image(fake: Running, tmp_path: Path) -> None:
    dep = _dep(fake.url, "img", api_key=KEY, model_info={"base_model": "azure/dall-e-3"})
    async with adapter(tmp_path, [dep]) as a:
        req = images_pb2.ImageGenerationRequest(model="img", prompt="a fox", n=2, size="1792x1024", quality="hd")
        resp = await a.stub.GenerateImage(
            provider_pb2.GenerateImageRequest(deployment=a.deployment("img"), request=req, call_id="t")
        )
    assert resp.WhichOneof("result") == "images", resp.error
    assert len(resp.images.data) == 2 and Decimal(resp.stats.cost_usd) == Decimal("0.24")


async def test_missing_api_base_is_a_clear_error(tmp_path: Path) -> None:
    dep = {"model_name": "az", "litellm_params": {"model": "azure/x", "api_key": KEY}, "model_info": {"id": "az-1"}}
    async with adapter(tmp_path, [dep]) as a:
        resp = await a.chat("az", HI)
    assert resp.error.kind == ErrorKind.ERROR_KIND_BAD_REQUEST and "api_base" in resp.error.message
