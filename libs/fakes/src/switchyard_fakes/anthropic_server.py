"""A fake Anthropic Messages API (``POST /v1/messages``, ``POST /v1/messages/count_tokens``).

It checks what the real API checks first (``x-api-key``, ``anthropic-version``, ``max_tokens``,
``messages``, the signatures of thinking blocks sent back), answers with Anthropic's error bodies
(``{"type": "error", "error": {...}}``), records every request, plays scripted replies, and
otherwise answers the way the API does: a thinking block (signed) first when ``thinking`` is
enabled, a ``tool_use`` block when ``tool_choice`` forces a tool, else a plain text message;
streamed as Anthropic's SSE events (message_start, content_block_start/delta/stop with
text_delta, thinking_delta, signature_delta, input_json_delta, message_delta, message_stop, with
``event:`` names and pings) when the request sets ``stream``. A system prompt marked with
``cache_control`` is written to the prompt cache on first sight and read from it afterwards
(``cache_creation_input_tokens`` / ``cache_read_input_tokens``).

``python -m switchyard_fakes.anthropic_server --port 18081``."""

from __future__ import annotations

import argparse
import hashlib
import itertools
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from switchyard_fakes.base import STATE, Reply, new_state_app, record, send
from switchyard_fakes.control import add_control_routes

DEFAULT_API_KEY = "sk-ant-fake-key-0123456789"
REPLY = "Hello from the fake Anthropic API. This answer went through the whole gateway."
THOUGHT = "The user greets me; a short friendly answer fits."
# Prompt prefixes written to the fake's prompt cache.
CACHE = web.AppKey("cache", set)

_ids = itertools.count(1)


def error_body(error_type: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}, "request_id": "req_fake"}


def error_reply(status: int, error_type: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status=status, body=error_body(error_type, message), headers={"request-id": "req_fake", **(headers or {})}
    )


def usage(input_tokens: int, output_tokens: int, cache_read: int = 0, cache_write: int = 0) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def message(
    content: list[dict[str, Any]],
    stop_reason: str = "end_turn",
    u: dict[str, Any] | None = None,
    model: str = "claude-sonnet-4-5-20250929",
) -> dict[str, Any]:
    return {
        "id": f"msg_fake{next(_ids):08d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": u or usage(10, 5),
    }


def text_message(text: str, input_tokens: int, output_tokens: int, **kw: Any) -> dict[str, Any]:
    return message([{"type": "text", "text": text}], u=usage(input_tokens, output_tokens), **kw)


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {orjson.dumps(data).decode()}\n\n".encode()


def stream_events(
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]],
    stop_reason: str,
    input_tokens: int,
    output_tokens: int,
    model: str = "claude-sonnet-4-5-20250929",
    cache_read: int = 0,
    cache_write: int = 0,
) -> list[tuple[str, dict[str, Any]]]:
    """The (name, data) events of a streamed message: ``blocks`` are (content_block_start block,
    deltas)."""
    msg = message([], stop_reason="", u=usage(input_tokens, 1, cache_read, cache_write), model=model)
    msg["stop_reason"] = None
    events: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start", "message": msg})]
    events.append(("ping", {"type": "ping"}))
    for i, (start, deltas) in enumerate(blocks):
        events.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": start}))
        events += [("content_block_delta", {"type": "content_block_delta", "index": i, "delta": d}) for d in deltas]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def stream_frames(
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]],
    stop_reason: str,
    input_tokens: int,
    output_tokens: int,
    model: str = "claude-sonnet-4-5-20250929",
    cache_read: int = 0,
    cache_write: int = 0,
) -> list[bytes]:
    """SSE frames of a streamed message: ``blocks`` are (content_block_start block, deltas)."""
    events = stream_events(blocks, stop_reason, input_tokens, output_tokens, model, cache_read, cache_write)
    return [_event(name, data) for name, data in events]


def stream_text(pieces: list[str], input_tokens: int, output_tokens: int, **kw: Any) -> Reply:
    frames = stream_frames(
        [({"type": "text", "text": ""}, [{"type": "text_delta", "text": p} for p in pieces])],
        "end_turn",
        input_tokens,
        output_tokens,
        **kw,
    )
    return Reply(frames=frames, content_type="text/event-stream")


def signature_of(thinking: str) -> str:
    """The signature the fake gives a thinking block (and checks when it comes back)."""
    return "fakesig_" + hashlib.sha256(thinking.encode()).hexdigest()[:40]


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    out = []
    for b in content if isinstance(content, list) else ():
        if isinstance(b, dict):
            if isinstance(b.get("text"), str):
                out.append(b["text"])
            out.extend(_texts(b.get("content")))
    return out


def count_words(body: dict[str, Any]) -> int:
    texts = _texts(body.get("system"))
    for m in body.get("messages") or ():
        if isinstance(m, dict):
            texts.extend(_texts(m.get("content")))
    return max(1, len(" ".join(texts).split()))


def _bad_signature(body: dict[str, Any]) -> str | None:
    """Thinking blocks sent back must carry the signature they were given, unchanged."""
    for i, m in enumerate(body.get("messages") or ()):
        content = m.get("content") if isinstance(m, dict) else None
        for j, b in enumerate(content if isinstance(content, list) else ()):
            thinking = isinstance(b, dict) and b.get("type") == "thinking"
            if thinking and b.get("signature") != signature_of(str(b.get("thinking", ""))):
                return f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
    return None


