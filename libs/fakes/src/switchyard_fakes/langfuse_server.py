"""A fake Langfuse: its public ingestion API, ``POST /api/public/ingestion`` with HTTP basic auth
(public key : secret key) and a body ``{"batch": [{"id", "type", "timestamp", "body"}, ...]}``;
answers ``207 {"successes": [{"id", "status": 201}], "errors": [{"id", "status", "message"}]}``
as Langfuse does (an event with a missing field is an error of its own, not of the batch), and
401 for a wrong key pair. Every request is recorded (``GET /__log``); ``GET /__received`` lists
the events (and ``/__down``'s webhook twin the records) a receiver accepted. ``POST /__down``
``{"down": true}`` makes every ingestion answer 503 until ``{"down": false}`` (a receiver that is
away); scripted replies (``POST /__script``, model ``*``) take precedence over the answer."""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from switchyard_fakes.base import STATE, new_state_app, record, send
from switchyard_fakes.control import add_control_routes

PUBLIC_KEY = "pk-lf-switchyard-fake"
SECRET_KEY = "sk-lf-switchyard-fake"
EVENT_TYPES = frozenset({"trace-create", "generation-create", "span-create", "event-create", "score-create"})

DOWN = web.AppKey("down", list)
RECEIVED = web.AppKey("received", list)


async def _set_down(request: web.Request) -> web.Response:
    request.app[DOWN][:] = [bool((await request.json()).get("down"))]
    return web.json_response({"down": request.app[DOWN][0]})


async def _received(request: web.Request) -> web.Response:
    return web.json_response(request.app[RECEIVED])


def add_down_route(app: web.Application) -> None:
    """``POST /__down``: the receiver answers 503 while down; ``GET /__received``: what it took."""
    app[DOWN] = [False]
    app[RECEIVED] = []
    app.router.add_post("/__down", _set_down)
    app.router.add_get("/__received", _received)


def is_down(request: web.Request) -> bool:
    return bool(request.app[DOWN][0])


def _authorized(header: str | None) -> bool:
    expected = base64.b64encode(f"{PUBLIC_KEY}:{SECRET_KEY}".encode()).decode()
    return header == f"Basic {expected}"


def _problem(event: Any) -> str | None:
    if not isinstance(event, dict):
        return "event must be an object"
    for key in ("id", "type", "timestamp", "body"):
        if not event.get(key):
            return f"{key} is required"
    if event["type"] not in EVENT_TYPES:
        return f"unknown event type {event['type']}"
    if not isinstance(event["body"], dict):
        return "body must be an object"
    if event["type"] == "generation-create" and not event["body"].get("traceId"):
        return "body.traceId is required"
    return None


async def ingestion(request: web.Request) -> web.StreamResponse:
    rec = await record(request)
    if (reply := request.app[STATE].next_reply("*")) is not None:
        return await send(request, reply)
    if is_down(request):
        return web.json_response({"message": "service unavailable"}, status=503)
    if not _authorized(rec.header("authorization")):
        return web.json_response({"message": "Invalid public or secret key"}, status=401)
    payload = rec.json()
    if not isinstance(payload, dict) or not isinstance(payload.get("batch"), list):
        return web.json_response({"message": "Invalid request data", "error": "batch is required"}, status=400)
    successes, errors = [], []
    for event in payload["batch"]:
        problem = _problem(event)
        event_id = event.get("id", "") if isinstance(event, dict) else ""
        if problem:
            errors.append({"id": event_id, "status": 400, "message": problem})
        else:
            successes.append({"id": event_id, "status": 201})
            request.app[RECEIVED].append(event)
    return web.json_response({"successes": successes, "errors": errors}, status=207)


def create_app() -> web.Application:
    app = new_state_app()
    app.router.add_post("/api/public/ingestion", ingestion)
    add_down_route(app)
    add_control_routes(app)
    return app
