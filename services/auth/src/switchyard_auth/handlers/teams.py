"""TeamService: teams, their members and their models."""

from __future__ import annotations

from typing import Any

import asyncpg
import grpc
from google.protobuf import field_mask_pb2

from switchyard.auth.v1 import teams_pb2, teams_pb2_grpc
from switchyard.events.v1 import identity_pb2
from switchyard_auth.clients.repository import ReadTx, WriteTx
from switchyard_auth.clients.rows import KEYS, ORGANIZATIONS, TEAM_MEMBERS, TEAMS, to_columns
from switchyard_auth.domain import authz, keys
from switchyard_auth.domain.authz import Caller, Op, Target
from switchyard_auth.domain.settings import Invalid, mask_fields, validate
from switchyard_auth.handlers import views
from switchyard_auth.handlers.common import Core, page_of, rpc
from switchyard_auth.handlers.entities import Entities, Noun, check_entitlements, check_references
from switchyard_auth.handlers.events import A, E, key_event
from switchyard_auth.handlers.members import find_member, remove_members, resolve_user, team_member_events

NOUN = Noun(
    "team",
    TEAMS,
    "team_id",
    E.IDENTITY_ENTITY_TEAM,
    Op.TEAM_CREATE,
    Op.TEAM_READ,
    Op.TEAM_UPDATE,
    Op.TEAM_DELETE,
    counted="max_teams",
)
_MEMBER_FIELDS = frozenset({"role", "max_budget_in_team", "budget_id"})


async def team_target(tx: ReadTx, row: Any) -> Target:
    return Target(account_id=row["account_id"], team_ids=frozenset({row["team_id"]}))


async def _within_organization(tx: ReadTx, settings: teams_pb2.TeamSettings) -> None:
    """A team's models lie within its organisation's."""
    if not settings.organization_id:
        return
    org = await tx.get(ORGANIZATIONS, settings.organization_id)
    if org is None:
        raise Invalid(f"organization '{settings.organization_id}' not found", "organization_id")
    keys.check_models_within(settings.models, list(org["models"] or ()), "organization's")


