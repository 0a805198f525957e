"""The spend ledger and spend limits in PostgreSQL. Tenant-scoped reads filter by account here."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from switchyard.budget.v1 import budget_pb2
from switchyard.events.v1 import usage_pb2
from switchyard.llm.v1 import error_pb2
from switchyard_common.durations import duration_seconds
from switchyard_copilot_budget.domain.spend_pages import parse_page_token
from switchyard_llm.budget_scopes import event_scopes, kind_name
from switchyard_llm.event_fields import clean_usage_event

log = logging.getLogger(__name__)

# A connection of the pool (asyncpg hands out proxies of connections).
Conn = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy

# Most limits one window-reset round handles in one transaction.
RESET_BATCH = 1000
# Spend log rows fetched per round trip (each may hold 64 KiB of metadata).
_SPEND_LOG_PREFETCH = 32

_LOG_COLUMN_LIST = [
    "event_id",
    "request_id",
    "attempt",
    "account_id",
    "call_type",
    "key_hash",
    "key_id",
    "key_alias",
    "team_id",
    "user_id",
    "org_id",
    "end_user",
    "model",
    "model_group",
    "deployment_id",
    "provider",
    "status",
    "http_status",
    "error_kind",
    "error_message",
    "spend",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "cache_creation_tokens",
    "reasoning_tokens",
    "stream",
    "start_time",
    "end_time",
    "ttft_ms",
    "tags",
    "metadata",
    "trace_id",
    "reservation_id",
]
_LOG_COLUMNS = ", ".join(_LOG_COLUMN_LIST)


def _ts(ts: Any) -> datetime:
    if ts.seconds or ts.nanos:
        return ts.ToDatetime(tzinfo=UTC)
    return datetime.now(UTC)


def scopes_of(e: usage_pb2.UsageEvent) -> list[tuple[str, str]]:
    """The (kind, id) scopes an event's spend counts against (``event_scopes``), by kind name."""
    return [(kind_name(kind), value) for kind, value in event_scopes(e)]


async def _first_time(conn: Conn, event_id: str, topic: str) -> bool:
    """Records an event as processed, in the caller's transaction; False when it already was
    (a redelivery, which must change nothing)."""
    return bool(
        await conn.fetchval(
            "INSERT INTO processed_events (event_id, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
            event_id,
            topic,
        )
    )


async def _lock_reservations(conn: Conn, reservation_ids: list[str]) -> None:
    """Transaction-scoped advisory locks on reservation/lease ids, always taken in sorted order
    (the caller sorts) so two transactions cannot deadlock."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(id, 0)) FROM unnest($1::text[]) AS id", reservation_ids
    )


async def _add_to_limits(conn: Conn, column: str, amounts: dict[tuple[str, str, str], Decimal]) -> None:
    """Add to ``spend`` or ``pending`` of the limits of (account, kind, id) scopes (scopes without
    a limit have no row and need none). ``pending`` never goes below zero."""
    assert column in ("spend", "pending")
    if not amounts:
        return
    accounts, kinds, ids, values = (
        list(c) for c in zip(*((a, k, i, v) for (a, k, i), v in amounts.items()), strict=True)
    )
    new = "l.spend + v.amount" if column == "spend" else "GREATEST(0, l.pending + v.amount)"
    await conn.execute(
        f"UPDATE spend_limits AS l SET {column} = {new}, updated_at = now() "
        "FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[]) AS v(account, kind, id, amount) "
        "WHERE l.account_id = v.account AND l.scope_kind = v.kind AND l.scope_id = v.id",
        accounts,
        kinds,
        ids,
        values,
    )


async def _upsert_limit(
    conn: Conn,
    account_id: str,
    kind: str,
    scope_id: str,
    max_budget: Decimal | None,
    budget_duration: str | None,
    version: int,
    now: datetime | None,
) -> bool:
    """Insert or replace a scope's limit unless the stored one is newer; True when stored."""
    reset_at = None
    if budget_duration:
        try:
            reset_at = (now or datetime.now(UTC)) + timedelta(seconds=duration_seconds(budget_duration))
        except ValueError:
            log.error("budget_duration not understood; the limit has no window", extra={"scope_id": scope_id})
            budget_duration = None
    stored = await conn.fetchval(
        "INSERT INTO spend_limits (scope_kind, scope_id, account_id, max_budget, budget_duration, budget_reset_at, "
        "version) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id, scope_kind, scope_id) DO UPDATE SET "
        "max_budget = EXCLUDED.max_budget, budget_duration = EXCLUDED.budget_duration, "
        "budget_reset_at = CASE WHEN spend_limits.budget_duration IS NOT DISTINCT FROM "
        "EXCLUDED.budget_duration THEN spend_limits.budget_reset_at ELSE EXCLUDED.budget_reset_at END, "
        "version = EXCLUDED.version, updated_at = now() "
        "WHERE spend_limits.version < EXCLUDED.version OR (EXCLUDED.version = 0 AND spend_limits.version = 0) "
        "RETURNING true",
        kind,
        scope_id,
        account_id,
        max_budget,
        budget_duration,
        reset_at,
        version,
    )
    return bool(stored)


