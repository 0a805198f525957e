"""Extra router replica sets for the router's end-to-end tests: more router/edge/provider-adapter
processes beside the session's stack, sharing its PostgreSQL, Redis, Kafka, auth, budget and
guardrail, optionally with a config of their own."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from devstack import stack
from e2e.support import MASTER_KEY

START_ORDER = ("router", "provider-adapter", "edge")


def deployment(name: str, dep_id: str, api_base: str, model: str | None = None, **params: Any) -> dict[str, Any]:
    info = params.pop("model_info", {})
    return {
        "model_name": name,
        "litellm_params": {"model": model or f"openai/{dep_id}", "api_base": api_base, "api_key": "e2e-key", **params},
        "model_info": {"id": dep_id, **info},
    }


def write_config(path: Path, model_list: list[dict[str, Any]], **sections: Any) -> Path:
    path.write_text(yaml.safe_dump({"model_list": model_list, **sections}, sort_keys=False))
    return path


@contextmanager
def replica_sets(
    main: stack.StackConfig,
    sets: Sequence[tuple[int, Iterable[str]]],
    config_path: Path | None = None,
    *,
    redis_prefix: str = "",
    order: Sequence[str] = START_ORDER,
    pause: float = 0.0,
) -> Iterator[list[stack.StackConfig]]:
    """Start replica sets (index, services it runs) in ``order``, ``pause`` seconds apart;
    stopped on exit whatever happens. Routers given a ``redis_prefix`` share routing state only
    with each other (not with the session's router, nor with earlier runs)."""
    env = {name: dict(values) for name, values in main.extra_env.items()}
    if redis_prefix:
        env["router"] = {**env.get("router", {}), "REDIS_KEY_PREFIX": redis_prefix}
    # gRPC ports below Linux's ephemeral range (32768+), where an outgoing connection's local
    # port can never take them first.
    cfgs = [
        dataclasses.replace(
            stack.replica(main, index, list(runs), config_path=config_path, grpc_base=2 * main.http_port + 100 * index),
            extra_env=env,
        )
        for index, runs in sets
    ]
    started: list[tuple[stack.StackConfig, str]] = []
    try:
        for cfg, (_, runs) in zip(cfgs, sets, strict=True):
            names = [n for n in order if n in set(runs)]
            for name in names:
                if started and pause:
                    time.sleep(pause)
                stack.start_service(cfg, name, wait=False)
                started.append((cfg, name))
        for cfg, (_, runs) in zip(cfgs, sets, strict=True):
            stack._wait_ready(cfg, [n for n in START_ORDER if n in set(runs)])
        yield cfgs
    finally:
        for cfg, name in reversed(started):
            stack.stop_service(cfg, name)


def url(cfg: stack.StackConfig) -> str:
    return f"http://127.0.0.1:{cfg.http_port}"


def client(cfg: stack.StackConfig, key: str = MASTER_KEY) -> httpx.Client:
    return httpx.Client(base_url=url(cfg), headers={"Authorization": f"Bearer {key}"}, timeout=30)


def chat(http: httpx.Client, model: str, content: str = "hello", **extra: Any) -> httpx.Response:
    return http.post(
        "/v1/chat/completions", json={"model": model, "messages": [{"role": "user", "content": content}], **extra}
    )


def upstream_calls(fake: httpx.Client, model: str) -> int:
    """How many requests the fake upstream got for ``model`` (its log keeps the last 1000)."""
    return sum(1 for e in fake.get("/__log").json() if e.get("body", {}).get("model") == model)


def wait_until(cond: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> float:
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(0.02)
    return time.monotonic() - t0


class BrokenStreamUpstream:
    """An OpenAI-compatible upstream whose streams send a role chunk and one content chunk, then
    drop the connection: a failure after the first byte."""

    def __init__(self) -> None:
        self.calls = 0
        self.port = 0
        self._loop: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def _serve(self) -> None:
        import asyncio

        import orjson
        from aiohttp import web

        async def chat(request: web.Request) -> web.StreamResponse:
            self.calls += 1
            body = await request.json()
            resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
            await resp.prepare(request)
            base = {"id": "chatcmpl-broken", "object": "chat.completion.chunk", "created": 1, "model": body["model"]}
            for delta in ({"role": "assistant", "content": ""}, {"content": "partial"}):
                chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                await resp.write(b"data: " + orjson.dumps(chunk) + b"\n\n")
            await asyncio.sleep(0.05)
            assert request.transport is not None
            request.transport.abort()
            return resp

        async def main() -> None:
            app = web.Application()
            app.router.add_post("/v1/chat/completions", chat)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._ready.set()
            await self._stop.wait()
            await runner.cleanup()

        asyncio.run(main())

    def __enter__(self) -> BrokenStreamUpstream:
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        assert self._thread is not None
        self._thread.join(5)
