"""Atomic reservations in Redis (Lua), backed by the limits and spend in PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import Decimal

from redis.asyncio import Redis

from switchyard_copilot_budget.clients.ledger import Ledger
from switchyard_copilot_budget.domain.scopes import (
    EXPIRY_ZSET,
    RESERVE_LUA,
    SETTLE_LUA,
    reservation_key,
    scope_key,
)


class Refused(Exception):
    def __init__(self, scope: str, spent: str, limit: str) -> None:
        super().__init__(scope)
        self.scope, self.spent, self.limit = scope, spent, limit


class Reservations:
    def __init__(self, redis: Redis, ledger: Ledger, *, scope_ttl: int) -> None:
        self._redis = redis
        self._ledger = ledger
        self._scope_ttl = scope_ttl
        self._reserve = redis.register_script(RESERVE_LUA)
        self._settle = redis.register_script(SETTLE_LUA)

    async def _load_scope(self, key: str, account_id: str, kind: str, scope_id: str) -> None:
        limit, spend = await self._ledger.scope_limit(kind, scope_id, account_id)
        # Keep 'reserved' (in-flight reservations) when refreshing an expired limit/spend.
        await self._redis.hset(
            key, mapping={"loaded": "1", "limit": "" if limit is None else str(limit), "spent": str(spend)}
        )
        await self._redis.expire(key, self._scope_ttl)

    async def reserve(
        self, account_id: str, reservation_id: str, scopes: Sequence[tuple[str, str]], amount: Decimal, ttl: int
    ) -> None:
        """Admit or raise Refused. Scopes not cached yet are loaded from PostgreSQL first."""
        keys = [scope_key(account_id, kind, sid) for kind, sid in scopes]
        expiry = int(time.time()) + ttl
        for _ in range(len(keys) + 1):
            res = await self._reserve(
                keys=[*keys, reservation_key(reservation_id), EXPIRY_ZSET],
                args=[str(amount), reservation_id, expiry, len(keys), self._scope_ttl],
            )
            status = int(res[0])
            if status == 1:
                return
            if status == 0:
                missing = _decode(res[1])
                raise Refused(missing, _decode(res[2]), _decode(res[3]))
            missing = _decode(res[1])
            idx = keys.index(missing)
            kind, sid = scopes[idx]
            await self._load_scope(missing, account_id, kind, sid)
        raise RuntimeError("scopes kept disappearing while reserving")

    async def settle(
        self, reservation_id: str, account_id: str, scopes: Sequence[tuple[str, str]], cost: Decimal
    ) -> None:
        keys = [scope_key(account_id, kind, sid) for kind, sid in scopes]
        await self._settle(
            keys=[reservation_key(reservation_id) if reservation_id else "{sy:budget}:res:-", EXPIRY_ZSET, *keys],
            args=[reservation_id or "-", str(cost)],
        )

    async def forget_scopes(self, account_id: str, scopes: Sequence[tuple[str, str]]) -> None:
        """Drop cached scopes so the next admission re-reads limit and spend from PostgreSQL."""
        if scopes:
            await self._redis.delete(*[scope_key(account_id, kind, sid) for kind, sid in scopes])

    async def expire_due(self, limit: int = 500) -> int:
        """Release reservations whose settlement never came."""
        due = await self._redis.zrangebyscore(EXPIRY_ZSET, "-inf", int(time.time()), start=0, num=limit)
        for rid in due:
            rid_s = _decode(rid)
            await self._settle(keys=[reservation_key(rid_s), EXPIRY_ZSET], args=[rid_s, "0"])
        return len(due)


def _decode(v: object) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)
