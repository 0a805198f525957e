"""AuthService: credentials → principals, and the original key RPCs (GenerateKey, GetKey,
DeleteKeys) that the edge's current `/key/*` routes call. Those act in the caller's own account
(the master key's: the default account) and share every rule with KeyService."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import grpc

from switchyard.auth.v1 import auth_pb2, auth_pb2_grpc
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_auth.clients.repository import Tenant
from switchyard_auth.clients.rows import BUDGETS, KEYS, ORGANIZATIONS, TEAMS, USERS, Row, settings_from_row, ts, usd
from switchyard_auth.domain import keys, limits, principal
from switchyard_auth.domain.authz import Op
from switchyard_auth.domain.principal import Entity, KeyFacts, Membership
from switchyard_auth.handlers import views
from switchyard_auth.handlers.common import STORE_ERRORS, Core, Refusal, rpc
from switchyard_auth.handlers.events import A, key_event
from switchyard_auth.handlers.keys import KeyOps
from switchyard_auth.handlers.signin import SignIn
from switchyard_llm.errors import make_error

log = logging.getLogger(__name__)


def _budget(facts: Mapping[str, Row | None], alias: str) -> limits.Limits | None:
    row = facts.get(alias)
    return limits.of(settings_from_row(BUDGETS, row)) if row is not None else None


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, core: Core, ops: KeyOps, signin: SignIn, *, master_key: str) -> None:
        self._core = core
        self._ops = ops
        self._signin = signin
        self._master = master_key

    async def Authenticate(
        self, request: auth_pb2.AuthenticateRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.AuthenticateResponse:
        """Who the caller is: the one decision for every credential. The master key; a token
        (session or identity provider: ``SignIn.principal_of_token``, which verifies it or
        refuses it); else a virtual key by its hash."""
        cred = request.credential.strip()
        if not cred:
            return auth_pb2.AuthenticateResponse(
                error=make_error(ErrorKind.ERROR_KIND_AUTHENTICATION, "No api key passed in.")
            )
        if keys.same_secret(cred, self._master):
            return auth_pb2.AuthenticateResponse(
                principal=principal.master(self._core.default_account, self._core.cache_ttl)
            )
        if self._signin.handles(cred):
            try:
                return auth_pb2.AuthenticateResponse(principal=await self._signin.principal_of_token(cred))
            except Refusal as exc:
                return auth_pb2.AuthenticateResponse(error=exc.error)
            except STORE_ERRORS:
                log.warning("session lookup failed", exc_info=True)
                await context.abort(grpc.StatusCode.UNAVAILABLE, "the identity store is unavailable; try again shortly")
        key_hash = keys.hash_key(cred)
        # A secret a regeneration replaced authenticates as its key until its grace period ends.
        grace_until = 0
        try:
            facts = await self._core.repo.principal_facts(key_hash)
            if facts is None and (replaced := await self._core.repo.replaced_secret(key_hash)) is not None:
                current_hash, until = replaced
                facts = await self._core.repo.principal_facts(current_hash)
                grace_until = ts(until)
        except STORE_ERRORS:
            log.warning("key lookup failed", exc_info=True)
            # A store that does not answer fails the call (switchyard/llm/v1/error.proto): it is
            # no answer about the credential.
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the key store is unavailable; try again shortly")
        if facts is None:
            return auth_pb2.AuthenticateResponse(
                error=make_error(
                    ErrorKind.ERROR_KIND_AUTHENTICATION,
                    f"Authentication Error: invalid API key (hashed token ending {key_hash[-8:]}).",
                )
            )
        k, u, t, m, o = facts["k"], facts["u"], facts["t"], facts["m"], facts["o"]
        assert k is not None and facts["a"] is not None
        expires_at = ts(k["expires_at"])
        if grace_until:
            # The edge refuses the principal from its cache once this passes.
            expires_at = min(expires_at, grace_until) if expires_at else grace_until
        key = KeyFacts(
            key_id=k["key_id"],
            key_hash=k["key_hash"],
            account_id=k["account_id"],
            settings=settings_from_row(KEYS, k),
            version=k["settings_version"],
            expires_at=expires_at,
            budget=_budget(facts, "kb"),
        )
        user = Entity(settings_from_row(USERS, u), u["version"], _budget(facts, "ub")) if u is not None else None
        team = Entity(settings_from_row(TEAMS, t), t["version"], _budget(facts, "tb")) if t is not None else None
        org = Entity(settings_from_row(ORGANIZATIONS, o), o["version"], _budget(facts, "ob")) if o is not None else None
        member = (
            Membership(m["role"], usd(m["max_budget_in_team"]), m["version"], _budget(facts, "mb"))
            if m is not None
            else None
        )
        why = principal.refusal(key, facts["a"]["status"], user, team, org, time.time())
        if why is not None:
            return auth_pb2.AuthenticateResponse(error=make_error(ErrorKind.ERROR_KIND_AUTHENTICATION, why))
        org_id = key.settings.org_id or (team.settings.organization_id if team is not None else "")
        return auth_pb2.AuthenticateResponse(
            principal=principal.build(key, user, team, member, org, org_id, self._core.cache_ttl)
        )

    @rpc(auth_pb2.GenerateKeyResponse)
    async def GenerateKey(
        self, request: auth_pb2.GenerateKeyRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.GenerateKeyResponse:
        caller = await self._core.caller(request.caller)
        settings = auth_pb2.KeySettings()
        settings.CopyFrom(request.settings)
        async with self._core.repo.write(Tenant(caller.account_id)) as tx:
            secret, row = await self._ops.create(tx, caller, settings, request.key)
            info = await self._ops.info(tx, row)
        self._core.events.publish([key_event(A.IDENTITY_ACTION_CREATED, info)])
        log.info("key created", extra={"account_id": info.account_id, "key_name": info.key_name})
        return auth_pb2.GenerateKeyResponse(key=secret, info=info)

    @rpc(auth_pb2.GetKeyResponse)
    async def GetKey(
        self, request: auth_pb2.GetKeyRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.GetKeyResponse:
        caller = await self._core.caller(request.caller)
        async with self._core.repo.read(Tenant(caller.account_id)) as tx:
            row = await self._ops.load(tx, caller, request.key, Op.KEY_READ)
            info = await self._ops.info(tx, row)
        return auth_pb2.GetKeyResponse(info=info)

    @rpc(auth_pb2.DeleteKeysResponse)
    async def DeleteKeys(
        self, request: auth_pb2.DeleteKeysRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.DeleteKeysResponse:
        caller = await self._core.caller(request.caller)
        async with self._core.repo.write(Tenant(caller.account_id)) as tx:
            rows = await self._ops.remove(tx, caller, list(request.keys), [], skip_missing=True)
            infos = await views.keys(tx, rows)
        self._core.events.publish([key_event(A.IDENTITY_ACTION_DELETED, i) for i in infos])
        return auth_pb2.DeleteKeysResponse(deleted_key_hashes=[i.key_hash for i in infos])
