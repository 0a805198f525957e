"""The auth service's PostgreSQL access. Every tenant-scoped query is filtered by account here,
so a call site cannot forget the filter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import orjson

from switchyard.auth.v1 import auth_pb2
from switchyard_llm.money import parse_usd

_KEY_COLUMNS = (
    "key_hash, account_id, key_name, key_alias, team_id, user_id, org_id, models, max_budget, "
    "budget_duration, rpm_limit, tpm_limit, max_parallel_requests, guardrails, tags, metadata, "
    "blocked, expires_at, created_at, settings_version"
)


class Repository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ensure_account(self, account_id: str) -> None:
        await self._pool.execute("INSERT INTO accounts (account_id) VALUES ($1) ON CONFLICT DO NOTHING", account_id)

    async def key_by_hash(self, key_hash: str) -> asyncpg.Record | None:
        """Lookup for authentication: the hash itself is the credential proof, so no account filter."""
        return await self._pool.fetchrow(f"SELECT {_KEY_COLUMNS} FROM keys WHERE key_hash = $1", key_hash)

    async def get_key(self, account_id: str | None, key_hash: str) -> asyncpg.Record | None:
        """``account_id=None`` only for gateway admins acting across accounts."""
        if account_id is None:
            return await self.key_by_hash(key_hash)
        return await self._pool.fetchrow(
            f"SELECT {_KEY_COLUMNS} FROM keys WHERE key_hash = $1 AND account_id = $2", key_hash, account_id
        )

    async def insert_key(
        self, account_id: str, key_hash: str, key_name: str, s: auth_pb2.KeySettings, expires_at: datetime | None
    ) -> asyncpg.Record:
        values: list[Any] = [
            key_hash,
            account_id,
            key_name,
            s.key_alias or None,
            s.team_id or None,
            s.user_id or None,
            s.org_id or None,
            list(s.models),
            parse_usd(s.max_budget) if s.max_budget else None,
            s.budget_duration or None,
            s.limits.rpm_limit or None,
            s.limits.tpm_limit or None,
            s.limits.max_parallel_requests or None,
            list(s.guardrails),
            list(s.tags),
            orjson.loads(s.metadata_json) if s.metadata_json else {},
            s.blocked,
            expires_at,
        ]
        row = await self._pool.fetchrow(
            "INSERT INTO keys (key_hash, account_id, key_name, key_alias, team_id, user_id, org_id, models, "
            "max_budget, budget_duration, rpm_limit, tpm_limit, max_parallel_requests, guardrails, tags, "
            "metadata, blocked, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18) "
            f"RETURNING {_KEY_COLUMNS}",
            *values,
        )
        assert row is not None
        return row

    async def delete_keys(self, account_id: str | None, key_hashes: list[str]) -> list[asyncpg.Record]:
        # A deletion is a change of the key's settings too: its identity event carries a new
        # version, so no older view of the key's limit can bring it back.
        returning = "RETURNING key_hash, account_id, nextval('key_settings_version') AS settings_version"
        if account_id is None:
            return await self._pool.fetch(f"DELETE FROM keys WHERE key_hash = ANY($1::text[]) {returning}", key_hashes)
        return await self._pool.fetch(
            f"DELETE FROM keys WHERE key_hash = ANY($1::text[]) AND account_id = $2 {returning}",
            key_hashes,
            account_id,
        )
