"""Virtual keys: the KeyService RPCs, and the steps of the key lifecycle that UserService
(a user's first key) and the AuthService's original key RPCs share with it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import grpc

from switchyard.auth.v1 import auth_pb2, keys_pb2, keys_pb2_grpc
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_auth.clients.repository import KeyFilters, ReadTx, WriteTx
from switchyard_auth.clients.rows import (
    BUDGETS,
    KEYS,
    ORGANIZATIONS,
    TEAM_MEMBERS,
    TEAMS,
    USERS,
    settings_from_row,
    to_columns,
)
from switchyard_auth.domain import authz, entitlements, keys
from switchyard_auth.domain.authz import Caller, Op, Role, Target
from switchyard_auth.domain.settings import Invalid, check_duration, validate
from switchyard_auth.domain.settings import merged as merge_settings
from switchyard_auth.handlers import views
from switchyard_auth.handlers.common import Core, Refusal, denied, not_found, page_of, rpc
from switchyard_auth.handlers.events import A, key_event

# Fields whose change can move a key past its team's bounds or membership.
# The longest a replaced secret may keep working after /key/regenerate.
MAX_GRACE_SECONDS = 30 * 86400
_TEAM_BOUND = frozenset({"team_id", "user_id", "models", "max_budget", "limits"})


def key_target(row: Any) -> Target:
    team = row["team_id"] or ""
    return Target(
        account_id=row["account_id"],
        key_id=row["key_id"],
        user_id=row["user_id"] or "",
        team_ids=frozenset({team} if team else ()),
    )


def _settings_target(account_id: str, s: auth_pb2.KeySettings, key_id: str = "") -> Target:
    return Target(
        account_id=account_id,
        key_id=key_id,
        user_id=s.user_id,
        team_ids=frozenset({s.team_id} if s.team_id else ()),
    )


def _unique(exc: asyncpg.UniqueViolationError) -> Invalid:
    if "alias" in (exc.constraint_name or ""):
        return Invalid("A key with this key_alias already exists in the account.", "key_alias")
    return Invalid("A key with this value already exists.", "key")


def _ref(ref: str) -> tuple[str, bool]:
    """A key reference as (hash or id, whether it was the secret itself)."""
    ref = ref.strip()
    return keys.ref_hash(ref), not keys.is_hash(ref)


class KeyOps:
    """The key lifecycle within one transaction; raises refusals, returns rows."""

    def __init__(self, core: Core) -> None:
        self.core = core

    async def load(self, tx: ReadTx, caller: Caller, ref: str, op: Op, *, for_update: bool = False) -> asyncpg.Record:
        if not ref.strip():
            raise Invalid("'key' is required", "key")
        value, secret = _ref(ref)
        row = await tx.key(value, for_update=for_update)
        if row is None or (secret and row["key_hash"] != value):
            raise not_found("key", param="key")
        self.core.check(caller, op, key_target(row), Op.KEY_READ, "key", param="key")
        return row

    async def _check_references(self, tx: WriteTx, s: auth_pb2.KeySettings, changed: Collection[str]) -> None:
        """The team, user, organisation and budget object a key names exist in its account; its
        user is a member of its team; its models and limits lie within the team's. Only fields
        that change are checked for existence, so keys from before tenancy (whose team_id,
        user_id and organization_id were free labels) stay editable."""
        team = await tx.get(TEAMS, s.team_id) if s.team_id else None
        if "team_id" in changed and s.team_id and team is None:
            raise Invalid(f"team '{s.team_id}' not found", "team_id")
        user = await tx.get(USERS, s.user_id) if s.user_id else None
        if "user_id" in changed and s.user_id and user is None:
            raise Invalid(f"user '{s.user_id}' not found", "user_id")
        if user is not None and {"user_id", "models"} & set(changed):
            keys.check_models_within(s.models, list(user["models"] or ()), "user's")
        if "org_id" in changed and s.org_id and await tx.get(ORGANIZATIONS, s.org_id) is None:
            raise Invalid(f"organization '{s.org_id}' not found", "organization_id")
        if "budget_id" in changed and s.budget_id and await tx.get(BUDGETS, s.budget_id) is None:
            raise Invalid(f"budget '{s.budget_id}' not found", "budget_id")
        if team is None or not _TEAM_BOUND & set(changed):
            return
        keys.check_within_team(s, settings_from_row(TEAMS, team))
        if s.user_id and await tx.get(TEAM_MEMBERS, s.team_id, s.user_id) is None:
            raise Invalid(f"user '{s.user_id}' is not a member of team '{s.team_id}'", "user_id")
        org = team["organization_id"] or ""
        if org and not s.org_id:
            s.org_id = org
        elif org and s.org_id != org:
            raise Invalid(f"'organization_id' must be the team's organization ('{org}')", "organization_id")

    async def _bounded_by_entitlements(self, tx: WriteTx, s: auth_pb2.KeySettings, count: bool) -> None:
        account = await tx.lock_account()
        assert account is not None
        ent = entitlements.from_json(account["entitlements"] or {})
        if count:
            entitlements.check_count(ent, "max_keys", await tx.count(KEYS))
        entitlements.check_budget(ent, s.max_budget, "max_budget")

    async def create(
        self, tx: WriteTx, caller: Caller, s: auth_pb2.KeySettings, secret: str
    ) -> tuple[str, asyncpg.Record]:
        """A new key in ``tx``'s account: (its secret, its row)."""
        Core.require(caller, Op.KEY_CREATE)
        if secret and not secret.startswith(keys.KEY_PREFIX):
            raise Invalid("keys must start with 'sk-'", "key")
        validate(s)
        expires = keys.expires_at(s.duration)
        internal = caller.role in (Role.INTERNAL_USER, Role.INTERNAL_USER_VIEWER)
        if internal and not s.user_id and s.team_id not in caller.admin_teams:
            s.user_id = caller.user_id  # an internal user's key is their own
        await self._check_references(tx, s, {f.name for f in s.DESCRIPTOR.fields})
        if not authz.allowed(caller, Op.KEY_CREATE, _settings_target(tx.account_id, s)):
            raise denied("You may create keys only for yourself, or in teams you administer.")
        await self._bounded_by_entitlements(tx, s, count=True)
        secret = secret or keys.new_key()
        columns = to_columns(KEYS, s)
        columns.update(key_hash=keys.hash_key(secret), key_name=keys.display_name(secret), expires_at=expires)
        try:
            row = await tx.insert(KEYS, (keys.hash_key(secret),), columns, created_by=caller.label)
        except asyncpg.UniqueViolationError as exc:
            raise _unique(exc) from None
        return secret, row

    async def _apply_update(
        self, tx: WriteTx, caller: Caller, row: asyncpg.Record, s: auth_pb2.KeySettings, paths: Sequence[str]
    ) -> asyncpg.Record:
        current = settings_from_row(KEYS, row)
        merged, fields = merge_settings(current, s, paths)
        validate(merged, only=fields)
        await self._check_references(tx, merged, fields)
        if not authz.allowed(caller, Op.KEY_UPDATE, _settings_target(tx.account_id, merged, row["key_id"])):
            raise denied("You may not move this key to that user or team.")
        await self._bounded_by_entitlements(tx, merged, count=False)
        # `duration` is no column: it sets expires_at below.
        columns_paths = list(paths)
        if "org_id" not in fields and merged.org_id != current.org_id:
            columns_paths.append("org_id")  # taken from the team
        try:
            updated = await tx.update(KEYS, (row["key_id"],), to_columns(KEYS, merged, columns_paths))
        except asyncpg.UniqueViolationError as exc:
            raise _unique(exc) from None
        assert updated is not None
        if "duration" in fields:
            await tx.set_key_expiry(row["key_id"], keys.expires_at(merged.duration))
            updated = await tx.get(KEYS, row["key_id"])
            assert updated is not None
        return updated

    async def update(
        self, tx: WriteTx, caller: Caller, ref: str, s: auth_pb2.KeySettings, paths: Sequence[str]
    ) -> asyncpg.Record:
        row = await self.load(tx, caller, ref, Op.KEY_UPDATE, for_update=True)
        return await self._apply_update(tx, caller, row, s, paths)

    async def regenerate(
        self,
        tx: WriteTx,
        caller: Caller,
        ref: str,
        new_secret: str,
        s: auth_pb2.KeySettings,
        paths: Sequence[str],
        grace_period: str = "",
    ) -> tuple[str, asyncpg.Record, str, datetime | None]:
        """(the new secret, the key, the hash of the replaced secret, until when the replaced
        secret still authenticates: ``grace_period`` after now, or None without one)."""
        grace = check_duration(grace_period, "grace_period") if grace_period else 0
        if grace > MAX_GRACE_SECONDS:
            raise Invalid(f"'grace_period' may be at most {MAX_GRACE_SECONDS // 86400}d", "grace_period")
        row = await self.load(tx, caller, ref, Op.KEY_REGENERATE, for_update=True)
        if new_secret and not new_secret.startswith(keys.KEY_PREFIX):
            raise Invalid("keys must start with 'sk-'", "new_key")
        if paths:
            row = await self._apply_update(tx, caller, row, s, paths)
        secret = new_secret or keys.new_key()
        new_hash = keys.hash_key(secret)
        if new_secret and await self.core.repo.secret_in_use(new_hash):
            raise Invalid("A key with this value already exists, or had it before.", "new_key")
        try:
            updated = await tx.regenerate_key(row["key_id"], new_hash, keys.display_name(secret))
        except asyncpg.UniqueViolationError:
            raise Invalid("A key with this value already exists.", "new_key") from None
        assert updated is not None
        valid_until = datetime.now(UTC) + timedelta(seconds=grace) if grace else None
        await tx.replace_previous_secrets(row["key_id"], row["key_hash"], valid_until)
        return secret, updated, row["key_hash"], valid_until

    async def set_blocked(self, tx: WriteTx, caller: Caller, ref: str, blocked: bool) -> asyncpg.Record:
        row = await self.load(tx, caller, ref, Op.KEY_BLOCK, for_update=True)
        updated = await tx.update(KEYS, (row["key_id"],), {"blocked": blocked})
        assert updated is not None
        return updated

    async def remove(
        self, tx: WriteTx, caller: Caller, refs: Sequence[str], aliases: Sequence[str], *, skip_missing: bool
    ) -> list[asyncpg.Record]:
        """Delete keys, all or none: each must exist (unless ``skip_missing``) and be the
        caller's to delete."""
        rows: dict[str, asyncpg.Record] = {}
        for ref in refs:
            try:
                row = await self.load(tx, caller, ref, Op.KEY_DELETE, for_update=True)
            except Refusal as exc:
                if skip_missing and exc.error.kind == ErrorKind.ERROR_KIND_NOT_FOUND:
                    continue
                raise
            rows[row["key_id"]] = row
        found = await tx.keys_by_alias(aliases, for_update=True) if aliases else []
        missing = set(aliases) - {r["key_alias"] for r in found}
        if missing and not skip_missing:
            raise not_found("key with key_alias", sorted(missing)[0], "key_aliases")
        for row in found:
            self.core.check(
                caller,
                Op.KEY_DELETE,
                key_target(row),
                Op.KEY_READ,
                "key with key_alias",
                row["key_alias"],
                "key_aliases",
            )
            rows[row["key_id"]] = row
        if not rows:
            return []
        return await tx.delete_where(KEYS, "key_id", sorted(rows))

    async def info(self, tx: ReadTx, row: Any) -> auth_pb2.KeyInfo:
        return (await views.keys(tx, [row]))[0]


