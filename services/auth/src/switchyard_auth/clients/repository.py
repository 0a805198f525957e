"""The auth service's PostgreSQL access, and its tenant isolation: every tenant-scoped read and
write goes through a ``ReadTx`` or ``WriteTx`` opened for a scope — a ``Tenant`` (one account) or,
for super admins' reads only, ``ALL_ACCOUNTS`` — and each of their queries adds the scope's
account filter itself. Nothing else holds the pool, so a call site cannot forget the filter, and
an object of another account is simply not found.

Lookups by credential (``key_by_hash``, ``principal_facts``, ``caller_facts``, ``session_facts``)
take no scope: holding the key's secret or a verified token (or the edge's word for it) is the
proof of its account. So does sign-in's mapping of a verified identity to an account
(``account_for_identity``), which is how an account is found in the first place."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg

from switchyard_auth.clients.rows import (
    BUDGET_USERS,
    BUDGETS,
    KEYS,
    ORGANIZATION_MEMBERS,
    ORGANIZATIONS,
    TEAM_MEMBERS,
    TEAMS,
    USERS,
    Table,
)
from switchyard_auth.domain.authz import Visibility


@dataclass(frozen=True)
class Tenant:
    """One account: every query of a transaction opened for it is filtered by it."""

    account_id: str


@dataclass(frozen=True)
class AllAccounts:
    """Every account: super admins' reads only (writes always name the account)."""


ALL_ACCOUNTS = AllAccounts()
Scope = Tenant | AllAccounts


class Page(NamedTuple):
    limit: int
    offset: int


class SessionFacts(NamedTuple):
    """What a session's principal and its caller's rights come from, read now."""

    session_id: str
    account_id: str
    account_status: str
    revoked: bool
    user: Mapping[str, Any] | None
    user_budget: Mapping[str, Any] | None


class Ambiguous(Exception):
    """A super admin's read by id matched objects of several accounts."""


@dataclass(frozen=True)
class KeyFilters:
    user_id: str = ""
    team_id: str = ""
    organization_id: str = ""
    key_alias: str = ""
    key_hash: str = ""


# A pooled connection (what the pool hands out) or a plain one.
Conn = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy


class _Q:
    """Positional arguments of one statement."""

    def __init__(self) -> None:
        self.args: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"


def _cols(table: Table, alias: str = "", prefix: str = "") -> str:
    a = f"{alias}." if alias else ""
    return ", ".join(f"{a}{c} AS {prefix}{c}" if prefix else f"{a}{c}" for c in table.select_list())


_ACCOUNT_COLUMNS = (
    "account_id, account_name, account_alias, domain, status, metadata, entitlements, created_by, "
    "created_at, updated_at, version"
)


