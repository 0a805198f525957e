"""Walks the whole authorization table through the real RPCs: every operation, every role and
every relation of the object to the caller (the caller's own key or user, an object it owns, an
object of its team, any other object of its account) is allowed or refused exactly as
``domain.authz.TABLE`` says. The expectation is read off the table here, independently of the
service's own ``allowed``."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from auth_testing import Auth, mask

from switchyard.auth.v1 import (
    accounts_pb2,
    auth_pb2,
    budget_objects_pb2,
    customers_pb2,
    keys_pb2,
    organizations_pb2,
    teams_pb2,
    users_pb2,
)
from switchyard.llm.v1 import error_pb2
from switchyard_auth.domain import authz
from switchyard_auth.domain.authz import TABLE, Op, Reach, Role

ROLES = list(Role)


@dataclass
class Caller:
    role: Role
    principal: auth_pb2.Principal
    user_id: str = ""
    team_id: str = ""
    account_id: str = ""

    @property
    def acct(self) -> str:
        """The account_id to send: super admins name the account, others need not."""
        return self.account_id if self.role is Role.SUPER_ADMIN else ""


class World:
    """Account A, where every caller lives; objects are made fresh for each check."""

    def __init__(self, auth: Auth, account_id: str) -> None:
        self.auth = auth
        self.a = account_id

    async def caller(self, role: Role) -> Caller:
        auth, a = self.auth, self.a
        if role is Role.SUPER_ADMIN:
            return Caller(role, auth.master, account_id=a)
        if role is Role.KEY:
            secret, _ = await auth.key(a)
            return Caller(role, await auth.principal(secret))
        base = "internal_user_viewer" if role in (Role.TEAM_ADMIN, Role.TEAM_USER) else role.value
        uid, secret, principal = await auth.user(a, base)
        team_id = ""
        if role in (Role.TEAM_ADMIN, Role.TEAM_USER):
            team_id = await auth.team(a)
            await auth.member(a, team_id, uid, "admin" if role is Role.TEAM_ADMIN else "user")
        return Caller(role, principal, user_id=uid, team_id=team_id)

    async def key(self, c: Caller, relation: str) -> str:
        """A key of ``relation`` to the caller: its id."""
        if relation == "self":
            return c.principal.key_id
        if relation == "own":
            return (await self.auth.key(self.a, user_id=c.user_id))[1].key_id
        if relation == "team":
            return (await self.auth.key(self.a, team_id=c.team_id))[1].key_id
        return (await self.auth.key(self.a))[1].key_id

    async def team(self, c: Caller, relation: str) -> str:
        return c.team_id if relation == "team" else await self.auth.team(self.a)

    async def user(self, c: Caller, relation: str) -> str:
        if relation == "self":
            return c.user_id
        uid, _, _ = await self.auth.user(self.a)
        if relation == "team":
            await self.auth.member(self.a, c.team_id, uid)
        return uid

    async def account(self, c: Caller) -> str:
        """The account an account-level check is about: the caller's own; for the super admin, a
        new one (deleting it must not end the walk)."""
        return await self.auth.account() if c.role is Role.SUPER_ADMIN else self.a


Call = Callable[[World, Caller, str], Awaitable[Any]]


@dataclass(frozen=True)
class Case:
    kind: str  # what the relation is to: key, team, user, account, or "new" (a creation)
    call: Call


def _key_settings_for(w: World, c: Caller, relation: str) -> Awaitable[auth_pb2.KeySettings]:
    async def make() -> auth_pb2.KeySettings:
        if relation == "own":
            return auth_pb2.KeySettings(user_id=c.user_id)
        if relation == "team":
            return auth_pb2.KeySettings(team_id=c.team_id)
        other, _, _ = await w.auth.user(w.a)
        return auth_pb2.KeySettings(user_id=other)

    return make()


async def _key_create(w: World, c: Caller, relation: str) -> Any:
    settings = await _key_settings_for(w, c, relation)
    return await w.auth.keys.CreateKey(
        keys_pb2.CreateKeyRequest(caller=c.principal, account_id=c.acct, settings=settings)
    )


def _on_key(fn: Callable[[World, Caller, str], Awaitable[Any]]) -> Call:
    async def call(w: World, c: Caller, relation: str) -> Any:
        return await fn(w, c, await w.key(c, relation))

    return call


def _on_team(fn: Callable[[World, Caller, str], Awaitable[Any]]) -> Call:
    async def call(w: World, c: Caller, relation: str) -> Any:
        return await fn(w, c, await w.team(c, relation))

    return call


def _on_user(fn: Callable[[World, Caller, str], Awaitable[Any]]) -> Call:
    async def call(w: World, c: Caller, relation: str) -> Any:
        return await fn(w, c, await w.user(c, relation))

    return call


def _on_new(noun: str, fn: Callable[[World, Caller, str], Awaitable[Any]]) -> Call:
    """An object of the account made by the master key (organisations, customers, budgets)."""

    async def call(w: World, c: Caller, relation: str) -> Any:
        m, a = w.auth.master, w.a
        if noun == "org":
            ident = (
                await w.auth.orgs.CreateOrganization(
                    organizations_pb2.CreateOrganizationRequest(caller=m, account_id=a)
                )
            ).organization.organization_id
        elif noun == "customer":
            ident = f"c-{uuid.uuid4().hex[:8]}"
            await w.auth.customers.CreateCustomer(
                customers_pb2.CreateCustomerRequest(caller=m, account_id=a, user_id=ident)
            )
        else:
            ident = (
                await w.auth.budgets.CreateBudget(budget_objects_pb2.CreateBudgetRequest(caller=m, account_id=a))
            ).budget.budget_id
        return await fn(w, c, ident)

    return call


def _on_account(fn: Callable[[World, Caller, str], Awaitable[Any]]) -> Call:
    async def call(w: World, c: Caller, relation: str) -> Any:
        return await fn(w, c, await w.account(c))

    return call


def _name(account: accounts_pb2.Account) -> str:
    return account.settings.account_name


async def _delete_account(w: World, c: Caller, acct: str) -> Any:
    got = await w.auth.accounts.GetAccount(accounts_pb2.GetAccountRequest(caller=w.auth.master, account_id=acct))
    return await w.auth.accounts.DeleteAccount(
        accounts_pb2.DeleteAccountRequest(caller=c.principal, account_id=acct, confirm=_name(got.account))
    )


def _email() -> str:
    return f"{uuid.uuid4().hex[:10]}@walk.example"


CASES: dict[Op, Case] = {
    Op.ACCOUNT_CREATE: Case(
        "global",
        lambda w, c, r: w.auth.accounts.CreateAccount(
            accounts_pb2.CreateAccountRequest(
                caller=c.principal, settings=accounts_pb2.AccountSettings(account_name=f"w-{uuid.uuid4().hex[:8]}")
            )
        ),
    ),
    Op.ACCOUNT_LIST: Case(
        "global", lambda w, c, r: w.auth.accounts.ListAccounts(accounts_pb2.ListAccountsRequest(caller=c.principal))
    ),
    Op.ACCOUNT_READ: Case(
        "account",
        _on_account(
            lambda w, c, a: w.auth.accounts.GetAccount(accounts_pb2.GetAccountRequest(caller=c.principal, account_id=a))
        ),
    ),
    Op.ACCOUNT_UPDATE: Case(
        "account",
        _on_account(
            lambda w, c, a: w.auth.accounts.UpdateAccount(
                accounts_pb2.UpdateAccountRequest(
                    caller=c.principal,
                    account_id=a,
                    settings=accounts_pb2.AccountSettings(account_alias="walked"),
                    update_mask=mask("account_alias"),
                )
            )
        ),
    ),
    Op.ACCOUNT_DELETE: Case("account", _on_account(_delete_account)),
    Op.ACCOUNT_ADMINS_READ: Case(
        "account",
        _on_account(
            lambda w, c, a: w.auth.accounts.ListAccountAdmins(
                accounts_pb2.ListAccountAdminsRequest(caller=c.principal, account_id=a)
            )
        ),
    ),
    Op.ACCOUNT_ADMINS_WRITE: Case(
        "account",
        _on_account(
            lambda w, c, a: w.auth.accounts.AddAccountAdmin(
                accounts_pb2.AddAccountAdminRequest(caller=c.principal, account_id=a, user_email=_email())
            )
        ),
    ),
    Op.ENTITLEMENTS_READ: Case(
        "account",
        _on_account(
            lambda w, c, a: w.auth.accounts.GetEntitlements(
                accounts_pb2.GetEntitlementsRequest(caller=c.principal, account_id=a)
            )
        ),
    ),
    Op.ENTITLEMENTS_UPDATE: Case(
        "account",
        _on_account(
            lambda w, c, a: w.auth.accounts.UpdateEntitlements(
                accounts_pb2.UpdateEntitlementsRequest(
                    caller=c.principal,
                    account_id=a,
                    entitlements=accounts_pb2.Entitlements(features={"walked": True}),
                    update_mask=mask("features"),
                )
            )
        ),
    ),
    Op.ORG_CREATE: Case(
        "new",
        lambda w, c, r: w.auth.orgs.CreateOrganization(
            organizations_pb2.CreateOrganizationRequest(caller=c.principal, account_id=c.acct)
        ),
    ),
    Op.ORG_READ: Case(
        "object",
        _on_new(
            "org",
            lambda w, c, i: w.auth.orgs.GetOrganization(
                organizations_pb2.GetOrganizationRequest(caller=c.principal, account_id=c.acct, organization_id=i)
            ),
        ),
    ),
    Op.ORG_UPDATE: Case(
        "object",
        _on_new(
            "org",
            lambda w, c, i: w.auth.orgs.UpdateOrganization(
                organizations_pb2.UpdateOrganizationRequest(
                    caller=c.principal,
                    account_id=c.acct,
                    organization_id=i,
                    settings=organizations_pb2.OrganizationSettings(organization_alias="x"),
                    update_mask=mask("organization_alias"),
                )
            ),
        ),
    ),
    Op.ORG_DELETE: Case(
        "object",
        _on_new(
            "org",
            lambda w, c, i: w.auth.orgs.DeleteOrganizations(
                organizations_pb2.DeleteOrganizationsRequest(
                    caller=c.principal, account_id=c.acct, organization_ids=[i]
                )
            ),
        ),
    ),
    Op.ORG_MEMBERS_WRITE: Case(
        "object",
        _on_new(
            "org",
            lambda w, c, i: w.auth.orgs.AddOrganizationMembers(
                organizations_pb2.AddOrganizationMembersRequest(
                    caller=c.principal,
                    account_id=c.acct,
                    organization_id=i,
                    members=[organizations_pb2.OrganizationMember(user_email=_email())],
                )
            ),
        ),
    ),
    Op.TEAM_CREATE: Case(
        "new",
        lambda w, c, r: w.auth.teams.CreateTeam(teams_pb2.CreateTeamRequest(caller=c.principal, account_id=c.acct)),
    ),
    Op.TEAM_READ: Case(
        "team",
        _on_team(
            lambda w, c, t: w.auth.teams.GetTeam(
                teams_pb2.GetTeamRequest(caller=c.principal, account_id=c.acct, team_id=t)
            )
        ),
    ),
    Op.TEAM_UPDATE: Case(
        "team",
        _on_team(
            lambda w, c, t: w.auth.teams.UpdateTeam(
                teams_pb2.UpdateTeamRequest(
                    caller=c.principal,
                    account_id=c.acct,
                    team_id=t,
                    settings=teams_pb2.TeamSettings(max_budget="1000"),
                    update_mask=mask("max_budget"),
                )
            )
        ),
    ),
    Op.TEAM_DELETE: Case(
        "team",
        _on_team(
            lambda w, c, t: w.auth.teams.DeleteTeams(
                teams_pb2.DeleteTeamsRequest(caller=c.principal, account_id=c.acct, team_ids=[t])
            )
        ),
    ),
    Op.TEAM_MEMBERS_WRITE: Case(
        "team",
        _on_team(
            lambda w, c, t: w.auth.teams.AddTeamMembers(
                teams_pb2.AddTeamMembersRequest(
                    caller=c.principal,
                    account_id=c.acct,
                    team_id=t,
                    members=[teams_pb2.TeamMember(user_email=_email())],
                )
            )
        ),
    ),
    Op.TEAM_MODELS_WRITE: Case(
        "team",
        _on_team(
            lambda w, c, t: w.auth.teams.AddTeamModels(
                teams_pb2.AddTeamModelsRequest(caller=c.principal, account_id=c.acct, team_id=t, models=["m"])
            )
        ),
    ),
    Op.TEAM_BLOCK: Case(
        "team",
        _on_team(
            lambda w, c, t: w.auth.teams.BlockTeam(
                teams_pb2.BlockTeamRequest(caller=c.principal, account_id=c.acct, team_id=t)
            )
        ),
    ),
    Op.USER_CREATE: Case(
        "new",
        lambda w, c, r: w.auth.users.CreateUser(
            users_pb2.CreateUserRequest(
                caller=c.principal, account_id=c.acct, settings=users_pb2.UserSettings(user_email=_email())
            )
        ),
    ),
    Op.USER_READ: Case(
        "user",
        _on_user(
            lambda w, c, u: w.auth.users.GetUser(
                users_pb2.GetUserRequest(caller=c.principal, account_id=c.acct, user_id=u)
            )
        ),
    ),
    Op.USER_UPDATE: Case(
        "user",
        _on_user(
            lambda w, c, u: w.auth.users.UpdateUser(
                users_pb2.UpdateUserRequest(
                    caller=c.principal,
                    account_id=c.acct,
                    user_id=u,
                    settings=users_pb2.UserSettings(user_role="proxy_admin"),
                    update_mask=mask("user_role"),
                )
            )
        ),
    ),
    Op.USER_DELETE: Case(
        "user",
        _on_user(
            lambda w, c, u: w.auth.users.DeleteUsers(
                users_pb2.DeleteUsersRequest(caller=c.principal, account_id=c.acct, user_ids=[u])
            )
        ),
    ),
    Op.CUSTOMER_CREATE: Case(
        "new",
        lambda w, c, r: w.auth.customers.CreateCustomer(
            customers_pb2.CreateCustomerRequest(
                caller=c.principal, account_id=c.acct, user_id=f"c-{uuid.uuid4().hex[:8]}"
            )
        ),
    ),
    Op.CUSTOMER_READ: Case(
        "object",
        _on_new(
            "customer",
            lambda w, c, i: w.auth.customers.GetCustomer(
                customers_pb2.GetCustomerRequest(caller=c.principal, account_id=c.acct, user_id=i)
            ),
        ),
    ),
    Op.CUSTOMER_UPDATE: Case(
        "object",
        _on_new(
            "customer",
            lambda w, c, i: w.auth.customers.UpdateCustomer(
                customers_pb2.UpdateCustomerRequest(
                    caller=c.principal,
                    account_id=c.acct,
                    user_id=i,
                    settings=customers_pb2.CustomerSettings(alias="x"),
                    update_mask=mask("alias"),
                )
            ),
        ),
    ),
    Op.CUSTOMER_DELETE: Case(
        "object",
        _on_new(
            "customer",
            lambda w, c, i: w.auth.customers.DeleteCustomers(
                customers_pb2.DeleteCustomersRequest(caller=c.principal, account_id=c.acct, user_ids=[i])
            ),
        ),
    ),
    Op.CUSTOMER_BLOCK: Case(
        "object",
        _on_new(
            "customer",
            lambda w, c, i: w.auth.customers.BlockCustomers(
                customers_pb2.BlockCustomersRequest(caller=c.principal, account_id=c.acct, user_ids=[i])
            ),
        ),
    ),
    Op.BUDGET_CREATE: Case(
        "new",
        lambda w, c, r: w.auth.budgets.CreateBudget(
            budget_objects_pb2.CreateBudgetRequest(caller=c.principal, account_id=c.acct)
        ),
    ),
    Op.BUDGET_READ: Case(
        "object",
        _on_new(
            "budget",
            lambda w, c, i: w.auth.budgets.GetBudget(
                budget_objects_pb2.GetBudgetRequest(caller=c.principal, account_id=c.acct, budget_id=i)
            ),
        ),
    ),
    Op.BUDGET_UPDATE: Case(
        "object",
        _on_new(
            "budget",
            lambda w, c, i: w.auth.budgets.UpdateBudget(
                budget_objects_pb2.UpdateBudgetRequest(
                    caller=c.principal,
                    account_id=c.acct,
                    budget_id=i,
                    settings=budget_objects_pb2.BudgetObjectSettings(max_budget="1"),
                    update_mask=mask("max_budget"),
                )
            ),
        ),
    ),
    Op.BUDGET_DELETE: Case(
        "object",
        _on_new(
            "budget",
            lambda w, c, i: w.auth.budgets.DeleteBudgets(
                budget_objects_pb2.DeleteBudgetsRequest(caller=c.principal, account_id=c.acct, budget_ids=[i])
            ),
        ),
    ),
    Op.KEY_CREATE: Case("key_new", _key_create),
    Op.KEY_READ: Case(
        "key",
        _on_key(
            lambda w, c, k: w.auth.keys.GetKeyInfo(
                keys_pb2.GetKeyInfoRequest(caller=c.principal, account_id=c.acct, key=k)
            )
        ),
    ),
    Op.KEY_UPDATE: Case(
        "key",
        _on_key(
            lambda w, c, k: w.auth.keys.UpdateKey(
                keys_pb2.UpdateKeyRequest(
                    caller=c.principal,
                    account_id=c.acct,
                    key=k,
                    settings=auth_pb2.KeySettings(tags=["walked"]),
                    update_mask=mask("tags"),
                )
            )
        ),
    ),
    Op.KEY_REGENERATE: Case(
        "key",
        _on_key(
            lambda w, c, k: w.auth.keys.RegenerateKey(
                keys_pb2.RegenerateKeyRequest(caller=c.principal, account_id=c.acct, key=k)
            )
        ),
    ),
    Op.KEY_BLOCK: Case(
        "key",
        _on_key(
            lambda w, c, k: w.auth.keys.BlockKey(keys_pb2.BlockKeyRequest(caller=c.principal, account_id=c.acct, key=k))
        ),
    ),
    Op.KEY_DELETE: Case(
        "key",
        _on_key(
            lambda w, c, k: w.auth.keys.RemoveKeys(
                keys_pb2.RemoveKeysRequest(caller=c.principal, account_id=c.acct, keys=[k])
            )
        ),
    ),
}

# The relations each kind of object can have to a caller.
RELATIONS = {
    "key": ("self", "own", "team", "account"),
    "key_new": ("own", "team", "account"),
    "team": ("team", "account"),
    "user": ("self", "team", "account"),
    "object": ("account",),
    "new": ("account",),
    "account": ("account",),
    "global": ("global",),
}


def applies(role: Role, relation: str, kind: str) -> bool:
    """Whether a caller of ``role`` can stand in ``relation`` to an object of ``kind`` at all."""
    has_user = role not in (Role.SUPER_ADMIN, Role.KEY)
    in_team = role in (Role.TEAM_ADMIN, Role.TEAM_USER)
    if relation == "self":
        return has_user if kind == "user" else role is not Role.SUPER_ADMIN
    if relation == "own":
        return has_user
    if relation == "team":
        return in_team
    return True


def roles_held(role: Role) -> list[Role]:
    """A caller made for ``role`` holds it and what comes with it: team callers are
    internal_user_viewers in their team (an admin of a team is a member of it too)."""
    if role is Role.TEAM_ADMIN:
        return [Role.INTERNAL_USER_VIEWER, Role.TEAM_ADMIN, Role.TEAM_USER]
    if role is Role.TEAM_USER:
        return [Role.INTERNAL_USER_VIEWER, Role.TEAM_USER]
    return [role]


def reaches(reach: Reach, relation: str, kind: str, role: Role) -> bool:
    if reach is Reach.ALL:
        return True
    if relation == "global":
        return False
    if reach is Reach.ACCOUNT:
        return True
    if reach is Reach.TEAM:
        return relation == "team"
    if reach is Reach.OWN:
        # Keys of the caller's user (its own key too) and the user itself.
        return role is not Role.KEY and (relation == "own" or (relation == "self" and kind in ("key", "user")))
    if reach is Reach.SELF:
        return relation == "self"
    return False


def expected(op: Op, role: Role, relation: str) -> bool:
    kind = CASES[op].kind
    return any(reaches(TABLE[op].get(r, Reach.NONE), relation, kind, r) for r in roles_held(role))


def test_every_operation_is_walked() -> None:
    assert set(CASES) == set(Op) == set(TABLE)


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
async def test_authorization_table(auth: Auth, role: Role) -> None:
    world = World(auth, await auth.account())
    mismatches = []
    for op, case in CASES.items():
        for relation in RELATIONS[case.kind]:
            if not applies(role, relation, case.kind):
                continue
            caller = await world.caller(role)
            resp = await case.call(world, caller, relation)
            if resp.HasField("error") and resp.error.kind not in (
                error_pb2.ERROR_KIND_PERMISSION_DENIED,
                error_pb2.ERROR_KIND_NOT_FOUND,
            ):
                mismatches.append(f"{op.value} {relation}: unexpected {resp.error.message} ({resp.error.param})")
                continue
            allowed = not resp.HasField("error")
            if allowed != expected(op, role, relation):
                mismatches.append(
                    f"{op.value} on {relation}: {'allowed' if allowed else 'refused'} "
                    f"({resp.error.message if not allowed else ''})"
                )
    assert not mismatches, "\n".join(mismatches)


def test_visibility_follows_the_table() -> None:
    """Lists show what single reads would allow, as the same table says."""
    admin = authz.Caller("a", Role.PROXY_ADMIN, user_id="u")
    assert authz.visibility(admin, Op.KEY_READ).everything
    member = authz.Caller(
        "a",
        Role.INTERNAL_USER,
        user_id="u",
        key_id="k",
        admin_teams=frozenset({"t"}),
        member_teams=frozenset({"t", "s"}),
    )
    vis = authz.visibility(member, Op.KEY_READ)
    assert not vis.everything and vis.own_user_id == "u" and vis.team_ids == {"t"}
    teams = authz.visibility(member, Op.TEAM_READ)
    assert teams.team_ids == {"t", "s"} and not teams.own_user_id
    key = authz.Caller("a", Role.KEY, key_id="k")
    assert authz.visibility(key, Op.KEY_READ).self_key_id == "k"
    assert authz.visibility(key, Op.TEAM_READ).nothing
    assert not authz.may_attempt(key, Op.TEAM_READ) and authz.may_attempt(key, Op.KEY_READ)
