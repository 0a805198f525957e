"""The Anthropic Messages dialect's codec: a body's translation into the chat model (what every
non-Claude deployment gets), the client's own body (what Claude deployments get), what no
translation can carry, Claude's extensions for the guardrails case; chat answers and streams as
Messages API messages and events (checked with the anthropic SDK's own stream accumulator); errors
in Anthropic's shape and status codes."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from anthropic.lib.streaming._messages import accumulate_event

from switchyard.llm.v1 import chat_pb2, deployment_pb2, error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_edge.dialects.anthropic.answer import message_json
from switchyard_edge.dialects.anthropic.errors import error_body, status_and_type
from switchyard_edge.dialects.anthropic.events import ChunkEvents
from switchyard_edge.dialects.anthropic.request import MessagesRequest, decode
from switchyard_llm.errors import RequestError, make_error
from switchyard_llm.openai_codec.messages import message_to_json

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
OPENAI = deployment_pb2.Deployment(id="gpt-1", model_group="g", provider="openai", model="gpt-4o")


def _decode(body: dict[str, Any], *, beta: str = "", count: bool = False) -> MessagesRequest:
    return decode(body, orjson.dumps(body), beta=beta, max_messages=100, count=count)


def _body(**kw: Any) -> dict[str, Any]:
    return {"model": "claude", "max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}], **kw}


def _messages(req: chat_pb2.ChatCompletionRequest) -> list[dict[str, Any]]:
    return [message_to_json(m) for m in req.messages]


# --- requests ----------------------------------------------------------------------------


def test_a_conversation_with_tools_becomes_openai_messages() -> None:
    body = _body(
        system="Be brief.",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Weather in Paris and Rome?"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                    {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
                    {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}},
                    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Notes."}},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Two cities.", "signature": "sig"},
                    {"type": "text", "text": "Checking both."},
                    {"type": "tool_use", "id": "t1", "name": "weather", "input": {"city": "Paris"}},
                    {"type": "tool_use", "id": "t2", "name": "weather", "input": {"city": "Rome"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "18C"},
                    {
                        "type": "tool_result",
                        "tool_use_id": "t2",
                        "is_error": True,
                        "content": [
                            {"type": "text", "text": "timeout"},
                            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                        ],
                    },
                    {"type": "text", "text": "And now?"},
                ],
            },
        ],
        tools=[{"name": "weather", "description": "Weather.", "input_schema": {"type": "object"}}],
        tool_choice={"type": "any", "disable_parallel_tool_use": True},
        stop_sequences=["END"],
        temperature=0.3,
        top_k=5,
        metadata={"user_id": "u-42"},
        thinking={"type": "enabled", "budget_tokens": 2048},
    )
    req = _decode(body)
    assert not req.untranslatable
    chat = req.chat
    assert _messages(chat) == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather in Paris and Rome?"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": "document.pdf"}},
                {"type": "text", "text": "Notes."},
            ],
        },
        {
            # Thinking of an earlier turn is Claude's alone: other APIs are not sent it.
            "role": "assistant",
            "content": "Checking both.",
            "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Paris"}'}},
                {"id": "t2", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Rome"}'}},
            ],
        },
        {"role": "tool", "content": "18C", "tool_call_id": "t1"},
        {"role": "tool", "content": [{"type": "text", "text": "timeout"}], "tool_call_id": "t2"},
        # A tool result's image goes to the user turn after the results (OpenAI takes images there).
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                {"type": "text", "text": "And now?"},
            ],
        },
    ]
    assert chat.max_tokens == 100 and chat.stop == ["END"] and chat.temperature == pytest.approx(0.3)
    assert chat.user == "u-42"
    assert chat.reasoning_effort == "medium"
    assert chat.tool_choice.mode == "required" and chat.parallel_tool_calls is False
    assert chat.tools[0].function.name == "weather"
    assert orjson.loads(chat.tools[0].function.parameters_json) == {"type": "object"}
    assert orjson.loads(chat.extra_json) == {"top_k": 5}
    # Claude deployments get the body itself.
    assert req.native.body_json == orjson.dumps(body)


def test_the_clients_bytes_go_to_claude_unless_gateway_controls_come_out() -> None:
    raw = b'{"model": "claude",  "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}]}'
    req = decode(orjson.loads(raw), raw, max_messages=10)
    assert req.native.body_json is raw or req.native.body_json == raw

    body = _body(num_retries=2, tags=["team-a"], metadata={"user_id": "u", "trace": "x"})
    req = _decode(body, beta="context-1m-2025-08-07")
    sent = orjson.loads(req.native.body_json)
    assert "num_retries" not in sent and "tags" not in sent
    assert sent["metadata"] == {"user_id": "u"}
    assert req.native.beta == "context-1m-2025-08-07"
    assert req.chat.options.num_retries == 2 and list(req.chat.options.tags) == ["team-a"]
    assert orjson.loads(req.chat.options.metadata_json) == {"trace": "x"}


def test_what_a_coding_agent_sends_every_turn_translates() -> None:
    """Claude Code's requests (as it sends them to any model): cached system blocks, a system
    message mid-conversation, adaptive thinking, an effort setting and context editing. Other
    deployments get none of Claude's hints, and nothing in it is refused."""
    body = _body(
        max_tokens=32000,
        system=[{"type": "text", "text": "You are a coding agent.", "cache_control": {"type": "ephemeral"}}],
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "Fix the bug."}]},
            {"role": "system", "content": "Available agent types: ..."},
        ],
        thinking={"type": "adaptive"},
        output_config={"effort": "high"},
        context_management={"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        metadata={"user_id": '{"device_id":"d1","session_id":"s1"}'},
        stream=True,
    )
    req = _decode(body, beta="claude-code-20250219,context-management-2025-06-27")
    assert req.untranslatable == []
    assert [(m.role, m.WhichOneof("content")) for m in req.chat.messages] == [
        ("system", "parts"),
        ("user", "parts"),
        ("system", "text"),
    ]
    assert not req.chat.HasField("reasoning_effort") and not req.chat.extra_json
    assert req.chat.user == '{"device_id":"d1","session_id":"s1"}'
    claude = orjson.loads(req.claude_chat().extra_json)
    assert claude["context_management"] == body["context_management"]
    assert claude["thinking"] == {"type": "adaptive"} and claude["output_config"] == {"effort": "high"}


