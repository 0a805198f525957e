"""Cohere (v2 chat and embed) through the scenario suite, plus its own quirks: tool plans,
citations, thinking, billed units, per-minute rate limits, 402."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, ClassVar

from aiohttp import web
from harness import Adapter, assemble, chunks_of, end_of
from scenarios import IMAGE_MESSAGES, INPUT_PRICE, JSON_SCHEMA, OUTPUT_PRICE, TOOL_HISTORY, TOOLS, ChatScenarios

from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.provider.v1 import provider_pb2
from switchyard_fakes.base import Recorded, Reply, Running
from switchyard_fakes.cohere_server import (
    chat_response,
    create_app,
    error,
    event,
    stream_text,
    stream_tool_calls,
    usage,
)
from switchyard_llm.openai_codec.embeddings import embedding_request_from_json

MODEL = "command-a-03-2025"

_ERRORS = {
    "auth": (401, "invalid api token", {}),
    "not_found": (
        404,
        "model 'command-x' not found, make sure the correct model ID was used and that you have access to the model.",
        {},
    ),
    "bad_request": (400, "invalid request: temperature must be between 0 and 1.0 inclusive.", {}),
    "context_window": (
        400,
        "too many tokens: total number of tokens in the prompt cannot exceed 128000 - received 130211. "
        "Try using a shorter prompt, or enabling prompt truncating.",
        {},
    ),
    "rate_limit": (429, "You are past the per minute request limit, please wait and try again later.", {}),
    "server": (500, "internal server error, this has been reported to our developers. id 5f2c", {}),
}


class TestCohere(ChatScenarios):
    reports_cache_writes = False
    # Cohere's documented errors (400, 401, 402, 404, 429, 499, 500) have no 403 and no
    # content-policy error: its safety modes make the model decline in text instead.
    errors_not_applicable: ClassVar[set[str]] = {"permission", "content_policy"}

    def fake_app(self) -> web.Application:
        return create_app(api_key=self.api_key)

    def litellm_params(self, base_url: str) -> dict[str, Any]:
        return {"model": f"cohere/{MODEL}", "api_base": base_url, "api_key": self.api_key}

    def reply_text(self, text: str, prompt_tokens: int, completion_tokens: int) -> Reply:
        message = {"content": [{"type": "text", "text": text}]}
        return Reply(body=chat_response(message, "COMPLETE", usage(prompt_tokens, completion_tokens)))

    def reply_tool_calls(self, calls: list[tuple[str, str, str]]) -> Reply:
        tool_calls = [{"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in calls]
        message = {"tool_plan": "I will look up the weather.", "tool_calls": tool_calls}
        return Reply(body=chat_response(message, "TOOL_CALL", usage(30, 12)))

    def stream_text(self, pieces: list[str], prompt_tokens: int, completion_tokens: int) -> Reply:
        return Reply(
            frames=stream_text(pieces, usage(prompt_tokens, completion_tokens)), content_type="text/event-stream"
        )

    def stream_tool_calls(self, calls: list[tuple[str, str, list[str]]]) -> Reply:
        return Reply(frames=stream_tool_calls("", calls, usage(30, 20)), content_type="text/event-stream")

    def reply_error(self, name: str) -> Reply:
        status, message, headers = _ERRORS[name]
        return error(status, message, headers)

    def reply_cached_usage(self, prompt: int, completion: int, cache_read: int, cache_write: int) -> Reply:
        # Cache hits are reported beside the billed input tokens.
        message = {"content": [{"type": "text", "text": "cached"}]}
        return Reply(body=chat_response(message, "COMPLETE", usage(prompt - cache_read, completion, cached=cache_read)))

    def check_plain(self, rec: Recorded) -> None:
        assert rec.method == "POST" and rec.path == "/v2/chat"
        assert rec.header("authorization") == f"Bearer {self.api_key}"
        assert rec.json() == {"model": MODEL, "messages": [{"role": "user", "content": "Say hi"}]}

    def check_system(self, rec: Recorded) -> None:
        assert rec.json()["messages"] == [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Say hi"},
        ]

    def check_sampling(self, rec: Recorded) -> None:
        body = rec.json()
        assert {k: v for k, v in body.items() if k not in ("model", "messages")} == {
            "temperature": 0.5,
            "p": 0.9,
            "max_tokens": 77,
            "stop_sequences": ["END"],
            "seed": 42,
        }

    def check_tool_history(self, rec: Recorded) -> None:
        body = rec.json()
        assert body["messages"] == [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "tool_calls": TOOL_HISTORY[1]["tool_calls"]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"},
        ]
        assert body["tools"] == TOOLS

    def check_forced_tool(self, rec: Recorded) -> None:
        body = rec.json()
        assert body["tool_choice"] == "REQUIRED"
        assert [t["function"]["name"] for t in body["tools"]] == ["get_weather"]

    def check_json_schema(self, rec: Recorded) -> None:
        assert rec.json()["response_format"] == {
            "type": "json_object",
            "json_schema": JSON_SCHEMA["json_schema"]["schema"],
        }

    def check_image(self, rec: Recorded) -> None:
        assert rec.json()["messages"] == IMAGE_MESSAGES

    def check_stream(self, rec: Recorded) -> None:
        assert rec.json()["stream"] is True
        assert rec.header("accept") == "text/event-stream"

    # --- Cohere specifics ---------------------------------------------------------------

    async def test_tool_plan_is_the_assistant_text(self, ad: Adapter, fake: Running) -> None:
        fake.state.script("*", self.reply_tool_calls([("c1", "get_weather", '{"city": "Oslo"}')]))
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "Oslo?"}], "tools": TOOLS})
        msg = resp.completion.choices[0].message
        assert msg.text == "I will look up the weather." and msg.tool_calls[0].id == "c1"
        history = [
            {"role": "user", "content": "Oslo?"},
            {
                "role": "assistant",
                "content": msg.text,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "cold"},
        ]
        await ad.chat(self.model_name, {"messages": history, "tools": TOOLS})
        sent = fake.state.last.json()["messages"][1]
        assert sent["tool_plan"] == "I will look up the weather." and "content" not in sent

    async def test_streamed_tool_plan(self, ad: Adapter, fake: Running) -> None:
        frames = stream_tool_calls("Checking.", [("c1", "get_weather", ['{"city": ', '"Oslo"}'])], usage(9, 7))
        fake.state.script("*", Reply(frames=frames, content_type="text/event-stream"))
        msgs = await ad.stream(self.model_name, {"messages": [{"role": "user", "content": "Oslo?"}], "tools": TOOLS})
        got = assemble(chunks_of(msgs))
        assert got["message"]["content"] == "Checking."
        assert got["message"]["tool_calls"] == [
            {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
        ]
        assert got["finish_reason"] == "tool_calls"
        assert (end_of(msgs).usage.prompt_tokens, end_of(msgs).usage.completion_tokens) == (9, 7)

    async def test_billed_units_are_the_usage(self, ad: Adapter, fake: Running) -> None:
        fake.state.script("*", self.reply_text("ok", 12, 3))
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "hi"}]})
        u = resp.completion.usage
        assert (u.prompt_tokens, u.completion_tokens) == (12, 3), "not tokens, which add the prompt template"
        assert Decimal(resp.stats.cost_usd) == 12 * INPUT_PRICE + 3 * OUTPUT_PRICE

    async def test_citations_become_annotations(self, ad: Adapter, fake: Running) -> None:
        citations = [
            {
                "start": 0,
                "end": 5,
                "text": "Paris",
                "type": "TEXT_CONTENT",
                "sources": [
                    {"type": "document", "id": "doc:0", "document": {"url": "https://ex.com/p", "title": "Paris"}}
                ],
            }
        ]
        message = {"content": [{"type": "text", "text": "Paris is sunny."}], "citations": citations}
        fake.state.script("*", Reply(body=chat_response(message, "COMPLETE", usage(5, 4))))
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "hi"}]})
        extra = json.loads(resp.completion.choices[0].message.extra_json)
        assert extra["annotations"] == [
            {
                "type": "url_citation",
                "url_citation": {"start_index": 0, "end_index": 5, "url": "https://ex.com/p", "title": "Paris"},
            }
        ]
        assert extra["provider_specific_fields"]["citations"] == citations

    async def test_thinking(self, ad: Adapter, fake: Running) -> None:
        content = [{"type": "thinking", "thinking": "Hmm."}, {"type": "text", "text": "Yes."}]
        fake.state.script("*", Reply(body=chat_response({"content": content}, "COMPLETE", usage(4, 6))))
        resp = await ad.chat(
            self.model_name, {"messages": [{"role": "user", "content": "?"}], "reasoning_effort": "medium"}
        )
        msg = resp.completion.choices[0].message
        assert (msg.text, msg.reasoning_content) == ("Yes.", "Hmm.")
        assert fake.state.last.json()["thinking"] == {"type": "enabled", "token_budget": 2048}
        frames = [
            event("message-start", id="m1", delta={"message": {"role": "assistant"}}),
            event("content-start", index=0, delta={"message": {"content": {"type": "thinking", "thinking": ""}}}),
            event("content-delta", index=0, delta={"message": {"content": {"thinking": "Hmm."}}}),
            event("content-end", index=0),
            event("content-start", index=1, delta={"message": {"content": {"type": "text", "text": ""}}}),
            event("content-delta", index=1, delta={"message": {"content": {"text": "Yes."}}}),
            event("message-end", delta={"finish_reason": "COMPLETE", "usage": usage(4, 6)}),
        ]
        fake.state.script("*", Reply(frames=frames, content_type="text/event-stream"))
        msgs = await ad.stream(self.model_name, {"messages": [{"role": "user", "content": "?"}]})
        assert assemble(chunks_of(msgs))["message"] == {
            "role": "assistant",
            "content": "Yes.",
            "reasoning_content": "Hmm.",
        }

    async def test_tool_choice_modes(self, ad: Adapter, fake: Running) -> None:
        for choice, expected in (("required", "REQUIRED"), ("none", "NONE"), ("auto", None)):
            await ad.chat(
                self.model_name,
                {"messages": [{"role": "user", "content": "hi"}], "tools": TOOLS, "tool_choice": choice},
            )
            assert fake.state.last.json().get("tool_choice") == expected

    async def test_rate_limit_headers_win_over_the_per_minute_window(self, ad: Adapter, fake: Running) -> None:
        fake.state.script("*", error(429, "You are past the per minute request limit.", {"retry-after": "4"}))
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "hi"}]})
        assert resp.error.retry_after_seconds == 4.0
        fake.state.script("*", error(429, "You are past the per minute request limit."))
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "hi"}]})
        assert resp.error.retry_after_seconds == 60.0

    async def test_payment_required_is_permission_denied(self, ad: Adapter, fake: Running) -> None:
        fake.state.script("*", error(402, "Please add a payment method to continue using the API."))
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "hi"}]})
        assert (resp.error.kind, resp.error.http_status) == (ErrorKind.ERROR_KIND_PERMISSION_DENIED, 403)
        assert "payment method" in resp.error.message

    async def test_unsupported_params(self, ad: Adapter, fake: Running) -> None:
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "hi"}], "n": 2})
        assert resp.error.kind == ErrorKind.ERROR_KIND_UNSUPPORTED_PARAMS and resp.error.param == "n"
        resp = await ad.chat(
            self.model_name, {"messages": [{"role": "user", "content": "hi"}], "n": 2, "drop_params": True}
        )
        assert resp.WhichOneof("result") == "completion"
        assert "n" not in fake.state.last.json() and "num_generations" not in fake.state.last.json()

    async def test_native_params_pass_through(self, ad: Adapter, fake: Running) -> None:
        await ad.chat(
            self.model_name,
            {"messages": [{"role": "user", "content": "hi"}], "top_k": 40, "safety_mode": "STRICT"},
        )
        body = fake.state.last.json()
        assert body["k"] == 40 and body["safety_mode"] == "STRICT"

    async def test_missing_key_is_refused_by_the_fake(self, fake: Running) -> None:
        """The fake itself answers Cohere's 401 to a request without a key."""
        import aiohttp

        async with aiohttp.ClientSession() as s, s.post(f"{fake.url}/v2/chat", json={"model": MODEL}) as r:
            assert r.status == 401 and (await r.json())["message"] == "no api key supplied"

    async def _embed(self, ad: Adapter, body: dict[str, Any]) -> provider_pb2.EmbedResponse:
        req = embedding_request_from_json({"model": self.model_name, **body})
        return await ad.stub.Embed(
            provider_pb2.EmbedRequest(deployment=ad.deployment(self.model_name), request=req, call_id="e"), timeout=30
        )

    async def test_embeddings(self, ad: Adapter, fake: Running) -> None:
        resp = await self._embed(ad, {"input": ["hello world", "bye"], "dimensions": 4})
        assert resp.WhichOneof("result") == "embeddings", resp.error
        rec = fake.state.last
        assert rec.path == "/v2/embed"
        assert rec.json() == {
            "model": MODEL,
            "texts": ["hello world", "bye"],
            "input_type": "search_document",
            "embedding_types": ["float"],
            "output_dimension": 4,
        }
        assert [len(e.floats.values) for e in resp.embeddings.data] == [4, 4]
        assert resp.embeddings.usage.prompt_tokens == 3
        await self._embed(ad, {"input": "q", "input_type": "search_query"})
        assert fake.state.last.json()["input_type"] == "search_query"
        bad = await self._embed(ad, {"input": "q", "colour": "blue"})
        assert bad.error.kind == ErrorKind.ERROR_KIND_UNSUPPORTED_PARAMS and bad.error.param == "colour"
