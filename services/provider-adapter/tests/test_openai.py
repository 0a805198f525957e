"""OpenAI (and every OpenAI-compatible server) through the scenario suite."""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import web
from scenarios import IMAGE_MESSAGES, JSON_SCHEMA, TOOL_HISTORY, TOOLS, ChatScenarios

from switchyard_fakes.base import Recorded, Reply, scripted_app, sse


def _usage(p: int, c: int, cached: int = 0) -> dict[str, Any]:
    return {
        "prompt_tokens": p,
        "completion_tokens": c,
        "total_tokens": p + c,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _completion(message: dict[str, Any], finish: str, usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"refusal": None, "annotations": [], **message},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": usage,
        "service_tier": "default",
        "system_fingerprint": "fp_1",
    }


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "system_fingerprint": "fp_1",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": None,
    }


def _usage_chunk(p: int, c: int) -> dict[str, Any]:
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [],
        "usage": _usage(p, c),
    }


_ERRORS: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {
    "auth": (
        401,
        {
            "message": "Incorrect API key provided: prov****6789.",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        },
        {},
    ),
    "permission": (
        403,
        {"message": "You are not allowed to sample from this model", "type": "invalid_request_error", "code": None},
        {},
    ),
    "not_found": (
        404,
        {"message": "The model `gpt-9` does not exist", "type": "invalid_request_error", "code": "model_not_found"},
        {},
    ),
    "bad_request": (
        400,
        {
            "message": "Invalid value for 'temperature'",
            "type": "invalid_request_error",
            "code": None,
            "param": "temperature",
        },
        {},
    ),
    "context_window": (
        400,
        {
            "message": "This model's maximum context length is 128000 tokens. However, your "
            "messages resulted in 130000 tokens.",
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
            "param": "messages",
        },
        {},
    ),
    "content_policy": (
        400,
        {
            "message": "Your request was rejected as a result of our safety system.",
            "type": "invalid_request_error",
            "code": "content_policy_violation",
        },
        {},
    ),
    "rate_limit": (
        429,
        {
            "message": "Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3",
            "type": "requests",
            "code": "rate_limit_exceeded",
        },
        {"retry-after": "7"},
    ),
    "server": (
        500,
        {"message": "The server had an error while processing your request.", "type": "server_error", "code": None},
        {},
    ),
}


class TestOpenAI(ChatScenarios):
    reports_cache_writes = False

    def fake_app(self) -> web.Application:
        def model_of(request: web.Request, rec: Recorded) -> str:
            return str((rec.json() or {}).get("model", ""))

        def default(request: web.Request, rec: Recorded) -> Reply:
            return self.reply_text("default", 1, 1)

        return scripted_app(
            [("POST", "/v1/chat/completions"), ("POST", "/v1/embeddings"), ("POST", "/v1/images/generations")],
            model_of,
            default,
        )

    def litellm_params(self, base_url: str) -> dict[str, Any]:
        return {"model": "openai/gpt-4o-mini", "api_base": f"{base_url}/v1", "api_key": self.api_key}

    def reply_text(self, text: str, prompt_tokens: int, completion_tokens: int) -> Reply:
        return Reply(
            body=_completion({"role": "assistant", "content": text}, "stop", _usage(prompt_tokens, completion_tokens))
        )

    def reply_tool_calls(self, calls: list[tuple[str, str, str]]) -> Reply:
        tool_calls = [{"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in calls]
        return Reply(
            body=_completion(
                {"role": "assistant", "content": None, "tool_calls": tool_calls}, "tool_calls", _usage(30, 12)
            )
        )

    def stream_text(self, pieces: list[str], prompt_tokens: int, completion_tokens: int) -> Reply:
        events = [_chunk({"role": "assistant", "content": "", "refusal": None})]
        events += [_chunk({"content": p}) for p in pieces]
        events += [_chunk({}, "stop"), _usage_chunk(prompt_tokens, completion_tokens)]
        return Reply(frames=sse(*events, done=True), content_type="text/event-stream")

    def stream_tool_calls(self, calls: list[tuple[str, str, list[str]]]) -> Reply:
        events = [_chunk({"role": "assistant", "content": None})]
        for idx, (cid, name, pieces) in enumerate(calls):
            events.append(
                _chunk(
                    {
                        "tool_calls": [
                            {"index": idx, "id": cid, "type": "function", "function": {"name": name, "arguments": ""}}
                        ]
                    }
                )
            )
            events += [_chunk({"tool_calls": [{"index": idx, "function": {"arguments": p}}]}) for p in pieces]
        events += [_chunk({}, "tool_calls"), _usage_chunk(30, 20)]
        return Reply(frames=sse(*events, done=True), content_type="text/event-stream")

    def reply_error(self, name: str) -> Reply:
        status, err, headers = _ERRORS[name]
        return Reply(status=status, body={"error": {"param": None, **err}}, headers=headers)

    def reply_cached_usage(self, prompt: int, completion: int, cache_read: int, cache_write: int) -> Reply:
        return Reply(
            body=_completion(
                {"role": "assistant", "content": "cached"}, "stop", _usage(prompt, completion, cached=cache_read)
            )
        )

    # --- what the adapter sent ----------------------------------------------------------
    def check_plain(self, rec: Recorded) -> None:
        assert rec.method == "POST" and rec.path == "/v1/chat/completions"
        assert rec.header("authorization") == f"Bearer {self.api_key}"
        assert rec.json() == {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi"}]}

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
        body = rec.json()
        assert body["messages"] == TOOL_HISTORY
        assert body["tools"] == TOOLS

    def check_forced_tool(self, rec: Recorded) -> None:
        assert rec.json()["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}

    def check_json_schema(self, rec: Recorded) -> None:
        assert rec.json()["response_format"] == JSON_SCHEMA

    def check_image(self, rec: Recorded) -> None:
        assert rec.json()["messages"] == IMAGE_MESSAGES

    def check_stream(self, rec: Recorded) -> None:
        body = rec.json()
        assert body["stream"] is True
        assert body["stream_options"] == {"include_usage": True}, "usage is always requested for cost"
        assert rec.header("accept") == "text/event-stream"


def test_unknown_fields_survive_a_round_trip() -> None:
    """Keys the codec does not model (e.g. OpenAI's newer response fields) are kept."""
    from switchyard_llm.openai_codec.chat import completion_from_json, completion_to_json

    body = _completion({"role": "assistant", "content": "x", "audio": {"id": "a1"}}, "stop", _usage(1, 1))
    body["choices"][0]["content_filter_results"] = {"hate": {"filtered": False}}
    body["prompt_filter_results"] = [{"prompt_index": 0}]
    out = completion_to_json(completion_from_json(orjson.loads(orjson.dumps(body))))
    assert out["prompt_filter_results"] == body["prompt_filter_results"]
    assert out["choices"][0]["content_filter_results"] == {"hate": {"filtered": False}}
    assert out["choices"][0]["message"]["audio"] == {"id": "a1"}
