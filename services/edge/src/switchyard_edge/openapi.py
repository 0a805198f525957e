"""The OpenAPI description of the edge's routes. Handlers read their bodies themselves (orjson into
protobuf, no pydantic models on the hot path), so the request and response shapes are written here
and attached to the routes as ``openapi_extra``. They describe what the API accepts and answers; the
fuzzing suite (tests/e2e/test_fuzz.py) drives the running stack from them."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

_STRINGS: JSON = {"type": "array", "items": {"type": "string"}}
_STRING_OR_STRINGS: JSON = {"oneOf": [{"type": "string"}, _STRINGS]}
_OBJECT: JSON = {"type": "object"}

_CONTENT_PART: JSON = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": ["text", "image_url", "input_audio", "file", "refusal"]},
        "text": {"type": "string"},
        "image_url": {
            "type": "object",
            "required": ["url"],
            "properties": {"url": {"type": "string"}, "detail": {"type": "string"}},
        },
        "refusal": {"type": "string"},
    },
}
_TOOL_CALL: JSON = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "type": {"type": "string", "enum": ["function"]},
        "function": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "arguments": {"type": "string"}},
        },
    },
}
_MESSAGE: JSON = {
    "type": "object",
    "required": ["role"],
    "properties": {
        "role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool", "function"]},
        "content": {
            "oneOf": [{"type": "string"}, {"type": "array", "items": _CONTENT_PART}, {"type": "null"}],
        },
        "name": {"type": "string"},
        "tool_calls": {"type": "array", "items": _TOOL_CALL},
        "tool_call_id": {"type": "string"},
    },
}
_TOOL: JSON = {
    "type": "object",
    "required": ["type", "function"],
    "properties": {
        "type": {"type": "string", "enum": ["function"]},
        "function": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "description": {"type": "string"},
                "parameters": _OBJECT,
                "strict": {"type": "boolean"},
            },
        },
    },
}
# LiteLLM's request-body extensions, accepted on every model route.
_GATEWAY_OPTIONS: JSON = {
    "fallbacks": {"type": "array", "items": {"type": "string"}},
    "num_retries": {"type": "integer", "minimum": 0, "maximum": 10},
    "timeout": {"type": "number", "exclusiveMinimum": 0},
    "disable_fallbacks": {"type": "boolean"},
    "mock_testing_fallbacks": {"type": "boolean"},
    "drop_params": {"type": "boolean"},
    "tags": _STRINGS,
    "guardrails": _STRINGS,
    "metadata": _OBJECT,
}

CHAT_REQUEST: JSON = {
    "type": "object",
    "required": ["model", "messages"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "messages": {"type": "array", "minItems": 1, "items": _MESSAGE},
        "temperature": {"type": "number"},
        "top_p": {"type": "number"},
        "n": {"type": "integer", "minimum": 1},
        "stream": {"type": "boolean"},
        "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
        "stop": _STRING_OR_STRINGS,
        "max_tokens": {"type": "integer", "minimum": 1},
        "max_completion_tokens": {"type": "integer", "minimum": 1},
        "presence_penalty": {"type": "number"},
        "frequency_penalty": {"type": "number"},
        "logit_bias": {"type": "object", "additionalProperties": {"type": "number"}},
        "logprobs": {"type": "boolean"},
        "top_logprobs": {"type": "integer", "minimum": 0},
        "user": {"type": "string"},
        "seed": {"type": "integer"},
        "tools": {"type": "array", "items": _TOOL},
        "tool_choice": {"oneOf": [{"type": "string", "enum": ["auto", "none", "required"]}, _OBJECT]},
        "parallel_tool_calls": {"type": "boolean"},
        "response_format": {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"type": "string", "enum": ["text", "json_object", "json_schema"]}},
        },
        "reasoning_effort": {"type": "string"},
        **_GATEWAY_OPTIONS,
    },
}
EMBEDDINGS_REQUEST: JSON = {
    "type": "object",
    "required": ["model", "input"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "input": {
            "oneOf": [
                {"type": "string"},
                {"type": "array", "minItems": 1, "items": {"type": "string"}},
                {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 0}},
                {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                },
            ]
        },
        "encoding_format": {"type": "string", "enum": ["float", "base64"]},
        "dimensions": {"type": "integer", "minimum": 1},
        "user": {"type": "string"},
        **_GATEWAY_OPTIONS,
    },
}
IMAGES_REQUEST: JSON = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "model": {"type": "string"},
        "prompt": {"type": "string", "minLength": 1},
        "n": {"type": "integer", "minimum": 1, "maximum": 10},
        "size": {"type": "string"},
        "quality": {"type": "string"},
        "response_format": {"type": "string", "enum": ["url", "b64_json"]},
        "user": {"type": "string"},
        **_GATEWAY_OPTIONS,
    },
}
_RESPONSES_PART: JSON = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": ["input_text", "output_text", "input_image", "input_file", "refusal"]},
        "text": {"type": "string"},
        "image_url": {"type": "string"},
        "file_id": {"type": "string"},
        "file_data": {"type": "string"},
    },
}
_RESPONSES_ITEM: JSON = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["message", "function_call", "function_call_output", "reasoning"]},
        "role": {"type": "string", "enum": ["user", "assistant", "system", "developer"]},
        "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": _RESPONSES_PART}]},
        "call_id": {"type": "string"},
        "name": {"type": "string"},
        "arguments": {"type": "string"},
        "output": {"type": "string"},
    },
}
RESPONSES_REQUEST: JSON = {
    "type": "object",
    "required": ["model", "input"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "input": {"oneOf": [{"type": "string"}, {"type": "array", "items": _RESPONSES_ITEM}]},
        "instructions": {"type": "string"},
        "previous_response_id": {"type": "string"},
        "store": {"type": "boolean"},
        "stream": {"type": "boolean"},
        "tools": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "name"],
                "properties": {
                    "type": {"type": "string", "enum": ["function"]},
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "parameters": _OBJECT,
                    "strict": {"type": "boolean"},
                },
            },
        },
        "tool_choice": {"oneOf": [{"type": "string", "enum": ["auto", "none", "required"]}, _OBJECT]},
        "text": _OBJECT,
        "reasoning": {"type": "object", "properties": {"effort": {"type": "string"}, "summary": {"type": "string"}}},
        "max_output_tokens": {"type": "integer", "minimum": 1},
        "parallel_tool_calls": {"type": "boolean"},
        "temperature": {"type": "number"},
        "top_p": {"type": "number"},
        "user": {"type": "string"},
        **_GATEWAY_OPTIONS,
    },
}
RESPONSE: JSON = {"type": "object", "required": ["id", "object", "status", "output"]}
# One event of a streamed response (named by its `type`, numbered by `sequence_number`).
RESPONSE_EVENT: JSON = {"type": "object", "required": ["type", "sequence_number"]}
COMPLETIONS_REQUEST: JSON = {
    "type": "object",
    "required": ["model", "prompt"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "prompt": {"oneOf": [{"type": "string"}, {"type": "array", "minItems": 1, "items": {"type": "string"}}]},
        "suffix": {"type": "string"},
        "echo": {"type": "boolean"},
        "best_of": {"type": "integer", "minimum": 1, "maximum": 20},
        "logprobs": {"type": "integer", "minimum": 0, "maximum": 5},
        "max_tokens": {"type": "integer", "minimum": 1},
        "temperature": {"type": "number"},
        "top_p": {"type": "number"},
        "n": {"type": "integer", "minimum": 1},
        "stream": {"type": "boolean"},
        "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
        "stop": _STRING_OR_STRINGS,
        "presence_penalty": {"type": "number"},
        "frequency_penalty": {"type": "number"},
        "user": {"type": "string"},
        "seed": {"type": "integer"},
        **_GATEWAY_OPTIONS,
    },
}
TEXT_COMPLETION: JSON = {"type": "object", "required": ["id", "object", "choices"]}
KEY_GENERATE_REQUEST: JSON = {
    "type": "object",
    "properties": {
        "key_alias": {"type": "string"},
        "team_id": {"type": "string"},
        "user_id": {"type": "string"},
        "organization_id": {"type": "string"},
        "models": _STRINGS,
        "max_budget": {"type": "number", "minimum": 0},
        "budget_duration": {"type": "string"},
        "duration": {"type": "string"},
        "rpm_limit": {"type": "integer", "minimum": 0},
        "tpm_limit": {"type": "integer", "minimum": 0},
        "max_parallel_requests": {"type": "integer", "minimum": 0},
        "guardrails": _STRINGS,
        "tags": _STRINGS,
        "metadata": _OBJECT,
        "blocked": {"type": "boolean"},
    },
}
KEY_DELETE_REQUEST: JSON = {
    "type": "object",
    "properties": {"keys": _STRINGS, "key_aliases": _STRINGS},
}
# The body of every other management write: an object of the route's LiteLLM fields.
MANAGEMENT_OBJECT: JSON = _OBJECT
MANAGEMENT_BODIES: dict[str, JSON] = {"/key/generate": KEY_GENERATE_REQUEST, "/key/delete": KEY_DELETE_REQUEST}

OPENAI_ERROR: JSON = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "code"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": "string"},
            },
        }
    },
}
DETAIL_ERROR: JSON = {"type": "object", "required": ["detail"], "properties": {"detail": {}}}


def _json(schema: JSON) -> JSON:
    return {"content": {"application/json": {"schema": schema}}}


def _sse_event(payload: JSON, *, done: bool = False) -> JSON:
    """One server-sent event whose ``data`` is a JSON ``payload`` (or, with ``done``, the closing
    ``[DONE]``), in OpenAPI's form for event streams: the schema is of the event, its data a string
    holding JSON."""
    data: JSON = {"contentMediaType": "application/json", "contentSchema": payload}
    if done:
        data = {"if": {"const": "[DONE]"}, "else": data}
    return {"type": "object", "required": ["data"], "properties": {"data": {"type": "string", **data}}}


def model_route(request: JSON, answer: JSON | None = None, *, streams: bool = False, event: JSON | None = None) -> JSON:
    """``openapi_extra`` of a model route: its body, its answer (``event``: one event of its
    stream, when not a chat-like chunk) and OpenAI's error shape."""
    ok = _json(answer or _OBJECT)
    if streams:
        # Each event is a chunk, one final error, or the closing [DONE].
        chunk: JSON = {
            "anyOf": [
                {"type": "object", "required": ["choices"]},
                {"type": "object", "required": ["error"]},
            ]
        }
        ok["content"]["text/event-stream"] = {
            "schema": _sse_event(event) if event is not None else _sse_event(chunk, done=True)
        }
    return {
        "requestBody": {"required": True, **_json(request)},
        "responses": {
            "200": {"description": "The answer", **ok},
            "default": {"description": "An error", **_json(OPENAI_ERROR)},
        },
    }


