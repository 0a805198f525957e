"""The spend ledger and spend limits in PostgreSQL. Tenant-scoped reads filter by account here."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import orjson

from switchyard.budget.v1 import budget_pb2
from switchyard.events.v1 import usage_pb2
from switchyard.llm.v1 import error_pb2

_LOG_COLUMNS = (
    "event_id, request_id, attempt, account_id, call_type, key_hash, key_alias, team_id, user_id, org_id, "
    "end_user, model, model_group, deployment_id, provider, status, http_status, error_kind, error_message, "
    "spend, prompt_tokens, completion_tokens, total_tokens, cached_tokens, cache_creation_tokens, "
    "reasoning_tokens, stream, start_time, end_time, ttft_ms, tags, metadata, trace_id, reservation_id"
)


def _ts(ts: Any) -> datetime:
    if ts.seconds or ts.nanos:
        return ts.ToDatetime(tzinfo=UTC)
    return datetime.now(UTC)


def scopes_of(e: usage_pb2.UsageEvent) -> list[tuple[str, str]]:
    """The (kind, id) scopes an event's spend counts against."""
    out = []
    for kind, value in (
        ("key", e.key_hash),
        ("user", e.user_id),
        ("team", e.team_id),
        ("org", e.org_id),
        ("end_user", e.end_user),
    ):
        if value:
            out.append((kind, value))
    return out


class Ledger:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record_usage(self, e: usage_pb2.UsageEvent, cost: Decimal, trace_id: str) -> bool:
        """Insert the attempt's row and charge its scopes, in one transaction; False when the event
        was already applied (a replay changes nothing)."""
        u = e.usage
        metadata = orjson.loads(e.metadata_json) if e.metadata_json else {}
        async with self._pool.acquire() as conn, conn.transaction():
            inserted = await conn.fetchval(
                f"INSERT INTO spend_logs ({_LOG_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,"
                "$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30,$31,$32,$33,$34) "
                "ON CONFLICT (event_id) DO NOTHING RETURNING true",
                e.event_id,
                e.request_id,
                e.attempt,
                e.account_id,
                e.call_type,
                e.key_hash,
                e.key_alias,
                e.team_id,
                e.user_id,
                e.org_id,
                e.end_user,
                e.model,
                e.model_group,
                e.deployment_id,
                e.provider,
                "success" if e.success else "failure",
                e.http_status,
                error_pb2.ErrorKind.Name(e.error_kind) if e.error_kind else "",
                e.error_message[:2000],
                cost,
                u.prompt_tokens,
                u.completion_tokens,
                u.total_tokens,
                u.prompt_tokens_details.cached_tokens,
                u.prompt_tokens_details.cache_creation_tokens,
                u.completion_tokens_details.reasoning_tokens,
                e.stream,
                _ts(e.start_time),
                _ts(e.end_time),
                e.ttft_ms,
                list(e.tags),
                metadata,
                trace_id,
                e.reservation_id,
            )
            if not inserted:
                return False
            if cost:
                for kind, scope_id in scopes_of(e):
                    await conn.execute(
                        "UPDATE spend_limits SET spend = spend + $3, updated_at = now() "
                        "WHERE scope_kind = $1 AND scope_id = $2",
                        kind,
                        scope_id,
                        cost,
                    )
            return True

    async def scope_limit(self, kind: str, scope_id: str, account_id: str) -> tuple[Decimal | None, Decimal]:
        """(max_budget or None, spend) of a scope; (None, 0) when it has no limit."""
        row = await self._pool.fetchrow(
            "SELECT max_budget, spend FROM spend_limits WHERE scope_kind = $1 AND scope_id = $2 AND account_id = $3",
            kind,
            scope_id,
            account_id,
        )
        if row is None:
            return None, Decimal(0)
        return row["max_budget"], row["spend"]

    async def apply_limit(
        self,
        event_id: str,
        topic: str,
        account_id: str,
        kind: str,
        scope_id: str,
        max_budget: Decimal | None,
        budget_duration: str | None,
        delete: bool,
    ) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            fresh = await conn.fetchval(
                "INSERT INTO processed_events (event_id, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
                event_id,
                topic,
            )
            if not fresh:
                return False
            if delete:
                await conn.execute(
                    "DELETE FROM spend_limits WHERE scope_kind = $1 AND scope_id = $2 AND account_id = $3",
                    kind,
                    scope_id,
                    account_id,
                )
            else:
                await conn.execute(
                    "INSERT INTO spend_limits (scope_kind, scope_id, account_id, max_budget, budget_duration) "
                    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope_kind, scope_id) DO UPDATE SET "
                    "max_budget = EXCLUDED.max_budget, budget_duration = EXCLUDED.budget_duration, updated_at = now()",
                    kind,
                    scope_id,
                    account_id,
                    max_budget,
                    budget_duration,
                )
            return True

    async def spend_logs(self, req: budget_pb2.ListSpendLogsRequest) -> list[asyncpg.Record]:
        where: list[str] = []
        args: list[Any] = []
        if not req.all_accounts:
            args.append(req.account_id)
            where.append(f"account_id = ${len(args)}")
        for col, value in (
            ("key_hash", req.key_hash),
            ("request_id", req.request_id),
            ("user_id", req.user_id),
            ("team_id", req.team_id),
        ):
            if value:
                args.append(value)
                where.append(f"{col} = ${len(args)}")
        if req.HasField("start_time"):
            args.append(req.start_time.ToDatetime(tzinfo=UTC))
            where.append(f"start_time >= ${len(args)}")
        if req.HasField("end_time"):
            args.append(req.end_time.ToDatetime(tzinfo=UTC))
            where.append(f"start_time <= ${len(args)}")
        args.append(min(max(req.limit or 100, 1), 1000))
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        return await self._pool.fetch(
            f"SELECT {_LOG_COLUMNS} FROM spend_logs {clause} ORDER BY start_time DESC, attempt DESC LIMIT ${len(args)}",
            *args,
        )