def test_what_no_translation_carries_is_a_400_naming_each_field_for_other_deployments() -> None:
    body = _body(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}},
                    {
                        "type": "document",
                        "source": {"type": "text", "media_type": "text/plain", "data": "x"},
                        "citations": {"enabled": True},
                    },
                ],
            }
        ],
        tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}],
        mcp_servers=[{"type": "url", "url": "https://mcp.example.com", "name": "m"}],
    )
    req = _decode(body)
    assert [param for param, _ in req.untranslatable] == [
        "messages[0].content[0].source",
        "messages[0].content[1].citations",
        "tools[0]",
        "mcp_servers",
    ]
    err = req.refusal(OPENAI)
    assert err is not None
    assert err.kind == ErrorKind.ERROR_KIND_BAD_REQUEST and err.source == error_pb2.FAILURE_SOURCE_REQUEST
    assert err.param == "messages[0].content[0].source"
    assert "web_search_20250305" in err.message and "mcp_servers" in err.message and "openai" in err.message
    assert _decode(_body()).refusal(OPENAI) is None


def test_claude_gets_the_masked_translation_with_its_extensions() -> None:
    """With guardrails (they mask the chat model) a Claude deployment is sent the translation:
    the masks must hold, and so must what Claude needs (signatures, cache_control, is_error)."""
    body = _body(
        system=[{"type": "text", "text": "Rules.", "cache_control": {"type": "ephemeral"}}],
        messages=[
            {"role": "user", "content": "My card is 4111 1111 1111 1111"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Card.", "signature": "sig-1"},
                    {"type": "redacted_thinking", "data": "enc"},
                    {"type": "tool_use", "id": "t1", "name": "f", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "no", "is_error": True}],
            },
        ],
        tools=[{"name": "f", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}],
        thinking={"type": "enabled", "budget_tokens": 1024},
        service_tier="auto",
    )
    req = _decode(body, beta="interleaved-thinking-2025-05-14")
    req.chat.messages[1].text = "My card is [REDACTED]"  # what a guardrail's mask does
    claude = req.claude_chat()
    got = _messages(claude)
    assert got[0]["content"] == [{"type": "text", "text": "Rules.", "cache_control": {"type": "ephemeral"}}]
    assert got[1]["content"] == "My card is [REDACTED]"
    assert got[2]["thinking_blocks"] == [
        {"type": "thinking", "thinking": "Card.", "signature": "sig-1"},
        {"type": "redacted_thinking", "data": "enc"},
    ]
    assert got[3]["is_error"] is True
    assert orjson.loads(claude.tools[0].extra_json) == {"cache_control": {"type": "ephemeral"}}
    extra = orjson.loads(claude.extra_json)
    assert extra["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert extra["service_tier"] == "auto"
    assert extra["extra_headers"] == {"anthropic-beta": "interleaved-thinking-2025-05-14"}
    # The thinking object is sent as it is, not a reasoning_effort the adapter would turn back.
    assert not claude.HasField("reasoning_effort")
    # The translation other deployments get has none of it.
    assert not req.chat.extra_json or "thinking" not in orjson.loads(req.chat.extra_json)
    assert req.chat.reasoning_effort == "low"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "c", "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
        ({"model": "c", "max_tokens": 0, "messages": []}, "max_tokens"),
        ({"max_tokens": 5, "messages": []}, "model"),
        ({"model": "c", "max_tokens": 5}, "messages"),
        ({"model": "c", "max_tokens": 5, "messages": [{"role": "tool", "content": "x"}]}, "messages"),
        ({"model": "c", "max_tokens": 5, "messages": [{"role": "system", "content": 5}]}, "messages[0]"),
        ({"model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": []}]}, "messages"),
        (_body(messages=[{"role": "user", "content": [{"type": "tool_result"}]}]), "messages[0].content[0]"),
        (_body(tools=[{"name": "f"}]), "tools"),
        (_body(tool_choice={"type": "sometimes"}), "tool_choice"),
        # Values of the wrong JSON type where a string or an object goes (found by fuzzing: 500s).
        (_body(tool_choice={"type": {}}), "tool_choice"),
        (
            _body(
                messages=[
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "document",
                                "source": {"type": "text", "media_type": "text/plain", "data": "x"},
                                "citations": [True],
                            }
                        ],
                    }
                ]
            ),
            "messages[0].content[0].citations",
        ),
        (_body(thinking={"type": "enabled"}), "thinking"),
        (_body(stream="yes"), "stream"),
        (_body(metadata={"user_id": 7}), "metadata.user_id"),
        (_body(stop_sequences="END"), "stop_sequences"),
    ],
)
def test_a_bad_body_is_a_400_naming_the_field(body: dict[str, Any], param: str) -> None:
    with pytest.raises(RequestError) as info:
        _decode(body)
    assert info.value.param == param


