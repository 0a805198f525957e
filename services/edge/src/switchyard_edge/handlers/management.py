"""LiteLLM's ``/spend/logs`` (copilot-budget); the tenancy routes (``/key/*``, ``/team/*``, ...)
are in handlers/tenancy.py. Errors are ``{"detail": ...}``; the account always comes from the
caller's verified credential."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from hashlib import sha256
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import FastAPI, Request
from google.protobuf import timestamp_pb2
from starlette.responses import Response

from switchyard.auth.v1 import auth_pb2
from switchyard.budget.v1 import budget_pb2
from switchyard_edge import openapi
from switchyard_edge.handlers.httpio import (
    BadInput,
    ManagementHandler,
    json_response,
    management_endpoint,
)
from switchyard_llm.openai_codec.usage import usage_to_json

if TYPE_CHECKING:
    from switchyard_edge.app import Edge


def _parse_time(value: str | None, name: str) -> timestamp_pb2.Timestamp | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        ts = timestamp_pb2.Timestamp()
        ts.FromDatetime(dt)
    except (ValueError, OverflowError):
        raise BadInput(f"'{name}' must be an ISO date or date-time (e.g. 2026-11-25)") from None
    return ts


def spend_log_json(log: budget_pb2.SpendLog) -> dict[str, Any]:
    return {
        "request_id": log.request_id,
        "attempt": log.attempt,
        "call_type": log.call_type,
        "api_key": log.key_hash,
        "spend": float(log.spend or 0),
        "total_tokens": log.usage.total_tokens,
        "prompt_tokens": log.usage.prompt_tokens,
        "completion_tokens": log.usage.completion_tokens,
        "usage": usage_to_json(log.usage),
        "startTime": log.start_time.ToDatetime(tzinfo=UTC).isoformat(),
        "endTime": log.end_time.ToDatetime(tzinfo=UTC).isoformat(),
        "model": log.model,
        "model_group": log.model_group,
        "model_id": log.deployment_id,
        "custom_llm_provider": log.provider,
        "user": log.end_user,
        "user_id": log.user_id or None,
        "team_id": log.team_id or None,
        "status": log.status,
        "http_status": log.http_status,
        "stream": log.stream,
        "request_tags": list(log.tags),
        "trace_id": log.trace_id or None,
        "metadata": orjson.loads(log.metadata_json) if log.metadata_json else {},
    }


def register(app: FastAPI, edge: Edge) -> None:
    async def spend_logs(request: Request, who: auth_pb2.Principal) -> Response:
        q = request.query_params
        req = budget_pb2.ListSpendLogsRequest(
            account_id=who.account_id,
            request_id=q.get("request_id", ""),
            user_id=q.get("user_id", ""),
            team_id=q.get("team_id", ""),
        )
        api_key = q.get("api_key", "")
        if who.is_admin:
            if api_key:
                req.key_hash = api_key if len(api_key) == 64 else sha256(api_key.encode()).hexdigest()
        else:
            req.key_hash = who.key_hash  # a key sees only its own spend
        for name, field in (("start_date", "start_time"), ("end_date", "end_time")):
            ts = _parse_time(q.get(name), name)
            if ts is not None:
                getattr(req, field).CopyFrom(ts)
        limit_q = q.get("limit")
        if limit_q:
            if not (limit_q.isascii() and limit_q.isdigit()) or len(limit_q) > 9:
                raise BadInput("'limit' must be a positive integer (at most 1000 rows are returned)")
            req.limit = min(int(limit_q), 1000)
        req.page_token = q.get("page_token", "")
        resp = await edge.spend.logs(req)
        out = json_response([spend_log_json(log) for log in resp.logs])
        if resp.next_page_token:
            # Answers are capped in bytes as well as rows (rows carry metadata): the next page
            # is the same query continued after this one's last row (RFC 8288 link, relative so
            # that it holds behind any proxy).
            url = request.url.include_query_params(page_token=resp.next_page_token)
            out.headers["link"] = f'<{url.path}?{url.query}>; rel="next"'
        return out

    def route(handler: ManagementHandler) -> Callable[[Request], Awaitable[Response]]:
        endpoint = management_endpoint(edge, handler)
        # The OpenAPI document names the operation (id and summary) after the function.
        endpoint.__name__ = handler.__name__
        return endpoint

    for path, handler, method, extra in (
        ("/spend/logs", spend_logs, "GET", openapi.management_route(query=openapi.SPEND_LOGS_QUERY)),
    ):
        app.add_api_route(path, route(handler), methods=[method], openapi_extra=extra)
