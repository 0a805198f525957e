"""A fake Cohere upstream speaking the v2 API: ``POST /v2/chat`` (JSON or, with ``"stream": true``,
SSE events ``message-start``, ``content-start``/``content-delta``/``content-end``,
``tool-plan-delta``, ``tool-call-start``/``tool-call-delta``/``tool-call-end``, ``message-end``)
and ``POST /v2/embed``. Bearer authentication: a missing or wrong key gets Cohere's 401
``{"message": ...}``. Every request is recorded; scripted replies (tests, ``POST /__script``)
take precedence over the default answer."""

from __future__ import annotations

import argparse
import hashlib
import math
import uuid
from typing import Any

import orjson
from aiohttp import web

from switchyard_fakes.base import STATE, Reply, new_state_app, record, send
from switchyard_fakes.control import add_control_routes

REPLY = "Hello from the Switchyard fake Cohere. This answer went through the whole gateway."
# Cohere bills only the user's tokens; the prompt template it adds shows in `tokens` alone.
TEMPLATE_TOKENS = 40

API_KEY = web.AppKey("cohere_api_key", str)


def event(kind: str, **fields: Any) -> bytes:
    """One SSE event as Cohere sends it: an `event:` line naming the type and the JSON data."""
    return f"event: {kind}\ndata: ".encode() + orjson.dumps({"type": kind, **fields}) + b"\n\n"


def usage(p: int, c: int, cached: int = 0) -> dict[str, Any]:
    u: dict[str, Any] = {
        "billed_units": {"input_tokens": p, "output_tokens": c},
        "tokens": {"input_tokens": p + TEMPLATE_TOKENS, "output_tokens": c},
    }
    if cached:
        u["cached_tokens"] = cached
    return u


def chat_response(message: dict[str, Any], finish: str, u: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "message": {"role": "assistant", **message}, "finish_reason": finish, "usage": u}


def stream_text(pieces: list[str], u: dict[str, Any], finish: str = "COMPLETE") -> list[bytes]:
    frames = [
        event(
            "message-start",
            id=str(uuid.uuid4()),
            delta={"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}},
        ),
        event("content-start", index=0, delta={"message": {"content": {"type": "text", "text": ""}}}),
    ]
    frames += [event("content-delta", index=0, delta={"message": {"content": {"text": p}}}) for p in pieces]
    frames += [
        event("content-end", index=0),
        event("message-end", delta={"finish_reason": finish, "usage": u}),
    ]
    return frames


def stream_tool_calls(plan: str, calls: list[tuple[str, str, list[str]]], u: dict[str, Any]) -> list[bytes]:
    frames = [event("message-start", id=str(uuid.uuid4()), delta={"message": {"role": "assistant"}})]
    if plan:
        frames.append(event("tool-plan-delta", delta={"message": {"tool_plan": plan}}))
    for i, (cid, name, pieces) in enumerate(calls):
        start = {"id": cid, "type": "function", "function": {"name": name, "arguments": ""}}
        frames.append(event("tool-call-start", index=i, delta={"message": {"tool_calls": start}}))
        frames += [
            event("tool-call-delta", index=i, delta={"message": {"tool_calls": {"function": {"arguments": p}}}})
            for p in pieces
        ]
        frames.append(event("tool-call-end", index=i))
    frames.append(event("message-end", delta={"finish_reason": "TOOL_CALL", "usage": u}))
    return frames


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status, body={"id": str(uuid.uuid4()), "message": message}, headers=headers or {})


def _words(text: str) -> int:
    return max(1, len(text.split())) if text else 0


def _prompt_text(body: dict[str, Any]) -> str:
    texts = []
    for m in body.get("messages") or ():
        c = m.get("content")
        if isinstance(c, str):
            texts.append(c)
        elif isinstance(c, list):
            texts.extend(str(p.get("text", "")) for p in c if isinstance(p, dict))
    return " ".join(texts)


def _vector(text: str, dims: int) -> list[float]:
    seed = hashlib.sha256(text.encode()).digest()
    return [round(math.cos(seed[j % 32] + j), 6) for j in range(dims)]


def default_chat(body: dict[str, Any]) -> Reply:
    p = _words(_prompt_text(body))
    tools = body.get("tools") or []
    if tools and body.get("tool_choice") == "REQUIRED":
        name = tools[0]["function"]["name"]
        call = ("call_fake_1", name, ['{"value": ', "42}"])
        if body.get("stream"):
            return Reply(frames=stream_tool_calls("", [call], usage(p, 10)), content_type="text/event-stream")
        calls = [{"id": call[0], "type": "function", "function": {"name": name, "arguments": "".join(call[2])}}]
        return Reply(body=chat_response({"tool_calls": calls}, "TOOL_CALL", usage(p, 10)))
    text = '{"answer": "42"}' if (body.get("response_format") or {}).get("type") == "json_object" else REPLY
    c = _words(text)
    if body.get("stream"):
        words = text.split(" ")
        pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
        return Reply(frames=stream_text(pieces, usage(p, c)), content_type="text/event-stream")
    return Reply(body=chat_response({"content": [{"type": "text", "text": text}]}, "COMPLETE", usage(p, c)))


def default_embed(body: dict[str, Any]) -> Reply:
    if not body.get("input_type"):
        return error(400, "invalid request: valid input_type must be provided with the provided model")
    if not body.get("embedding_types"):
        return error(400, "invalid request: embedding_types is required")
    texts = [str(t) for t in body.get("texts") or ()]
    dims = int(body.get("output_dimension") or 8)
    return Reply(
        body={
            "id": str(uuid.uuid4()),
            "embeddings": {"float": [_vector(t, dims) for t in texts]},
            "texts": texts,
            "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": sum(_words(t) for t in texts)}},
            "response_type": "embeddings_by_type",
        }
    )


async def handle(request: web.Request) -> web.StreamResponse:
    rec = await record(request)
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return await send(request, error(401, "no api key supplied"))
    expected = request.app[API_KEY]
    if expected and header[7:] != expected:
        return await send(request, error(401, "invalid api token"))
    try:
        body = rec.json() or {}
    except orjson.JSONDecodeError:
        return await send(request, error(400, "invalid request: body must be valid JSON"))
    reply = request.app[STATE].next_reply(str(body.get("model", "")))
    if reply is None:
        reply = default_chat(body) if request.path.endswith("/chat") else default_embed(body)
    return await send(request, reply)


def create_app(api_key: str | None = None) -> web.Application:
    """``api_key`` None accepts any bearer key."""
    app = new_state_app()
    app[API_KEY] = api_key or ""
    app.router.add_post("/v2/chat", handle)
    app.router.add_post("/v2/embed", handle)
    add_control_routes(app)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18084)
    args = parser.parse_args()
    web.run_app(create_app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
