"""AccountService: accounts (tenants), their entitlements and their admins by e-mail."""

from __future__ import annotations

from typing import Any

import asyncpg
import grpc

from switchyard.auth.v1 import accounts_pb2, accounts_pb2_grpc
from switchyard.events.v1 import identity_pb2
from switchyard_auth.clients.repository import Tenant
from switchyard_auth.clients.rows import ACCOUNTS_SETTINGS, KEYS, settings_from_row, to_columns
from switchyard_auth.domain import entitlements
from switchyard_auth.domain.authz import Caller, Op, Target
from switchyard_auth.domain.settings import Invalid, check_email, merged, validate
from switchyard_auth.handlers import views
from switchyard_auth.handlers.common import Core, not_found, page_of, rpc
from switchyard_auth.handlers.entities import check_id
from switchyard_auth.handlers.events import A, E, entity_event, key_event


def _unique(exc: asyncpg.UniqueViolationError) -> Invalid:
    name = exc.constraint_name or ""
    if "domain" in name:
        return Invalid("Another account has this domain.", "domain")
    if "name" in name:
        return Invalid("Another account has this account_name.", "account_name")
    return Invalid("An account with this account_id already exists.", "account_id")


def _account_event(action: identity_pb2.IdentityAction, account: accounts_pb2.Account) -> identity_pb2.IdentityEvent:
    return entity_event(
        action, E.IDENTITY_ENTITY_ACCOUNT, account.account_id, account.account_id, account.version, account
    )