class Ledger:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @staticmethod
    def _row(e: usage_pb2.UsageEvent, cost: Decimal, trace_id: str) -> tuple[Any, ...]:
        u = e.usage
        return (
            e.event_id,
            e.request_id,
            e.attempt,
            e.account_id,
            e.call_type,
            e.key_hash,
            e.key_id or e.key_hash,
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
            (e.metadata_json or b"{}").decode(),
            trace_id,
            e.reservation_id,
        )

    async def record_usage_batch(
        self, events: list[tuple[usage_pb2.UsageEvent, Decimal, str]]
    ) -> list[tuple[usage_pb2.UsageEvent, Decimal, Decimal]]:
        """Insert attempts' rows and charge their scopes in one transaction; returns the events
        applied now (replayed ones are left out: a replay changes nothing), each with the part of
        its cost that was already counted as spent when its lease was returned (``absorbed``).
        Events are cleaned in place first (``clean_usage_event``), as PostgreSQL would refuse the
        whole batch for one NUL; the settlement after this sees the same cleaned scopes."""
        if not events:
            return []
        for e, _, _ in events:
            if changed := clean_usage_event(e):
                log.warning("usage event cleaned for the ledger", extra={"event_id": e.event_id, "fields": changed})
        rows = [self._row(e, cost, trace) for e, cost, trace in events]
        reservations = sorted({e.reservation_id for e, _, _ in events if e.reservation_id})
        async with self._pool.acquire() as conn, conn.transaction():
            if reservations:
                # Serialises with the return of the same leases (park_lease_spend): each event's
                # cost is counted either in what the return finds settled or against its pending.
                await _lock_reservations(conn, reservations)
            # COPY is binary; metadata travels as text and is cast to jsonb on the way in.
            await conn.execute(
                "CREATE TEMP TABLE incoming (LIKE spend_logs INCLUDING DEFAULTS) ON COMMIT DROP;"
                "ALTER TABLE incoming ALTER COLUMN metadata TYPE text"
            )
            await conn.copy_records_to_table("incoming", records=rows, columns=_LOG_COLUMN_LIST)
            inserted = {
                r["event_id"]
                for r in await conn.fetch(
                    f"INSERT INTO spend_logs ({_LOG_COLUMNS}) SELECT DISTINCT ON (event_id) "
                    f"{_LOG_COLUMNS.replace('metadata', 'metadata::jsonb')} "
                    "FROM incoming ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
                )
            }
            fresh: list[tuple[usage_pb2.UsageEvent, Decimal]] = []
            for e, cost, _ in events:
                if e.event_id in inserted:
                    inserted.discard(e.event_id)  # a duplicate within the batch applies once
                    fresh.append((e, cost))
            absorbed = await self._absorb_pending(conn, fresh)
            applied = [(e, cost, absorbed.get(e.event_id, Decimal(0))) for e, cost in fresh]
            totals: dict[tuple[str, str, str], Decimal] = {}
            for e, cost, _ in applied:
                if cost:
                    for kind, sid in scopes_of(e):
                        scope = (e.account_id, kind, sid)
                        totals[scope] = totals.get(scope, Decimal(0)) + cost
            if totals:
                await _add_to_limits(conn, "spend", totals)
        return applied

    @staticmethod
    async def _absorb_pending(conn: Conn, fresh: list[tuple[usage_pb2.UsageEvent, Decimal]]) -> dict[str, Decimal]:
        """Events of returned leases take the place of the spend their lease's holder reported
        (``lease_pending``): per event, the part of its cost already counted that way."""
        leases = sorted({e.reservation_id for e, cost in fresh if e.reservation_id and cost > 0})
        if not leases:
            return {}
        rows = await conn.fetch(
            "SELECT lease_id, account_id, amount, scope_kinds, scope_ids FROM lease_pending "
            "WHERE lease_id = ANY($1::text[])",
            leases,
        )
        if not rows:
            return {}
        left = {r["lease_id"]: r["amount"] for r in rows}
        absorbed: dict[str, Decimal] = {}
        for e, cost in fresh:
            if e.reservation_id in left and cost > 0:
                part = min(cost, left[e.reservation_id])
                left[e.reservation_id] -= part
                absorbed[e.event_id] = part
        taken: dict[tuple[str, str, str], Decimal] = {}
        for r in rows:
            part = r["amount"] - left[r["lease_id"]]
            for kind, sid in zip(r["scope_kinds"], r["scope_ids"], strict=True):
                scope = (r["account_id"], kind, sid)
                taken[scope] = taken.get(scope, Decimal(0)) - part
        ids, amounts = list(left), list(left.values())
        await conn.execute(
            "UPDATE lease_pending AS p SET amount = v.amount FROM unnest($1::text[], $2::numeric[]) AS v(id, amount) "
            "WHERE p.lease_id = v.id",
            ids,
            amounts,
        )
        await conn.execute("DELETE FROM lease_pending WHERE lease_id = ANY($1::text[]) AND amount <= 0", ids)
        await _add_to_limits(conn, "pending", taken)
        return absorbed

    async def park_lease_spend(
        self, lease_id: str, account_id: str, scopes: list[tuple[str, str]], spent: Decimal
    ) -> Decimal:
        """A lease is returned with ``spent`` USD spent under it in total: what its usage events
        have not settled yet is recorded as pending spend of its scopes (counted as spent until
        those events arrive). Returns that amount; 0 when all is settled or the lease was already
        returned."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock_reservations(conn, [lease_id])
            settled = await conn.fetchval(
                "SELECT COALESCE(SUM(spend), 0) FROM spend_logs WHERE reservation_id = $1", lease_id
            )
            unsettled = max(Decimal(0), spent - settled)
            if not unsettled or not scopes:
                return Decimal(0)
            kinds, ids = [k for k, _ in scopes], [i for _, i in scopes]
            fresh = await conn.fetchval(
                "INSERT INTO lease_pending (lease_id, account_id, scope_kinds, scope_ids, amount) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (lease_id) DO NOTHING RETURNING true",
                lease_id,
                account_id,
                kinds,
                ids,
                unsettled,
            )
            if not fresh:
                return Decimal(0)
            await _add_to_limits(conn, "pending", {(account_id, k, i): unsettled for k, i in scopes})
            return unsettled

    async def record_usage(self, e: usage_pb2.UsageEvent, cost: Decimal, trace_id: str) -> bool:
        """One event (see ``record_usage_batch``); False when it was already applied."""
        return bool(await self.record_usage_batch([(e, cost, trace_id)]))

    async def _limit_row(self, kind: str, scope_id: str, account_id: str) -> asyncpg.Record | None:
        return await self._pool.fetchrow(
            "SELECT max_budget, spend + pending AS spend, budget_reset_at, version FROM spend_limits "
            "WHERE scope_kind = $1 AND scope_id = $2 AND account_id = $3",
            kind,
            scope_id,
            account_id,
        )

    async def scope_limit(self, kind: str, scope_id: str, account_id: str) -> tuple[Decimal | None, Decimal]:
        """(max_budget or None, spend) of a scope; (None, 0) when it has no limit. Spend includes
        what returned leases reported and their usage events have not settled yet."""
        limit, spend, _ = await self.scope_state(kind, scope_id, account_id)
        return limit, spend

    async def scope_state(self, kind: str, scope_id: str, account_id: str) -> tuple[Decimal | None, Decimal, int]:
        """``scope_limit`` and the version of the limit (0 when none was ever stored)."""
        row = await self._limit_row(kind, scope_id, account_id)
        if row is None:
            return None, Decimal(0), 0
        return row["max_budget"], row["spend"], row["version"]

    async def ensure_limit(
        self,
        account_id: str,
        kind: str,
        scope_id: str,
        max_budget: Decimal | None,
        budget_duration: str | None,
        version: int,
        *,
        now: datetime | None = None,
    ) -> None:
        """Store a limit as a caller's principal carries it, unless a newer (or the same) version
        is stored already: the limit of a key created a moment ago holds from its first request,
        before the identity event carrying it arrives."""
        async with self._pool.acquire() as conn:
            await _upsert_limit(conn, account_id, kind, scope_id, max_budget, budget_duration, version, now)

    _LOG_COLUMN_OF = {"key": "key_hash", "user": "user_id", "team": "team_id", "org": "org_id", "end_user": "end_user"}

    async def total_spend(
        self, kind: str, scope_id: str, account_id: str
    ) -> tuple[Decimal | None, Decimal, datetime | None]:
        """(max_budget or None, spend, budget_reset_at or None) of a scope: the limit row's spend
        in its current window when the scope has a limit, else the sum over the ledger."""
        row = await self._limit_row(kind, scope_id, account_id)
        if row is not None and row["max_budget"] is not None:
            return row["max_budget"], row["spend"], row["budget_reset_at"]
        column = self._LOG_COLUMN_OF.get(kind)
        if column is None:
            return None, Decimal(0), None
        where = f"{column} = $1"
        if kind == "key":
            # A key's scope id is its stable id; rows from before key ids were stored carry only
            # the hash (which was the id then).
            where = "(key_id = $1 OR (key_id IS NULL AND key_hash = $1))"
        total = await self._pool.fetchval(
            f"SELECT COALESCE(SUM(spend), 0) FROM spend_logs WHERE {where} AND account_id = $2",
            scope_id,
            account_id,
        )
        return None, Decimal(total), None

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
        *,
        version: int = 0,
        now: datetime | None = None,
    ) -> bool:
        """Store (or delete) a scope's limit once per event, unless a newer version of it is
        stored already (``version`` 0, from producers older than versions, applies over version 0
        only). A new ``budget_duration`` starts a window now; an unchanged one keeps the window
        running. Returns whether anything changed."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await _first_time(conn, event_id, topic):
                return False
            if delete and not version:
                await conn.execute(
                    "DELETE FROM spend_limits WHERE scope_kind = $1 AND scope_id = $2 AND account_id = $3 "
                    "AND version = 0",
                    kind,
                    scope_id,
                    account_id,
                )
                return True
            # A deleted limit stays as a row without a budget that holds its version.
            return await _upsert_limit(
                conn,
                account_id,
                kind,
                scope_id,
                None if delete else max_budget,
                None if delete else budget_duration,
                version,
                now,
            )

    async def apply_model_limits(
        self,
        event_id: str,
        topic: str,
        account_id: str,
        prefix: str,
        limits: dict[str, tuple[Decimal, str | None]],
        *,
        version: int,
        now: datetime | None = None,
    ) -> list[str]:
        """Make the ``key_model`` limits of one key (scope ids starting with ``prefix``) exactly
        ``limits`` (scope id → (max_budget, budget_duration)), once per event and unless newer
        versions are stored: a model no longer listed keeps a row without a budget that holds its
        version. Returns the scope ids that changed."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await _first_time(conn, event_id, topic):
                return []
            stored = await conn.fetch(
                "SELECT scope_id FROM spend_limits WHERE account_id = $1 AND scope_kind = 'key_model' "
                "AND starts_with(scope_id, $2) AND max_budget IS NOT NULL",
                account_id,
                prefix,
            )
            wanted: dict[str, tuple[Decimal | None, str | None]] = {r["scope_id"]: (None, None) for r in stored}
            wanted.update(limits)
            changed = []
            for scope_id, (budget, duration) in wanted.items():
                if await _upsert_limit(conn, account_id, "key_model", scope_id, budget, duration, version, now):
                    changed.append(scope_id)
        return changed

    async def drop_account_limits(self, event_id: str, topic: str, account_id: str) -> list[tuple[str, str]]:
        """The account was deleted: every limit of it goes (its keys, teams, users, ... are gone
        or unreachable), once per event. Returns the (kind, id) scopes dropped."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await _first_time(conn, event_id, topic):
                return []
            rows = await conn.fetch(
                "DELETE FROM spend_limits WHERE account_id = $1 RETURNING scope_kind, scope_id", account_id
            )
        return [(r["scope_kind"], r["scope_id"]) for r in rows]

    async def reset_due_budgets(
        self, now: datetime | None = None, limit: int = RESET_BATCH
    ) -> tuple[list[tuple[str, str, str]], int]:
        """Start a new window for up to ``limit`` limits whose ``budget_reset_at`` has passed:
        spend back to zero, the reset time moved on by whole durations (so windows stay on their
        schedule even when a reset runs late). A limit stored before windows existed gets its
        first window, starting now, with its spend kept. Safe with several replicas: each row is
        handled by one of them. Returns (account_id, kind, scope_id) of the scopes whose spend
        was reset, and how many limits were moved on (``limit`` means there may be more)."""
        now = now or datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT scope_kind, scope_id, account_id, budget_duration, budget_reset_at FROM spend_limits "
                "WHERE budget_duration IS NOT NULL AND (budget_reset_at IS NULL OR budget_reset_at <= $1) "
                "ORDER BY budget_reset_at NULLS FIRST LIMIT $2 FOR UPDATE SKIP LOCKED",
                now,
                limit,
            )
            updates: list[tuple[str, str, str, datetime, Decimal | None]] = []
            done: list[tuple[str, str, str]] = []
            for r in rows:
                try:
                    period = timedelta(seconds=duration_seconds(r["budget_duration"]))
                except ValueError:
                    continue
                due = r["budget_reset_at"]
                if due is None:
                    updates.append((r["account_id"], r["scope_kind"], r["scope_id"], now + period, None))
                else:
                    updates.append(
                        (
                            r["account_id"],
                            r["scope_kind"],
                            r["scope_id"],
                            due + period * ((now - due) // period + 1),
                            Decimal(0),
                        )
                    )
                    done.append((r["account_id"], r["scope_kind"], r["scope_id"]))
            if updates:
                accounts, kinds, ids, resets, spends = (list(col) for col in zip(*updates, strict=True))
                # Pending spend of returned leases belongs to the window that ends: it goes too
                # (their late events, like any late event, count in the new window).
                await conn.execute(
                    "UPDATE spend_limits AS l SET budget_reset_at = v.reset_at, spend = COALESCE(v.spend, l.spend), "
                    "pending = CASE WHEN v.spend IS NULL THEN l.pending ELSE 0 END, "
                    "updated_at = now() FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], "
                    "$5::numeric[]) AS v(account, kind, id, reset_at, spend) "
                    "WHERE l.account_id = v.account AND l.scope_kind = v.kind AND l.scope_id = v.id",
                    accounts,
                    kinds,
                    ids,
                    resets,
                    spends,
                )
        return done, len(updates)

    async def spend_logs(
        self, req: budget_pb2.ListSpendLogsRequest, limit: int
    ) -> AsyncGenerator[asyncpg.Record, None]:
        """Rows matching ``req``, newest first, at most ``limit``, after ``req.page_token``'s row
        (ValueError for a token that is not one). Read through a cursor a few rows at a time: the
        caller stops when its answer is full, and rows may be large."""
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
        if req.page_token:
            args.extend(parse_page_token(req.page_token))
            n = len(args)
            where.append(f"(start_time, attempt, event_id) < (${n - 2}, ${n - 1}, ${n})")
        args.append(limit)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        query = (
            f"SELECT {_LOG_COLUMNS} FROM spend_logs {clause} "
            f"ORDER BY start_time DESC, attempt DESC, event_id DESC LIMIT ${len(args)}"
        )
        async with self._pool.acquire() as conn, conn.transaction(readonly=True):
            async for row in conn.cursor(query, *args, prefetch=_SPEND_LOG_PREFETCH):
                yield row
