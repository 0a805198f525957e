"""Native Gemini replies and request checks shared by the AI Studio and Vertex scenario tests."""

from __future__ import annotations

from typing import Any

import orjson
from scenarios import JSON_SCHEMA, PNG_B64, TOOLS

from switchyard_fakes.base import Recorded, Reply
from switchyard_fakes.gemini_server import error_reply, response, sse_frames

MODEL = "gemini-2.5-flash"
SIGNATURE = "CiQBVKhc7sig+/thought=="


def usage(p: int, c: int, *, cached: int = 0, thoughts: int = 0) -> dict[str, Any]:
    u: dict[str, Any] = {
        "promptTokenCount": p,
        "candidatesTokenCount": c,
        "totalTokenCount": p + c + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": p}],
    }
    if cached:
        u["cachedContentTokenCount"] = cached
        u["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    if thoughts:
        u["thoughtsTokenCount"] = thoughts
    return u


def reply_text(text: str, p: int, c: int) -> Reply:
    return Reply(body=response([{"text": text}], "STOP", usage(p, c), MODEL))


def reply_tool_calls(calls: list[tuple[str, str, str]]) -> Reply:
    parts: list[dict[str, Any]] = []
    for i, (_, name, args) in enumerate(calls):
        part: dict[str, Any] = {"functionCall": {"name": name, "args": orjson.loads(args)}}
        if i == 0:
            # Gemini signs the first function call of a turn.
            part["thoughtSignature"] = SIGNATURE
        parts.append(part)
    return Reply(body=response(parts, "STOP", usage(30, 12), MODEL))


def stream_text(pieces: list[str], p: int, c: int) -> Reply:
    events = [response([{"text": piece}], None, usage(p, 0), MODEL) for piece in pieces]
    events[-1]["candidates"][0]["finishReason"] = "STOP"
    events[-1]["usageMetadata"] = usage(p, c)
    return Reply(frames=sse_frames(*events), content_type="text/event-stream")


def stream_tool_calls(calls: list[tuple[str, str, list[str]]]) -> Reply:
    # Gemini streams each function call whole, never as argument fragments.
    events = []
    for i, (_, name, pieces) in enumerate(calls):
        part: dict[str, Any] = {"functionCall": {"name": name, "args": orjson.loads("".join(pieces))}}
        if i == 0:
            part["thoughtSignature"] = SIGNATURE
        events.append(response([part], None, usage(30, 0), MODEL))
    events[-1]["candidates"][0]["finishReason"] = "STOP"
    events[-1]["usageMetadata"] = usage(30, 20)
    return Reply(frames=sse_frames(*events), content_type="text/event-stream")


def reply_error(name: str) -> Reply:
    if name == "auth":
        return error_reply(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                }
            ],
        )
    if name == "permission":
        return error_reply(403, "PERMISSION_DENIED", "The caller does not have permission")
    if name == "not_found":
        return error_reply(
            404,
            "NOT_FOUND",
            "models/gemini-9 is not found for API version v1beta, or is not supported for generateContent. "
            "Call ListModels to see the list of available models and their supported methods.",
        )
    if name == "bad_request":
        return error_reply(
            400,
            "INVALID_ARGUMENT",
            "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"hot\"",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": "generation_config.temperature", "description": "Invalid value"}],
                }
            ],
        )
    if name == "context_window":
        return error_reply(
            400,
            "INVALID_ARGUMENT",
            "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
        )
    if name == "content_policy":
        # A blocked prompt is a 200 with promptFeedback and no candidates.
        return Reply(
            body={
                "promptFeedback": {
                    "blockReason": "PROHIBITED_CONTENT",
                    "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}],
                },
                "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8},
                "modelVersion": MODEL,
            }
        )
    if name == "rate_limit":
        return error_reply(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details.",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests"}
                    ],
                },
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "23s"},
            ],
        )
    if name == "server":
        return error_reply(
            500,
            "INTERNAL",
            "An internal error has occurred. Please retry or report in "
            "https://developers.generativeai.google/guide/troubleshooting",
        )
    raise KeyError(name)


def reply_cached_usage(prompt: int, completion: int, cache_read: int) -> Reply:
    # promptTokenCount already includes the cached content.
    return Reply(body=response([{"text": "cached"}], "STOP", usage(prompt, completion, cached=cache_read), MODEL))


# --- checks of the native request -----------------------------------------------------------


def check_plain_body(rec: Recorded) -> None:
    assert rec.json() == {"contents": [{"role": "user", "parts": [{"text": "Say hi"}]}]}


def check_system(rec: Recorded) -> None:
    body = rec.json()
    assert body["systemInstruction"] == {"parts": [{"text": "You are terse."}]}
    assert body["contents"] == [{"role": "user", "parts": [{"text": "Say hi"}]}]


def check_sampling(rec: Recorded) -> None:
    body = rec.json()
    assert body["generationConfig"] == {
        "temperature": 0.5,
        "topP": 0.9,
        "maxOutputTokens": 77,
        "stopSequences": ["END"],
        "seed": 42,
    }
    assert "user-7" not in orjson.dumps(body).decode()


def check_tool_history(rec: Recorded) -> None:
    body = rec.json()
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Weather in Paris?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "get_weather", "response": {"content": "18C and sunny"}}}],
        },
    ]
    fn = TOOLS[0]["function"]
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {"name": fn["name"], "description": fn["description"], "parametersJsonSchema": fn["parameters"]}
            ]
        }
    ]


def check_forced_tool(rec: Recorded) -> None:
    assert rec.json()["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
    }


def check_json_schema(rec: Recorded) -> None:
    gc = rec.json()["generationConfig"]
    assert gc == {"responseMimeType": "application/json", "responseJsonSchema": JSON_SCHEMA["json_schema"]["schema"]}


def check_image(rec: Recorded) -> None:
    assert rec.json()["contents"] == [
        {
            "role": "user",
            "parts": [
                {"text": "What is in these images?"},
                {"inlineData": {"mimeType": "image/png", "data": PNG_B64}},
            ],
        }
    ]


def check_stream_query(rec: Recorded) -> None:
    assert rec.path.endswith(":streamGenerateContent")
    assert rec.query == {"alt": "sse"}
