"""OrganizationService: organisations (copilot "groups") and their members."""

from __future__ import annotations

import asyncpg
import grpc

from switchyard.auth.v1 import organizations_pb2, organizations_pb2_grpc
from switchyard.events.v1 import identity_pb2
from switchyard_auth.clients.rows import ORGANIZATION_MEMBERS, ORGANIZATIONS, to_columns
from switchyard_auth.domain.authz import Op
from switchyard_auth.domain.settings import Invalid, validate
from switchyard_auth.handlers import views
from switchyard_auth.handlers.common import Core, page_of, rpc
from switchyard_auth.handlers.entities import Entities, Noun, check_references
from switchyard_auth.handlers.events import A, E
from switchyard_auth.handlers.members import find_member, organization_member_events, remove_members, resolve_user

NOUN = Noun(
    "organization",
    ORGANIZATIONS,
    "organization_id",
    E.IDENTITY_ENTITY_ORGANIZATION,
    Op.ORG_CREATE,
    Op.ORG_READ,
    Op.ORG_UPDATE,
    Op.ORG_DELETE,
)
_MEMBER_FIELDS = frozenset({"user_role", "budget_id"})


class OrganizationServicer(organizations_pb2_grpc.OrganizationServiceServicer):
    def __init__(self, core: Core) -> None:
        self.core = core
        self.e = Entities(core, NOUN, views.organizations)

    @rpc(organizations_pb2.CreateOrganizationResponse)
    async def CreateOrganization(
        self, request: organizations_pb2.CreateOrganizationRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.CreateOrganizationResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        Core.require(caller, Op.ORG_CREATE)
        async with self.core.repo.write(tenant) as tx:
            row = await self.e.insert(tx, caller, request.organization_id, request.settings)
            org = await self.e.one(tx, row)
        self.core.events.publish([self.e.event(A.IDENTITY_ACTION_CREATED, org)])
        return organizations_pb2.CreateOrganizationResponse(organization=org)

    @rpc(organizations_pb2.GetOrganizationResponse)
    async def GetOrganization(
        self, request: organizations_pb2.GetOrganizationRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.GetOrganizationResponse:
        caller = await self.core.caller(request.caller)
        scope = await self.core.scope(caller, request.account_id, write=False)
        async with self.core.repo.read(scope) as tx:
            row = await self.e.load(tx, caller, request.organization_id, Op.ORG_READ)
            return organizations_pb2.GetOrganizationResponse(organization=await self.e.one(tx, row))

    @rpc(organizations_pb2.ListOrganizationsResponse)
    async def ListOrganizations(
        self, request: organizations_pb2.ListOrganizationsRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.ListOrganizationsResponse:
        caller = await self.core.caller(request.caller)
        scope = await self.core.scope(caller, request.account_id, write=False)
        Core.require(caller, Op.ORG_READ)
        async with self.core.repo.read(scope) as tx:
            rows, total = await tx.list_simple(
                ORGANIZATIONS,
                page_of(request.limit, request.offset),
                contains={"organization_alias": request.organization_alias},
            )
            return organizations_pb2.ListOrganizationsResponse(
                organizations=await views.organizations(tx, rows), total_count=total
            )

    @rpc(organizations_pb2.UpdateOrganizationResponse)
    async def UpdateOrganization(
        self, request: organizations_pb2.UpdateOrganizationRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.UpdateOrganizationResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        async with self.core.repo.write(tenant) as tx:
            row, fields = await self.e.update(
                tx, caller, request.organization_id, request.settings, list(request.update_mask.paths)
            )
            org = await self.e.one(tx, row)
        self.core.events.publish([self.e.changed_event(org, fields)])
        return organizations_pb2.UpdateOrganizationResponse(organization=org)

    @rpc(organizations_pb2.DeleteOrganizationsResponse)
    async def DeleteOrganizations(
        self, request: organizations_pb2.DeleteOrganizationsRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.DeleteOrganizationsResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        ids = list(request.organization_ids)
        async with self.core.repo.write(tenant) as tx:
            await self.e.load_all(tx, caller, list(ids), Op.ORG_DELETE)
            teams = await tx.organization_teams(ids)
            if teams:
                t = teams[0]
                raise Invalid(
                    f"organization '{t['organization_id']}' still has teams (e.g. '{t['team_id']}'); "
                    "delete them or move them to another organization first",
                    "organization_ids",
                )
            orgs = await views.organizations(tx, await tx.get_many(ORGANIZATIONS, ids))
            member_rows = await tx.delete_where(ORGANIZATION_MEMBERS, "organization_id", ids)
            rows = await self.e.delete_rows(tx, ids)
        versions = {r["organization_id"]: r["version"] for r in rows}
        events = organization_member_events(A.IDENTITY_ACTION_DELETED, member_rows)
        for o in orgs:
            o.version = versions[o.organization_id]
            del o.members[:]
            events.append(self.e.event(A.IDENTITY_ACTION_DELETED, o))
        self.core.events.publish(events)
        return organizations_pb2.DeleteOrganizationsResponse(deleted_organization_ids=[o.organization_id for o in orgs])

    @rpc(organizations_pb2.AddOrganizationMembersResponse)
    async def AddOrganizationMembers(
        self, request: organizations_pb2.AddOrganizationMembersRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.AddOrganizationMembersResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        if not request.members:
            raise Invalid("name at least one member", "members")
        events: list[identity_pb2.IdentityEvent] = []
        async with self.core.repo.write(tenant) as tx:
            row = await self.e.load(tx, caller, request.organization_id, Op.ORG_MEMBERS_WRITE, for_update=True)
            added = []
            for m in request.members:
                member = organizations_pb2.OrganizationMember(
                    user_role=m.user_role or "internal_user", budget_id=m.budget_id
                )
                validate(member, only=_MEMBER_FIELDS)
                await check_references(tx, member, {"budget_id"})
                user = await resolve_user(tx, caller, m.user_id, m.user_email, events)
                try:
                    added.append(
                        await tx.insert(
                            ORGANIZATION_MEMBERS,
                            (row["organization_id"], user["user_id"]),
                            to_columns(ORGANIZATION_MEMBERS, member),
                        )
                    )
                except asyncpg.UniqueViolationError:
                    raise Invalid(
                        f"user '{user['user_id']}' is already a member of organization '{row['organization_id']}'",
                        "members",
                    ) from None
            events += organization_member_events(A.IDENTITY_ACTION_CREATED, added)
            org = await self.e.one(tx, row)
        self.core.events.publish(events)
        return organizations_pb2.AddOrganizationMembersResponse(organization=org)

    @rpc(organizations_pb2.UpdateOrganizationMemberResponse)
    async def UpdateOrganizationMember(
        self, request: organizations_pb2.UpdateOrganizationMemberRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.UpdateOrganizationMemberResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        m = request.member
        async with self.core.repo.write(tenant) as tx:
            await self.e.load(tx, caller, m.organization_id, Op.ORG_MEMBERS_WRITE, for_update=True)
            member = await find_member(tx, ORGANIZATION_MEMBERS, m.organization_id, m.user_id, m.user_email)
            validate(m, only=_MEMBER_FIELDS)
            await check_references(tx, m, {"budget_id"})
            changes = to_columns(ORGANIZATION_MEMBERS, m)
            if not m.user_role:
                del changes["user_role"]
            updated = await tx.update(ORGANIZATION_MEMBERS, (m.organization_id, member["user_id"]), changes)
            assert updated is not None
        events = organization_member_events(A.IDENTITY_ACTION_UPDATED, [updated])
        self.core.events.publish(events)
        return organizations_pb2.UpdateOrganizationMemberResponse(member=events[0].organization_member)

    @rpc(organizations_pb2.RemoveOrganizationMembersResponse)
    async def RemoveOrganizationMembers(
        self, request: organizations_pb2.RemoveOrganizationMembersRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.RemoveOrganizationMembersResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        async with self.core.repo.write(tenant) as tx:
            row = await self.e.load(tx, caller, request.organization_id, Op.ORG_MEMBERS_WRITE, for_update=True)
            deleted = await remove_members(
                tx, ORGANIZATION_MEMBERS, request.organization_id, request.user_ids, request.user_emails
            )
            org = await self.e.one(tx, row)
        self.core.events.publish(organization_member_events(A.IDENTITY_ACTION_DELETED, deleted))
        return organizations_pb2.RemoveOrganizationMembersResponse(organization=org)