class TeamServicer(teams_pb2_grpc.TeamServiceServicer):
    def __init__(self, core: Core) -> None:
        self.core = core
        self.e = Entities(core, NOUN, views.teams, team_target)

    async def _add_members(
        self,
        tx: WriteTx,
        caller: Caller,
        team_id: str,
        members: Any,
        events: list[identity_pb2.IdentityEvent],
    ) -> list[Any]:
        rows = []
        for m in members:
            member = teams_pb2.TeamMember(
                role=m.role or "user", max_budget_in_team=m.max_budget_in_team, budget_id=m.budget_id
            )
            validate(member, only=_MEMBER_FIELDS)
            await check_references(tx, member, {"budget_id"})
            await check_entitlements(tx, member, {"max_budget_in_team"})
            user = await resolve_user(tx, caller, m.user_id, m.user_email, events)
            try:
                rows.append(await tx.insert(TEAM_MEMBERS, (team_id, user["user_id"]), to_columns(TEAM_MEMBERS, member)))
            except asyncpg.UniqueViolationError:
                raise Invalid(f"user '{user['user_id']}' is already a member of team '{team_id}'", "members") from None
        return rows

    async def _team(self, tx: ReadTx, row: Any) -> teams_pb2.Team:
        return await self.e.one(tx, row)

    @rpc(teams_pb2.CreateTeamResponse)
    async def CreateTeam(
        self, request: teams_pb2.CreateTeamRequest, context: grpc.aio.ServicerContext
    ) -> teams_pb2.CreateTeamResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        Core.require(caller, Op.TEAM_CREATE)
        events: list[identity_pb2.IdentityEvent] = []
        async with self.core.repo.write(tenant) as tx:
            await _within_organization(tx, request.settings)
            row = await self.e.insert(tx, caller, request.team_id, request.settings)
            member_rows = await self._add_members(tx, caller, row["team_id"], request.members, events)
            team = await self._team(tx, row)
            events = [self.e.event(A.IDENTITY_ACTION_CREATED, team), *events]
            events += await team_member_events(tx, A.IDENTITY_ACTION_CREATED, member_rows, [row])
        self.core.events.publish(events)
        return teams_pb2.CreateTeamResponse(team=team)

    @rpc(teams_pb2.GetTeamResponse)
    async def GetTeam(
        self, request: teams_pb2.GetTeamRequest, context: grpc.aio.ServicerContext
    ) -> teams_pb2.GetTeamResponse:
        caller = await self.core.caller(request.caller)
        scope = await self.core.scope(caller, request.account_id, write=False)
        async with self.core.repo.read(scope) as tx:
            row = await self.e.load(tx, caller, request.team_id, Op.TEAM_READ)
            return teams_pb2.GetTeamResponse(team=await self._team(tx, row))

    @rpc(teams_pb2.ListTeamsResponse)
    async def ListTeams(
        self, request: teams_pb2.ListTeamsRequest, context: grpc.aio.ServicerContext
    ) -> teams_pb2.ListTeamsResponse:
        caller = await self.core.caller(request.caller)
        scope = await self.core.scope(caller, request.account_id, write=False)
        Core.require(caller, Op.TEAM_READ)
        vis = authz.visibility(caller, Op.TEAM_READ)
        async with self.core.repo.read(scope) as tx:
            rows, total = await tx.list_teams(
                organization_id=request.organization_id,
                user_id=request.user_id,
                alias=request.team_alias,
                n=vis,
                page=page_of(request.limit, request.offset),
            )
            return teams_pb2.ListTeamsResponse(teams=await views.teams(tx, rows), total_count=total)

    @rpc(teams_pb2.UpdateTeamResponse)
    async def UpdateTeam(
        self, request: teams_pb2.UpdateTeamRequest, context: grpc.aio.ServicerContext
    ) -> teams_pb2.UpdateTeamResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        async with self.core.repo.write(tenant) as tx:
            team, events = await self._update(tx, caller, request.team_id, request.settings, request.update_mask)
        self.core.events.publish(events)
        return teams_pb2.UpdateTeamResponse(team=team)

    async def _update(
        self,
        tx: WriteTx,
        caller: Caller,
        team_id: str,
        settings: teams_pb2.TeamSettings,
        mask: field_mask_pb2.FieldMask,
        op: Op = Op.TEAM_UPDATE,
    ) -> tuple[teams_pb2.Team, list[identity_pb2.IdentityEvent]]:
        async def in_organization(new: teams_pb2.TeamSettings, fields: set[str]) -> None:
            if fields & {"organization_id", "models"}:
                await _within_organization(tx, new)

        row, fields = await self.e.update(tx, caller, team_id, settings, list(mask.paths), op=op, check=in_organization)
        team = await self._team(tx, row)
        return team, [self.e.changed_event(team, fields)]

    @rpc(teams_pb2.DeleteTeamsResponse)
    async def DeleteTeams(
        self, request: teams_pb2.DeleteTeamsRequest, context: grpc.aio.ServicerContext
    ) -> teams_pb2.DeleteTeamsResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        async with self.core.repo.write(tenant) as tx:
            ids = list(request.team_ids)
            await self.e.load_all(tx, caller, list(ids), Op.TEAM_DELETE)
            key_infos = await views.keys(tx, await tx.delete_where(KEYS, "team_id", ids))
            member_rows = await tx.delete_where(TEAM_MEMBERS, "team_id", ids)
            member_events = await team_member_events(tx, A.IDENTITY_ACTION_DELETED, member_rows)
            rows = await self.e.delete_rows(tx, ids)
            teams = await views.teams(tx, rows, members=False)
        events = [key_event(A.IDENTITY_ACTION_DELETED, i) for i in key_infos]
        events += member_events + [self.e.event(A.IDENTITY_ACTION_DELETED, t) for t in teams]
        self.core.events.publish(events)
        return teams_pb2.DeleteTeamsResponse(deleted_team_ids=[t.team_id for t in teams], deleted_keys=len(key_infos))

    @rpc(teams_pb2.AddTeamMembersResponse)
    async def AddTeamMembers(
        self, request: teams_pb2.AddTeamMembersRequest, context: grpc.aio.ServicerContext
    ) -> teams_pb2.AddTeamMembersResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        if not request.members:
            raise Invalid("name at least one member", "members")
        events: list[identity_pb2.IdentityEvent] = []
        async with self.core.repo.write(tenant) as tx:
            row = await self.e.load(tx, caller, request.team_id, Op.TEAM_MEMBERS_WRITE, for_update=True)
            member_rows = await self._add_members(tx, caller, row["team_id"], request.members, events)
            events += await team_member_events(tx, A.IDENTITY_ACTION_CREATED, member_rows, [row])
            team = await self._team(tx, row)
        self.core.events.publish(events)
        return teams_pb2.AddTeamMembersResponse(team=team)

    @rpc(teams_pb2.UpdateTeamMemberResponse)
    async def UpdateTeamMember(
        self, request: teams_pb2.UpdateTeamMemberRequest, context: grpc.aio.ServicerContext
    ) -> teams_pb2.UpdateTeamMemberResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        m = request.member
        paths = list(request.update_mask.paths) or [
            p for p in ("role", "max_budget_in_team", "budget_id") if getattr(m, p)
        ]
        fields = mask_fields(paths, m)
        if fields - _MEMBER_FIELDS:
            raise Invalid(
                f"Only {', '.join(sorted(_MEMBER_FIELDS))} of a member can change", sorted(fields - _MEMBER_FIELDS)[0]
            )
        async with self.core.repo.write(tenant) as tx:
            team = await self.e.load(tx, caller, m.team_id, Op.TEAM_MEMBERS_WRITE, for_update=True)
            member = await find_member(tx, TEAM_MEMBERS, m.team_id, m.user_id, m.user_email)
            validate(m, only=fields)
            if "role" in fields and not m.role:
                raise Invalid("'role' must be one of admin, user", "role")
            await check_references(tx, m, fields)
            await check_entitlements(tx, m, fields)
            updated = await tx.update(
                TEAM_MEMBERS, (m.team_id, member["user_id"]), to_columns(TEAM_MEMBERS, m, sorted(fields))
            )
            assert updated is not None
            events = await team_member_events(tx, A.IDENTITY_ACTION_UPDATED, [updated], [team])
        self.core.events.publish(events)
        return teams_pb2.UpdateTeamMemberResponse(member=events[0].team_member)

    @rpc(teams_pb2.RemoveTeamMembersResponse)
    async def RemoveTeamMembers(
        self, request: teams_pb2.RemoveTeamMembersRequest, context: grpc.aio.ServicerContext
    ) -> teams_pb2.RemoveTeamMembersResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        async with self.core.repo.write(tenant) as tx:
            team = await self.e.load(tx, caller, request.team_id, Op.TEAM_MEMBERS_WRITE, for_update=True)
            deleted = await remove_members(tx, TEAM_MEMBERS, request.team_id, request.user_ids, request.user_emails)
            events = await team_member_events(tx, A.IDENTITY_ACTION_DELETED, deleted, [team])
            result = await self._team(tx, team)
        self.core.events.publish(events)
        return teams_pb2.RemoveTeamMembersResponse(team=result)

    async def _models(self, request: Any, add: bool) -> teams_pb2.Team:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        if not request.models:
            raise Invalid("name at least one model", "models")
        async with self.core.repo.write(tenant) as tx:
            row = await self.e.load(tx, caller, request.team_id, Op.TEAM_MODELS_WRITE, for_update=True)
            current = list(row["models"] or ())
            if add:
                models = current + [m for m in dict.fromkeys(request.models) if m not in current]
            else:
                models = [m for m in current if m not in set(request.models)]
            team, events = await self._update(
                tx,
                caller,
                request.team_id,
                teams_pb2.TeamSettings(models=models),
                field_mask_pb2.FieldMask(paths=["models"]),
                Op.TEAM_MODELS_WRITE,
            )
        self.core.events.publish(events)
        return team

    @rpc(teams_pb2.AddTeamModelsResponse)
    async def AddTeamModels(
        self, request: teams_pb2.AddTeamModelsRequest, context: grpc.aio.ServicerContext
    ) -> teams_pb2.AddTeamModelsResponse:
        return teams_pb2.AddTeamModelsResponse(team=await self._models(request, True))

    @rpc(teams_pb2.RemoveTeamModelsResponse)
    async def RemoveTeamModels(
        self, request: teams_pb2.RemoveTeamModelsRequest, context: grpc.aio.ServicerContext
    ) -> teams_pb2.RemoveTeamModelsResponse:
        return teams_pb2.RemoveTeamModelsResponse(team=await self._models(request, False))

    async def _block(self, request: Any, blocked: bool) -> teams_pb2.Team:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        async with self.core.repo.write(tenant) as tx:
            team, events = await self._update(
                tx,
                caller,
                request.team_id,
                teams_pb2.TeamSettings(blocked=blocked),
                field_mask_pb2.FieldMask(paths=["blocked"]),
                Op.TEAM_BLOCK,
            )
        self.core.events.publish(events)
        return team

    @rpc(teams_pb2.BlockTeamResponse)
    async def BlockTeam(
        self, request: teams_pb2.BlockTeamRequest, context: grpc.aio.ServicerContext
    ) -> teams_pb2.BlockTeamResponse:
        return teams_pb2.BlockTeamResponse(team=await self._block(request, True))

    @rpc(teams_pb2.UnblockTeamResponse)
    async def UnblockTeam(
        self, request: teams_pb2.UnblockTeamRequest, context: grpc.aio.ServicerContext
    ) -> teams_pb2.UnblockTeamResponse:
        return teams_pb2.UnblockTeamResponse(team=await self._block(request, False))