class ReadTx:
    """Reads within a scope, on one connection."""

    def __init__(self, conn: Conn, scope: Scope) -> None:
        self._conn = conn
        self.scope = scope

    def within(self, account_id: str) -> ReadTx:
        """The same connection, narrowed to one account (a super admin's object, found across
        accounts, and what belongs to it)."""
        if isinstance(self.scope, Tenant) and self.scope.account_id != account_id:
            raise ValueError("a tenant's transaction cannot reach another account")
        return ReadTx(self._conn, Tenant(account_id))

    def _acct(self, q: _Q, alias: str = "") -> str:
        col = f"{alias}.account_id" if alias else "account_id"
        if isinstance(self.scope, Tenant):
            return f"{col} = {q(self.scope.account_id)}"
        return "TRUE"

    async def _one(self, sql: str, args: Sequence[Any]) -> asyncpg.Record | None:
        rows = await self._conn.fetch(sql + " LIMIT 2", *args)
        if len(rows) > 1:
            raise Ambiguous
        return rows[0] if rows else None

    async def get(self, table: Table, *ids: str, for_update: bool = False) -> asyncpg.Record | None:
        q = _Q()
        where = " AND ".join(f"{c} = {q(v)}" for c, v in zip(table.ids, ids, strict=True))
        lock = " FOR UPDATE" if for_update else ""
        return await self._one(
            f"SELECT {_cols(table)} FROM {table.name} WHERE {self._acct(q)} AND {where}{lock}", q.args
        )

    async def get_many(self, table: Table, ids: Iterable[str], *, for_update: bool = False) -> list[asyncpg.Record]:
        q = _Q()
        lock = " FOR UPDATE" if for_update else ""
        return list(
            await self._conn.fetch(
                f"SELECT {_cols(table)} FROM {table.name} WHERE {self._acct(q)} "
                f"AND {table.ids[0]} = ANY({q(list(ids))}::text[]) ORDER BY {table.ids[0]}{lock}",
                *q.args,
            )
        )

    async def count(self, table: Table) -> int:
        q = _Q()
        return int(await self._conn.fetchval(f"SELECT count(*) FROM {table.name} WHERE {self._acct(q)}", *q.args))

    async def account(self, account_id: str) -> asyncpg.Record | None:
        q = _Q()
        return await self._one(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE {self._acct(q)} AND account_id = {q(account_id)}", q.args
        )

    # --- keys -------------------------------------------------------------------------------

    async def key(self, ref_hash: str, *, for_update: bool = False) -> asyncpg.Record | None:
        """A key by its hash or its id."""
        q = _Q()
        h = q(ref_hash)
        lock = " FOR UPDATE" if for_update else ""
        return await self._one(
            f"SELECT {_cols(KEYS)} FROM keys WHERE {self._acct(q)} AND (key_hash = {h} OR key_id = {h}){lock}", q.args
        )

    async def keys_by_alias(self, aliases: Sequence[str], *, for_update: bool = False) -> list[asyncpg.Record]:
        q = _Q()
        lock = " FOR UPDATE" if for_update else ""
        return list(
            await self._conn.fetch(
                f"SELECT {_cols(KEYS)} FROM keys WHERE {self._acct(q)} "
                f"AND key_alias = ANY({q(list(aliases))}::text[]){lock}",
                *q.args,
            )
        )

    async def list_keys(self, f: KeyFilters, n: Visibility, page: Page) -> tuple[list[asyncpg.Record], int]:
        q = _Q()
        conds = [self._acct(q)]
        for column, value in (
            ("user_id", f.user_id),
            ("team_id", f.team_id),
            ("org_id", f.organization_id),
            ("key_alias", f.key_alias),
        ):
            if value:
                conds.append(f"{column} = {q(value)}")
        if f.key_hash:
            h = q(f.key_hash)
            conds.append(f"(key_hash = {h} OR key_id = {h})")
        if not n.everything:
            parts = []
            if n.team_ids:
                parts.append(f"team_id = ANY({q(sorted(n.team_ids))}::text[])")
            if n.own_user_id:
                parts.append(f"user_id = {q(n.own_user_id)}")
            if n.self_key_id:
                parts.append(f"key_id = {q(n.self_key_id)}")
            conds.append(f"({' OR '.join(parts) or 'FALSE'})")
        return await self._page(KEYS, conds, q, page)

    async def _page(
        self, table: Table, conds: list[str], q: _Q, page: Page, alias: str = ""
    ) -> tuple[list[asyncpg.Record], int]:
        where = " AND ".join(conds)
        src = f"{table.name} {alias}" if alias else table.name
        total = int(await self._conn.fetchval(f"SELECT count(*) FROM {src} WHERE {where}", *q.args))
        order = f"{alias + '.' if alias else ''}created_at DESC, {alias + '.' if alias else ''}{table.ids[0]}"
        rows = await self._conn.fetch(
            f"SELECT {_cols(table, alias)} FROM {src} WHERE {where} ORDER BY {order} "
            f"LIMIT {q(page.limit)} OFFSET {q(page.offset)}",
            *q.args,
        )
        return list(rows), total

    # --- teams, users, organisations, customers, budgets ------------------------------------

    async def list_teams(
        self, *, organization_id: str, user_id: str, alias: str, n: Visibility, page: Page
    ) -> tuple[list[asyncpg.Record], int]:
        q = _Q()
        conds = [self._acct(q, "t")]
        if organization_id:
            conds.append(f"t.organization_id = {q(organization_id)}")
        if alias:
            conds.append(f"t.team_alias ILIKE '%' || {q(_like(alias))} || '%'")
        if user_id:
            conds.append(
                "EXISTS (SELECT 1 FROM team_members m WHERE m.account_id = t.account_id "
                f"AND m.team_id = t.team_id AND m.user_id = {q(user_id)})"
            )
        if not n.everything:
            conds.append(f"t.team_id = ANY({q(sorted(n.team_ids))}::text[])")
        return await self._page(TEAMS, conds, q, page, "t")

    async def list_users(
        self,
        *,
        role: str,
        team_id: str,
        organization_id: str,
        email: str,
        user_ids: Sequence[str],
        n: Visibility,
        page: Page,
    ) -> tuple[list[asyncpg.Record], int]:
        q = _Q()
        conds = [self._acct(q, "u")]
        if role:
            conds.append(f"u.user_role = {q(role)}")
        if organization_id:
            conds.append(f"u.organization_id = {q(organization_id)}")
        if email:
            conds.append(f"u.user_email ILIKE '%' || {q(_like(email))} || '%'")
        if user_ids:
            conds.append(f"u.user_id = ANY({q(list(user_ids))}::text[])")
        member_of = (
            "EXISTS (SELECT 1 FROM team_members m WHERE m.account_id = u.account_id AND m.user_id = u.user_id "
            "AND m.team_id = ANY({}::text[]))"
        )
        if team_id:
            conds.append(member_of.format(q([team_id])))
        if not n.everything:
            parts = []
            if n.team_ids:
                parts.append(member_of.format(q(sorted(n.team_ids))))
            for uid in {n.own_user_id, n.self_user_id} - {""}:
                parts.append(f"u.user_id = {q(uid)}")
            conds.append(f"({' OR '.join(parts) or 'FALSE'})")
        return await self._page(USERS, conds, q, page, "u")

    async def list_simple(
        self,
        table: Table,
        page: Page,
        *,
        equals: Mapping[str, str] | None = None,
        contains: Mapping[str, str] | None = None,
    ) -> tuple[list[asyncpg.Record], int]:
        """Organisations, customers, budget objects: filters on their own columns."""
        q = _Q()
        conds = [self._acct(q)]
        for column, value in (equals or {}).items():
            if value:
                conds.append(f"{column} = {q(value)}")
        for column, value in (contains or {}).items():
            if value:
                conds.append(f"{column} ILIKE '%' || {q(_like(value))} || '%'")
        return await self._page(table, conds, q, page)

    async def user_by_sso(self, sso_user_id: str) -> asyncpg.Record | None:
        """A user by its id at the identity provider (sign-in)."""
        q = _Q()
        return await self._one(
            f"SELECT {_cols(USERS)} FROM users WHERE {self._acct(q)} AND sso_user_id = {q(sso_user_id)}", q.args
        )

    async def user_by_email(self, email: str) -> asyncpg.Record | None:
        q = _Q()
        return await self._one(
            f"SELECT {_cols(USERS)} FROM users WHERE {self._acct(q)} AND lower(user_email) = lower({q(email)})", q.args
        )

    async def _team_members(self, column: str, values: Iterable[str], order: str) -> list[asyncpg.Record]:
        q = _Q()
        return list(
            await self._conn.fetch(
                f"SELECT {_cols(TEAM_MEMBERS, 'm')}, u.user_email FROM team_members m "
                "JOIN users u ON u.account_id = m.account_id AND u.user_id = m.user_id "
                f"WHERE {self._acct(q, 'm')} AND m.{column} = ANY({q(list(values))}::text[]) ORDER BY {order}",
                *q.args,
            )
        )

    async def team_members(self, team_ids: Iterable[str]) -> list[asyncpg.Record]:
        """Members of teams, with the users' e-mails, by team then join order."""
        return await self._team_members("team_id", team_ids, "m.team_id, m.created_at, m.user_id")

    async def memberships(self, user_ids: Iterable[str]) -> list[asyncpg.Record]:
        """Team memberships of users, with their e-mails."""
        return await self._team_members("user_id", user_ids, "m.user_id, m.created_at, m.team_id")

    async def organization_members(self, organization_ids: Iterable[str]) -> list[asyncpg.Record]:
        q = _Q()
        return list(
            await self._conn.fetch(
                f"SELECT {_cols(ORGANIZATION_MEMBERS, 'm')}, u.user_email FROM organization_members m "
                "JOIN users u ON u.account_id = m.account_id AND u.user_id = m.user_id "
                f"WHERE {self._acct(q, 'm')} AND m.organization_id = ANY({q(list(organization_ids))}::text[]) "
                "ORDER BY m.organization_id, m.created_at, m.user_id",
                *q.args,
            )
        )

    async def organization_teams(self, organization_ids: Iterable[str]) -> list[asyncpg.Record]:
        q = _Q()
        return list(
            await self._conn.fetch(
                f"SELECT organization_id, team_id FROM teams WHERE {self._acct(q)} "
                f"AND organization_id = ANY({q(list(organization_ids))}::text[]) ORDER BY created_at, team_id",
                *q.args,
            )
        )

    async def budgets(self, budget_ids: Iterable[str]) -> dict[str, asyncpg.Record]:
        ids = sorted({b for b in budget_ids if b})
        if not ids:
            return {}
        return {r["budget_id"]: r for r in await self.get_many(BUDGETS, ids)}

    async def budget_referrers(self, budget_id: str) -> dict[str, int]:
        """How many rows of each table point to a budget object (tables with none left out)."""
        out = {}
        for table in BUDGET_USERS:
            q = _Q()
            n = await self._conn.fetchval(
                f"SELECT count(*) FROM {table.name} WHERE {self._acct(q)} AND budget_id = {q(budget_id)}", *q.args
            )
            if n:
                out[table.name] = int(n)
        return out


