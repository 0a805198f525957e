"""Atomic reservations and leases in Redis (Lua), backed by the limits and spend in PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from redis.asyncio import Redis

from switchyard_copilot_budget.clients.ledger import RESET_BATCH, Ledger
from switchyard_copilot_budget.domain.scopes import (
    EXPIRE_LUA,
    EXPIRY_ZSET,
    RESERVE_LUA,
    RESET_LUA,
    RETURN_LUA,
    SETTLE_LUA,
    LimitSpec,
    reservation_key,
    scope_key,
)

Scopes = Sequence[tuple[str, str]]
Limits = Mapping[tuple[str, str], LimitSpec]


class Refused(Exception):
    """A scope (``kind``, ``scope_id``) has no room: ``spent`` of ``limit`` USD."""

    def __init__(self, kind: str, scope_id: str, spent: str, limit: str) -> None:
        super().__init__(f"{kind}:{scope_id}")
        self.kind, self.scope_id, self.spent, self.limit = kind, scope_id, spent, limit


class Reservations:
    def __init__(self, redis: Redis, ledger: Ledger, *, scope_ttl: int, lease_fraction: float = 0.5) -> None:
        self._redis = redis
        self._ledger = ledger
        self._scope_ttl = scope_ttl
        self._fraction = lease_fraction
        self._reserve = redis.register_script(RESERVE_LUA)
        self._settle = redis.register_script(SETTLE_LUA)
        self._return = redis.register_script(RETURN_LUA)
        self._expire = redis.register_script(EXPIRE_LUA)
        self._reset = redis.register_script(RESET_LUA)

    async def _load_scope(
        self, key: str, account_id: str, kind: str, scope_id: str, known: LimitSpec | None = None
    ) -> None:
        limit, spend, version = await self._ledger.scope_state(kind, scope_id, account_id)
        if known is not None and version < known.version:
            # The caller's principal knows a newer limit than the identity events brought so far.
            await self._ledger.ensure_limit(
                account_id, kind, scope_id, known.max_budget, known.budget_duration, known.version
            )
            limit, spend, version = await self._ledger.scope_state(kind, scope_id, account_id)
        # Keep 'reserved' (holds in flight) when refreshing an expired limit/spend.
        await self._redis.hset(
            key,
            mapping={
                "loaded": "1",
                "limit": "" if limit is None else str(limit),
                "spent": str(spend),
                "version": str(version),
            },
        )
        await self._redis.expire(key, self._scope_ttl)

    async def reserve(
        self,
        account_id: str,
        reservation_id: str,
        scopes: Scopes,
        need: Decimal,
        ttl: int,
        want: Decimal | None = None,
        limits: Limits | None = None,
    ) -> Decimal:
        """Hold between ``need`` and ``want`` (default: exactly ``need``) on every scope, or raise
        Refused. Returns the amount held. Scopes not cached yet are loaded from PostgreSQL first;
        ``limits`` are the scopes' limits as the caller knows them, put in force first where this
        service holds an older version."""
        keys = [scope_key(account_id, kind, sid) for kind, sid in scopes]
        known = [(limits or {}).get(scope) for scope in scopes]
        versions = [spec.version if spec is not None else 0 for spec in known]
        expiry = int(time.time()) + ttl
        for _ in range(len(keys) + 1):
            res = await self._reserve(
                keys=[*keys, reservation_key(reservation_id), EXPIRY_ZSET],
                args=[
                    str(need),
                    str(want if want is not None else need),
                    reservation_id,
                    expiry,
                    len(keys),
                    self._scope_ttl,
                    self._fraction,
                    *versions,
                ],
            )
            status = int(res[0])
            if status == 1:
                return Decimal(_decode(res[1]))
            if status == 0:
                kind, sid = scopes[keys.index(_decode(res[1]))]
                raise Refused(kind, sid, _decode(res[2]), _decode(res[3]))
            missing = _decode(res[1])
            i = keys.index(missing)
            kind, sid = scopes[i]
            await self._load_scope(missing, account_id, kind, sid, known[i])
        raise RuntimeError("scopes kept disappearing while reserving")

    async def settle(
        self,
        reservation_id: str,
        account_id: str,
        scopes: Scopes,
        cost: Decimal,
        *,
        final: bool,
        absorbed: Decimal = Decimal(0),
    ) -> None:
        """Move ``cost`` from the reservation's hold to spent; ``final`` gives the rest back.
        ``absorbed``: the part already counted as spent when its lease was returned."""
        await self.settle_many([(reservation_id, account_id, scopes, cost, final, absorbed)])

    async def settle_many(self, items: Sequence[tuple[str, str, Scopes, Decimal, bool, Decimal]]) -> None:
        """``settle`` for many events in one pipelined round trip:
        (id, account, scopes, cost, final, absorbed)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for rid, account_id, scopes, cost, final, absorbed in items:
                keys = [scope_key(account_id, kind, sid) for kind, sid in scopes]
                rid = rid or "-"
                await self._settle(
                    keys=[reservation_key(rid), EXPIRY_ZSET, *keys],
                    args=[rid, str(cost), "1" if final else "0", str(absorbed)],
                    client=pipe,
                )
            await pipe.execute()

    async def return_lease(self, lease_id: str, account_id: str, scopes: Scopes, spent: Decimal) -> Decimal:
        """Close a lease whose holder spent ``spent`` under it in total: the hold goes back, and
        what its usage events have not settled yet counts as spent (durably, in PostgreSQL) until
        they arrive. Returns that unsettled amount."""
        unsettled = await self._ledger.park_lease_spend(lease_id, account_id, list(scopes), spent)
        await self._return(keys=[reservation_key(lease_id), EXPIRY_ZSET], args=[lease_id, str(unsettled)])
        return unsettled

    async def release(self, reservation_id: str) -> None:
        await self._expire(keys=[reservation_key(reservation_id), EXPIRY_ZSET], args=[reservation_id])

    async def forget_scopes(self, account_id: str, scopes: Scopes) -> None:
        """Make the next admission re-read cached scopes' limit and spend from PostgreSQL. The
        holds of requests and leases in flight (``reserved``) stay: they are still held."""
        if scopes:
            async with self._redis.pipeline(transaction=False) as pipe:
                for kind, sid in scopes:
                    pipe.hdel(scope_key(account_id, kind, sid), "loaded")
                await pipe.execute()

    async def reset_windows(self, now: datetime | None = None) -> None:
        """Start the next window of every limit whose budget_reset_at has passed, in PostgreSQL
        and in the Redis cache admission reads (a batch at a time until none is left)."""
        while True:
            done, handled = await self._ledger.reset_due_budgets(now)
            if done:
                await self._reset(keys=[scope_key(account_id, kind, sid) for account_id, kind, sid in done])
            if handled < RESET_BATCH:
                return

    async def expire_due(self, limit: int = 500) -> int:
        """Release reservations and leases whose settlement or return never came."""
        due = await self._redis.zrangebyscore(EXPIRY_ZSET, "-inf", int(time.time()), start=0, num=limit)
        for rid in due:
            await self.release(_decode(rid))
        return len(due)


def _decode(v: object) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)
