"""The scenario suite every provider module must pass (the provider-adapter contract).

A provider test subclasses ``ChatScenarios`` (class name starting with ``Test``) and implements the
hooks: the fake app, the deployment's litellm_params, builders of the provider's *native* replies
(plain, tool calls, streams, errors, cached usage) and checks of the *native* request the adapter
sent. The suite scripts the fake, sends OpenAI-shaped requests through the real adapter gRPC
server, and asserts the OpenAI-shaped answers, usage, cost and error kinds."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiohttp import web
from harness import Adapter, adapter, assemble, chunks_of, end_of, unary_message

from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_fakes.base import Recorded, Reply, Running

# Prices set on every scenario deployment so costs are exact and comparable.
INPUT_PRICE = Decimal("0.000003")
OUTPUT_PRICE = Decimal("0.000015")
CACHE_READ_PRICE = Decimal("0.0000003")
CACHE_WRITE_PRICE = Decimal("0.00000375")

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]

TOOL_HISTORY = [
    {"role": "user", "content": "Weather in Paris?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"},
]

JSON_SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "answer",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"answer": {"type": "string"}},
            "required": ["answer"],
            "additionalProperties": False,
        },
    },
}

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
IMAGE_MESSAGES = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in these images?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
        ],
    }
]

# error name → (expected kind, expected HTTP status)
ERRORS: dict[str, tuple[int, int]] = {
    "auth": (ErrorKind.ERROR_KIND_AUTHENTICATION, 401),
    "permission": (ErrorKind.ERROR_KIND_PERMISSION_DENIED, 403),
    "not_found": (ErrorKind.ERROR_KIND_NOT_FOUND, 404),
    "bad_request": (ErrorKind.ERROR_KIND_BAD_REQUEST, 400),
    "context_window": (ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED, 400),
    "content_policy": (ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION, 400),
    "rate_limit": (ErrorKind.ERROR_KIND_RATE_LIMIT, 429),
    "server": (ErrorKind.ERROR_KIND_INTERNAL_SERVER, 500),
}


class ChatScenarios:
    """Hooks to implement are marked ``NotImplementedError``; the ``test_*`` methods are the suite."""

    model_name: ClassVar[str] = "scenario-model"
    api_key: ClassVar[str] = "provider-secret-key-0123456789"
    env: ClassVar[dict[str, str]] = {}
    # Error name → (kind, status) overrides for providers whose API maps differently (e.g. overloaded).
    error_overrides: ClassVar[dict[str, tuple[int, int]]] = {}
    # Error names this provider has no distinct wire form for.
    errors_not_applicable: ClassVar[set[str]] = set()
    # Whether the provider reports cache reads / writes; the cached-usage scenario checks what it can.
    reports_cache_writes: ClassVar[bool] = True

    # --- hooks --------------------------------------------------------------------------
    def fake_app(self) -> web.Application:
        raise NotImplementedError

    def litellm_params(self, base_url: str) -> dict[str, Any]:
        raise NotImplementedError

    def reply_text(self, text: str, prompt_tokens: int, completion_tokens: int) -> Reply:
        raise NotImplementedError

    def reply_tool_calls(self, calls: list[tuple[str, str, str]]) -> Reply:
        """calls: (id, name, arguments JSON)."""
        raise NotImplementedError

    def stream_text(self, pieces: list[str], prompt_tokens: int, completion_tokens: int) -> Reply:
        raise NotImplementedError

    def stream_tool_calls(self, calls: list[tuple[str, str, list[str]]]) -> Reply:
        """calls: (id, name, argument JSON split into pieces)."""
        raise NotImplementedError

    def reply_error(self, name: str) -> Reply:
        raise NotImplementedError

    def reply_cached_usage(self, prompt: int, completion: int, cache_read: int, cache_write: int) -> Reply:
        """A text reply whose usage reports cache reads and writes in the provider's fields;
        ``prompt`` is the OpenAI-style total (uncached + cache read + cache write)."""
        raise NotImplementedError

    def check_plain(self, rec: Recorded) -> None:
        """The native request for model + one user message "Say hi" (auth header, path, body)."""
        raise NotImplementedError

    def check_system(self, rec: Recorded) -> None:
        """System prompt "You are terse." then user "Say hi"."""
        raise NotImplementedError

    def check_sampling(self, rec: Recorded) -> None:
        """temperature=0.5, top_p=0.9, max_tokens=77, stop=["END"], seed (if supported), user."""
        raise NotImplementedError

    def check_tool_history(self, rec: Recorded) -> None:
        """TOOL_HISTORY with TOOLS: the assistant tool call and the tool result in native form."""
        raise NotImplementedError

    def check_forced_tool(self, rec: Recorded) -> None:
        """TOOLS with tool_choice naming get_weather."""
        raise NotImplementedError

    def check_json_schema(self, rec: Recorded) -> None:
        """response_format = JSON_SCHEMA."""
        raise NotImplementedError

    def check_image(self, rec: Recorded) -> None:
        """IMAGE_MESSAGES (a base64 PNG part)."""
        raise NotImplementedError

    def check_stream(self, rec: Recorded) -> None:
        """A streamed request (native stream flag / endpoint)."""
        raise NotImplementedError

    # --- fixtures -----------------------------------------------------------------------
    @pytest.fixture
    async def fake(self) -> Any:
        async with Running(self.fake_app()) as running:
            yield running

    def model_list(self, base_url: str, **extra_params: Any) -> list[dict[str, Any]]:
        return [
            {
                "model_name": self.model_name,
                "litellm_params": {**self.litellm_params(base_url), **extra_params},
                "model_info": {
                    "id": "scenario-dep",
                    "input_cost_per_token": float(INPUT_PRICE),
                    "output_cost_per_token": float(OUTPUT_PRICE),
                    "cache_read_input_token_cost": float(CACHE_READ_PRICE),
                    "cache_creation_input_token_cost": float(CACHE_WRITE_PRICE),
                },
            }
        ]

    @pytest.fixture
    async def ad(self, fake: Running, tmp_path: Path) -> Any:
        async with adapter(tmp_path, self.model_list(fake.url), env=self.env) as a:
            yield a

    def script(self, fake: Running, *replies: Reply) -> None:
        fake.state.script("*", *replies)

    # --- the suite ----------------------------------------------------------------------
    async def test_plain_chat(self, ad: Adapter, fake: Running) -> None:
        self.script(fake, self.reply_text("Hi there!", 12, 4))
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "Say hi"}]})
        assert resp.WhichOneof("result") == "completion", resp.error
        c = resp.completion
        assert c.choices[0].message.role == "assistant"
        assert c.choices[0].message.text == "Hi there!"
        assert c.choices[0].finish_reason == "stop"
        assert (c.usage.prompt_tokens, c.usage.completion_tokens, c.usage.total_tokens) == (12, 4, 16)
        assert c.id and c.created > 0
        assert Decimal(resp.stats.cost_usd) == 12 * INPUT_PRICE + 4 * OUTPUT_PRICE
        self.check_plain(fake.state.last)

    async def test_system_prompt(self, ad: Adapter, fake: Running) -> None:
        self.script(fake, self.reply_text("Hi.", 10, 2))
        resp = await ad.chat(
            self.model_name,
            {"messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hi"}]},
        )
        assert resp.WhichOneof("result") == "completion", resp.error
        self.check_system(fake.state.last)

    async def test_sampling_params(self, ad: Adapter, fake: Running) -> None:
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
            },
        )
        assert resp.WhichOneof("result") == "completion", resp.error
        self.check_sampling(fake.state.last)

    async def test_tool_call_history(self, ad: Adapter, fake: Running) -> None:
        self.script(fake, self.reply_text("It is 18C and sunny in Paris.", 40, 9))
        resp = await ad.chat(self.model_name, {"messages": TOOL_HISTORY, "tools": TOOLS})
        assert resp.WhichOneof("result") == "completion", resp.error
        assert "18C" in resp.completion.choices[0].message.text
        self.check_tool_history(fake.state.last)

    async def test_forced_tool_choice(self, ad: Adapter, fake: Running) -> None:
        self.script(fake, self.reply_tool_calls([("call_a", "get_weather", '{"city": "Paris"}')]))
        resp = await ad.chat(
            self.model_name,
            {
                "messages": [{"role": "user", "content": "Weather in Paris?"}],
                "tools": TOOLS,
                "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            },
        )
        assert resp.WhichOneof("result") == "completion", resp.error
        ch = resp.completion.choices[0]
        assert ch.finish_reason == "tool_calls"
        assert len(ch.message.tool_calls) == 1
        tc = ch.message.tool_calls[0]
        assert tc.id and tc.type == "function" and tc.function.name == "get_weather"
        import json

        assert json.loads(tc.function.arguments) == {"city": "Paris"}
        self.check_forced_tool(fake.state.last)

    async def test_parallel_tool_calls(self, ad: Adapter, fake: Running) -> None:
        self.script(
            fake,
            self.reply_tool_calls(
                [("call_a", "get_weather", '{"city": "Paris"}'), ("call_b", "get_weather", '{"city": "Rome"}')]
            ),
        )
        resp = await ad.chat(
            self.model_name, {"messages": [{"role": "user", "content": "Paris and Rome?"}], "tools": TOOLS}
        )
        assert resp.WhichOneof("result") == "completion", resp.error
        calls = resp.completion.choices[0].message.tool_calls
        assert [c.function.name for c in calls] == ["get_weather", "get_weather"]
        assert len({c.id for c in calls}) == 2

    async def test_json_schema_output(self, ad: Adapter, fake: Running) -> None:
        self.script(fake, self.reply_json('{"answer": "42"}'))
        resp = await ad.chat(
            self.model_name,
            {"messages": [{"role": "user", "content": "Answer in JSON"}], "response_format": JSON_SCHEMA},
        )
        assert resp.WhichOneof("result") == "completion", resp.error
        import json

        assert json.loads(resp.completion.choices[0].message.text) == {"answer": "42"}
        self.check_json_schema(fake.state.last)

    def reply_json(self, text: str) -> Reply:
        """The native answer to a json_schema request (plain text for most providers; some
        return it as a forced tool call, which they override here)."""
        return self.reply_text(text, 20, 6)

    async def test_image_input(self, ad: Adapter, fake: Running) -> None:
        self.script(fake, self.reply_text("A single pixel.", 100, 4))
        resp = await ad.chat(self.model_name, {"messages": IMAGE_MESSAGES})
        assert resp.WhichOneof("result") == "completion", resp.error
        self.check_image(fake.state.last)

    async def test_streaming_text(self, ad: Adapter, fake: Running) -> None:
        pieces = ["Hel", "lo", ", wor", "ld!"]
        self.script(fake, self.stream_text(pieces, 11, 4))
        msgs = await ad.stream(self.model_name, {"messages": [{"role": "user", "content": "Say hi"}]})
        chunks = chunks_of(msgs)
        assert len(chunks) >= len(pieces), "chunks are passed on as they arrive, not merged"
        assert len({c.id for c in chunks}) == 1
        got = assemble(chunks)
        assert got["message"]["content"] == "Hello, world!"
        assert got["finish_reason"] == "stop"
        end = end_of(msgs)
        assert (end.usage.prompt_tokens, end.usage.completion_tokens) == (11, 4)
        assert Decimal(end.stats.cost_usd) == 11 * INPUT_PRICE + 4 * OUTPUT_PRICE
        assert end.stats.ttft_ms > 0
        self.check_stream(fake.state.last)

    async def test_streaming_tool_calls(self, ad: Adapter, fake: Running) -> None:
        self.script(
            fake,
            self.stream_tool_calls(
                [
                    ("call_a", "get_weather", ['{"ci', 'ty": "Pa', 'ris"}']),
                    ("call_b", "get_weather", ['{"city": ', '"Rome"}']),
                ]
            ),
        )
        msgs = await ad.stream(
            self.model_name, {"messages": [{"role": "user", "content": "Paris and Rome?"}], "tools": TOOLS}
        )
        chunks = chunks_of(msgs)
        indexes = [t.index for c in chunks for ch in c.choices for t in ch.delta.tool_calls]
        assert sorted(set(indexes)) == [0, 1]
        got = assemble(chunks)
        import json

        args = [json.loads(t["function"]["arguments"]) for t in got["message"]["tool_calls"]]
        assert args == [{"city": "Paris"}, {"city": "Rome"}]
        assert all(t["id"] for t in got["message"]["tool_calls"])
        assert got["finish_reason"] == "tool_calls"
        end_of(msgs)

    async def test_stream_and_unary_assemble_to_the_same_message(self, ad: Adapter, fake: Running) -> None:
        self.script(
            fake,
            self.reply_text("Same answer either way.", 9, 5),
            self.stream_text(["Same ", "answer ", "either way."], 9, 5),
        )
        body = {"messages": [{"role": "user", "content": "Say hi"}]}
        unary = await ad.chat(self.model_name, body)
        streamed = await ad.stream(self.model_name, body)
        assert assemble(chunks_of(streamed)) == unary_message(unary)
        assert end_of(streamed).stats.cost_usd == unary.stats.cost_usd

    async def test_usage_with_cached_tokens(self, ad: Adapter, fake: Running) -> None:
        write = 200 if self.reports_cache_writes else 0
        self.script(fake, self.reply_cached_usage(1000, 50, 600, write))
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "Say hi"}]})
        assert resp.WhichOneof("result") == "completion", resp.error
        u = resp.completion.usage
        assert u.prompt_tokens == 1000 and u.completion_tokens == 50
        assert u.prompt_tokens_details.cached_tokens == 600
        assert u.prompt_tokens_details.cache_creation_tokens == write
        expected = (
            (1000 - 600 - write) * INPUT_PRICE + 600 * CACHE_READ_PRICE + write * CACHE_WRITE_PRICE + 50 * OUTPUT_PRICE
        )
        assert Decimal(resp.stats.cost_usd) == expected

    @pytest.mark.parametrize("name", list(ERRORS))
    async def test_error_classes(self, name: str, ad: Adapter, fake: Running) -> None:
        if name in self.errors_not_applicable:
            pytest.skip(f"{type(self).__name__}: the provider has no distinct '{name}' error")
        self.script(fake, self.reply_error(name))
        resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "Say hi"}]})
        assert resp.WhichOneof("result") == "error"
        kind, status = self.error_overrides.get(name, ERRORS[name])
        assert (resp.error.kind, resp.error.http_status) == (kind, status), resp.error
        assert resp.error.message, "provider error text reaches the client"
        assert self.api_key not in resp.error.message
        if name == "rate_limit":
            assert resp.error.HasField("retry_after_seconds")

    async def test_streaming_error_before_first_chunk(self, ad: Adapter, fake: Running) -> None:
        self.script(fake, self.reply_error("rate_limit"))
        msgs = await ad.stream(self.model_name, {"messages": [{"role": "user", "content": "Say hi"}]})
        assert len(msgs) == 1 and msgs[0].WhichOneof("event") == "error"
        assert msgs[0].error.kind == ErrorKind.ERROR_KIND_RATE_LIMIT

    async def test_timeout(self, fake: Running, tmp_path: Path) -> None:
        async with adapter(tmp_path, self.model_list(fake.url, timeout=0.3), env=self.env) as ad:
            reply = self.reply_text("late", 1, 1)
            reply.delay_s = 1.5
            self.script(fake, reply)
            resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "Say hi"}]})
        assert resp.WhichOneof("result") == "error"
        assert resp.error.kind == ErrorKind.ERROR_KIND_TIMEOUT and resp.error.http_status == 408
        assert resp.error.source == error_pb2.FAILURE_SOURCE_PROVIDER, "the deployment's own timeout is its fault"

    async def test_request_timeout_shorter_than_the_deployments_is_not_its_fault(
        self, fake: Running, tmp_path: Path
    ) -> None:
        async with adapter(tmp_path, self.model_list(fake.url, timeout=30, stream_timeout=30), env=self.env) as ad:
            for stream in (False, True):
                reply = self.stream_text(["late"], 1, 1) if stream else self.reply_text("late", 1, 1)
                reply.delay_s = 0.8
                self.script(fake, reply)
                body = {"messages": [{"role": "user", "content": "Say hi"}], "timeout": 0.2}
                if stream:
                    err = (await ad.stream(self.model_name, body))[-1].error
                else:
                    err = (await ad.chat(self.model_name, body)).error
                assert err.kind == ErrorKind.ERROR_KIND_TIMEOUT, err
                assert err.source == error_pb2.FAILURE_SOURCE_REQUEST, f"stream={stream}: {err}"

    async def test_stream_time_to_first_token_timeout(self, fake: Running, tmp_path: Path) -> None:
        async with adapter(tmp_path, self.model_list(fake.url, stream_timeout=0.3), env=self.env) as ad:
            reply = self.stream_text(["late"], 1, 1)
            reply.delay_s = 1.5
            self.script(fake, reply)
            msgs = await ad.stream(self.model_name, {"messages": [{"role": "user", "content": "Say hi"}]})
        assert msgs[-1].WhichOneof("event") == "error"
        assert msgs[-1].error.kind == ErrorKind.ERROR_KIND_TIMEOUT

    async def test_connection_refused(self, tmp_path: Path) -> None:
        async with adapter(tmp_path, self.model_list("http://127.0.0.1:9"), env=self.env) as ad:
            resp = await ad.chat(self.model_name, {"messages": [{"role": "user", "content": "Say hi"}]})
        assert resp.WhichOneof("result") == "error"
        assert resp.error.kind == ErrorKind.ERROR_KIND_API_CONNECTION
        assert resp.error.source == error_pb2.FAILURE_SOURCE_PROVIDER


async def gather(*aws: Any) -> list[Any]:
    return list(await asyncio.gather(*aws))
