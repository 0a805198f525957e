"""A fake HTTP log receiver, as LiteLLM's ``generic_api`` logger posts to: any ``POST`` path
takes a JSON list of logging payloads and answers ``200 {"status": "ok"}``; a body that is not
a JSON list is ``400``. Every request is recorded (``GET /__log``); ``POST /__down`` makes it
answer 503 while away; scripted replies (``POST /__script``, model ``*``) come first."""

from __future__ import annotations

import orjson
from aiohttp import web

from switchyard_fakes.base import STATE, new_state_app, record, send
from switchyard_fakes.control import add_control_routes
from switchyard_fakes.langfuse_server import RECEIVED, add_down_route, is_down


async def receive(request: web.Request) -> web.StreamResponse:
    rec = await record(request)
    if (reply := request.app[STATE].next_reply("*")) is not None:
        return await send(request, reply)
    if is_down(request):
        return web.json_response({"error": "unavailable"}, status=503)
    try:
        body = rec.json()
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, list):
        return web.json_response({"error": "expected a JSON list of log records"}, status=400)
    request.app[RECEIVED].extend({"headers": rec.headers, "record": r} for r in body)
    return web.json_response({"status": "ok"})


def create_app() -> web.Application:
    app = new_state_app()
    add_down_route(app)
    add_control_routes(app)
    app.router.add_post("/{path:(?!__).*}", receive)
    return app
