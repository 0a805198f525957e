"""The Responses API and legacy completions: sent natively to deployments that serve them (the
fake OpenAI server's /v1/responses and /v1/completions), and completions through chat, prompt by
prompt, to those that do not (the fake Anthropic API)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from harness import Adapter, adapter, chunks_of, end_of

from switchyard.llm.v1 import chat_pb2, deployment_pb2
from switchyard.provider.v1 import provider_pb2
from switchyard_fakes import anthropic_server as fake_anthropic
from switchyard_fakes.base import Reply, Running
from switchyard_fakes.openai_server import COMPLETION_REPLY, REPLY, FakeOpenAI
from switchyard_llm.openai_codec.chat import chat_request_from_json
from switchyard_provider_adapter.domain.providers.azure import AzureProvider
from switchyard_provider_adapter.domain.providers.base import CallContext

ANTHROPIC_KEY = "sk-ant-apis-test-key-0123456789"
PRICES = {"input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002}
ENDPOINTS = ["/v1/chat/completions", "/v1/responses", "/v1/completions"]


@pytest.fixture
async def openai_fake() -> Any:
    fake = FakeOpenAI()
    async with Running(fake.app()) as running:
        running.fake = fake  # type: ignore[attr-defined]
        yield running


@pytest.fixture
async def anthropic_fake() -> Any:
    async with Running(fake_anthropic.create_app(api_key=ANTHROPIC_KEY)) as running:
        yield running


@pytest.fixture
async def ad(openai_fake: Running, anthropic_fake: Running, tmp_path: Path) -> Any:
    base = f"{openai_fake.url}/v1"
    models = [
        ("native", {"model": "openai/gpt-4.1", "api_base": base}, {"supported_endpoints": ENDPOINTS}),
        ("reasoner", {"model": "openai/o3-mini", "api_base": base}, {"supported_endpoints": ENDPOINTS}),
        ("chat-only", {"model": "openai/gpt-4.1", "api_base": base}, {}),
        ("instruct", {"model": "text-completion-openai/gpt-3.5-turbo-instruct", "api_base": base}, {}),
        (
            "claude",
            {"model": "anthropic/claude-sonnet-4-5", "api_base": anthropic_fake.url, "api_key": ANTHROPIC_KEY},
            {},
        ),
    ]
    model_list = [
        {
            "model_name": name,
            "litellm_params": {"api_key": "sk-openai-apis-test", **params},
            "model_info": {"id": name, **PRICES, **info},
        }
        for name, params, info in models
    ]
    async with adapter(tmp_path, model_list) as a:
        yield a


def _native(body: dict[str, Any], *, stream: bool = False, **chat: Any) -> chat_pb2.ChatCompletionRequest:
    req = chat_pb2.ChatCompletionRequest(model="x", stream=stream, **chat)
    req.native.api = "responses"
    req.native.body_json = orjson.dumps(body)
    return req


async def _chat(ad: Adapter, name: str, req: chat_pb2.ChatCompletionRequest) -> provider_pb2.ChatResponse:
    dep = ad.deployment(name)
    return await ad.stub.Chat(provider_pb2.ChatRequest(deployment=dep, request=req, call_id="c"), timeout=30)


async def _stream(ad: Adapter, name: str, req: chat_pb2.ChatCompletionRequest) -> list[provider_pb2.ChatStreamResponse]:
    dep = ad.deployment(name)
    call = ad.stub.ChatStream(provider_pb2.ChatStreamRequest(deployment=dep, request=req, call_id="c"), timeout=30)
    return [m async for m in call]


def _sent(fake: Running) -> dict[str, Any]:
    entry: dict[str, Any] = fake.fake.log[-1]  # type: ignore[attr-defined]
    return entry


# --- the Responses API ------------------------------------------------------------------------------


async def test_a_native_request_goes_as_written_and_comes_back_with_its_translation(
    ad: Adapter, openai_fake: Running
) -> None:
    body = {"input": [{"role": "user", "content": "hi"}], "store": False, "metadata": {"k": "v"}}
    resp = await _chat(ad, "native", _native(body, max_tokens=64))
    assert resp.WhichOneof("result") == "completion", resp.error
    sent = _sent(openai_fake)
    assert sent["path"] == "/v1/responses"
    assert sent["body"]["model"] == "gpt-4.1" and sent["body"]["metadata"] == {"k": "v"}
    assert sent["body"]["max_output_tokens"] == 64, "the gateway's output limit goes along"
    assert "include" not in sent["body"], "no encrypted reasoning asked of a model without reasoning"
    c = resp.completion
    assert c.choices[0].message.text == REPLY and c.choices[0].finish_reason == "stop"
    native = orjson.loads(c.native_json)
    assert native["object"] == "response" and native["output"][0]["content"][0]["text"] == REPLY
    assert c.usage.prompt_tokens == native["usage"]["input_tokens"] and resp.stats.cost_usd


async def test_a_reasoning_model_is_asked_for_its_encrypted_reasoning(ad: Adapter, openai_fake: Running) -> None:
    body = {"input": "think", "reasoning": {"effort": "low", "summary": "auto"}, "include": ["x.y"]}
    resp = await _chat(ad, "reasoner", _native(body))
    assert resp.WhichOneof("result") == "completion", resp.error
    assert _sent(openai_fake)["body"]["include"] == ["x.y", "reasoning.encrypted_content"]
    assert resp.completion.choices[0].message.reasoning_content == "Thinking it over."
    assert resp.completion.usage.completion_tokens_details.reasoning_tokens == 5


async def test_a_native_stream_passes_every_event_with_its_chat_translation(ad: Adapter) -> None:
    tools = [{"type": "function", "name": "f", "parameters": {"type": "object"}}]
    messages = await _stream(
        ad, "native", _native({"input": "x", "tools": tools, "tool_choice": "required"}, stream=True)
    )
    chunks = chunks_of(messages)
    kinds = [orjson.loads(c.native_json)["type"] for c in chunks]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.function_call_arguments.delta" in kinds
    args = "".join(tc.arguments for c in chunks for ch in c.choices for tc in ch.delta.tool_calls)
    names = [tc.name for c in chunks for ch in c.choices for tc in ch.delta.tool_calls if tc.name]
    assert args == '{"value": 42}' and names == ["f"]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert end_of(messages).usage.total_tokens > 0 and end_of(messages).stats.cost_usd


async def test_a_native_request_for_a_deployment_that_does_not_serve_it_is_refused(
    ad: Adapter, openai_fake: Running
) -> None:
    resp = await _chat(ad, "chat-only", _native({"input": "x"}))
    assert resp.error.http_status == 400 and "does not serve the 'responses' API" in resp.error.message
    assert not openai_fake.fake.log  # type: ignore[attr-defined]


def test_azure_serves_the_responses_api_outside_its_deployment_paths() -> None:
    azure = AzureProvider(tokens=None)  # type: ignore[arg-type]

    def url(version: str) -> str:
        dep = deployment_pb2.Deployment(provider="azure", model="dep1", api_base="https://r.openai.azure.com/openai")
        return azure.responses_url(
            CallContext(deployment=dep, credentials={}, params={"api_version": version}, call_id="")
        )

    assert url("2025-04-01-preview") == "https://r.openai.azure.com/openai/responses?api-version=2025-04-01-preview"
    assert url("v1") == "https://r.openai.azure.com/openai/v1/responses"


# --- legacy completions -------------------------------------------------------------------------------


def _completion(**body: Any) -> chat_pb2.ChatCompletionRequest:
    prompts = body.pop("prompt")
    tc = {k: body.pop(k) for k in ("echo", "suffix", "best_of", "logprobs") if k in body}
    req = chat_request_from_json({"model": "x", "messages": [{"role": "user", "content": p} for p in prompts], **body})
    req.text_completion.SetInParent()
    for k, v in tc.items():
        setattr(req.text_completion, k, v)
    return req


@pytest.mark.parametrize("name", ["instruct", "native"])
async def test_completions_go_natively_with_every_prompt(ad: Adapter, openai_fake: Running, name: str) -> None:
    resp = await _chat(ad, name, _completion(prompt=["one", "two"], n=2, echo=True, suffix="S", logprobs=1))
    assert resp.WhichOneof("result") == "completion", resp.error
    sent = _sent(openai_fake)
    assert sent["path"] == "/v1/completions"
    assert sent["body"]["prompt"] == ["one", "two"] and sent["body"]["echo"] is True
    assert sent["body"]["suffix"] == "S" and sent["body"]["logprobs"] == 1 and "messages" not in sent["body"]
    choices = resp.completion.choices
    assert [c.index for c in choices] == [0, 1, 2, 3]
    assert [c.message.text for c in choices] == ["one" + COMPLETION_REPLY] * 2 + ["two" + COMPLETION_REPLY] * 2
    assert orjson.loads(choices[0].logprobs_json)["tokens"][0] == "one"


async def test_a_native_completions_stream(ad: Adapter) -> None:
    messages = await _stream(ad, "instruct", _completion(prompt=["a"], stream=True))
    text = "".join(ch.delta.content for c in chunks_of(messages) for ch in c.choices)
    assert text == COMPLETION_REPLY
    assert end_of(messages).usage.completion_tokens == len(COMPLETION_REPLY.split())


async def test_completions_through_chat_one_call_per_prompt(ad: Adapter, anthropic_fake: Running) -> None:
    for text in ("first", "second"):
        anthropic_fake.state.script("*", Reply(body=fake_anthropic.text_message(text, 10, 4)))
    resp = await _chat(ad, "claude", _completion(prompt=["p1", "p2"], max_tokens=20))
    assert resp.WhichOneof("result") == "completion", resp.error
    sent = [r.json()["messages"] for r in anthropic_fake.state.requests]
    # The calls go at once, so the fake's scripted answers meet them in either order.
    assert sorted(m[0]["content"][0]["text"] for m in sent) == ["p1", "p2"] and all(len(m) == 1 for m in sent)
    c = resp.completion
    assert [ch.index for ch in c.choices] == [0, 1]
    assert sorted(ch.message.text for ch in c.choices) == ["first", "second"]
    assert c.usage.prompt_tokens == 20 and c.usage.completion_tokens == 8
    assert Decimal(resp.stats.cost_usd) == 20 * Decimal("0.000001") + 8 * Decimal("0.000002")


@pytest.mark.parametrize(("param", "value"), [("echo", True), ("suffix", "END"), ("logprobs", 2), ("best_of", 3)])
async def test_what_chat_cannot_do_is_a_clear_400_before_anything_is_sent(
    ad: Adapter, anthropic_fake: Running, param: str, value: Any
) -> None:
    resp = await _chat(ad, "claude", _completion(prompt=["p"], **{param: value}))
    assert resp.error.http_status == 400 and resp.error.param == param
    assert "serves /v1/completions itself" in resp.error.message and "drop_params" in resp.error.message
    assert anthropic_fake.state.requests == []
    dropped = await _chat(ad, "claude", _completion(prompt=["p"], drop_params=True, **{param: value}))
    assert dropped.WhichOneof("result") == "completion", dropped.error


async def test_a_completions_stream_through_chat_numbers_choices_by_prompt(
    ad: Adapter, anthropic_fake: Running
) -> None:
    for text in ("A", "B"):
        anthropic_fake.state.script("*", fake_anthropic.stream_text([text, "!"], 5, 2))
    messages = await _stream(ad, "claude", _completion(prompt=["p1", "p2"], stream=True))
    by_choice: dict[int, str] = {}
    for c in chunks_of(messages):
        for ch in c.choices:
            by_choice[ch.index] = by_choice.get(ch.index, "") + ch.delta.content
    assert by_choice == {0: "A!", 1: "B!"}
    end = end_of(messages)
    assert end.usage.prompt_tokens == 10 and end.usage.completion_tokens == 4
    assert Decimal(end.stats.cost_usd) == 10 * Decimal("0.000001") + 4 * Decimal("0.000002")