def _cached(cache: set[str], body: dict[str, Any]) -> tuple[int, int]:
    """(cache read, cache write) tokens: a system prompt with cache_control is written once and
    read after."""
    system = body.get("system")
    if not isinstance(system, list) or not any(isinstance(b, dict) and b.get("cache_control") for b in system):
        return 0, 0
    tokens = len(" ".join(_texts(system)).split())
    key = hashlib.sha256(orjson.dumps(system)).hexdigest()
    if key in cache:
        return tokens, 0
    cache.add(key)
    return 0, tokens


def _forced_tool(body: dict[str, Any]) -> dict[str, Any] | None:
    choice = body.get("tool_choice") or {}
    tools = [t for t in body.get("tools") or () if isinstance(t, dict)]
    if not tools or choice.get("type") not in ("any", "tool"):
        return None
    if choice.get("type") == "tool":
        return next((t for t in tools if t.get("name") == choice.get("name")), None)
    return tools[0]


@dataclass
class Answer:
    """What the fake answers a request with, in any framing (this API's, or Bedrock's)."""

    # (content_block_start block, its deltas, the whole block)
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]]
    stop_reason: str
    input_tokens: int
    output_tokens: int
    cache_read: int
    cache_write: int
    model: str

    def message(self) -> dict[str, Any]:
        u = usage(self.input_tokens, self.output_tokens, self.cache_read, self.cache_write)
        return message([whole for _, _, whole in self.blocks], self.stop_reason, u, model=self.model)

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        return stream_events(
            [(start, deltas) for start, deltas, _ in self.blocks],
            self.stop_reason,
            self.input_tokens,
            self.output_tokens,
            self.model,
            self.cache_read,
            self.cache_write,
        )


def default_answer(body: dict[str, Any], cache: set[str], model: str = "") -> Answer:
    """A signed thinking block first when thinking is on, then a tool_use block when tool_choice
    forces a tool, else the text reply."""
    read, write = _cached(cache, body)
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]] = []
    if (body.get("thinking") or {}).get("type") == "enabled":
        sig = signature_of(THOUGHT)
        blocks.append(
            (
                {"type": "thinking", "thinking": "", "signature": ""},
                [{"type": "thinking_delta", "thinking": THOUGHT}, {"type": "signature_delta", "signature": sig}],
                {"type": "thinking", "thinking": THOUGHT, "signature": sig},
            )
        )
    tool = _forced_tool(body)
    if tool is not None:
        tool_input = {"location": "Paris"}
        whole = {"type": "tool_use", "id": f"toolu_fake{next(_ids):08d}", "name": tool.get("name"), "input": tool_input}
        start = {**whole, "input": {}}
        blocks.append((start, [{"type": "input_json_delta", "partial_json": orjson.dumps(tool_input).decode()}], whole))
        stop, output_tokens = "tool_use", 12
    else:
        words = REPLY.split(" ")
        deltas = [{"type": "text_delta", "text": w if i == 0 else " " + w} for i, w in enumerate(words)]
        blocks.append(({"type": "text", "text": ""}, deltas, {"type": "text", "text": REPLY}))
        stop, output_tokens = "end_turn", len(words)
    input_tokens = max(1, count_words(body) - read - write)
    return Answer(blocks, stop, input_tokens, output_tokens, read, write, model or str(body.get("model") or ""))


def _default(body: dict[str, Any], cache: set[str]) -> Reply:
    answer = default_answer(body, cache)
    if body.get("stream"):
        frames = [_event(name, data) for name, data in answer.events()]
        return Reply(frames=frames, content_type="text/event-stream")
    return Reply(body=answer.message())


def create_app(api_key: str = DEFAULT_API_KEY) -> web.Application:
    app = new_state_app()
    app[CACHE] = set()

    async def checked(request: web.Request, required: tuple[str, ...]) -> dict[str, Any] | web.StreamResponse:
        """The request's body, or the error the API answers it with."""
        rec = await record(request)
        if request.headers.get("x-api-key") != api_key:
            return await send(request, error_reply(401, "authentication_error", "invalid x-api-key"))
        if not request.headers.get("anthropic-version"):
            return await send(
                request, error_reply(400, "invalid_request_error", "anthropic-version: header is required")
            )
        try:
            body = rec.json()
        except orjson.JSONDecodeError:
            return await send(request, error_reply(400, "invalid_request_error", "Request body is not valid JSON"))
        if not isinstance(body, dict):
            return await send(request, error_reply(400, "invalid_request_error", "Request body must be an object"))
        for field in required:
            if field not in body:
                return await send(request, error_reply(400, "invalid_request_error", f"{field}: Field required"))
        if problem := _bad_signature(body):
            return await send(request, error_reply(400, "invalid_request_error", problem))
        return body

    async def messages(request: web.Request) -> web.StreamResponse:
        body = await checked(request, ("model", "max_tokens", "messages"))
        if not isinstance(body, dict):
            return body
        reply = request.app[STATE].next_reply(str(body["model"])) or _default(body, request.app[CACHE])
        return await send(request, reply)

    async def count_tokens(request: web.Request) -> web.StreamResponse:
        body = await checked(request, ("model", "messages"))
        if not isinstance(body, dict):
            return body
        if "max_tokens" in body:
            return await send(
                request, error_reply(400, "invalid_request_error", "max_tokens: Extra inputs are not permitted")
            )
        tools = len(orjson.dumps(body.get("tools") or [])) // 4 if body.get("tools") else 0
        return await send(request, Reply(body={"input_tokens": count_words(body) + tools}))

    app.router.add_post("/v1/messages", messages)
    app.router.add_post("/v1/messages/count_tokens", count_tokens)
    add_control_routes(app)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18081)
    args = parser.parse_args()
    web.run_app(create_app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
