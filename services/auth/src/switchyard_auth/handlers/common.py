"""What every management RPC shares: the error convention, the caller resolved from the verified
principal the edge passes, the scope (tenant) it acts in, and the authorization checks."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import grpc

from switchyard.auth.v1 import auth_pb2
from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_auth.clients.repository import ALL_ACCOUNTS, Ambiguous, Page, Repository, Scope, Tenant
from switchyard_auth.domain import authz
from switchyard_auth.domain.authz import Caller, Op, Role, Target
from switchyard_auth.domain.entitlements import Exceeded
from switchyard_auth.domain.settings import Invalid
from switchyard_auth.handlers.events import Publisher
from switchyard_llm.errors import make_error

log = logging.getLogger(__name__)

STORE_ERRORS = (asyncpg.PostgresError, OSError, TimeoutError, asyncpg.InterfaceError)
DEFAULT_PAGE = 100
# Principals of a signed-in user (no key): their rights come from the user and the session.
_SIGNED_IN = (auth_pb2.CREDENTIAL_KIND_SESSION, auth_pb2.CREDENTIAL_KIND_OIDC_TOKEN)
MAX_PAGE = 500


class Refusal(Exception):
    """An answer of the business (error.proto rule 1): the response's ``error``."""

    def __init__(self, error: error_pb2.Error) -> None:
        super().__init__(error.message)
        self.error = error


def refuse(kind: error_pb2.ErrorKind, message: str, param: str = "") -> Refusal:
    return Refusal(make_error(kind, message, param=param))


def not_found(noun: str, ident: str = "", param: str = "") -> Refusal:
    named = f" '{ident}'" if ident else ""
    return refuse(ErrorKind.ERROR_KIND_NOT_FOUND, f"{noun}{named} not found", param)


def denied(message: str) -> Refusal:
    return refuse(ErrorKind.ERROR_KIND_PERMISSION_DENIED, message)


R = TypeVar("R")


def rpc(response: Callable[..., R]) -> Callable[[Callable[..., Awaitable[R]]], Callable[..., Awaitable[R]]]:
    """Turns what a handler raises into the convention of switchyard/llm/v1/error.proto: refusals
    and invalid values into ``response(error=...)``; a store that does not answer into the status
    UNAVAILABLE."""

    def wrap(fn: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        @functools.wraps(fn)
        async def handler(self: Any, request: Any, context: grpc.aio.ServicerContext) -> R:
            try:
                return await fn(self, request, context)
            except Refusal as exc:
                return response(error=exc.error)
            except Invalid as exc:
                return response(error=make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, str(exc), param=exc.param))
            except Exceeded as exc:
                return response(
                    error=make_error(ErrorKind.ERROR_KIND_PERMISSION_DENIED, str(exc), param=exc.entitlement)
                )
            except Ambiguous:
                return response(
                    error=make_error(
                        ErrorKind.ERROR_KIND_BAD_REQUEST,
                        "That id exists in several accounts; name the account with account_id.",
                        param="account_id",
                    )
                )
            except STORE_ERRORS:
                log.warning("identity store failed", extra={"rpc": fn.__name__}, exc_info=True)
                await context.abort(grpc.StatusCode.UNAVAILABLE, "the identity store is unavailable; try again shortly")
                raise  # abort raises; this line is for the type checker

        return handler

    return wrap


def page_of(limit: int, offset: int) -> Page:
    if limit < 0:
        raise Invalid("'limit' must not be negative", "limit")
    if offset < 0:
        raise Invalid("'offset' must not be negative", "offset")
    return Page(min(limit or DEFAULT_PAGE, MAX_PAGE), offset)


