"""Test harness of the provider adapter: the real gRPC server in-process on an ephemeral port,
configured with a temporary config.yaml whose deployments point at an in-process fake provider."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
import orjson
import yaml
from aiohttp import web

from switchyard.llm.v1 import chat_pb2, deployment_pb2
from switchyard.provider.v1 import provider_pb2, provider_pb2_grpc
from switchyard_fakes.base import Reply, scripted_app
from switchyard_llm.model_config import load_config
from switchyard_llm.openai_codec.chat import chat_request_from_json
from switchyard_llm.openai_codec.messages import message_to_json
from switchyard_provider_adapter.config import Settings
from switchyard_provider_adapter.server import build


@asynccontextmanager
async def adapter(
    tmp_path: Path, model_list: list[dict[str, Any]], env: Mapping[str, str] | None = None, **settings: Any
) -> AsyncIterator[Adapter]:
    """Start the adapter with ``model_list``; ``env`` sets variables named by os.environ/ refs."""
    cfg_path = tmp_path / "config.yaml"
    cfg_path.write_text(yaml.safe_dump({"model_list": model_list}))
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        s = Settings(config_path=str(cfg_path), grpc_port=0, bind_host="127.0.0.1", **settings)
        service, http = build(s)
        await service.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.bound_port}")
        try:
            yield Adapter(provider_pb2_grpc.ProviderServiceStub(channel), load_config(cfg_path))
        finally:
            await channel.close()
            await service.stop()
            await http.close()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class Adapter:
    def __init__(self, stub: Any, config: Any) -> None:
        self.stub = stub
        self.config = config

    def deployment(self, model_name: str) -> deployment_pb2.Deployment:
        dep = next(d for d in self.config.deployments if d.model_name == model_name)
        return dep.to_proto()

    async def chat(self, model_name: str, body: Mapping[str, Any]) -> provider_pb2.ChatResponse:
        req = chat_request_from_json({"model": model_name, **body})
        return await self.stub.Chat(
            provider_pb2.ChatRequest(deployment=self.deployment(model_name), request=req, call_id="test-call"),
            timeout=30,
        )

    async def stream(self, model_name: str, body: Mapping[str, Any]) -> list[provider_pb2.ChatStreamResponse]:
        req = chat_request_from_json({"model": model_name, "stream": True, **body})
        call = self.stub.ChatStream(
            provider_pb2.ChatStreamRequest(deployment=self.deployment(model_name), request=req, call_id="test-call"),
            timeout=30,
        )
        return [m async for m in call]


def openai_upstream() -> web.Application:
    """An OpenAI-compatible upstream that records every request and answers a short completion
    (scripted replies first, per model, as every fake)."""
    completion = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    return scripted_app(
        [("POST", "/v1/chat/completions")],
        lambda request, rec: str((rec.json() or {}).get("model", "")),
        lambda request, rec: Reply(body=completion),
    )


def assemble(chunks: Iterable[chat_pb2.ChatCompletionChunk]) -> dict[str, Any]:
    """The assistant message a client rebuilds from streamed chunks (as the OpenAI SDK does)."""
    content: list[str] = []
    reasoning: list[str] = []
    tools: dict[int, dict[str, Any]] = {}
    finish = ""
    for c in chunks:
        for ch in c.choices:
            d = ch.delta
            if d.HasField("content"):
                content.append(d.content)
            if d.HasField("reasoning_content"):
                reasoning.append(d.reasoning_content)
            for t in d.tool_calls:
                slot = tools.setdefault(
                    t.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
                )
                if t.HasField("id"):
                    slot["id"] = t.id
                if t.HasField("name"):
                    slot["function"]["name"] += t.name
                if t.HasField("arguments"):
                    slot["function"]["arguments"] += t.arguments
            if ch.finish_reason:
                finish = ch.finish_reason
    msg: dict[str, Any] = {"role": "assistant", "content": "".join(content) or None}
    if reasoning:
        msg["reasoning_content"] = "".join(reasoning)
    if tools:
        msg["tool_calls"] = [tools[i] for i in sorted(tools)]
    return {"message": msg, "finish_reason": finish}


def unary_message(resp: provider_pb2.ChatResponse) -> dict[str, Any]:
    """The same view of a non-streamed answer, for stream == non-stream comparisons."""
    ch = resp.completion.choices[0]
    msg = message_to_json(ch.message)
    out: dict[str, Any] = {"role": "assistant", "content": msg.get("content")}
    if "reasoning_content" in msg:
        out["reasoning_content"] = msg["reasoning_content"]
    if msg.get("tool_calls"):
        out["tool_calls"] = [{"id": t["id"], "type": "function", "function": t["function"]} for t in msg["tool_calls"]]
    return {"message": out, "finish_reason": ch.finish_reason}


def chunks_of(messages: list[provider_pb2.ChatStreamResponse]) -> list[chat_pb2.ChatCompletionChunk]:
    return [m.chunk for m in messages if m.WhichOneof("event") == "chunk"]


def end_of(messages: list[provider_pb2.ChatStreamResponse]) -> provider_pb2.StreamEnd:
    last = messages[-1]
    assert last.WhichOneof("event") == "end", f"stream did not end cleanly: {last}"
    return last.end


def dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True)


__all__ = [
    "Adapter",
    "adapter",
    "assemble",
    "chunks_of",
    "dumps",
    "end_of",
    "openai_upstream",
    "orjson",
    "unary_message",
]