def management_route(
    request: JSON | None = None, query: dict[str, JSON] | None = None, path: tuple[str, ...] = ()
) -> JSON:
    """``openapi_extra`` of a management route: its body, query or path parameters (strings)
    and the ``{"detail"}`` errors."""
    out: JSON = {
        "responses": {
            "200": {"description": "The answer", **_json({})},
            "default": {"description": "An error", **_json(DETAIL_ERROR)},
        }
    }
    if request is not None:
        out["requestBody"] = {"required": True, **_json(request)}
    params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in path]
    params += [{"name": n, "in": "query", "required": False, "schema": s} for n, s in (query or {}).items()]
    if params:
        out["parameters"] = params
    return out


CHAT_COMPLETION: JSON = {
    "type": "object",
    "required": ["id", "object", "created", "model", "choices"],
    "properties": {"object": {"const": "chat.completion"}, "choices": {"type": "array"}, "usage": _OBJECT},
}
EMBEDDINGS: JSON = {
    "type": "object",
    "required": ["object", "data", "model"],
    "properties": {"object": {"const": "list"}, "data": {"type": "array"}},
}
MODELS: JSON = {"type": "object", "required": ["object", "data"], "properties": {"data": {"type": "array"}}}

SPEND_LOGS_QUERY: dict[str, JSON] = {
    "request_id": {"type": "string"},
    "api_key": {"type": "string"},
    "user_id": {"type": "string"},
    "team_id": {"type": "string"},
    "start_date": {"type": "string"},
    "end_date": {"type": "string"},
    "limit": {"type": "string"},
}

