"""OpenAI's legacy text completions (``POST /v1/completions``,
https://platform.openai.com/docs/api-reference/completions) and the pipeline's chat model.

Each prompt becomes one user message of the chat request, and the parameters chat has no field
for (``echo``, ``suffix``, ``best_of``, an integer ``logprobs``) travel as its ``text_completion``.
The provider adapter sends the prompts as they are to a deployment that serves /v1/completions;
any other deployment gets one chat call per prompt, and a request it cannot honour (``echo``,
``suffix``, ...) a clear 400 from the adapter. Answers map back choice for choice: a choice's text
is the message content, its index ``prompt * n + i`` as OpenAI numbers them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2
from switchyard_edge.dialects import message_text
from switchyard_llm.errors import RequestError
from switchyard_llm.openai_codec.chat import chat_request_from_json
from switchyard_llm.openai_codec.usage import usage_to_json

# Keys of a completions body that have no chat counterpart (or another shape there).
_OWN_KEYS = frozenset({"prompt", "suffix", "echo", "best_of", "logprobs"})
MAX_LOGPROBS = 5


def _prompts(prompt: Any) -> list[str]:
    if isinstance(prompt, str):
        return [prompt]
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        return prompt
    if isinstance(prompt, list) and prompt and all(isinstance(p, int | list) for p in prompt):
        raise RequestError("'prompt' as token ids is not supported; send the text", "prompt")
    raise RequestError("'prompt' must be a string or a non-empty list of strings", "prompt")


def parse_request(body: Any, *, max_prompts: int) -> chat_pb2.ChatCompletionRequest:
    """Check a client's completions body; the chat request it becomes."""
    if not isinstance(body, Mapping):
        raise RequestError("the request body must be a JSON object")
    prompts = _prompts(body.get("prompt"))
    if len(prompts) > max_prompts:
        raise RequestError(f"'prompt' holds {len(prompts)} prompts; at most {max_prompts} are accepted", "prompt")
    chat_body = {k: v for k, v in body.items() if k not in _OWN_KEYS}
    chat_body["messages"] = [{"role": "user", "content": p} for p in prompts]
    req = chat_request_from_json(chat_body, max_messages=max_prompts)
    tc = req.text_completion
    echo = body.get("echo")
    if echo is not None and not isinstance(echo, bool):
        raise RequestError("'echo' must be a boolean", "echo")
    tc.echo = bool(echo)
    suffix = body.get("suffix")
    if suffix is not None:
        if not isinstance(suffix, str):
            raise RequestError("'suffix' must be a string", "suffix")
        tc.suffix = suffix
    for key, low, high in (("best_of", 1, 20), ("logprobs", 0, MAX_LOGPROBS)):
        v = body.get(key)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise RequestError(f"'{key}' must be an integer from {low} to {high}", key)
        setattr(tc, key, v)
    if tc.HasField("best_of") and tc.best_of < (req.n if req.HasField("n") else 1):
        raise RequestError("'best_of' must be at least 'n'", "best_of")
    return req


def _logprobs(raw: bytes) -> Any:
    return orjson.loads(raw) if raw else None


def completion_json(c: chat_pb2.ChatCompletion) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.id,
        "object": "text_completion",
        "created": c.created,
        "model": c.model,
        "choices": [
            {
                "text": message_text(ch.message),
                "index": ch.index,
                "logprobs": _logprobs(ch.logprobs_json),
                "finish_reason": ch.finish_reason or None,
            }
            for ch in c.choices
        ],
        "usage": usage_to_json(c.usage),
    }
    if c.HasField("system_fingerprint"):
        out["system_fingerprint"] = c.system_fingerprint
    return out


def chunk_json(c: chat_pb2.ChatCompletionChunk) -> dict[str, Any] | None:
    """A streamed chunk, or None when it carries nothing a completions client reads (the chat
    stream's opening role chunk)."""
    choices = [
        {
            "text": ch.delta.content,
            "index": ch.index,
            "logprobs": _logprobs(ch.logprobs_json),
            "finish_reason": ch.finish_reason or None,
        }
        for ch in c.choices
        if ch.delta.content or ch.finish_reason or ch.logprobs_json
    ]
    if not choices:
        return None
    out: dict[str, Any] = {
        "id": c.id,
        "object": "text_completion",
        "created": c.created,
        "model": c.model,
        "choices": choices,
    }
    if c.HasField("system_fingerprint"):
        out["system_fingerprint"] = c.system_fingerprint
    return out


def usage_chunk_json(first: chat_pb2.ChatCompletionChunk, usage: chat_pb2.Usage) -> dict[str, Any]:
    """The last chunk of a stream whose client asked for usage (``stream_options.include_usage``)."""
    return {
        "id": first.id,
        "object": "text_completion",
        "created": first.created,
        "model": first.model,
        "choices": [],
        "usage": usage_to_json(usage),
    }
