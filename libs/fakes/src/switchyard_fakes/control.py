"""HTTP control routes for fakes running in their own process (the local stack, e2e tests):

- ``POST /__script`` ``{"model": m, "replies": [{"status", "body", "headers", "frames", "delay_s",
  "frame_delay_s", "content_type"}]}`` queues native replies for model ``m`` (``"*"``: any model);
  ``frames`` are raw strings written one by one (an SSE or NDJSON stream), ``frame_delay_s``
  apart;
- ``GET /__log`` returns the recorded requests (body decoded as JSON when it is JSON);
- ``POST /__reset`` clears scripts and the log."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from switchyard_fakes.base import STATE, Reply


def reply_from_json(spec: dict[str, Any]) -> Reply:
    frames = spec.get("frames")
    return Reply(
        status=int(spec.get("status", 200)),
        body=spec.get("body"),
        headers={str(k): str(v) for k, v in (spec.get("headers") or {}).items()},
        delay_s=float(spec.get("delay_s", 0.0)),
        frame_delay_s=float(spec.get("frame_delay_s", 0.0)),
        frames=[str(f).encode() for f in frames] if frames is not None else None,
        content_type=str(spec.get("content_type", "application/json")),
    )


async def _script(request: web.Request) -> web.Response:
    spec = await request.json()
    replies = [reply_from_json(r) for r in spec.get("replies", [])]
    request.app[STATE].script(str(spec.get("model", "*")), *replies)
    return web.json_response({"queued": len(replies)})


async def _log(request: web.Request) -> web.Response:
    out = []
    for rec in request.app[STATE].requests:
        try:
            body: Any = rec.json()
        except orjson.JSONDecodeError:
            body = rec.body.decode("utf-8", "replace")
        out.append({"method": rec.method, "path": rec.path, "query": rec.query, "headers": rec.headers, "body": body})
    return web.Response(body=orjson.dumps(out), content_type="application/json")


async def _reset(request: web.Request) -> web.Response:
    request.app[STATE].reset()
    return web.json_response({"reset": True})


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def add_control_routes(app: web.Application) -> None:
    app.router.add_post("/__script", _script)
    app.router.add_get("/__log", _log)
    app.router.add_post("/__reset", _reset)
    app.router.add_get("/health", _health)
