"""Liveness and readiness on the API port (LiteLLM's paths and Kubernetes' usual ones)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from starlette.responses import Response

from switchyard_edge.handlers.httpio import json_response


def register(app: FastAPI, ready: Callable[[], bool]) -> None:
    async def live(request: Request) -> Response:
        return json_response("I'm alive!")

    async def readiness(request: Request) -> Response:
        ok = ready()
        return json_response({"status": "ready" if ok else "starting"}, 200 if ok else 503)

    for path in ("/healthz", "/health/liveliness", "/health/liveness"):
        app.add_api_route(path, live, methods=["GET"], include_in_schema=False)
    for path in ("/readyz", "/health/readiness"):
        app.add_api_route(path, readiness, methods=["GET"], include_in_schema=False)