def test_a_count_tokens_body_needs_no_max_tokens() -> None:
    req = _decode({"model": "c", "messages": [{"role": "user", "content": "x"}]}, count=True)
    assert not req.chat.HasField("max_tokens")


# --- answers -----------------------------------------------------------------------------


def test_a_completion_becomes_a_message() -> None:
    c = chat_pb2.ChatCompletion(id="chatcmpl-1", model="gpt-4o")
    choice = c.choices.add(index=0, finish_reason="tool_calls")
    m = choice.message
    m.role, m.text, m.reasoning_content = "assistant", "Let me check.", "Two calls."
    m.tool_calls.add(id="c1", type="function").function.CopyFrom(
        chat_pb2.FunctionCall(name="weather", arguments='{"city": "Paris"}')
    )
    m.tool_calls.add(id="c2", type="function").function.CopyFrom(chat_pb2.FunctionCall(name="weather", arguments=""))
    c.usage.prompt_tokens, c.usage.completion_tokens = 120, 30
    c.usage.prompt_tokens_details.cached_tokens = 100
    assert message_json(c, "msg_x") == {
        "id": "chatcmpl-1",
        "type": "message",
        "role": "assistant",
        "model": "gpt-4o",
        "content": [
            {"type": "thinking", "thinking": "Two calls.", "signature": ""},
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "c1", "name": "weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "c2", "name": "weather", "input": {}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 20,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 100,
            "output_tokens": 30,
        },
    }


@pytest.mark.parametrize(
    ("finish", "stop"),
    [("stop", "end_turn"), ("length", "max_tokens"), ("content_filter", "refusal"), ("", "end_turn")],
)
def test_finish_reasons(finish: str, stop: str) -> None:
    c = chat_pb2.ChatCompletion(id="x")
    c.choices.add(index=0, finish_reason=finish).message.text = "a"
    assert message_json(c, "m")["stop_reason"] == stop