class KeyServicer(keys_pb2_grpc.KeyServiceServicer):
    def __init__(self, core: Core, ops: KeyOps) -> None:
        self.core = core
        self.ops = ops

    @rpc(keys_pb2.CreateKeyResponse)
    async def CreateKey(
        self, request: keys_pb2.CreateKeyRequest, context: grpc.aio.ServicerContext
    ) -> keys_pb2.CreateKeyResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        settings = auth_pb2.KeySettings()
        settings.CopyFrom(request.settings)
        async with self.core.repo.write(tenant) as tx:
            secret, row = await self.ops.create(tx, caller, settings, request.key)
            info = await self.ops.info(tx, row)
        self.core.events.publish([key_event(A.IDENTITY_ACTION_CREATED, info)])
        return keys_pb2.CreateKeyResponse(key=secret, info=info)

    @rpc(keys_pb2.GetKeyInfoResponse)
    async def GetKeyInfo(
        self, request: keys_pb2.GetKeyInfoRequest, context: grpc.aio.ServicerContext
    ) -> keys_pb2.GetKeyInfoResponse:
        caller = await self.core.caller(request.caller)
        scope = await self.core.scope(caller, request.account_id, write=False)
        ref = request.key or caller.key_id
        if not ref:
            raise Invalid("'key' is required", "key")
        async with self.core.repo.read(scope) as tx:
            row = await self.ops.load(tx, caller, ref, Op.KEY_READ)
            sub = tx.within(row["account_id"])
            resp = keys_pb2.GetKeyInfoResponse(info=await self.ops.info(sub, row))
            if row["team_id"]:
                team = await sub.get(TEAMS, row["team_id"])
                if team is not None and authz.allowed(
                    caller, Op.TEAM_READ, Target(team["account_id"], team_ids=frozenset({team["team_id"]}))
                ):
                    resp.team.CopyFrom((await views.teams(sub, [team]))[0])
                elif team is not None:
                    # A key's holder sees its team's settings without its member list.
                    resp.team.CopyFrom((await views.teams(sub, [team], members=False))[0])
        return resp

    @rpc(keys_pb2.ListKeysResponse)
    async def ListKeys(
        self, request: keys_pb2.ListKeysRequest, context: grpc.aio.ServicerContext
    ) -> keys_pb2.ListKeysResponse:
        caller = await self.core.caller(request.caller)
        scope = await self.core.scope(caller, request.account_id, write=False)
        Core.require(caller, Op.KEY_READ)
        vis = authz.visibility(caller, Op.KEY_READ)
        filters = KeyFilters(
            user_id=request.user_id,
            team_id=request.team_id,
            organization_id=request.organization_id,
            key_alias=request.key_alias,
            key_hash=keys.ref_hash(request.key_hash) if request.key_hash else "",
        )
        async with self.core.repo.read(scope) as tx:
            rows, total = await tx.list_keys(filters, vis, page_of(request.limit, request.offset))
            infos = await views.keys(tx, rows)
        return keys_pb2.ListKeysResponse(keys=infos, total_count=total)

    @rpc(keys_pb2.UpdateKeyResponse)
    async def UpdateKey(
        self, request: keys_pb2.UpdateKeyRequest, context: grpc.aio.ServicerContext
    ) -> keys_pb2.UpdateKeyResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        async with self.core.repo.write(tenant) as tx:
            row = await self.ops.update(tx, caller, request.key, request.settings, list(request.update_mask.paths))
            info = await self.ops.info(tx, row)
        self.core.events.publish([key_event(A.IDENTITY_ACTION_UPDATED, info)])
        return keys_pb2.UpdateKeyResponse(info=info)

    @rpc(keys_pb2.RegenerateKeyResponse)
    async def RegenerateKey(
        self, request: keys_pb2.RegenerateKeyRequest, context: grpc.aio.ServicerContext
    ) -> keys_pb2.RegenerateKeyResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        async with self.core.repo.write(tenant) as tx:
            secret, row, previous, valid_until = await self.ops.regenerate(
                tx,
                caller,
                request.key,
                request.new_key,
                request.settings,
                list(request.update_mask.paths),
                request.grace_period,
            )
            info = await self.ops.info(tx, row)
        # The edges drop what they cached for the replaced secret; within a grace period its next
        # use is authenticated again, with the grace period's end as its expiry.
        self.core.events.publish([key_event(A.IDENTITY_ACTION_UPDATED, info, previous_key_hash=previous)])
        resp = keys_pb2.RegenerateKeyResponse(key=secret, info=info, previous_key_hash=previous)
        if valid_until is not None:
            resp.previous_key_valid_until.FromDatetime(valid_until)
        return resp

    async def _block(self, request: Any, blocked: bool) -> auth_pb2.KeyInfo:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        async with self.core.repo.write(tenant) as tx:
            row = await self.ops.set_blocked(tx, caller, request.key, blocked)
            info = await self.ops.info(tx, row)
        action = A.IDENTITY_ACTION_BLOCKED if blocked else A.IDENTITY_ACTION_UPDATED
        self.core.events.publish([key_event(action, info)])
        return info

    @rpc(keys_pb2.BlockKeyResponse)
    async def BlockKey(
        self, request: keys_pb2.BlockKeyRequest, context: grpc.aio.ServicerContext
    ) -> keys_pb2.BlockKeyResponse:
        return keys_pb2.BlockKeyResponse(info=await self._block(request, True))

    @rpc(keys_pb2.UnblockKeyResponse)
    async def UnblockKey(
        self, request: keys_pb2.UnblockKeyRequest, context: grpc.aio.ServicerContext
    ) -> keys_pb2.UnblockKeyResponse:
        return keys_pb2.UnblockKeyResponse(info=await self._block(request, False))

    @rpc(keys_pb2.RemoveKeysResponse)
    async def RemoveKeys(
        self, request: keys_pb2.RemoveKeysRequest, context: grpc.aio.ServicerContext
    ) -> keys_pb2.RemoveKeysResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        if not request.keys and not request.key_aliases:
            raise Invalid("name at least one key in 'keys' or 'key_aliases'", "keys")
        async with self.core.repo.write(tenant) as tx:
            rows = await self.ops.remove(tx, caller, request.keys, request.key_aliases, skip_missing=False)
            infos = await views.keys(tx, rows)
        self.core.events.publish([key_event(A.IDENTITY_ACTION_DELETED, i) for i in infos])
        return keys_pb2.RemoveKeysResponse(
            deleted_key_ids=[i.key_id for i in infos], deleted_key_hashes=[i.key_hash for i in infos]
        )