@dataclass
class Core:
    """The auth service's shared state and the steps every management RPC takes."""

    repo: Repository
    events: Publisher
    default_account: str
    cache_ttl: int

    async def caller(self, principal: auth_pb2.Principal) -> Caller:
        """The caller's rights, read now from the store for keys (a principal the edge cached may
        be older than a block or a role change); the master key is trusted as the edge says."""
        if principal.credential_kind in _SIGNED_IN:
            return await self._signed_in(principal)
        if principal.is_super_admin or (principal.is_admin and not principal.key_hash and not principal.key_id):
            return Caller(account_id=principal.account_id or self.default_account, role=Role.SUPER_ADMIN)
        ref = principal.key_id or principal.key_hash
        if not ref:
            raise refuse(ErrorKind.ERROR_KIND_AUTHENTICATION, "No credential: the caller is not authenticated.")
        facts = await self.repo.caller_facts(ref)
        if facts is None:
            raise refuse(
                ErrorKind.ERROR_KIND_AUTHENTICATION, "Authentication Error: the caller's key no longer exists."
            )
        key, user, teams = facts
        if key["blocked"]:
            raise refuse(ErrorKind.ERROR_KIND_AUTHENTICATION, "Authentication Error: this key is blocked.")
        if key["account_status"] != "active":
            raise denied("The caller's account is not active.")
        if user is None:
            return Caller(account_id=key["account_id"], role=Role.KEY, key_id=key["key_id"])
        if user["blocked"]:
            raise refuse(ErrorKind.ERROR_KIND_AUTHENTICATION, "Authentication Error: this key's user is blocked.")
        return Caller(
            account_id=key["account_id"],
            role=Role(user["user_role"]),
            user_id=user["user_id"],
            key_id=key["key_id"],
            admin_teams=frozenset(t["team_id"] for t in teams if t["role"] == "admin"),
            member_teams=frozenset(t["team_id"] for t in teams),
        )

    async def _signed_in(self, principal: auth_pb2.Principal) -> Caller:
        """A session's or identity-provider token's caller: its session still live (not logged
        out) and its user's rights as they are now."""
        if principal.session_id:
            facts = await self.repo.session_facts(principal.session_id)
        else:
            facts = await self.repo.user_facts(principal.account_id, principal.user_id)
        if facts is None or facts.account_id != principal.account_id:
            raise refuse(ErrorKind.ERROR_KIND_AUTHENTICATION, "Authentication Error: this session is not known.")
        if facts.revoked:
            raise refuse(ErrorKind.ERROR_KIND_AUTHENTICATION, "Authentication Error: this session has been logged out.")
        user = facts.user
        if user is None or user["user_id"] != principal.user_id:
            raise refuse(
                ErrorKind.ERROR_KIND_AUTHENTICATION, "Authentication Error: this session's user no longer exists."
            )
        if user["blocked"]:
            raise refuse(ErrorKind.ERROR_KIND_AUTHENTICATION, "Authentication Error: this session's user is blocked.")
        if facts.account_status != "active":
            raise denied("The caller's account is not active.")
        if principal.is_super_admin:
            return Caller(account_id=principal.account_id, role=Role.SUPER_ADMIN, user_id=principal.user_id)
        teams = await self.repo.user_teams(principal.account_id, principal.user_id)
        return Caller(
            account_id=principal.account_id,
            role=Role(user["user_role"]),
            user_id=principal.user_id,
            admin_teams=frozenset(t["team_id"] for t in teams if t["role"] == "admin"),
            member_teams=frozenset(t["team_id"] for t in teams),
        )

    async def scope(self, caller: Caller, account_id: str, *, write: bool) -> Scope:
        """The tenant the call acts in: the caller's own account (another one named is not
        found), or for super admins the account they name — required for writes, and for reads
        optional (without it, every account)."""
        if not caller.is_super_admin:
            if account_id and account_id != caller.account_id:
                raise not_found("account", account_id, "account_id")
            return Tenant(caller.account_id)
        if not account_id:
            if write:
                raise refuse(
                    ErrorKind.ERROR_KIND_BAD_REQUEST,
                    "account_id is required for this super admin write operation.",
                    "account_id",
                )
            return ALL_ACCOUNTS
        row = await self.repo.account(account_id)
        if row is None or row["status"] == "deleted":
            raise not_found("account", account_id, "account_id")
        return Tenant(account_id)

    async def tenant(self, caller: Caller, account_id: str) -> Tenant:
        scope = await self.scope(caller, account_id, write=True)
        assert isinstance(scope, Tenant)
        return scope

    @staticmethod
    def require(caller: Caller, op: Op) -> None:
        """Refuse callers none of whose roles may ever do ``op``."""
        if not authz.may_attempt(caller, op):
            raise denied(f"Your role may not do this ({op.value}).")

    @staticmethod
    def check(caller: Caller, op: Op, target: Target, read_op: Op, noun: str, ident: str = "", param: str = "") -> None:
        """Refuse ``op`` on ``target`` unless the table allows it: 403 when the caller may see the
        object, else 404 (an object one may not see is not there)."""
        if authz.allowed(caller, op, target):
            return
        if op is not read_op and authz.allowed(caller, read_op, target):
            raise denied(f"Your role may not do this ({op.value}).")
        raise not_found(noun, ident, param)