class WriteTx(ReadTx):
    """Writes (and reads) in one account, in one transaction."""

    scope: Tenant

    def __init__(self, conn: Conn, tenant: Tenant) -> None:
        super().__init__(conn, tenant)

    @property
    def account_id(self) -> str:
        return self.scope.account_id

    async def lock_account(self) -> asyncpg.Record | None:
        """The account row, locked until the transaction ends: creations that count against an
        entitlement take it first, so concurrent ones are counted one after another."""
        return await self._conn.fetchrow(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE account_id = $1 FOR UPDATE", self.account_id
        )

    async def insert(
        self, table: Table, ids: Sequence[str], columns: Mapping[str, Any], created_by: str | None = None
    ) -> asyncpg.Record:
        values: dict[str, Any] = {"account_id": self.account_id, **dict(zip(table.ids, ids, strict=True)), **columns}
        if created_by is not None and "created_by" in table.extra:
            values["created_by"] = created_by
        q = _Q()
        placeholders = ", ".join(q(v) for v in values.values())
        row = await self._conn.fetchrow(
            f"INSERT INTO {table.name} ({', '.join(values)}) VALUES ({placeholders}) RETURNING {_cols(table)}",
            *q.args,
        )
        assert row is not None
        return row

    async def update(self, table: Table, ids: Sequence[str], columns: Mapping[str, Any]) -> asyncpg.Record | None:
        """Set ``columns`` (possibly none: a new version only) and take a new version."""
        q = _Q()
        sets = [f"{c} = {q(v)}" for c, v in columns.items()]
        sets.append(f"{table.version} = nextval('key_settings_version')")
        if "updated_at" in table.extra:
            sets.append("updated_at = now()")
        where = " AND ".join(f"{c} = {q(v)}" for c, v in zip(table.ids, ids, strict=True))
        return await self._conn.fetchrow(
            f"UPDATE {table.name} SET {', '.join(sets)} WHERE {self._acct(q)} AND {where} RETURNING {_cols(table)}",
            *q.args,
        )

    async def delete(self, table: Table, ids: Sequence[str]) -> asyncpg.Record | None:
        """Delete one row; it comes back with a new version (a deletion is a change too, so no
        older view of the entity's limits can bring it back)."""
        q = _Q()
        where = " AND ".join(f"{c} = {q(v)}" for c, v in zip(table.ids, ids, strict=True))
        return await self._conn.fetchrow(
            f"DELETE FROM {table.name} WHERE {self._acct(q)} AND {where} RETURNING {_returning_deleted(table)}",
            *q.args,
        )

    async def delete_where(self, table: Table, column: str, values: Sequence[str]) -> list[asyncpg.Record]:
        """Delete the rows whose ``column`` is one of ``values`` (e.g. the keys of teams); they come
        back with new versions."""
        if column not in table.select_list():
            raise ValueError(f"{table.name} has no column {column}")
        q = _Q()
        return list(
            await self._conn.fetch(
                f"DELETE FROM {table.name} WHERE {self._acct(q)} AND {column} = ANY({q(list(values))}::text[]) "
                f"RETURNING {_returning_deleted(table)}",
                *q.args,
            )
        )

    async def regenerate_key(self, key_id: str, key_hash: str, key_name: str) -> asyncpg.Record | None:
        q = _Q()
        return await self._conn.fetchrow(
            f"UPDATE keys SET key_hash = {q(key_hash)}, key_name = {q(key_name)}, "
            "settings_version = nextval('key_settings_version'), updated_at = now() "
            f"WHERE {self._acct(q)} AND key_id = {q(key_id)} RETURNING {_cols(KEYS)}",
            *q.args,
        )

    async def replace_previous_secrets(self, key_id: str, key_hash: str, valid_until: datetime | None) -> None:
        """A regeneration ends every earlier grace period of the key (a rotation after a leak
        must stop every old secret); with ``valid_until``, the secret it replaces keeps
        authenticating as the key until then."""
        await self._conn.execute(
            "DELETE FROM previous_key_secrets WHERE account_id = $1 AND key_id = $2", self.account_id, key_id
        )
        if valid_until is not None:
            await self._conn.execute(
                "INSERT INTO previous_key_secrets (key_hash, account_id, key_id, valid_until) VALUES ($1, $2, $3, $4)",
                key_hash,
                self.account_id,
                key_id,
                valid_until,
            )

    async def set_key_expiry(self, key_id: str, expires_at: datetime | None) -> None:
        await self._conn.execute(
            "UPDATE keys SET expires_at = $1 WHERE account_id = $2 AND key_id = $3", expires_at, self.account_id, key_id
        )

    async def bump_budget_referrers(self, budget_id: str) -> dict[str, list[asyncpg.Record]]:
        """New versions for every row that points to a budget object (its limits changed)."""
        out: dict[str, list[asyncpg.Record]] = {}
        for table in BUDGET_USERS:
            q = _Q()
            rows = await self._conn.fetch(
                f"UPDATE {table.name} SET {table.version} = nextval('key_settings_version') "
                f"WHERE {self._acct(q)} AND budget_id = {q(budget_id)} RETURNING {_cols(table)}",
                *q.args,
            )
            if rows:
                out[table.name] = list(rows)
        return out

    async def update_account(self, columns: Mapping[str, Any]) -> asyncpg.Record | None:
        q = _Q()
        sets = [f"{c} = {q(v)}" for c, v in columns.items()]
        sets += ["version = nextval('key_settings_version')", "updated_at = now()"]
        return await self._conn.fetchrow(
            f"UPDATE accounts SET {', '.join(sets)} WHERE account_id = {q(self.account_id)} "
            f"RETURNING {_ACCOUNT_COLUMNS}",
            *q.args,
        )

    async def archive_rest(self) -> dict[str, int]:
        """Counts of the account's users, teams and organisations, left in place (archived: the
        deleted account's scope can no longer be opened by anyone but a super admin)."""
        out = {}
        for table in (USERS, TEAMS, ORGANIZATIONS):
            out[table.name] = await self.count(table)
        return out

    # --- account admins ---------------------------------------------------------------------

    async def add_admin(self, email: str, role: str) -> asyncpg.Record | None:
        return await self._conn.fetchrow(
            "INSERT INTO account_admins (account_id, user_email, role) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING RETURNING account_id, user_email, role, created_at",
            self.account_id,
            email,
            role,
        )

    async def update_admin(self, email: str, role: str) -> asyncpg.Record | None:
        return await self._conn.fetchrow(
            "UPDATE account_admins SET role = $3 WHERE account_id = $1 AND user_email = $2 "
            "RETURNING account_id, user_email, role, created_at",
            self.account_id,
            email,
            role,
        )

    async def remove_admin(self, email: str) -> asyncpg.Record | None:
        return await self._conn.fetchrow(
            "DELETE FROM account_admins WHERE account_id = $1 AND user_email = $2 "
            "RETURNING account_id, user_email, role, created_at",
            self.account_id,
            email,
        )