# --- Anthropic's Messages API (https://docs.anthropic.com/en/api/messages) -------------------
_ANTHROPIC_BLOCK: JSON = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"type": "string"}, "text": {"type": "string"}},
}
_ANTHROPIC_MESSAGE: JSON = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "role": {"type": "string", "enum": ["user", "assistant"]},
        "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": _ANTHROPIC_BLOCK}]},
    },
}
_ANTHROPIC_TOOL: JSON = {
    "type": "object",
    "required": ["name", "input_schema"],
    "properties": {"name": {"type": "string"}, "description": {"type": "string"}, "input_schema": _OBJECT},
}
_COUNTED: JSON = {
    "model": {"type": "string"},
    "messages": {"type": "array", "items": _ANTHROPIC_MESSAGE},
    "system": {"oneOf": [{"type": "string"}, {"type": "array", "items": _ANTHROPIC_BLOCK}]},
    "tools": {"type": "array", "items": _ANTHROPIC_TOOL},
    "tool_choice": {"type": "object", "properties": {"type": {"enum": ["auto", "any", "tool", "none"]}}},
    "thinking": {"type": "object", "properties": {"type": {"enum": ["enabled", "disabled"]}}},
}
COUNT_TOKENS_REQUEST: JSON = {"type": "object", "required": ["model", "messages"], "properties": _COUNTED}
MESSAGES_REQUEST: JSON = {
    "type": "object",
    "required": ["model", "messages", "max_tokens"],
    "properties": {
        **_COUNTED,
        "max_tokens": {"type": "integer", "minimum": 1},
        "stream": {"type": "boolean"},
        "temperature": {"type": "number", "minimum": 0, "maximum": 1},
        "top_p": {"type": "number", "minimum": 0, "maximum": 1},
        "top_k": {"type": "integer", "minimum": 0},
        "stop_sequences": _STRINGS,
        "metadata": {"type": "object", "properties": {"user_id": {"type": "string"}}},
    },
}
ANTHROPIC_ERROR: JSON = {
    "type": "object",
    "required": ["type", "error"],
    "properties": {
        "type": {"const": "error"},
        "error": {
            "type": "object",
            "required": ["type", "message"],
            "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
        },
    },
}


def messages_route(request: JSON, *, streams: bool = False) -> JSON:
    """``openapi_extra`` of a Messages API route: its body, its answer and Anthropic's error shape."""
    ok = _json(_OBJECT)
    if streams:
        ok["content"]["text/event-stream"] = {"schema": _sse_event({"type": "object", "required": ["type"]})}
    return {
        "requestBody": {"required": True, **_json(request)},
        "responses": {
            "200": {"description": "The answer", **ok},
            "default": {"description": "An error", **_json(ANTHROPIC_ERROR)},
        },
    }