class AccountServicer(accounts_pb2_grpc.AccountServiceServicer):
    def __init__(self, core: Core) -> None:
        self.core = core

    async def _account(self, caller: Caller, account_id: str, op: Op) -> Any:
        """An account the caller may ``op`` (its own, or any for super admins); a deleted one
        only for super admins."""
        account_id = account_id or caller.account_id
        row = await self.core.repo.account(account_id)
        if row is None or (row["status"] == "deleted" and not caller.is_super_admin):
            raise not_found("account", account_id, "account_id")
        self.core.check(caller, op, Target(account_id), Op.ENTITLEMENTS_READ, "account", account_id, "account_id")
        return row

    @rpc(accounts_pb2.CreateAccountResponse)
    async def CreateAccount(
        self, request: accounts_pb2.CreateAccountRequest, context: grpc.aio.ServicerContext
    ) -> accounts_pb2.CreateAccountResponse:
        caller = await self.core.caller(request.caller)
        Core.require(caller, Op.ACCOUNT_CREATE)
        s = accounts_pb2.AccountSettings()
        s.CopyFrom(request.settings)
        if not s.account_name.strip():
            raise Invalid("'account_name' is required", "account_name")
        if s.status == "deleted":
            raise Invalid("an account is created 'active' or 'suspended'", "status")
        s.status = s.status or "active"
        validate(s)
        entitlements.validate(request.entitlements)
        account_id = check_id(request.account_id, "account_id")
        columns = to_columns(ACCOUNTS_SETTINGS, s)
        columns["entitlements"] = entitlements.to_json(request.entitlements)
        try:
            row = await self.core.repo.create_account(account_id, columns, caller.label)
        except asyncpg.UniqueViolationError as exc:
            raise _unique(exc) from None
        account = views.account_view(row)
        self.core.events.publish([_account_event(A.IDENTITY_ACTION_CREATED, account)])
        return accounts_pb2.CreateAccountResponse(account=account)

    @rpc(accounts_pb2.GetAccountResponse)
    async def GetAccount(
        self, request: accounts_pb2.GetAccountRequest, context: grpc.aio.ServicerContext
    ) -> accounts_pb2.GetAccountResponse:
        caller = await self.core.caller(request.caller)
        row = await self._account(caller, request.account_id, Op.ACCOUNT_READ)
        return accounts_pb2.GetAccountResponse(account=views.account_view(row))

    @rpc(accounts_pb2.ListAccountsResponse)
    async def ListAccounts(
        self, request: accounts_pb2.ListAccountsRequest, context: grpc.aio.ServicerContext
    ) -> accounts_pb2.ListAccountsResponse:
        caller = await self.core.caller(request.caller)
        Core.require(caller, Op.ACCOUNT_LIST)
        if request.status and request.status not in ("active", "suspended", "deleted"):
            raise Invalid("'status' must be one of active, deleted, suspended", "status")
        rows, total = await self.core.repo.list_accounts(request.status, page_of(request.limit, request.offset))
        return accounts_pb2.ListAccountsResponse(accounts=[views.account_view(r) for r in rows], total_count=total)

    @rpc(accounts_pb2.UpdateAccountResponse)
    async def UpdateAccount(
        self, request: accounts_pb2.UpdateAccountRequest, context: grpc.aio.ServicerContext
    ) -> accounts_pb2.UpdateAccountResponse:
        caller = await self.core.caller(request.caller)
        row = await self._account(caller, request.account_id, Op.ACCOUNT_UPDATE)
        if row["status"] == "deleted":
            raise Invalid("a deleted account cannot change", "account_id")
        new, fields = merged(
            settings_from_row(ACCOUNTS_SETTINGS, row), request.settings, list(request.update_mask.paths)
        )
        validate(new, only=fields)
        if not new.account_name.strip():
            raise Invalid("'account_name' cannot be empty", "account_name")
        if new.status not in ("active", "suspended"):
            raise Invalid("'status' must be active or suspended (DeleteAccount deletes)", "status")
        try:
            async with self.core.repo.write(Tenant(row["account_id"])) as tx:
                updated = await tx.update_account(to_columns(ACCOUNTS_SETTINGS, new, list(request.update_mask.paths)))
        except asyncpg.UniqueViolationError as exc:
            raise _unique(exc) from None
        assert updated is not None
        account = views.account_view(updated)
        action = (
            A.IDENTITY_ACTION_BLOCKED if "status" in fields and new.status == "suspended" else A.IDENTITY_ACTION_UPDATED
        )
        self.core.events.publish([_account_event(action, account)])
        return accounts_pb2.UpdateAccountResponse(account=account)

    @rpc(accounts_pb2.DeleteAccountResponse)
    async def DeleteAccount(
        self, request: accounts_pb2.DeleteAccountRequest, context: grpc.aio.ServicerContext
    ) -> accounts_pb2.DeleteAccountResponse:
        caller = await self.core.caller(request.caller)
        row = await self._account(caller, request.account_id, Op.ACCOUNT_DELETE)
        account_id, name = row["account_id"], row["account_name"]
        if account_id == self.core.default_account:
            raise Invalid("the default account cannot be deleted", "account_id")
        if row["status"] == "deleted":
            raise not_found("account", account_id, "account_id")
        async with self.core.repo.write(Tenant(account_id)) as tx:
            locked = await tx.lock_account()
            assert locked is not None
            if request.confirm != name:
                counts = await tx.archive_rest()
                keys_count = await tx.count(KEYS)
                raise Invalid(
                    f"Deleting account '{name}' deletes its {keys_count} keys and archives its {counts['users']} "
                    f"users, {counts['teams']} teams and {counts['organizations']} organizations. "
                    f"To go ahead, call again with confirm set to the account's name ('{name}').",
                    "confirm",
                )
            key_infos = await views.keys(tx, await tx.delete_where(KEYS, "account_id", [account_id]))
            counts = await tx.archive_rest()
            updated = await tx.update_account({"status": "deleted"})
        assert updated is not None
        account = views.account_view(updated)
        events = [key_event(A.IDENTITY_ACTION_DELETED, i) for i in key_infos]
        events.append(_account_event(A.IDENTITY_ACTION_DELETED, account))
        self.core.events.publish(events)
        return accounts_pb2.DeleteAccountResponse(
            account=account,
            deleted_keys=len(key_infos),
            archived_users=counts["users"],
            archived_teams=counts["teams"],
            archived_organizations=counts["organizations"],
        )

    @rpc(accounts_pb2.GetEntitlementsResponse)
    async def GetEntitlements(
        self, request: accounts_pb2.GetEntitlementsRequest, context: grpc.aio.ServicerContext
    ) -> accounts_pb2.GetEntitlementsResponse:
        caller = await self.core.caller(request.caller)
        row = await self._account(caller, request.account_id, Op.ENTITLEMENTS_READ)
        return accounts_pb2.GetEntitlementsResponse(
            account_id=row["account_id"], entitlements=entitlements.from_json(row["entitlements"] or {})
        )

    @rpc(accounts_pb2.UpdateEntitlementsResponse)
    async def UpdateEntitlements(
        self, request: accounts_pb2.UpdateEntitlementsRequest, context: grpc.aio.ServicerContext
    ) -> accounts_pb2.UpdateEntitlementsResponse:
        caller = await self.core.caller(request.caller)
        row = await self._account(caller, request.account_id, Op.ENTITLEMENTS_UPDATE)
        fields = set(request.update_mask.paths)
        unknown = fields - set(entitlements.FIELDS)
        if unknown:
            raise Invalid(f"Unknown field '{sorted(unknown)[0]}'", sorted(unknown)[0])
        entitlements.validate(request.entitlements)
        async with self.core.repo.write(Tenant(row["account_id"])) as tx:
            locked = await tx.lock_account()
            assert locked is not None
            new = entitlements.merge(entitlements.from_json(locked["entitlements"] or {}), request.entitlements, fields)
            updated = await tx.update_account({"entitlements": entitlements.to_json(new)})
        assert updated is not None
        self.core.events.publish([_account_event(A.IDENTITY_ACTION_UPDATED, views.account_view(updated))])
        return accounts_pb2.UpdateEntitlementsResponse(account_id=row["account_id"], entitlements=new)

    def _admin_request(self, email: str, role: str, *, role_required: bool) -> tuple[str, str]:
        check_email(email.strip())
        admin = accounts_pb2.AccountAdmin(
            user_email=email.strip().lower(), role=role or ("" if role_required else "account_admin")
        )
        if role_required and not role:
            raise Invalid("'role' is required", "role")
        validate(admin)
        return admin.user_email, admin.role

    async def _admin_change(self, request: Any, change: str) -> accounts_pb2.AccountAdmin:
        caller = await self.core.caller(request.caller)
        row = await self._account(caller, request.account_id, Op.ACCOUNT_ADMINS_WRITE)
        email, role = self._admin_request(
            request.user_email, getattr(request, "role", ""), role_required=change == "update"
        )
        async with self.core.repo.write(Tenant(row["account_id"])) as tx:
            if change == "add":
                done = await tx.add_admin(email, role)
                if done is None:
                    raise Invalid(f"'{email}' is already an admin of this account", "user_email")
            elif change == "update":
                done = await tx.update_admin(email, role)
            else:
                done = await tx.remove_admin(email)
            if done is None:
                raise not_found("account admin", email, "user_email")
            version = (await tx.update_account({}))["version"]  # type: ignore[index]
        admin = views.admin_view(done)
        action = {"add": A.IDENTITY_ACTION_CREATED, "update": A.IDENTITY_ACTION_UPDATED}.get(
            change, A.IDENTITY_ACTION_DELETED
        )
        self.core.events.publish(
            [entity_event(action, E.IDENTITY_ENTITY_ACCOUNT_ADMIN, admin.account_id, admin.user_email, version, admin)]
        )
        return admin

    @rpc(accounts_pb2.AddAccountAdminResponse)
    async def AddAccountAdmin(
        self, request: accounts_pb2.AddAccountAdminRequest, context: grpc.aio.ServicerContext
    ) -> accounts_pb2.AddAccountAdminResponse:
        return accounts_pb2.AddAccountAdminResponse(admin=await self._admin_change(request, "add"))

    @rpc(accounts_pb2.UpdateAccountAdminResponse)
    async def UpdateAccountAdmin(
        self, request: accounts_pb2.UpdateAccountAdminRequest, context: grpc.aio.ServicerContext
    ) -> accounts_pb2.UpdateAccountAdminResponse:
        return accounts_pb2.UpdateAccountAdminResponse(admin=await self._admin_change(request, "update"))

    @rpc(accounts_pb2.RemoveAccountAdminResponse)
    async def RemoveAccountAdmin(
        self, request: accounts_pb2.RemoveAccountAdminRequest, context: grpc.aio.ServicerContext
    ) -> accounts_pb2.RemoveAccountAdminResponse:
        return accounts_pb2.RemoveAccountAdminResponse(admin=await self._admin_change(request, "remove"))

    @rpc(accounts_pb2.ListAccountAdminsResponse)
    async def ListAccountAdmins(
        self, request: accounts_pb2.ListAccountAdminsRequest, context: grpc.aio.ServicerContext
    ) -> accounts_pb2.ListAccountAdminsResponse:
        caller = await self.core.caller(request.caller)
        row = await self._account(caller, request.account_id, Op.ACCOUNT_ADMINS_READ)
        admins = await self.core.repo.list_admins(row["account_id"])
        return accounts_pb2.ListAccountAdminsResponse(admins=[views.admin_view(a) for a in admins])
