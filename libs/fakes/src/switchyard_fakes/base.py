"""Building blocks of the fake providers: request recording and scripted replies.

Every fake records what it received (method, path, query, headers, body) so tests assert on
exactly what the adapter sent, and takes a queue of scripted replies (status, body, headers,
delay, streamed frames) per model, falling back to its provider-specific default answer."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == low), None)


@dataclass
class Reply:
    """A scripted answer. ``frames`` (raw bytes written one by one) makes it a streamed answer."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    frames: list[bytes] | None = None
    frame_delay_s: float = 0.0
    content_type: str = "application/json"


class FakeState:
    """Shared by a fake app's handlers; tests reach it as ``app[STATE]``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self.latency_s = 0.0

    def script(self, model: str, *replies: Reply) -> None:
        self.scripts[model].extend(replies)

    def next_reply(self, model: str) -> Reply | None:
        q = self.scripts.get(model) or self.scripts.get("*")
        return q.popleft() if q else None

    def reset(self) -> None:
        self.requests.clear()
        self.scripts.clear()
        self.latency_s = 0.0

    @property
    def last(self) -> Recorded:
        return self.requests[-1]


STATE = web.AppKey("state", FakeState)


async def record(request: web.Request) -> Recorded:
    body = await request.read()
    rec = Recorded(
        request.method, request.path, dict(request.query), {str(k): v for k, v in request.headers.items()}, body
    )
    request.app[STATE].requests.append(rec)
    if request.app[STATE].latency_s:
        await asyncio.sleep(request.app[STATE].latency_s)
    return rec


async def send(request: web.Request, reply: Reply) -> web.StreamResponse:
    """Write a scripted reply (plain or streamed)."""
    if reply.delay_s:
        await asyncio.sleep(reply.delay_s)
    if reply.frames is None:
        body = reply.body if isinstance(reply.body, bytes) else orjson.dumps(reply.body)
        return web.Response(
            status=reply.status, body=body, headers={"content-type": reply.content_type, **reply.headers}
        )
    resp = web.StreamResponse(status=reply.status, headers={"content-type": reply.content_type, **reply.headers})
    await resp.prepare(request)
    for frame in reply.frames:
        if reply.frame_delay_s:
            await asyncio.sleep(reply.frame_delay_s)
        await resp.write(frame)
    await resp.write_eof()
    return resp


def sse(*events: Any, event_names: list[str] | None = None, done: bool = False) -> list[bytes]:
    """SSE frames for JSON payloads (optionally with ``event:`` names) and an optional ``[DONE]``."""
    frames = []
    for i, e in enumerate(events):
        if isinstance(e, bytes):
            data = e.decode()
        elif isinstance(e, str):
            data = e
        else:
            data = orjson.dumps(e).decode()
        prefix = f"event: {event_names[i]}\n" if event_names else ""
        frames.append(f"{prefix}data: {data}\n\n".encode())
    if done:
        frames.append(b"data: [DONE]\n\n")
    return frames


def new_state_app() -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[STATE] = FakeState()
    return app


class Running:
    """A fake app served in-process on an ephemeral loopback port (for tests)."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self._runner = web.AppRunner(app, access_log=None)
        self.port = 0

    @property
    def state(self) -> FakeState:
        return self.app[STATE]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Running:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None)
        assert sockets
        self.port = sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()


def scripted_app(routes: list[tuple[str, str]], model_of: Any, default: Any) -> web.Application:
    """An app whose ``routes`` ((method, path) pairs, aiohttp path syntax) record each request and
    answer with the next scripted reply for its model (``model_of(request, recorded)``), else with
    ``default(request, recorded)`` (which returns a Reply)."""
    app = new_state_app()

    async def handle(request: web.Request) -> web.StreamResponse:
        rec = await record(request)
        model = model_of(request, rec)
        reply = request.app[STATE].next_reply(model) or default(request, rec)
        return await send(request, reply)

    for method, path in routes:
        app.router.add_route(method, path, handle)
    return app
