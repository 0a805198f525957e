"""LiteLLM-compatible management routes: ``/key/*`` (auth service) and ``/spend/logs``
(copilot-budget). Errors are ``{"detail": ...}``; the account always comes from the caller's
verified credential."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
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
    credential_of,
    json_response,
    management_endpoint,
    read_object,
)
from switchyard_llm.openai_codec.usage import usage_to_json

if TYPE_CHECKING:
    from switchyard_edge.app import Edge


def _str_list(body: dict[str, Any], key: str) -> list[str]:
    v = body.get(key)
    if v is None:
        return []
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise BadInput(f"'{key}' must be a list of strings")
    return v


def _opt_str(body: dict[str, Any], key: str) -> str:
    v = body.get(key)
    if v is None:
        return ""
    if not isinstance(v, str):
        raise BadInput(f"'{key}' must be a string")
    return v


def _opt_int(body: dict[str, Any], key: str) -> int:
    v = body.get(key)
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise BadInput(f"'{key}' must be a non-negative integer")
    return v


def key_settings(body: dict[str, Any]) -> auth_pb2.KeySettings:
    s = auth_pb2.KeySettings(
        key_alias=_opt_str(body, "key_alias"),
        team_id=_opt_str(body, "team_id"),
        user_id=_opt_str(body, "user_id"),
        org_id=_opt_str(body, "organization_id") or _opt_str(body, "org_id"),
        models=_str_list(body, "models"),
        budget_duration=_opt_str(body, "budget_duration"),
        guardrails=_str_list(body, "guardrails"),
        duration=_opt_str(body, "duration"),
        tags=_str_list(body, "tags"),
        blocked=bool(body.get("blocked", False)),
    )
    mb = body.get("max_budget")
    if mb is not None:
        if isinstance(mb, bool) or not isinstance(mb, int | float | str):
            raise BadInput("'max_budget' must be a number")
        try:
            value = Decimal(str(mb))
        except InvalidOperation:
            raise BadInput("'max_budget' must be a number") from None
        if not value.is_finite() or value < 0:
            raise BadInput("'max_budget' must be a non-negative number")
        s.max_budget = str(value)
    s.limits.rpm_limit = _opt_int(body, "rpm_limit")
    s.limits.tpm_limit = _opt_int(body, "tpm_limit")
    s.limits.max_parallel_requests = _opt_int(body, "max_parallel_requests")
    meta = body.get("metadata")
    if meta is not None:
        if not isinstance(meta, dict):
            raise BadInput("'metadata' must be an object")
        s.metadata_json = orjson.dumps(meta)
    return s


def _iso(ts: int) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts else None


def key_info_json(info: auth_pb2.KeyInfo) -> dict[str, Any]:
    s = info.settings
    return {
        "token": info.key_hash,
        "key_name": info.key_name,
        "key_alias": s.key_alias or None,
        "spend": float(info.spend or 0),
        "max_budget": float(s.max_budget) if s.max_budget else None,
        "budget_duration": s.budget_duration or None,
        "budget_reset_at": None,
        "models": list(s.models),
        "team_id": s.team_id or None,
        "user_id": s.user_id or None,
        "organization_id": s.org_id or None,
        "tpm_limit": s.limits.tpm_limit or None,
        "rpm_limit": s.limits.rpm_limit or None,
        "max_parallel_requests": s.limits.max_parallel_requests or None,
        "guardrails": list(s.guardrails),
        "tags": list(s.tags),
        "blocked": s.blocked,
        "expires": _iso(info.expires_at),
        "created_at": _iso(info.created_at),
        "metadata": orjson.loads(s.metadata_json) if s.metadata_json else {},
    }


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
    limit = edge.settings.max_management_body_bytes

    async def generate_key(request: Request, who: auth_pb2.Principal) -> Response:
        body = await read_object(request, limit)
        resp = await edge.keys.generate(who, key_settings(body), _opt_str(body, "key"))
        out = key_info_json(resp.info)
        out["key"] = resp.key
        return json_response(out)

    async def key_info(request: Request, who: auth_pb2.Principal) -> Response:
        info = await edge.keys.get(who, request.query_params.get("key") or credential_of(request))
        # Spend lives under the key's stable id (it survives /key/regenerate).
        spend = await edge.spend.of_key(info.account_id, info.key_id or info.key_hash)
        info.spend = spend.spend if spend is not None else "0"
        out = key_info_json(info)
        if spend is not None and spend.HasField("budget_reset_at"):
            out["budget_reset_at"] = spend.budget_reset_at.ToDatetime(tzinfo=UTC).isoformat()
        return json_response({"key": info.key_hash, "info": out})

    async def delete_keys(request: Request, who: auth_pb2.Principal) -> Response:
        keys = _str_list(await read_object(request, limit), "keys")
        if not keys:
            raise BadInput("'keys' must list at least one key")
        return json_response({"deleted_keys": await edge.keys.delete(who, keys)})

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
        ("/key/generate", generate_key, "POST", openapi.management_route(openapi.KEY_GENERATE_REQUEST)),
        ("/key/info", key_info, "GET", openapi.management_route(query={"key": {"type": "string"}})),
        ("/key/delete", delete_keys, "POST", openapi.management_route(openapi.KEY_DELETE_REQUEST)),
        ("/spend/logs", spend_logs, "GET", openapi.management_route(query=openapi.SPEND_LOGS_QUERY)),
    ):
        app.add_api_route(path, route(handler), methods=[method], openapi_extra=extra)