def _chunk(**delta: Any) -> chat_pb2.ChatCompletionChunk:
    c = chat_pb2.ChatCompletionChunk(id="chatcmpl-9", model="gpt-4o")
    finish = delta.pop("finish_reason", "")
    tool_calls = delta.pop("tool_calls", [])
    extra = delta.pop("extra", None)
    ch = c.choices.add(index=0, finish_reason=finish)
    for k, v in delta.items():
        setattr(ch.delta, k, v)
    for tc in tool_calls:
        ch.delta.tool_calls.add(**tc)
    if extra is not None:
        ch.delta.extra_json = orjson.dumps(extra)
    return c


def test_a_stream_becomes_anthropics_event_sequence_the_sdk_accumulates() -> None:
    chunks = [
        _chunk(role="assistant", content=""),
        _chunk(reasoning_content="Think"),
        _chunk(reasoning_content="ing."),
        _chunk(extra={"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "sig-9"}]}),
        _chunk(content="Hel"),
        _chunk(content="lo."),
        _chunk(tool_calls=[{"index": 0, "id": "c1", "name": "weather", "arguments": ""}]),
        _chunk(tool_calls=[{"index": 0, "arguments": '{"city":'}]),
        _chunk(tool_calls=[{"index": 0, "arguments": '"Paris"}'}]),
        _chunk(tool_calls=[{"index": 1, "id": "c2", "name": "time", "arguments": "{}"}]),
        _chunk(finish_reason="tool_calls"),
    ]
    enc = ChunkEvents("msg_fallback", input_tokens=50)
    events = [*enc.start(chunks[0])]
    for c in chunks:
        events += enc.chunk(c)
    usage = chat_pb2.Usage(prompt_tokens=60, completion_tokens=25)
    events += enc.end(usage)
    types = [t for t, _ in events]
    assert types == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(data["type"] == t for t, data in events)
    deltas = [data["delta"]["type"] for t, data in events if t == "content_block_delta"]
    assert deltas[:3] == ["thinking_delta", "thinking_delta", "signature_delta"]
    assert "input_json_delta" in deltas and "text_delta" in deltas
    snapshot = None
    json_bufs: dict[int, bytes] = {}
    for t, data in events:
        if t != "ping":
            snapshot = accumulate_event(event=data, current_snapshot=snapshot, json_bufs=json_bufs)  # type: ignore[arg-type]
    assert snapshot is not None
    message = snapshot.to_dict()
    assert message["id"] == "chatcmpl-9"
    assert message["content"] == [
        {"type": "thinking", "thinking": "Thinking.", "signature": "sig-9"},
        {"type": "text", "text": "Hello."},
        {"type": "tool_use", "id": "c1", "name": "weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "c2", "name": "time", "input": {}},
    ]
    assert message["stop_reason"] == "tool_use"
    assert message["usage"]["input_tokens"] == 60 and message["usage"]["output_tokens"] == 25


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "etype"),
    [
        (ErrorKind.ERROR_KIND_BAD_REQUEST, 400, "invalid_request_error"),
        (ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED, 400, "invalid_request_error"),
        (ErrorKind.ERROR_KIND_AUTHENTICATION, 401, "authentication_error"),
        (ErrorKind.ERROR_KIND_PERMISSION_DENIED, 403, "permission_error"),
        (ErrorKind.ERROR_KIND_NOT_FOUND, 404, "not_found_error"),
        (ErrorKind.ERROR_KIND_RATE_LIMIT, 429, "rate_limit_error"),
        (ErrorKind.ERROR_KIND_BUDGET_EXCEEDED, 429, "rate_limit_error"),
        (ErrorKind.ERROR_KIND_NO_DEPLOYMENTS, 429, "rate_limit_error"),
        (ErrorKind.ERROR_KIND_TIMEOUT, 504, "timeout_error"),
        (ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE, 529, "overloaded_error"),
        (ErrorKind.ERROR_KIND_INTERNAL_SERVER, 500, "api_error"),
        (ErrorKind.ERROR_KIND_BAD_GATEWAY, 500, "api_error"),
    ],
)
def test_errors_take_anthropics_status_and_type(kind: int, status: int, etype: str) -> None:
    err = make_error(kind, "why")  # type: ignore[arg-type]
    assert status_and_type(err) == (status, etype)
    assert error_body(err) == {"type": "error", "error": {"type": etype, "message": "why"}}


def test_a_too_large_body_is_request_too_large() -> None:
    assert status_and_type(make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, "big", status=413)) == (
        413,
        "request_too_large",
    )
