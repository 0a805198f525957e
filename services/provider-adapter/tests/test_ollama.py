"""Ollama (native /api/chat and /api/embed) through the scenario suite, plus its own quirks:
options, format, think, images, tool arguments as objects, NDJSON, keep_alive, 404/503."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiohttp import web
from harness import Adapter, adapter, assemble, chunks_of, end_of
from scenarios import IMAGE_MESSAGES, JSON_SCHEMA, PNG_B64, TOOLS, ChatScenarios

from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.provider.v1 import provider_pb2
from switchyard_fakes.base import Recorded, Reply, Running
from switchyard_fakes.ollama_server import create_app, error, final, message, ndjson
from switchyard_llm.openai_codec.embeddings import embedding_request_from_json

MODEL = "llama3.2"

_ERRORS = {
    # Local Ollama has no keys; ollama.com and authenticating proxies answer this way.
    "auth": (401, "unauthorized", {}),
    "not_found": (404, f'model "{MODEL}" not found, try pulling it first', {}),
    "bad_request": (400, 'invalid format: expected "json" or a valid JSON schema', {}),
    # A rate-limiting gateway in front of Ollama (ollama.com, or a proxy sharing one server)
    # answers 429 with a retry-after; local Ollama itself never rate-limits.
    "rate_limit": (429, "too many requests, please slow down", {"retry-after": "5"}),
    "server": (500, "llama runner process has terminated: signal: killed", {}),
}


class TestOllama(ChatScenarios):
    reports_cache_writes = False
    # Local Ollama has no permissions and no safety filter; an over-long prompt is truncated to
    # num_ctx rather than refused.
    errors_not_applicable: ClassVar[set[str]] = {"permission", "content_policy", "context_window"}

    def fake_app(self) -> web.Application:
        return create_app(api_key=self.api_key)

    def litellm_params(self, base_url: str) -> dict[str, Any]:
        return {"model": f"ollama_chat/{MODEL}", "api_base": base_url, "api_key": self.api_key}

    def reply_text(self, text: str, prompt_tokens: int, completion_tokens: int) -> Reply:
        return Reply(body=final(MODEL, {"content": text}, prompt_tokens, completion_tokens))

    def reply_tool_calls(self, calls: list[tuple[str, str, str]]) -> Reply:
        tool_calls = [{"function": {"name": n, "arguments": json.loads(a)}} for _, n, a in calls]
        return Reply(body=final(MODEL, {"content": "", "tool_calls": tool_calls}, 30, 12))

    def stream_text(self, pieces: list[str], prompt_tokens: int, completion_tokens: int) -> Reply:
        lines = [message(MODEL, {"content": p}) for p in pieces]
        lines.append(final(MODEL, {"content": ""}, prompt_tokens, completion_tokens))
        return Reply(frames=ndjson(*lines), content_type="application/x-ndjson")

    def stream_tool_calls(self, calls: list[tuple[str, str, list[str]]]) -> Reply:
        # Ollama sends each tool call whole, its arguments an object.
        lines = [
            message(
                MODEL, {"content": "", "tool_calls": [{"function": {"name": n, "arguments": json.loads("".join(p))}}]}
            )
            for _, n, p in calls
        ]
        lines.append(final(MODEL, {"content": ""}, 30, 20))
        return Reply(frames=ndjson(*lines), content_type="application/x-ndjson")

    def reply_error(self, name: str) -> Reply:
        status, text, headers = _ERRORS[name]
        return error(status, text, headers)

    def reply_cached_usage(self, prompt: int, completion: int, cache_read: int, cache_write: int) -> Reply:
        raise NotImplementedError  # see test_usage_with_cached_tokens below

    async def test_usage_with_cached_tokens(self, ad: Adapter, fake: Running) -> None:
        pytest.skip("Ollama reports no prompt-cache counts (only prompt_eval_count and eval_count)")

    def check_plain(self, rec: Recorded) -> None:
        assert rec.method == "POST" and rec.path == "/api/chat"
        assert rec.header("authorization") == f"Bearer {self.api_key}"
        assert rec.json() == {"model": MODEL, "messages": [{"role": "user", "content": "Say hi"}], "stream": False}

    def check_system(self, rec: Recorded) -> None:
        assert rec.json()["messages"] == [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Say hi"},
        ]

    def check_sampling(self, rec: Recorded) -> None:
        body = rec.json()
        assert body["options"] == {"temperature": 0.5, "top_p": 0.9, "num_predict": 77, "stop": ["END"], "seed": 42}
        assert "user-7" not in rec.body.decode()

    def check_tool_history(self, rec: Recorded) -> None:
        body = rec.json()
        assert body["messages"] == [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}],
            },
            {"role": "tool", "content": "18C and sunny", "tool_name": "get_weather"},
        ]
        assert body["tools"] == TOOLS

    def check_forced_tool(self, rec: Recorded) -> None:
        body = rec.json()
        assert "tool_choice" not in body, "Ollama has no tool_choice (sending one hangs it)"
        assert body["tools"] == TOOLS

    def check_json_schema(self, rec: Recorded) -> None:
        assert rec.json()["format"] == JSON_SCHEMA["json_schema"]["schema"]

    def check_image(self, rec: Recorded) -> None:
        assert rec.json()["messages"] == [
            {"role": "user", "content": IMAGE_MESSAGES[0]["content"][0]["text"], "images": [PNG_B64]}
        ]

    def check_stream(self, rec: Recorded) -> None:
        assert rec.json()["stream"] is True

    # --- Ollama specifics ---------------------------------------------------------------

    async def test_json_mode_think_keep_alive_and_options(self, ad: Adapter, fake: Running) -> None:
        await ad.chat(
            self.model_name,
            {
                "messages": [{"role": "user", "content": "hi"}],
                "response_format": {"type": "json_object"},
                "reasoning_effort": "low",
                "keep_alive": "10m",
                "num_ctx": 8192,
                "options": {"top_k": 20},
            },
        )
        body = fake.state.last.json()
        assert body["format"] == "json" and body["think"] is True and body["keep_alive"] == "10m"
        assert body["options"] == {"num_ctx": 8192, "top_k": 20}

    async def test_gpt_oss_takes_a_thinking_level(self, fake: Running, tmp_path: Path) -> None:
        params = {**self.litellm_params(fake.url), "model": "ollama/gpt-oss:20b"}
        async with adapter(tmp_path, [{"model_name": "m", "litellm_params": params}]) as ad:
            await ad.chat("m", {"messages": [{"role": "user", "content": "?"}], "reasoning_effort": "high"})
        assert fake.state.last.json()["think"] == "high"

    async def test_thinking_is_reasoning_content(self, ad: Adapter, fake: Running) -> None:
        fake.state.script("*", Reply(body=final(MODEL, {"content": "4", "thinking": "2+2"}, 5, 3)))
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "2+2?"}]})
        msg = resp.completion.choices[0].message
        assert (msg.text, msg.reasoning_content) == ("4", "2+2")
        lines = [
            message(MODEL, {"content": "", "thinking": "2+"}),
            message(MODEL, {"content": "", "thinking": "2"}),
            message(MODEL, {"content": "4"}),
            final(MODEL, {"content": ""}, 5, 3),
        ]
        fake.state.script("*", Reply(frames=ndjson(*lines), content_type="application/x-ndjson"))
        msgs = await ad.stream(self.model_name, {"messages": [{"role": "user", "content": "2+2?"}]})
        assert assemble(chunks_of(msgs))["message"] == {"role": "assistant", "content": "4", "reasoning_content": "2+2"}
        assert end_of(msgs).usage.total_tokens == 8

    async def test_length_finish(self, ad: Adapter, fake: Running) -> None:
        fake.state.script("*", Reply(body=final(MODEL, {"content": "cut"}, 5, 3, done_reason="length")))
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "hi"}]})
        assert resp.completion.choices[0].finish_reason == "length"

    async def test_tool_choice_none_offers_no_tools(self, ad: Adapter, fake: Running) -> None:
        await ad.chat(
            self.model_name, {"messages": [{"role": "user", "content": "hi"}], "tools": TOOLS, "tool_choice": "none"}
        )
        assert "tools" not in fake.state.last.json()

    async def test_image_links_are_refused(self, ad: Adapter, fake: Running) -> None:
        content = [{"type": "text", "text": "?"}, {"type": "image_url", "image_url": {"url": "https://ex.com/a.png"}}]
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": content}]})
        assert resp.error.kind == ErrorKind.ERROR_KIND_BAD_REQUEST and resp.error.http_status == 400
        assert resp.error.param == "messages[0].content[1]" and "base64" in resp.error.message
        assert fake.state.requests == []

    async def test_server_busy_is_service_unavailable(self, ad: Adapter, fake: Running) -> None:
        fake.state.script("*", error(503, "server busy, please try again.  maximum pending requests exceeded"))
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "hi"}]})
        assert (resp.error.kind, resp.error.http_status) == (ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE, 503)

    async def test_error_line_mid_stream(self, ad: Adapter, fake: Running) -> None:
        lines = [
            *ndjson(message(MODEL, {"content": "Hel"})),
            b'{"error":"an error was encountered while running the model"}\n',
        ]
        fake.state.script("*", Reply(frames=lines, content_type="application/x-ndjson"))
        msgs = await ad.stream(self.model_name, {"messages": [{"role": "user", "content": "hi"}]})
        assert chunks_of(msgs)[0].choices[0].delta.content == "Hel"
        assert msgs[-1].WhichOneof("event") == "error"
        assert "encountered while running the model" in msgs[-1].error.message

    async def test_local_ollama_without_a_key(self, tmp_path: Path) -> None:
        async with Running(create_app()) as local:
            models = [{"model_name": "m", "litellm_params": {"model": f"ollama/{MODEL}", "api_base": local.url}}]
            async with adapter(tmp_path, models) as ad:
                resp = await ad.chat("m", {"messages": [{"role": "user", "content": "hi"}]})
            assert "fake Ollama" in resp.completion.choices[0].message.text
            assert local.state.last.header("authorization") is None

    async def test_an_unreadable_embeddings_answer_is_a_bad_gateway_worded_as_for_chat(
        self, ad: Adapter, fake: Running
    ) -> None:
        # One mapping of call failures for chat, streams, embeddings and images.
        fake.state.script("*", Reply(body=b"<html>proxy error</html>"))
        req = embedding_request_from_json({"model": self.model_name, "input": "hello"})
        resp = await ad.stub.Embed(
            provider_pb2.EmbedRequest(deployment=ad.deployment(self.model_name), request=req, call_id="e"), timeout=30
        )
        assert (resp.error.kind, resp.error.http_status) == (ErrorKind.ERROR_KIND_BAD_GATEWAY, 502)
        assert ": unreadable response from provider: " in resp.error.message

    async def test_embeddings(self, ad: Adapter, fake: Running) -> None:
        req = embedding_request_from_json(
            {"model": self.model_name, "input": ["hello world", "bye"], "dimensions": 4, "keep_alive": "1m"}
        )
        resp = await ad.stub.Embed(
            provider_pb2.EmbedRequest(deployment=ad.deployment(self.model_name), request=req, call_id="e"), timeout=30
        )
        assert resp.WhichOneof("result") == "embeddings", resp.error
        rec = fake.state.last
        assert rec.path == "/api/embed"
        assert rec.json() == {"model": MODEL, "input": ["hello world", "bye"], "dimensions": 4, "keep_alive": "1m"}
        assert [len(e.floats.values) for e in resp.embeddings.data] == [4, 4]
        assert resp.embeddings.usage.prompt_tokens == 3
