"""UserService: the people of an account, their roles and (LiteLLM `/user/new`) their first key."""

from __future__ import annotations

from typing import Any

import asyncpg
import grpc

from switchyard.auth.v1 import auth_pb2, users_pb2, users_pb2_grpc
from switchyard.events.v1 import identity_pb2
from switchyard_auth.clients.repository import ReadTx
from switchyard_auth.clients.rows import KEYS, ORGANIZATION_MEMBERS, TEAM_MEMBERS, TEAMS, USERS
from switchyard_auth.domain import authz
from switchyard_auth.domain.authz import Op, Target
from switchyard_auth.domain.settings import Invalid
from switchyard_auth.handlers import views
from switchyard_auth.handlers.common import Core, page_of, rpc
from switchyard_auth.handlers.entities import Entities, Noun
from switchyard_auth.handlers.events import A, E, key_event
from switchyard_auth.handlers.keys import KeyOps
from switchyard_auth.handlers.members import organization_member_events, team_member_events

NOUN = Noun(
    "user", USERS, "user_id", E.IDENTITY_ENTITY_USER, Op.USER_CREATE, Op.USER_READ, Op.USER_UPDATE, Op.USER_DELETE
)


async def user_target(tx: ReadTx, row: Any) -> Target:
    teams = await tx.memberships([row["user_id"]])
    return Target(account_id=row["account_id"], user_id=row["user_id"], team_ids=frozenset(t["team_id"] for t in teams))


class UserServicer(users_pb2_grpc.UserServiceServicer):
    def __init__(self, core: Core, keys: KeyOps) -> None:
        self.core = core
        self.keys = keys
        self.e = Entities(core, NOUN, views.users, user_target)

    @rpc(users_pb2.CreateUserResponse)
    async def CreateUser(
        self, request: users_pb2.CreateUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.CreateUserResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        Core.require(caller, Op.USER_CREATE)
        settings = users_pb2.UserSettings()
        settings.CopyFrom(request.settings)
        settings.user_role = settings.user_role or "internal_user"
        events: list[identity_pb2.IdentityEvent] = []
        resp = users_pb2.CreateUserResponse()
        async with self.core.repo.write(tenant) as tx:
            row = await self.e.insert(tx, caller, request.user_id, settings)
            member_rows = []
            for team_id in dict.fromkeys(request.teams):
                team = await tx.get(TEAMS, team_id)
                if team is None:
                    raise Invalid(f"team '{team_id}' not found", "teams")
                try:
                    member_rows.append(await tx.insert(TEAM_MEMBERS, (team_id, row["user_id"]), {"role": "user"}))
                except asyncpg.UniqueViolationError:
                    raise Invalid(f"'teams' names team '{team_id}' twice", "teams") from None
            if request.create_key:
                key_settings = auth_pb2.KeySettings()
                key_settings.CopyFrom(request.key_settings)
                key_settings.user_id = row["user_id"]
                secret, key_row = await self.keys.create(tx, caller, key_settings, "")
                resp.key = secret
                resp.key_info.CopyFrom(await self.keys.info(tx, key_row))
                events.append(key_event(A.IDENTITY_ACTION_CREATED, resp.key_info))
            resp.user.CopyFrom(await self.e.one(tx, row))
            events = [
                self.e.event(A.IDENTITY_ACTION_CREATED, resp.user),
                *await team_member_events(tx, A.IDENTITY_ACTION_CREATED, member_rows),
                *events,
            ]
        self.core.events.publish(events)
        return resp

    @rpc(users_pb2.GetUserResponse)
    async def GetUser(
        self, request: users_pb2.GetUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.GetUserResponse:
        caller = await self.core.caller(request.caller)
        scope = await self.core.scope(caller, request.account_id, write=False)
        user_id = request.user_id or caller.user_id
        async with self.core.repo.read(scope) as tx:
            row = await self.e.load(tx, caller, user_id, Op.USER_READ)
            return users_pb2.GetUserResponse(user=await self.e.one(tx, row))

    @rpc(users_pb2.ListUsersResponse)
    async def ListUsers(
        self, request: users_pb2.ListUsersRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.ListUsersResponse:
        caller = await self.core.caller(request.caller)
        scope = await self.core.scope(caller, request.account_id, write=False)
        Core.require(caller, Op.USER_READ)
        async with self.core.repo.read(scope) as tx:
            rows, total = await tx.list_users(
                role=request.user_role,
                team_id=request.team_id,
                organization_id=request.organization_id,
                email=request.user_email,
                user_ids=list(request.user_ids),
                n=authz.visibility(caller, Op.USER_READ),
                page=page_of(request.limit, request.offset),
            )
            return users_pb2.ListUsersResponse(users=await views.users(tx, rows), total_count=total)

    @rpc(users_pb2.UpdateUserResponse)
    async def UpdateUser(
        self, request: users_pb2.UpdateUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.UpdateUserResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)

        async with self.core.repo.write(tenant) as tx:

            async def has_role(new: users_pb2.UserSettings, fields: set[str]) -> None:
                if "user_role" in fields and not new.user_role:
                    raise Invalid("'user_role' cannot be empty", "user_role")

            row, fields = await self.e.update(
                tx, caller, request.user_id, request.settings, list(request.update_mask.paths), check=has_role
            )
            user = await self.e.one(tx, row)
        self.core.events.publish([self.e.changed_event(user, fields)])
        return users_pb2.UpdateUserResponse(user=user)

    @rpc(users_pb2.DeleteUsersResponse)
    async def DeleteUsers(
        self, request: users_pb2.DeleteUsersRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.DeleteUsersResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        ids = list(request.user_ids)
        async with self.core.repo.write(tenant) as tx:
            await self.e.load_all(tx, caller, list(ids), Op.USER_DELETE)
            users = await views.users(tx, await tx.get_many(USERS, ids))
            key_infos = await views.keys(tx, await tx.delete_where(KEYS, "user_id", ids))
            member_rows = await tx.delete_where(TEAM_MEMBERS, "user_id", ids)
            member_events = await team_member_events(tx, A.IDENTITY_ACTION_DELETED, member_rows)
            org_member_events = organization_member_events(
                A.IDENTITY_ACTION_DELETED, await tx.delete_where(ORGANIZATION_MEMBERS, "user_id", ids)
            )
            rows = await self.e.delete_rows(tx, ids)
        versions = {r["user_id"]: r["version"] for r in rows}
        for u in users:
            u.version = versions[u.user_id]
        events = [key_event(A.IDENTITY_ACTION_DELETED, i) for i in key_infos]
        events += member_events + org_member_events + [self.e.event(A.IDENTITY_ACTION_DELETED, u) for u in users]
        self.core.events.publish(events)
        return users_pb2.DeleteUsersResponse(deleted_user_ids=[u.user_id for u in users], deleted_keys=len(key_infos))
