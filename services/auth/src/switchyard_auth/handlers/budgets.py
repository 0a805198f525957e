"""BudgetObjectService: shared budget objects. Changing one changes the limits in force of every
entity that points to it, so each of those gets a new version and an identity event too."""

from __future__ import annotations

from typing import Any

import grpc

from switchyard.auth.v1 import budget_objects_pb2, budget_objects_pb2_grpc
from switchyard.events.v1 import identity_pb2
from switchyard_auth.clients.repository import ReadTx
from switchyard_auth.clients.rows import BUDGETS
from switchyard_auth.domain.authz import Op
from switchyard_auth.domain.settings import Invalid
from switchyard_auth.handlers import views
from switchyard_auth.handlers.common import Core, page_of, rpc
from switchyard_auth.handlers.entities import Entities, Noun
from switchyard_auth.handlers.events import A, E, key_event, state_event
from switchyard_auth.handlers.members import organization_member_events, team_member_events

NOUN = Noun(
    "budget",
    BUDGETS,
    "budget_id",
    E.IDENTITY_ENTITY_BUDGET,
    Op.BUDGET_CREATE,
    Op.BUDGET_READ,
    Op.BUDGET_UPDATE,
    Op.BUDGET_DELETE,
)


async def _one_view(tx: ReadTx, rows: Any) -> list[budget_objects_pb2.BudgetObject]:
    return [views.budget_view(r) for r in rows]


async def referrer_events(tx: ReadTx, bumped: dict[str, list[Any]]) -> list[identity_pb2.IdentityEvent]:
    """UPDATED events for the entities whose budget object changed (their limits in force did)."""
    out = [key_event(A.IDENTITY_ACTION_UPDATED, i) for i in await views.keys(tx, bumped.get("keys", []))]
    for t in await views.teams(tx, bumped.get("teams", []), members=False):
        out.append(state_event(A.IDENTITY_ACTION_UPDATED, E.IDENTITY_ENTITY_TEAM, t, "team_id"))
    for u in await views.users(tx, bumped.get("users", [])):
        out.append(state_event(A.IDENTITY_ACTION_UPDATED, E.IDENTITY_ENTITY_USER, u, "user_id"))
    for o in await views.organizations(tx, bumped.get("organizations", [])):
        del o.members[:]
        out.append(state_event(A.IDENTITY_ACTION_UPDATED, E.IDENTITY_ENTITY_ORGANIZATION, o, "organization_id"))
    for c in await views.customers(tx, bumped.get("customers", [])):
        out.append(state_event(A.IDENTITY_ACTION_UPDATED, E.IDENTITY_ENTITY_CUSTOMER, c, "user_id"))
    out += await team_member_events(tx, A.IDENTITY_ACTION_UPDATED, bumped.get("team_members", []))
    out += organization_member_events(A.IDENTITY_ACTION_UPDATED, bumped.get("organization_members", []))
    return out


class BudgetServicer(budget_objects_pb2_grpc.BudgetObjectServiceServicer):
    def __init__(self, core: Core) -> None:
        self.core = core
        self.e = Entities(core, NOUN, _one_view)

    @rpc(budget_objects_pb2.CreateBudgetResponse)
    async def CreateBudget(
        self, request: budget_objects_pb2.CreateBudgetRequest, context: grpc.aio.ServicerContext
    ) -> budget_objects_pb2.CreateBudgetResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        Core.require(caller, Op.BUDGET_CREATE)
        async with self.core.repo.write(tenant) as tx:
            budget = views.budget_view(await self.e.insert(tx, caller, request.budget_id, request.settings))
        self.core.events.publish([self.e.event(A.IDENTITY_ACTION_CREATED, budget)])
        return budget_objects_pb2.CreateBudgetResponse(budget=budget)

    @rpc(budget_objects_pb2.GetBudgetResponse)
    async def GetBudget(
        self, request: budget_objects_pb2.GetBudgetRequest, context: grpc.aio.ServicerContext
    ) -> budget_objects_pb2.GetBudgetResponse:
        caller = await self.core.caller(request.caller)
        scope = await self.core.scope(caller, request.account_id, write=False)
        async with self.core.repo.read(scope) as tx:
            row = await self.e.load(tx, caller, request.budget_id, Op.BUDGET_READ)
        return budget_objects_pb2.GetBudgetResponse(budget=views.budget_view(row))

    @rpc(budget_objects_pb2.ListBudgetsResponse)
    async def ListBudgets(
        self, request: budget_objects_pb2.ListBudgetsRequest, context: grpc.aio.ServicerContext
    ) -> budget_objects_pb2.ListBudgetsResponse:
        caller = await self.core.caller(request.caller)
        scope = await self.core.scope(caller, request.account_id, write=False)
        Core.require(caller, Op.BUDGET_READ)
        async with self.core.repo.read(scope) as tx:
            rows, total = await tx.list_simple(BUDGETS, page_of(request.limit, request.offset))
        return budget_objects_pb2.ListBudgetsResponse(budgets=[views.budget_view(r) for r in rows], total_count=total)

    @rpc(budget_objects_pb2.UpdateBudgetResponse)
    async def UpdateBudget(
        self, request: budget_objects_pb2.UpdateBudgetRequest, context: grpc.aio.ServicerContext
    ) -> budget_objects_pb2.UpdateBudgetResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        async with self.core.repo.write(tenant) as tx:
            row, _ = await self.e.update(
                tx, caller, request.budget_id, request.settings, list(request.update_mask.paths)
            )
            budget = views.budget_view(row)
            events = await referrer_events(tx, await tx.bump_budget_referrers(request.budget_id))
        events.insert(0, self.e.event(A.IDENTITY_ACTION_UPDATED, budget))
        self.core.events.publish(events)
        return budget_objects_pb2.UpdateBudgetResponse(budget=budget)

    @rpc(budget_objects_pb2.DeleteBudgetsResponse)
    async def DeleteBudgets(
        self, request: budget_objects_pb2.DeleteBudgetsRequest, context: grpc.aio.ServicerContext
    ) -> budget_objects_pb2.DeleteBudgetsResponse:
        caller = await self.core.caller(request.caller)
        tenant = await self.core.tenant(caller, request.account_id)
        async with self.core.repo.write(tenant) as tx:
            await self.e.load_all(tx, caller, list(request.budget_ids), Op.BUDGET_DELETE)
            for ident in request.budget_ids:
                users = await tx.budget_referrers(ident)
                if users:
                    used = ", ".join(f"{n} {table}" for table, n in sorted(users.items()))
                    raise Invalid(f"budget '{ident}' is still used by {used}", "budget_ids")
            rows = await self.e.delete_rows(tx, list(request.budget_ids))
        budgets = [views.budget_view(r) for r in rows]
        self.core.events.publish([self.e.event(A.IDENTITY_ACTION_DELETED, b) for b in budgets])
        return budget_objects_pb2.DeleteBudgetsResponse(deleted_budget_ids=[b.budget_id for b in budgets])