def _returning_deleted(table: Table) -> str:
    cols = [c if c != table.version else f"nextval('key_settings_version') AS {c}" for c in table.select_list()]
    return ", ".join(cols)


def _part(row: asyncpg.Record, table: Table, prefix: str) -> Mapping[str, Any] | None:
    """The columns of one joined table, read with ``prefix``; None when the join found no row."""
    if row[f"{prefix}account_id"] is None:
        return None
    return {c: row[prefix + c] for c in table.select_list()}


def _like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Repository:
    """The pool's only holder."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def read(self, scope: Scope) -> AsyncIterator[ReadTx]:
        async with self._pool.acquire() as conn, conn.transaction(readonly=True):
            yield ReadTx(conn, scope)

    @asynccontextmanager
    async def write(self, tenant: Tenant) -> AsyncIterator[WriteTx]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield WriteTx(conn, tenant)

    # --- accounts (the super admin's surface; not inside any one tenant) --------------------

    async def ensure_account(self, account_id: str) -> None:
        await self._pool.execute(
            "INSERT INTO accounts (account_id, account_name) VALUES ($1, $1) ON CONFLICT DO NOTHING", account_id
        )

    async def account(self, account_id: str) -> asyncpg.Record | None:
        return await self._pool.fetchrow(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE account_id = $1", account_id)

    async def create_account(self, account_id: str, columns: Mapping[str, Any], created_by: str) -> asyncpg.Record:
        values = {"account_id": account_id, **columns, "created_by": created_by}
        q = _Q()
        placeholders = ", ".join(q(v) for v in values.values())
        row = await self._pool.fetchrow(
            f"INSERT INTO accounts ({', '.join(values)}) VALUES ({placeholders}) RETURNING {_ACCOUNT_COLUMNS}", *q.args
        )
        assert row is not None
        return row

    async def list_accounts(self, status: str, page: Page) -> tuple[list[asyncpg.Record], int]:
        where, args = ("status = $1", [status]) if status else ("status <> 'deleted'", [])
        n = len(args)
        total = await self._pool.fetchval(f"SELECT count(*) FROM accounts WHERE {where}", *args)
        rows = await self._pool.fetch(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE {where} ORDER BY created_at DESC, account_id "
            f"LIMIT ${n + 1} OFFSET ${n + 2}",
            *args,
            page.limit,
            page.offset,
        )
        return list(rows), int(total)

    async def list_admins(self, account_id: str) -> list[asyncpg.Record]:
        return list(
            await self._pool.fetch(
                "SELECT account_id, user_email, role, created_at FROM account_admins WHERE account_id = $1 "
                "ORDER BY user_email",
                account_id,
            )
        )

    # --- credentials ------------------------------------------------------------------------

    async def key_by_hash(self, key_hash: str) -> asyncpg.Record | None:
        """A key by the hash of the secret presented (authentication): no scope, the secret is
        the proof."""
        return await self._pool.fetchrow(f"SELECT {_cols(KEYS)} FROM keys WHERE key_hash = $1", key_hash)

    async def secret_in_use(self, key_hash: str) -> bool:
        """Whether a secret's hash is, or was first, some key's (a secret never comes back)."""
        return bool(
            await self._pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM keys WHERE key_hash = $1 OR key_id = $1) "
                "OR EXISTS (SELECT 1 FROM previous_key_secrets WHERE key_hash = $1)",
                key_hash,
            )
        )

    async def replaced_secret(self, key_hash: str) -> tuple[str, datetime] | None:
        """For a secret a regeneration replaced and whose grace period is not over: the hash of
        its key's secret now, and when the grace period ends."""
        row = await self._pool.fetchrow(
            "SELECT k.key_hash, p.valid_until FROM previous_key_secrets p "
            "JOIN keys k ON k.account_id = p.account_id AND k.key_id = p.key_id "
            "WHERE p.key_hash = $1 AND p.valid_until > now()",
            key_hash,
        )
        return (row["key_hash"], row["valid_until"]) if row is not None else None

    async def principal_facts(self, key_hash: str) -> dict[str, Mapping[str, Any] | None] | None:
        """Everything a key's principal says, in one query: the key, its account, user, team,
        membership and organisation (the key's, else its team's), and their budget objects.
        Each part is a mapping of its columns, or None."""
        parts: list[tuple[str, Table | None]] = [
            ("k", KEYS),
            ("u", USERS),
            ("t", TEAMS),
            ("m", TEAM_MEMBERS),
            ("o", ORGANIZATIONS),
            ("kb", BUDGETS),
            ("ub", BUDGETS),
            ("tb", BUDGETS),
            ("mb", BUDGETS),
            ("ob", BUDGETS),
        ]
        select = [_cols(t, a, f"{a}__") for a, t in parts if t is not None]
        select.append("a.status AS a__status")
        row = await self._pool.fetchrow(
            f"SELECT {', '.join(select)} FROM keys k "
            "JOIN accounts a ON a.account_id = k.account_id "
            "LEFT JOIN users u ON u.account_id = k.account_id AND u.user_id = k.user_id "
            "LEFT JOIN teams t ON t.account_id = k.account_id AND t.team_id = k.team_id "
            "LEFT JOIN team_members m ON m.account_id = k.account_id AND m.team_id = k.team_id "
            "AND m.user_id = k.user_id "
            "LEFT JOIN organizations o ON o.account_id = k.account_id "
            "AND o.organization_id = COALESCE(k.org_id, t.organization_id) "
            "LEFT JOIN budgets kb ON kb.account_id = k.account_id AND kb.budget_id = k.budget_id "
            "LEFT JOIN budgets ub ON ub.account_id = k.account_id AND ub.budget_id = u.budget_id "
            "LEFT JOIN budgets tb ON tb.account_id = k.account_id AND tb.budget_id = t.budget_id "
            "LEFT JOIN budgets mb ON mb.account_id = k.account_id AND mb.budget_id = m.budget_id "
            "LEFT JOIN budgets ob ON ob.account_id = k.account_id AND ob.budget_id = o.budget_id "
            "WHERE k.key_hash = $1",
            key_hash,
        )
        if row is None:
            return None
        out: dict[str, Mapping[str, Any] | None] = {}
        for alias, table in parts:
            assert table is not None
            pre = f"{alias}__"
            present = row[f"{pre}account_id"] is not None
            out[alias] = {c: row[pre + c] for c in table.select_list()} if present else None
        out["a"] = {"status": row["a__status"]}
        return out

    async def caller_facts(
        self, key_ref: str
    ) -> tuple[asyncpg.Record, asyncpg.Record | None, list[asyncpg.Record]] | None:
        """The caller's key (by hash or id), its account's status, its user and the user's
        team memberships: what its rights come from, read now rather than from a cached
        principal."""
        async with self._pool.acquire() as conn:
            key = await conn.fetchrow(
                f"SELECT {_cols(KEYS, 'k')}, a.status AS account_status FROM keys k "
                "JOIN accounts a ON a.account_id = k.account_id WHERE k.key_hash = $1 OR k.key_id = $1 LIMIT 1",
                key_ref,
            )
            if key is None:
                return None
            if not key["user_id"]:
                return key, None, []
            user = await conn.fetchrow(
                f"SELECT {_cols(USERS)} FROM users WHERE account_id = $1 AND user_id = $2",
                key["account_id"],
                key["user_id"],
            )
            if user is None:
                return key, None, []
            teams = await conn.fetch(
                "SELECT team_id, role FROM team_members WHERE account_id = $1 AND user_id = $2",
                key["account_id"],
                key["user_id"],
            )
            return key, user, list(teams)

    # --- sessions and sign-in ---------------------------------------------------------------

    async def session_facts(self, session_id: str) -> SessionFacts | None:
        """A session with its account's status, its user and the user's budget object, in one
        query (None: no such session; ``user`` None: the user is gone)."""
        row = await self._pool.fetchrow(
            "SELECT s.account_id AS s_account, s.revoked_at IS NOT NULL AS s_revoked, a.status AS a_status, "
            f"{_cols(USERS, 'u', 'u__')}, {_cols(BUDGETS, 'ub', 'ub__')} FROM sessions s "
            "JOIN accounts a ON a.account_id = s.account_id "
            "LEFT JOIN users u ON u.account_id = s.account_id AND u.user_id = s.user_id "
            "LEFT JOIN budgets ub ON ub.account_id = u.account_id AND ub.budget_id = u.budget_id "
            "WHERE s.session_id = $1",
            session_id,
        )
        if row is None:
            return None
        return SessionFacts(
            session_id=session_id,
            account_id=row["s_account"],
            account_status=row["a_status"],
            revoked=row["s_revoked"],
            user=_part(row, USERS, "u__"),
            user_budget=_part(row, BUDGETS, "ub__"),
        )

    async def user_facts(self, account_id: str, user_id: str) -> SessionFacts | None:
        """The same facts for a user signed in by an identity-provider token (no session row)."""
        row = await self._pool.fetchrow(
            f"SELECT a.status AS a_status, {_cols(USERS, 'u', 'u__')}, {_cols(BUDGETS, 'ub', 'ub__')} "
            "FROM accounts a LEFT JOIN users u ON u.account_id = a.account_id AND u.user_id = $2 "
            "LEFT JOIN budgets ub ON ub.account_id = u.account_id AND ub.budget_id = u.budget_id "
            "WHERE a.account_id = $1",
            account_id,
            user_id,
        )
        if row is None:
            return None
        return SessionFacts(
            "", account_id, row["a_status"], False, _part(row, USERS, "u__"), _part(row, BUDGETS, "ub__")
        )

    async def user_by_sso_any(self, sso_user_id: str) -> asyncpg.Record | None:
        """The user an identity-provider token's subject signed in as before (its first account,
        should several accounts know the subject)."""
        return await self._pool.fetchrow(
            "SELECT account_id, user_id FROM users WHERE sso_user_id = $1 ORDER BY created_at LIMIT 1", sso_user_id
        )

    async def users_by_sso(self, sso_user_id: str) -> list[asyncpg.Record]:
        """Every user, in any account, of an identity-provider subject (its webhook's events)."""
        return list(await self._pool.fetch("SELECT account_id, user_id FROM users WHERE sso_user_id = $1", sso_user_id))

    async def user_teams(self, account_id: str, user_id: str) -> list[asyncpg.Record]:
        """A user's team memberships (team_id, role): a session caller's team rights."""
        return list(
            await self._pool.fetch(
                "SELECT team_id, role FROM team_members WHERE account_id = $1 AND user_id = $2", account_id, user_id
            )
        )

    async def create_session(self, session_id: str, account_id: str, user_id: str, expires_at: datetime) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            # Sessions a day past their expiry verify no more: dropped here rather than by a
            # sweeper of their own (an indexed range, so a sign-in stays cheap).
            await conn.execute("DELETE FROM sessions WHERE expires_at < now() - interval '1 day'")
            await conn.execute(
                "INSERT INTO sessions (session_id, account_id, user_id, expires_at) VALUES ($1, $2, $3, $4)",
                session_id,
                account_id,
                user_id,
                expires_at,
            )

    async def revoke_session(self, session_id: str) -> asyncpg.Record | None:
        """Revoke a live session: its account and user, or None when it was not live."""
        return await self._pool.fetchrow(
            "UPDATE sessions SET revoked_at = now() WHERE session_id = $1 AND revoked_at IS NULL "
            "RETURNING account_id, user_id",
            session_id,
        )

    async def save_login(self, state: str, code_verifier: str, nonce: str, redirect_uri: str, return_to: str) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            # Logins never finished are dropped here rather than by a sweeper of their own.
            await conn.execute("DELETE FROM sso_logins WHERE created_at < now() - interval '1 hour'")
            await conn.execute(
                "INSERT INTO sso_logins (state, code_verifier, nonce, redirect_uri, return_to) "
                "VALUES ($1, $2, $3, $4, $5)",
                state,
                code_verifier,
                nonce,
                redirect_uri,
                return_to,
            )

    async def take_login(self, state: str, max_age_seconds: int) -> asyncpg.Record | None:
        """A login under way, at most once (a replayed callback finds nothing)."""
        return await self._pool.fetchrow(
            "DELETE FROM sso_logins WHERE state = $1 RETURNING code_verifier, nonce, redirect_uri, return_to, "
            "created_at > now() - make_interval(secs => $2) AS fresh",
            state,
            float(max_age_seconds),
        )

    async def account_for_identity(self, org_id: str, email_domain: str, email: str) -> tuple[str, str] | None:
        """The active account a verified identity belongs to, and how it was found: the identity
        provider's organisation (``metadata.auth_org_id``), else the e-mail's domain (verified
        e-mails only: the caller passes an empty domain otherwise), else an account that lists
        the e-mail among its admins."""
        if org_id:
            found = await self._pool.fetchval(
                "SELECT account_id FROM accounts WHERE status = 'active' AND metadata ->> 'auth_org_id' = $1 "
                "ORDER BY created_at LIMIT 1",
                org_id,
            )
            if found:
                return found, "organization"
        if email_domain:
            found = await self._pool.fetchval(
                "SELECT account_id FROM accounts WHERE status = 'active' AND lower(domain) = lower($1)", email_domain
            )
            if found:
                return found, "domain"
        if email:
            found = await self._pool.fetchval(
                "SELECT a.account_id FROM account_admins d JOIN accounts a ON a.account_id = d.account_id "
                "WHERE a.status = 'active' AND lower(d.user_email) = lower($1) ORDER BY d.created_at LIMIT 1",
                email,
            )
            if found:
                return found, "admin"
        return None

    async def is_account_admin(self, account_id: str, email: str) -> bool:
        return bool(
            await self._pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM account_admins WHERE account_id = $1 AND lower(user_email) = lower($2))",
                account_id,
                email,
            )
        )
