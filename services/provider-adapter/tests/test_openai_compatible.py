"""Quirks of OpenAI-compatible providers (Mistral, Groq, DeepSeek, OpenAI reasoning models) and
the default API bases, each against a fake OpenAI-compatible server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from harness import Adapter, adapter, assemble, chunks_of, end_of
from scenarios import JSON_SCHEMA, TOOLS
from test_openai import _chunk, _completion, _usage, _usage_chunk

from switchyard.llm.v1 import chat_pb2, deployment_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_fakes.base import Recorded, Reply, Running, scripted_app, sse
from switchyard_llm.openai_codec.chat import chat_request_from_json
from switchyard_provider_adapter.domain.providers.base import CallContext
from switchyard_provider_adapter.domain.providers.openai import OpenAIProvider, is_reasoning_model

KEY = "compat-secret-key-0123456789"
HI = [{"role": "user", "content": "hi"}]


def _text(text: str = "ok", **message: Any) -> Reply:
    return Reply(body=_completion({"role": "assistant", "content": text, **message}, "stop", _usage(5, 2)))


@pytest.fixture
async def fake() -> Any:
    app = scripted_app([("POST", "/v1/chat/completions")], lambda r, rec: "*", lambda r, rec: _text())
    async with Running(app) as running:
        yield running


@pytest.fixture
async def ad(fake: Running, tmp_path: Path) -> Any:
    models = [
        ("mistral", "mistral/mistral-large-latest"),
        ("groq", "groq/llama-3.3-70b-versatile"),
        ("groq-native", "groq/openai/gpt-oss-20b"),
        ("deepseek", "deepseek/deepseek-reasoner"),
        ("o3", "openai/o3-mini"),
        ("gpt5", "openai/gpt-5-mini"),
        ("gpt4o", "openai/gpt-4o"),
    ]
    model_list = [
        {
            "model_name": name,
            "litellm_params": {"model": model, "api_base": f"{fake.url}/v1", "api_key": KEY},
            "model_info": {"id": name, "input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002},
        }
        for name, model in models
    ]
    async with adapter(tmp_path, model_list) as a:
        yield a


def _sent(fake: Running) -> dict[str, Any]:
    rec: Recorded = fake.state.last
    return dict(rec.json())


# --- Mistral ------------------------------------------------------------------------------


@pytest.mark.parametrize("choice", ["required", {"type": "function", "function": {"name": "get_weather"}}])
async def test_mistral_tool_choice_required_and_object_become_any(ad: Adapter, fake: Running, choice: Any) -> None:
    resp = await ad.chat("mistral", {"messages": HI, "tools": TOOLS, "tool_choice": choice})
    assert resp.WhichOneof("result") == "completion", resp.error
    assert _sent(fake)["tool_choice"] == "any"


async def test_mistral_seed_names_and_empty_assistant_messages(ad: Adapter, fake: Running) -> None:
    messages = [
        {"role": "system", "content": "Be brief.", "name": "policy"},
        {"role": "user", "content": "Weather?", "name": "alice"},
        {"role": "assistant", "content": ""},
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "thinking",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "name": "get_weather", "content": "sunny"},
    ]
    resp = await ad.chat("mistral", {"messages": messages, "tools": TOOLS, "seed": 3, "tool_choice": "auto"})
    assert resp.WhichOneof("result") == "completion", resp.error
    body = _sent(fake)
    assert body["random_seed"] == 3 and "seed" not in body
    assert body["tool_choice"] == "auto"
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "name": "get_weather", "content": "sunny"},
    ]


# --- Groq ---------------------------------------------------------------------------------


async def test_groq_json_schema_is_a_forced_tool_unwrapped_into_content(ad: Adapter, fake: Running) -> None:
    call = {"id": "call_j", "type": "function", "function": {"name": "json_tool_call", "arguments": '{"answer": "42"}'}}
    fake.state.script(
        "*",
        Reply(
            body=_completion({"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls", _usage(9, 4))
        ),
    )
    resp = await ad.chat("groq", {"messages": HI, "response_format": JSON_SCHEMA})
    body = _sent(fake)
    assert "response_format" not in body
    assert body["tool_choice"] == {"type": "function", "function": {"name": "json_tool_call"}}
    assert body["tools"][-1]["function"]["parameters"] == JSON_SCHEMA["json_schema"]["schema"]
    choice = resp.completion.choices[0]
    assert json.loads(choice.message.text) == {"answer": "42"}
    assert not choice.message.tool_calls and choice.finish_reason == "stop"


async def test_groq_streams_with_response_format_are_faked_from_one_answer(ad: Adapter, fake: Running) -> None:
    fake.state.script("*", _text('{"answer": "42"}'))
    msgs = await ad.stream("groq-native", {"messages": HI, "response_format": JSON_SCHEMA})
    body = _sent(fake)
    assert "stream" not in body and "stream_options" not in body
    assert body["response_format"] == JSON_SCHEMA, "models with native structured output keep it"
    got = assemble(chunks_of(msgs))
    assert json.loads(got["message"]["content"]) == {"answer": "42"} and got["finish_reason"] == "stop"
    end = end_of(msgs)
    assert (end.usage.prompt_tokens, end.usage.completion_tokens) == (5, 2)
    assert end.stats.cost_usd


async def test_groq_streams_without_response_format_are_real_streams(ad: Adapter, fake: Running) -> None:
    frames = sse(
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"content": "hey"}),
        _chunk({}, "stop"),
        _usage_chunk(3, 1),
        done=True,
    )
    fake.state.script("*", Reply(frames=frames, content_type="text/event-stream"))
    msgs = await ad.stream("groq", {"messages": HI})
    assert _sent(fake)["stream"] is True
    assert assemble(chunks_of(msgs))["message"]["content"] == "hey"


async def test_groq_never_gets_a_null_function_call(ad: Adapter, fake: Running) -> None:
    """Groq rejects `function_call: null`, which OpenAI SDKs send on assistant messages."""
    messages = [
        *HI,
        {"role": "assistant", "content": "hello", "function_call": None},
        {"role": "user", "content": "again"},
    ]
    resp = await ad.chat("groq", {"messages": messages})
    assert resp.WhichOneof("result") == "completion", resp.error
    assert all("function_call" not in m for m in _sent(fake)["messages"])


# --- DeepSeek -----------------------------------------------------------------------------


async def test_deepseek_reasoning_content_passes_both_ways(ad: Adapter, fake: Running) -> None:
    fake.state.script(
        "*",
        _text("4", reasoning_content="2+2 is 4."),
        Reply(
            frames=sse(
                _chunk({"role": "assistant", "content": None, "reasoning_content": ""}),
                _chunk({"content": None, "reasoning_content": "Hmm"}),
                _chunk({"content": "4"}),
                _chunk({}, "stop"),
                _usage_chunk(3, 2),
                done=True,
            ),
            content_type="text/event-stream",
        ),
    )
    unary = await ad.chat("deepseek", {"messages": [{"role": "user", "content": "2+2?"}]})
    assert unary.completion.choices[0].message.reasoning_content == "2+2 is 4."
    msgs = await ad.stream("deepseek", {"messages": [{"role": "user", "content": "2+2?"}]})
    got = assemble(chunks_of(msgs))
    assert got["message"] == {"role": "assistant", "content": "4", "reasoning_content": "Hmm"}
    # Thinking-mode turns with tool calls must carry their reasoning_content back
    # (https://api-docs.deepseek.com/guides/thinking_mode).
    history = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "Need the tool.",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
    ]
    await ad.chat("deepseek", {"messages": history, "tools": TOOLS})
    assert _sent(fake)["messages"][1]["reasoning_content"] == "Need the tool."


# --- OpenAI reasoning models --------------------------------------------------------------


@pytest.mark.parametrize("name", ["o3", "gpt5"])
async def test_reasoning_models_take_max_completion_tokens(ad: Adapter, fake: Running, name: str) -> None:
    resp = await ad.chat(name, {"messages": HI, "max_tokens": 64, "temperature": 1})
    assert resp.WhichOneof("result") == "completion", resp.error
    body = _sent(fake)
    assert body["max_completion_tokens"] == 64 and "max_tokens" not in body and body["temperature"] == 1


async def test_reasoning_models_reject_other_temperatures_unless_dropped(ad: Adapter, fake: Running) -> None:
    bad = await ad.chat("o3", {"messages": HI, "temperature": 0.2})
    assert bad.error.kind == ErrorKind.ERROR_KIND_UNSUPPORTED_PARAMS and bad.error.param == "temperature"
    assert fake.state.requests == []
    ok = await ad.chat("o3", {"messages": HI, "temperature": 0.2, "drop_params": True})
    assert ok.WhichOneof("result") == "completion" and "temperature" not in _sent(fake)


async def test_other_openai_models_are_unchanged(ad: Adapter, fake: Running) -> None:
    await ad.chat("gpt4o", {"messages": HI, "max_tokens": 64, "temperature": 0.2})
    body = _sent(fake)
    assert body["max_tokens"] == 64 and body["temperature"] == 0.2


def test_reasoning_model_names() -> None:
    assert all(
        is_reasoning_model(m) for m in ("o1", "o1-mini", "o3-mini", "o4-mini", "gpt-5", "gpt-5-nano", "azure/o3")
    )
    assert not any(is_reasoning_model(m) for m in ("gpt-4o", "gpt-5-chat-latest", "omni-moderation", "gpt-4.1"))


# --- API bases ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "url"),
    [
        ("xai", "https://api.x.ai/v1/chat/completions"),
        ("openrouter", "https://openrouter.ai/api/v1/chat/completions"),
        ("perplexity", "https://api.perplexity.ai/chat/completions"),
        ("together_ai", "https://api.together.xyz/v1/chat/completions"),
        ("fireworks_ai", "https://api.fireworks.ai/inference/v1/chat/completions"),
        ("deepseek", "https://api.deepseek.com/v1/chat/completions"),
        ("mistral", "https://api.mistral.ai/v1/chat/completions"),
        ("groq", "https://api.groq.com/openai/v1/chat/completions"),
        ("lm_studio", "http://localhost:1234/v1/chat/completions"),
    ],
)
async def test_default_api_bases(provider: str, url: str) -> None:
    ctx = CallContext(
        deployment=deployment_pb2.Deployment(id="d", provider=provider, model="m"),
        credentials={"api_key": KEY},
        params={},
        call_id="c",
    )
    call = await OpenAIProvider(provider).chat_call(ctx, chat_request_from_json({"model": "m", "messages": HI}), False)
    assert call.url == url and call.headers["authorization"] == f"Bearer {KEY}"
    assert orjson.loads(call.body or b"{}")["model"] == "m"


@pytest.mark.parametrize("provider", ["hosted_vllm", "openai_like", "llamafile"])
async def test_self_hosted_servers_use_the_deployment_api_base(provider: str) -> None:
    dep = deployment_pb2.Deployment(id="d", provider=provider, model="qwen", api_base="http://10.0.0.5:8000/v1")
    ctx = CallContext(deployment=dep, credentials={}, params={}, call_id="c")
    call = await OpenAIProvider(provider).chat_call(ctx, chat_pb2.ChatCompletionRequest(model="qwen"), True)
    assert call.url == "http://10.0.0.5:8000/v1/chat/completions"
    assert "authorization" not in call.headers, "no key configured, none sent (vLLM/llama.cpp without --api-key)"
    assert orjson.loads(call.body or b"{}")["stream_options"] == {"include_usage": True}


async def test_self_hosted_server_without_api_base_is_a_clear_error() -> None:
    from switchyard_provider_adapter.domain.errors import ProviderFailure

    ctx = CallContext(
        deployment=deployment_pb2.Deployment(id="d", provider="hosted_vllm", model="m"),
        credentials={},
        params={},
        call_id="c",
    )
    with pytest.raises(ProviderFailure, match="needs an api_base"):
        await OpenAIProvider("hosted_vllm").chat_call(ctx, chat_pb2.ChatCompletionRequest(model="m"), False)
