"""A fake Ollama server: ``POST /api/chat`` (JSON, or NDJSON lines when ``stream`` is true or
absent, as Ollama streams by default; the last line has ``done: true``, ``done_reason`` and the
token counts), ``POST /api/embed``, ``GET /api/version`` and ``GET /api/tags``. Errors are
Ollama's ``{"error": "..."}``. Local Ollama has no authentication; when the fake is given a key
(as ollama.com or an authenticating proxy would check one), a missing or wrong bearer token
gets ``401 {"error": "unauthorized"}``. Every request is recorded; scripted replies (tests,
``POST /__script``) take precedence over the default answer."""

from __future__ import annotations

import argparse
import hashlib
import math
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from switchyard_fakes.base import STATE, Reply, new_state_app, record, send
from switchyard_fakes.control import add_control_routes

REPLY = "Hello from the Switchyard fake Ollama. This answer went through the whole gateway."

API_KEY = web.AppKey("ollama_api_key", str)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def message(model: str, msg: dict[str, Any], *, done: bool = False, **final: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"model": model, "created_at": _now(), "message": {"role": "assistant", **msg}, "done": done}
    if done:
        out.update(
            {
                "done_reason": final.pop("done_reason", "stop"),
                "total_duration": 5_000_000,
                "load_duration": 1_000_000,
                "prompt_eval_duration": 1_000_000,
                "eval_duration": 3_000_000,
                **final,
            }
        )
    return out


def final(model: str, msg: dict[str, Any], prompt: int, completion: int, done_reason: str = "stop") -> dict[str, Any]:
    return message(model, msg, done=True, done_reason=done_reason, prompt_eval_count=prompt, eval_count=completion)


def ndjson(*lines: dict[str, Any]) -> list[bytes]:
    return [orjson.dumps(line) + b"\n" for line in lines]


def error(status: int, text: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status, body={"error": text}, headers=headers or {})


def _words(text: str) -> int:
    return max(1, len(text.split())) if text else 0


def default_chat(body: dict[str, Any]) -> Reply:
    model = str(body.get("model", ""))
    prompt = _words(" ".join(str(m.get("content", "")) for m in body.get("messages") or ()))
    fmt = body.get("format")
    text = '{"answer": "42"}' if fmt else REPLY
    completion = _words(text)
    if body.get("stream", True) is False:
        return Reply(body=final(model, {"content": text}, prompt, completion))
    words = text.split(" ")
    lines = [message(model, {"content": w if i == 0 else " " + w}) for i, w in enumerate(words)]
    lines.append(final(model, {"content": ""}, prompt, completion))
    return Reply(frames=ndjson(*lines), content_type="application/x-ndjson")


def default_embed(body: dict[str, Any]) -> Reply:
    inputs = body.get("input")
    texts = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs or ()]
    dims = int(body.get("dimensions") or 8)
    vectors = []
    for t in texts:
        seed = hashlib.sha256(t.encode()).digest()
        vectors.append([round(math.sin(seed[j % 32] * 0.5 + j), 6) for j in range(dims)])
    return Reply(
        body={
            "model": body.get("model"),
            "embeddings": vectors,
            "total_duration": 1_000_000,
            "load_duration": 100_000,
            "prompt_eval_count": sum(_words(t) for t in texts),
        }
    )


async def handle(request: web.Request) -> web.StreamResponse:
    rec = await record(request)
    expected = request.app[API_KEY]
    if expected and request.headers.get("authorization", "") != f"Bearer {expected}":
        return await send(request, error(401, "unauthorized"))
    try:
        body = rec.json() or {}
    except orjson.JSONDecodeError:
        return await send(request, error(400, "invalid character looking for beginning of value"))
    if not body.get("model"):
        return await send(request, error(400, "model is required"))
    reply = request.app[STATE].next_reply(str(body["model"]))
    if reply is None:
        reply = default_chat(body) if request.path == "/api/chat" else default_embed(body)
    return await send(request, reply)


async def version(request: web.Request) -> web.Response:
    return web.json_response({"version": "0.12.0"})


async def tags(request: web.Request) -> web.Response:
    return web.json_response({"models": []})


def create_app(api_key: str | None = None) -> web.Application:
    app = new_state_app()
    app[API_KEY] = api_key or ""
    app.router.add_post("/api/chat", handle)
    app.router.add_post("/api/embed", handle)
    app.router.add_get("/api/version", version)
    app.router.add_get("/api/tags", tags)
    add_control_routes(app)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18085)
    args = parser.parse_args()
    web.run_app(create_app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
