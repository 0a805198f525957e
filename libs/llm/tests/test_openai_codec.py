"""OpenAI JSON ⇄ protobuf: what a client sends reaches a provider unchanged, and answers render
exactly as OpenAI writes them."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from switchyard.llm.v1 import chat_pb2, embeddings_pb2
from switchyard_llm.errors import RequestError
from switchyard_llm.openai_codec.chat import (
    chat_request_from_json,
    chat_request_to_json,
    chunk_from_json,
    chunk_to_json,
    completion_from_json,
    completion_to_json,
)
from switchyard_llm.openai_codec.checks import check_chat_request, check_embedding_request
from switchyard_llm.openai_codec.embeddings import embedding_request_from_json, embedding_request_to_json

FULL_REQUEST: dict[str, Any] = {
    "model": "gpt-4o",
    "messages": [
        {"role": "developer", "content": "Be precise."},
        {
            "role": "system",
            "content": [{"type": "text", "text": "Cached prefix", "cache_control": {"type": "ephemeral"}}],
        },
        {
            "role": "user",
            "name": "ann",
            "content": [
                {"type": "text", "text": "Look"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}},
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                {"type": "file", "file": {"file_id": "file-1"}},
                {"type": "video_url", "video_url": {"url": "https://example.com/v.mp4"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
        {"role": "assistant", "content": "done", "reasoning_content": "thinking...", "refusal": None},
    ],
    "temperature": 0.7,
    "top_p": 0.95,
    "n": 2,
    "stream": True,
    "stream_options": {"include_usage": True, "include_obfuscation": False},
    "stop": ["\n\n", "END"],
    "max_tokens": 100,
    "max_completion_tokens": 120,
    "presence_penalty": 0.1,
    "frequency_penalty": 0.2,
    "logit_bias": {"50256": -100.0},
    "logprobs": True,
    "top_logprobs": 3,
    "user": "u1",
    "seed": 7,
    "tools": [
        {
            "type": "function",
            "function": {"name": "f", "description": "d", "parameters": {"type": "object"}, "strict": True},
        },
        {"type": "web_search_preview"},
    ],
    "tool_choice": "required",
    "parallel_tool_calls": False,
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "x", "description": "y", "schema": {"type": "object"}, "strict": True},
    },
    "reasoning_effort": "low",
    "service_tier": "flex",
    "store": False,
    "modalities": ["text"],
    "top_k": 40,
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "prediction": {"type": "content", "content": "x"},
}


def test_full_request_round_trips_exactly() -> None:
    req = chat_request_from_json(FULL_REQUEST)
    out = chat_request_to_json(req)
    assert out == FULL_REQUEST | {
        "messages": [
            {k: v for k, v in m.items() if not (k == "refusal" and v is None)} for m in FULL_REQUEST["messages"]
        ]
    }


def test_gateway_controls_are_taken_out_of_the_body() -> None:
    req = chat_request_from_json(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "x"}],
            "fallbacks": ["a", {"model": "b"}],
            "num_retries": 2,
            "timeout": 5,
            "metadata": {"tags": ["t1"], "run": 3},
            "tags": ["t0"],
            "guardrails": ["pii"],
            "mock_testing_fallbacks": True,
            "drop_params": True,
        }
    )
    body = chat_request_to_json(req)
    assert set(body) == {"model", "messages"}
    o = req.options
    assert list(o.fallbacks) == ["a", "b"] and o.num_retries == 2 and o.timeout_seconds == 5
    assert list(o.tags) == ["t0", "t1"] and list(o.guardrails) == ["pii"]
    assert o.mock_testing_fallbacks and o.drop_params
    assert orjson.loads(o.metadata_json) == {"tags": ["t1"], "run": 3}


@pytest.mark.parametrize(
    "body, param",
    [
        ({}, "model"),
        ({"model": "m"}, "messages"),
        ({"model": "m", "messages": []}, "messages"),
        ({"model": "m", "messages": ["hi"]}, "messages[0]"),
        ({"model": "m", "messages": [{"role": "user", "content": 5}]}, "messages[0]"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": "10"}, "max_tokens"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}, "stream"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": "maybe"}, "tool_choice"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]}, "tools[0]"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "timeout": -1}, "timeout"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 10**20}, "max_tokens"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "seed": -(2**63) - 1}, "seed"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 2**31}, "n"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "top_logprobs": 1e12}, "top_logprobs"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "num_retries": 2**40}, "num_retries"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "num_retries": -1}, "num_retries"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "logit_bias": {"1": "x"}}, "logit_bias"),
        (
            {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream_options": {"include_usage": "yes"}},
            "include_usage",
        ),
    ],
)
def test_bad_requests_name_the_parameter(body: dict[str, Any], param: str) -> None:
    with pytest.raises(RequestError) as exc:
        chat_request_from_json(body)
    assert exc.value.param == param


def test_completion_renders_like_openai() -> None:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "hi", "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 3,
            "completion_tokens": 1,
            "total_tokens": 4,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_1",
    }
    assert completion_to_json(completion_from_json(body)) == body


def test_chunks_render_like_openai() -> None:
    first = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "service_tier": "default",
        "system_fingerprint": "fp",
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": "", "refusal": None},
                "logprobs": None,
                "finish_reason": None,
            }
        ],
        "usage": None,
    }
    assert chunk_to_json(chunk_from_json(first), include_usage_key=True) == first
    tool = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "delta": {
                    "tool_calls": [
                        {"index": 1, "id": "t", "type": "function", "function": {"name": "f", "arguments": ""}}
                    ]
                },
                "logprobs": None,
                "finish_reason": None,
            }
        ],
    }
    assert chunk_to_json(chunk_from_json(tool)) == tool


def test_embedding_inputs() -> None:
    for value in ("one", ["a", "b"], [1, 2, 3], [[1, 2], [3]]):
        req = embedding_request_from_json({"model": "e", "input": value, "dimensions": 8})
        out = embedding_request_to_json(req)
        expected = [value] if isinstance(value, str) else ([value] if value and isinstance(value[0], int) else value)
        assert out["input"] == expected and out["dimensions"] == 8
    with pytest.raises(RequestError):
        embedding_request_from_json({"model": "e", "input": [1, "a"]})


def test_every_parsed_request_passes_the_protobuf_checks() -> None:
    # The gRPC Gateway API checks protobuf requests with check_chat_request; anything the JSON
    # path accepts must pass it too.
    check_chat_request(chat_request_from_json(FULL_REQUEST))
    check_chat_request(
        chat_request_from_json(
            {"model": "m", "messages": [{"role": "user", "content": "x"}], "timeout": 5, "metadata": {"a": 1}}
        )
    )
    for value in ("one", ["a", "b"], [1, 2, 3], [[1, 2], [3]]):
        check_embedding_request(embedding_request_from_json({"model": "e", "input": value, "encoding_format": "float"}))


def _proto(**changes: Any) -> chat_pb2.ChatCompletionRequest:
    req = chat_request_from_json(FULL_REQUEST)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target: Any = req
        for p in parents:
            target = target[int(p)] if p.isdigit() else getattr(target, p)
        if isinstance(value, dict):
            getattr(target, leaf).update(value)
        else:
            setattr(target, leaf, value)
    return req


@pytest.mark.parametrize(
    "req, param",
    [
        (chat_pb2.ChatCompletionRequest(messages=[chat_pb2.ChatMessage(role="user", text="x")]), "model"),
        (chat_pb2.ChatCompletionRequest(model="m"), "messages"),
        (_proto(messages__0__role=""), "messages[0]"),
        (_proto(messages__3__role="robot"), "messages[3]"),
        (_proto(messages__1__extra_json=b"{not json"), "messages[1].extra_json"),
        (_proto(messages__1__extra_json=b"[1]"), "messages[1].extra_json"),
        (_proto(messages__2__parts__parts__1__image_url__url=""), "messages[2]"),
        (_proto(messages__2__parts__parts__4__other_json=b"nope"), "messages[2].content[4]"),
        (_proto(messages__3__tool_calls__0__extra_json=b"1"), "messages[3].tool_calls[0].extra_json"),
        (_proto(temperature=float("nan")), "temperature"),
        (_proto(top_p=float("inf")), "top_p"),
        (_proto(logit_bias={"1": float("-inf")}), "logit_bias"),
        (_proto(tools__0__function__name=""), "tools[0]"),
        (_proto(tools__0__function__parameters_json=b"{"), "tools[0].function.parameters"),
        (_proto(response_format__json_schema__name=""), "response_format"),
        (_proto(response_format__json_schema__schema_json=b"]"), "response_format.json_schema.schema"),
        (_proto(response_format__type=""), "response_format"),
        (_proto(options__timeout_seconds=0.0), "timeout"),
        (_proto(options__timeout_seconds=float("nan")), "timeout"),
        (_proto(options__num_retries=-1), "num_retries"),
        (_proto(options__metadata_json=b"[]"), "metadata"),
        (_proto(extra_json=b"\xff"), "extra_json"),
    ],
)
def test_protobuf_requests_are_checked_like_json_ones(req: chat_pb2.ChatCompletionRequest, param: str) -> None:
    with pytest.raises(RequestError) as exc:
        check_chat_request(req)
    assert exc.value.param == param


def test_empty_content_part_and_tool_choice_json_are_refused() -> None:
    req = chat_request_from_json(FULL_REQUEST)
    req.messages[2].parts.parts.add()
    with pytest.raises(RequestError, match="has no content"):
        check_chat_request(req)
    req = chat_request_from_json(FULL_REQUEST)
    req.tool_choice.other_json = b"{bad"
    with pytest.raises(RequestError) as exc:
        check_chat_request(req)
    assert exc.value.param == "tool_choice"


@pytest.mark.parametrize(
    "req, param",
    [
        (embeddings_pb2.EmbeddingRequest(texts=embeddings_pb2.StringList(values=["a"])), "model"),
        (embeddings_pb2.EmbeddingRequest(model="e"), "input"),
        (embeddings_pb2.EmbeddingRequest(model="e", texts=embeddings_pb2.StringList()), "input"),
        (
            embeddings_pb2.EmbeddingRequest(
                model="e", texts=embeddings_pb2.StringList(values=["a"]), encoding_format="int8"
            ),
            "encoding_format",
        ),
        (
            embeddings_pb2.EmbeddingRequest(model="e", texts=embeddings_pb2.StringList(values=["a"]), extra_json=b"x"),
            "extra_json",
        ),
    ],
)
def test_protobuf_embedding_requests_are_checked(req: embeddings_pb2.EmbeddingRequest, param: str) -> None:
    with pytest.raises(RequestError) as exc:
        check_embedding_request(req)
    assert exc.value.param == param


_MSG = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"user": "cust\x00omer"}, "user"),
        ({"user": "u" * 257}, "user"),
        ({"tags": ["ok", "t\x00ag"]}, "tags"),
        ({"tags": [f"t{i}" for i in range(65)]}, "tags"),
        ({"tags": ["t" * 257]}, "tags"),
        ({"metadata": {"k": "v\x00"}}, "metadata"),
        ({"metadata": {"k\x00": "v"}}, "metadata"),
        ({"metadata": {"deep": [{"er": ["\x00"]}]}}, "metadata"),
        ({"metadata": {"tags": ["t\x00"]}}, "metadata"),
        ({"metadata": {"blob": "x" * 1_000_000}}, "metadata"),
        ({"litellm_metadata": {"blob": "x" * 70_000}}, "metadata"),
        ({"model": "gpt\x00-4o"}, "model"),
        ({"model": "m" * 513}, "model"),
    ],
)
def test_values_that_reach_the_ledger_are_bounded_and_free_of_nul(extra: dict[str, Any], param: str) -> None:
    """A NUL makes PostgreSQL refuse the ledger batch; an oversized value makes the usage event
    larger than Kafka takes. Both are refused at the door, for chat, embeddings and images."""
    from switchyard_llm.openai_codec.images import image_request_from_json

    for parse, body in (
        (chat_request_from_json, {"model": "gpt-4o", "messages": _MSG}),
        (embedding_request_from_json, {"model": "emb", "input": "hi"}),
        (image_request_from_json, {"model": "img", "prompt": "a cat"}),
    ):
        with pytest.raises(RequestError) as exc:
            parse({**body, **extra})
        assert exc.value.param == param


def test_ordinary_litellm_metadata_tags_and_user_pass() -> None:
    req = chat_request_from_json(
        {
            "model": "gpt-4o",
            "messages": _MSG,
            "user": "user@example.com",
            "tags": [f"team-{i}" for i in range(32)],
            "metadata": {
                "trace_id": "t" * 64,
                "session": {"id": "s", "steps": list(range(500))},
                "note": "back\\u0000",
            },
        }
    )
    assert req.user == "user@example.com" and len(req.options.tags) == 32
    assert orjson.loads(req.options.metadata_json)["note"] == "back\\u0000", "an escaped backslash is no NUL"


@pytest.mark.parametrize(
    ("change", "param"),
    [
        (lambda r: setattr(r, "user", "a\x00b"), "user"),
        (lambda r: r.options.tags.append("x\x00"), "tags"),
        (lambda r: r.options.tags.extend(["t"] * 65), "tags"),
        (lambda r: setattr(r.options, "metadata_json", b'{"k": "\\u0000"}'), "metadata"),
        (lambda r: setattr(r.options, "metadata_json", orjson.dumps({"b": "x" * 70_000})), "metadata"),
        (lambda r: setattr(r, "model", "m\x00"), "model"),
    ],
)
def test_protobuf_requests_bound_the_same_values(change: Any, param: str) -> None:
    chat = chat_pb2.ChatCompletionRequest(model="gpt-4o")
    chat.messages.add(role="user", text="hi")
    emb = embeddings_pb2.EmbeddingRequest(model="emb")
    emb.texts.values.append("hi")
    for req, check in ((chat, check_chat_request), (emb, check_embedding_request)):
        change(req)
        with pytest.raises(RequestError) as exc:
            check(req)  # type: ignore[operator]
        assert exc.value.param == param
