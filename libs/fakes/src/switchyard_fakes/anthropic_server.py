"""A fake Anthropic Messages API (``POST /v1/messages``).

It checks what the real API checks first (``x-api-key``, ``anthropic-version``, ``max_tokens``,
``messages``), answers with Anthropic's error bodies (``{"type": "error", "error": {...}}``),
records every request, plays scripted replies, and otherwise answers with a plain text message,
streamed as Anthropic's SSE events (message_start, content_block_start/delta/stop, message_delta,
message_stop, with ``event:`` names and pings) when the request sets ``stream``.

``python -m switchyard_fakes.anthropic_server --port 18081``."""

from __future__ import annotations

import argparse
import itertools
from typing import Any

import orjson
from aiohttp import web

from switchyard_fakes.base import STATE, Reply, new_state_app, record, send
from switchyard_fakes.control import add_control_routes

DEFAULT_API_KEY = "sk-ant-fake-key-0123456789"
REPLY = "Hello from the fake Anthropic API. This answer went through the whole gateway."

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
    msg = message([], stop_reason="", u=usage(input_tokens, 1, cache_read, cache_write), model=model)
    msg["stop_reason"] = None
    frames = [_event("message_start", {"type": "message_start", "message": msg})]
    frames.append(_event("ping", {"type": "ping"}))
    for i, (start, deltas) in enumerate(blocks):
        frames.append(
            _event("content_block_start", {"type": "content_block_start", "index": i, "content_block": start})
        )
        frames += [
            _event("content_block_delta", {"type": "content_block_delta", "index": i, "delta": d}) for d in deltas
        ]
        frames.append(_event("content_block_stop", {"type": "content_block_stop", "index": i}))
    frames.append(
        _event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        )
    )
    frames.append(_event("message_stop", {"type": "message_stop"}))
    return frames


def stream_text(pieces: list[str], input_tokens: int, output_tokens: int, **kw: Any) -> Reply:
    frames = stream_frames(
        [({"type": "text", "text": ""}, [{"type": "text_delta", "text": p} for p in pieces])],
        "end_turn",
        input_tokens,
        output_tokens,
        **kw,
    )
    return Reply(frames=frames, content_type="text/event-stream")


def _default(body: dict[str, Any]) -> Reply:
    model = str(body.get("model") or "")
    prompt = " ".join(
        c if isinstance(c, str) else " ".join(str(b.get("text", "")) for b in c if isinstance(b, dict))
        for c in (m.get("content", "") for m in body.get("messages") or [] if isinstance(m, dict))
    )
    input_tokens = max(1, len(prompt.split()))
    words = REPLY.split(" ")
    if body.get("stream"):
        return stream_text(
            [w if i == 0 else " " + w for i, w in enumerate(words)], input_tokens, len(words), model=model
        )
    return Reply(body=text_message(REPLY, input_tokens, len(words), model=model))


def create_app(api_key: str = DEFAULT_API_KEY) -> web.Application:
    app = new_state_app()

    async def messages(request: web.Request) -> web.StreamResponse:
        rec = await record(request)
        if request.headers.get("x-api-key") != api_key:
            reply = error_reply(401, "authentication_error", "invalid x-api-key")
            return await send(request, reply)
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
        for field in ("model", "max_tokens", "messages"):
            if field not in body:
                return await send(request, error_reply(400, "invalid_request_error", f"{field}: Field required"))
        reply = request.app[STATE].next_reply(str(body["model"])) or _default(body)
        return await send(request, reply)

    app.router.add_post("/v1/messages", messages)
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
