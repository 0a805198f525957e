"""Isolation between accounts: every RPC that reads or writes an object of account A, called with
a credential of account B (each role; naming A's account or not), answers NOT_FOUND — and
nothing of A changes, nor does any identity event about A go out."""

from __future__ import annotations

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

TABLES = (
    "accounts",
    "account_admins",
    "keys",
    "teams",
    "team_members",
    "users",
    "organizations",
    "organization_members",
    "customers",
    "budgets",
)


@dataclass
class A:
    """Account A's objects."""

    account_id: str
    org: str
    team: str
    user: str
    user_email: str
    customer: str
    budget: str
    key_secret: str
    key_id: str
    key_alias: str


async def _account_a(auth: Auth) -> A:
    m = auth.master
    acct = await auth.account()
    budget = (
        await auth.budgets.CreateBudget(
            budget_objects_pb2.CreateBudgetRequest(
                caller=m, account_id=acct, settings=budget_objects_pb2.BudgetObjectSettings(max_budget="5")
            )
        )
    ).budget.budget_id
    org = (
        await auth.orgs.CreateOrganization(organizations_pb2.CreateOrganizationRequest(caller=m, account_id=acct))
    ).organization.organization_id
    team = await auth.team(acct, organization_id=org, budget_id=budget)
    email = f"a-user-{acct[:8]}@a.example"
    user, _, _ = await auth.user(acct, "internal_user", email=email, teams=(team,))
    await auth.orgs.AddOrganizationMembers(
        organizations_pb2.AddOrganizationMembersRequest(
            caller=m, account_id=acct, organization_id=org, members=[organizations_pb2.OrganizationMember(user_id=user)]
        )
    )
    customer = "a-customer"
    await auth.customers.CreateCustomer(
        customers_pb2.CreateCustomerRequest(caller=m, account_id=acct, user_id=customer)
    )
    await auth.accounts.AddAccountAdmin(
        accounts_pb2.AddAccountAdminRequest(caller=m, account_id=acct, user_email="admin@a.example")
    )
    secret, info = await auth.key(acct, team_id=team, user_id=user, key_alias="a-key")
    return A(acct, org, team, user, email, customer, budget, secret, info.key_id, "a-key")


async def _snapshot(auth: Auth, account_id: str) -> dict[str, list[dict[str, Any]]]:
    out = {}
    async with auth.pool.acquire() as conn:
        for table in TABLES:
            rows = await conn.fetch(f"SELECT * FROM {table} WHERE account_id = $1 ORDER BY 2, 3", account_id)
            out[table] = [dict(r) for r in rows]
    return out


Call = Callable[[Auth, auth_pb2.Principal, str, A], Awaitable[Any]]


def _calls() -> dict[str, Call]:
    """Every RPC of the management plane, aimed at A's objects; ``acct`` is "" or A's id."""
    return {
        "GetAccount": lambda s, c, acct, a: s.accounts.GetAccount(
            accounts_pb2.GetAccountRequest(caller=c, account_id=a.account_id)
        ),
        "UpdateAccount": lambda s, c, acct, a: s.accounts.UpdateAccount(
            accounts_pb2.UpdateAccountRequest(
                caller=c,
                account_id=a.account_id,
                settings=accounts_pb2.AccountSettings(account_alias="x"),
                update_mask=mask("account_alias"),
            )
        ),
        "DeleteAccount": lambda s, c, acct, a: s.accounts.DeleteAccount(
            accounts_pb2.DeleteAccountRequest(caller=c, account_id=a.account_id, confirm="x")
        ),
        "GetEntitlements": lambda s, c, acct, a: s.accounts.GetEntitlements(
            accounts_pb2.GetEntitlementsRequest(caller=c, account_id=a.account_id)
        ),
        "UpdateEntitlements": lambda s, c, acct, a: s.accounts.UpdateEntitlements(
            accounts_pb2.UpdateEntitlementsRequest(caller=c, account_id=a.account_id, update_mask=mask("max_keys"))
        ),
        "AddAccountAdmin": lambda s, c, acct, a: s.accounts.AddAccountAdmin(
            accounts_pb2.AddAccountAdminRequest(caller=c, account_id=a.account_id, user_email="evil@b.example")
        ),
        "UpdateAccountAdmin": lambda s, c, acct, a: s.accounts.UpdateAccountAdmin(
            accounts_pb2.UpdateAccountAdminRequest(
                caller=c, account_id=a.account_id, user_email="admin@a.example", role="account_viewer"
            )
        ),
        "RemoveAccountAdmin": lambda s, c, acct, a: s.accounts.RemoveAccountAdmin(
            accounts_pb2.RemoveAccountAdminRequest(caller=c, account_id=a.account_id, user_email="admin@a.example")
        ),
        "ListAccountAdmins": lambda s, c, acct, a: s.accounts.ListAccountAdmins(
            accounts_pb2.ListAccountAdminsRequest(caller=c, account_id=a.account_id)
        ),
        "GetOrganization": lambda s, c, acct, a: s.orgs.GetOrganization(
            organizations_pb2.GetOrganizationRequest(caller=c, account_id=acct, organization_id=a.org)
        ),
        "UpdateOrganization": lambda s, c, acct, a: s.orgs.UpdateOrganization(
            organizations_pb2.UpdateOrganizationRequest(
                caller=c, account_id=acct, organization_id=a.org, update_mask=mask("organization_alias")
            )
        ),
        "DeleteOrganizations": lambda s, c, acct, a: s.orgs.DeleteOrganizations(
            organizations_pb2.DeleteOrganizationsRequest(caller=c, account_id=acct, organization_ids=[a.org])
        ),
        "AddOrganizationMembers": lambda s, c, acct, a: s.orgs.AddOrganizationMembers(
            organizations_pb2.AddOrganizationMembersRequest(
                caller=c,
                account_id=acct,
                organization_id=a.org,
                members=[organizations_pb2.OrganizationMember(user_email="x@b.example")],
            )
        ),
        "UpdateOrganizationMember": lambda s, c, acct, a: s.orgs.UpdateOrganizationMember(
            organizations_pb2.UpdateOrganizationMemberRequest(
                caller=c,
                account_id=acct,
                member=organizations_pb2.OrganizationMember(
                    organization_id=a.org, user_id=a.user, user_role="org_admin"
                ),
            )
        ),
        "RemoveOrganizationMembers": lambda s, c, acct, a: s.orgs.RemoveOrganizationMembers(
            organizations_pb2.RemoveOrganizationMembersRequest(
                caller=c, account_id=acct, organization_id=a.org, user_ids=[a.user]
            )
        ),
        "GetTeam": lambda s, c, acct, a: s.teams.GetTeam(
            teams_pb2.GetTeamRequest(caller=c, account_id=acct, team_id=a.team)
        ),
        "UpdateTeam": lambda s, c, acct, a: s.teams.UpdateTeam(
            teams_pb2.UpdateTeamRequest(caller=c, account_id=acct, team_id=a.team, update_mask=mask("max_budget"))
        ),
        "DeleteTeams": lambda s, c, acct, a: s.teams.DeleteTeams(
            teams_pb2.DeleteTeamsRequest(caller=c, account_id=acct, team_ids=[a.team])
        ),
        "AddTeamMembers": lambda s, c, acct, a: s.teams.AddTeamMembers(
            teams_pb2.AddTeamMembersRequest(
                caller=c, account_id=acct, team_id=a.team, members=[teams_pb2.TeamMember(user_email="x@b.example")]
            )
        ),
        "UpdateTeamMember": lambda s, c, acct, a: s.teams.UpdateTeamMember(
            teams_pb2.UpdateTeamMemberRequest(
                caller=c,
                account_id=acct,
                member=teams_pb2.TeamMember(team_id=a.team, user_id=a.user, role="admin"),
                update_mask=mask("role"),
            )
        ),
        "RemoveTeamMembers": lambda s, c, acct, a: s.teams.RemoveTeamMembers(
            teams_pb2.RemoveTeamMembersRequest(caller=c, account_id=acct, team_id=a.team, user_ids=[a.user])
        ),
        "AddTeamModels": lambda s, c, acct, a: s.teams.AddTeamModels(
            teams_pb2.AddTeamModelsRequest(caller=c, account_id=acct, team_id=a.team, models=["x"])
        ),
        "RemoveTeamModels": lambda s, c, acct, a: s.teams.RemoveTeamModels(
            teams_pb2.RemoveTeamModelsRequest(caller=c, account_id=acct, team_id=a.team, models=["x"])
        ),
        "BlockTeam": lambda s, c, acct, a: s.teams.BlockTeam(
            teams_pb2.BlockTeamRequest(caller=c, account_id=acct, team_id=a.team)
        ),
        "UnblockTeam": lambda s, c, acct, a: s.teams.UnblockTeam(
            teams_pb2.UnblockTeamRequest(caller=c, account_id=acct, team_id=a.team)
        ),
        "GetUser": lambda s, c, acct, a: s.users.GetUser(
            users_pb2.GetUserRequest(caller=c, account_id=acct, user_id=a.user)
        ),
        "UpdateUser": lambda s, c, acct, a: s.users.UpdateUser(
            users_pb2.UpdateUserRequest(
                caller=c,
                account_id=acct,
                user_id=a.user,
                settings=users_pb2.UserSettings(user_role="proxy_admin"),
                update_mask=mask("user_role"),
            )
        ),
        "DeleteUsers": lambda s, c, acct, a: s.users.DeleteUsers(
            users_pb2.DeleteUsersRequest(caller=c, account_id=acct, user_ids=[a.user])
        ),
        "GetCustomer": lambda s, c, acct, a: s.customers.GetCustomer(
            customers_pb2.GetCustomerRequest(caller=c, account_id=acct, user_id=a.customer)
        ),
        "UpdateCustomer": lambda s, c, acct, a: s.customers.UpdateCustomer(
            customers_pb2.UpdateCustomerRequest(
                caller=c, account_id=acct, user_id=a.customer, update_mask=mask("alias")
            )
        ),
        "DeleteCustomers": lambda s, c, acct, a: s.customers.DeleteCustomers(
            customers_pb2.DeleteCustomersRequest(caller=c, account_id=acct, user_ids=[a.customer])
        ),
        "BlockCustomers": lambda s, c, acct, a: s.customers.BlockCustomers(
            customers_pb2.BlockCustomersRequest(caller=c, account_id=acct, user_ids=[a.customer])
        ),
        "UnblockCustomers": lambda s, c, acct, a: s.customers.UnblockCustomers(
            customers_pb2.UnblockCustomersRequest(caller=c, account_id=acct, user_ids=[a.customer])
        ),
        "GetBudget": lambda s, c, acct, a: s.budgets.GetBudget(
            budget_objects_pb2.GetBudgetRequest(caller=c, account_id=acct, budget_id=a.budget)
        ),
        "UpdateBudget": lambda s, c, acct, a: s.budgets.UpdateBudget(
            budget_objects_pb2.UpdateBudgetRequest(
                caller=c, account_id=acct, budget_id=a.budget, update_mask=mask("max_budget")
            )
        ),
        "DeleteBudgets": lambda s, c, acct, a: s.budgets.DeleteBudgets(
            budget_objects_pb2.DeleteBudgetsRequest(caller=c, account_id=acct, budget_ids=[a.budget])
        ),
        "GetKeyInfo": lambda s, c, acct, a: s.keys.GetKeyInfo(
            keys_pb2.GetKeyInfoRequest(caller=c, account_id=acct, key=a.key_id)
        ),
        "GetKeyInfo(secret)": lambda s, c, acct, a: s.keys.GetKeyInfo(
            keys_pb2.GetKeyInfoRequest(caller=c, account_id=acct, key=a.key_secret)
        ),
        "UpdateKey": lambda s, c, acct, a: s.keys.UpdateKey(
            keys_pb2.UpdateKeyRequest(caller=c, account_id=acct, key=a.key_id, update_mask=mask("max_budget"))
        ),
        "RegenerateKey": lambda s, c, acct, a: s.keys.RegenerateKey(
            keys_pb2.RegenerateKeyRequest(caller=c, account_id=acct, key=a.key_secret)
        ),
        "BlockKey": lambda s, c, acct, a: s.keys.BlockKey(
            keys_pb2.BlockKeyRequest(caller=c, account_id=acct, key=a.key_id)
        ),
        "UnblockKey": lambda s, c, acct, a: s.keys.UnblockKey(
            keys_pb2.UnblockKeyRequest(caller=c, account_id=acct, key=a.key_id)
        ),
        "RemoveKeys": lambda s, c, acct, a: s.keys.RemoveKeys(
            keys_pb2.RemoveKeysRequest(caller=c, account_id=acct, keys=[a.key_id])
        ),
        "RemoveKeys(alias)": lambda s, c, acct, a: s.keys.RemoveKeys(
            keys_pb2.RemoveKeysRequest(caller=c, account_id=acct, key_aliases=[a.key_alias])
        ),
        "GetKey(legacy)": lambda s, c, acct, a: s.auth.GetKey(auth_pb2.GetKeyRequest(caller=c, key=a.key_secret)),
    }


# RPCs that take no object, aimed at A by naming its account.
def _account_named_calls() -> dict[str, Call]:
    return {
        "CreateOrganization": lambda s, c, acct, a: s.orgs.CreateOrganization(
            organizations_pb2.CreateOrganizationRequest(caller=c, account_id=a.account_id)
        ),
        "ListOrganizations": lambda s, c, acct, a: s.orgs.ListOrganizations(
            organizations_pb2.ListOrganizationsRequest(caller=c, account_id=a.account_id)
        ),
        "CreateTeam": lambda s, c, acct, a: s.teams.CreateTeam(
            teams_pb2.CreateTeamRequest(caller=c, account_id=a.account_id)
        ),
        "ListTeams": lambda s, c, acct, a: s.teams.ListTeams(
            teams_pb2.ListTeamsRequest(caller=c, account_id=a.account_id)
        ),
        "CreateUser": lambda s, c, acct, a: s.users.CreateUser(
            users_pb2.CreateUserRequest(caller=c, account_id=a.account_id)
        ),
        "ListUsers": lambda s, c, acct, a: s.users.ListUsers(
            users_pb2.ListUsersRequest(caller=c, account_id=a.account_id)
        ),
        "CreateCustomer": lambda s, c, acct, a: s.customers.CreateCustomer(
            customers_pb2.CreateCustomerRequest(caller=c, account_id=a.account_id, user_id="b-made")
        ),
        "ListCustomers": lambda s, c, acct, a: s.customers.ListCustomers(
            customers_pb2.ListCustomersRequest(caller=c, account_id=a.account_id)
        ),
        "CreateBudget": lambda s, c, acct, a: s.budgets.CreateBudget(
            budget_objects_pb2.CreateBudgetRequest(caller=c, account_id=a.account_id)
        ),
        "ListBudgets": lambda s, c, acct, a: s.budgets.ListBudgets(
            budget_objects_pb2.ListBudgetsRequest(caller=c, account_id=a.account_id)
        ),
        "CreateKey": lambda s, c, acct, a: s.keys.CreateKey(
            keys_pb2.CreateKeyRequest(caller=c, account_id=a.account_id)
        ),
        "ListKeys": lambda s, c, acct, a: s.keys.ListKeys(keys_pb2.ListKeysRequest(caller=c, account_id=a.account_id)),
    }


B_ROLES = ("proxy_admin", "proxy_admin_viewer", "internal_user", "internal_user_viewer", "key")


@pytest.mark.parametrize("role", B_ROLES)
async def test_account_b_cannot_reach_account_a(auth: Auth, role: str) -> None:
    a = await _account_a(auth)
    b = await auth.account()
    if role == "key":
        secret, _ = await auth.key(b)
        caller = await auth.principal(secret)
    else:
        _, _, caller = await auth.user(b, role)
    before = await _snapshot(auth, a.account_id)
    events_before = len(auth.events)
    wrong = []
    for name, call in _calls().items():
        for acct in ("", a.account_id):
            names_account = name.endswith("Account") or "Entitlements" in name or "AccountAdmin" in name
            if names_account and acct:
                continue  # these name the account in any case
            resp = await call(auth, caller, acct, a)
            if resp.error.kind != error_pb2.ERROR_KIND_NOT_FOUND:
                wrong.append(f"{name} (account_id={acct!r}): {resp.error.kind} {resp.error.message or 'succeeded'}")
    for name, call in _account_named_calls().items():
        resp = await call(auth, caller, a.account_id, a)
        if resp.error.kind != error_pb2.ERROR_KIND_NOT_FOUND:
            wrong.append(f"{name}: {resp.error.kind} {resp.error.message or 'succeeded'}")
    assert not wrong, "\n".join(wrong)
    assert await _snapshot(auth, a.account_id) == before, "nothing of A changed"
    assert not [e for e in auth.events[events_before:] if e.account_id == a.account_id]


async def test_b_cannot_point_its_objects_at_a(auth: Auth) -> None:
    """B's own objects cannot name A's team, user, organisation or budget: those are not found."""
    a = await _account_a(auth)
    b = await auth.account()
    _, _, admin = await auth.user(b, "proxy_admin")
    before = await _snapshot(auth, a.account_id)
    b_team = (await auth.teams.CreateTeam(teams_pb2.CreateTeamRequest(caller=admin))).team.team_id
    attempts = {
        "key in A's team": auth.keys.CreateKey(
            keys_pb2.CreateKeyRequest(caller=admin, settings=auth_pb2.KeySettings(team_id=a.team))
        ),
        "key of A's user": auth.keys.CreateKey(
            keys_pb2.CreateKeyRequest(caller=admin, settings=auth_pb2.KeySettings(user_id=a.user))
        ),
        "key with A's budget": auth.keys.CreateKey(
            keys_pb2.CreateKeyRequest(caller=admin, settings=auth_pb2.KeySettings(budget_id=a.budget))
        ),
        "team in A's organisation": auth.teams.CreateTeam(
            teams_pb2.CreateTeamRequest(caller=admin, settings=teams_pb2.TeamSettings(organization_id=a.org))
        ),
        "A's user into B's team": auth.teams.AddTeamMembers(
            teams_pb2.AddTeamMembersRequest(
                caller=admin, team_id=b_team, members=[teams_pb2.TeamMember(user_id=a.user)]
            )
        ),
        "user into A's team": auth.users.CreateUser(users_pb2.CreateUserRequest(caller=admin, teams=[a.team])),
    }
    for what, call in attempts.items():
        resp = await call
        assert resp.error.kind == error_pb2.ERROR_KIND_BAD_REQUEST and "not found" in resp.error.message, what
    # A's user's e-mail is free in B: accounts do not share users.
    same_email = await auth.users.CreateUser(
        users_pb2.CreateUserRequest(caller=admin, settings=users_pb2.UserSettings(user_email=a.user_email))
    )
    assert not same_email.HasField("error") and same_email.user.account_id == b
    # B's lists hold nothing of A.
    keys = await auth.keys.ListKeys(keys_pb2.ListKeysRequest(caller=admin))
    teams = await auth.teams.ListTeams(teams_pb2.ListTeamsRequest(caller=admin))
    users = await auth.users.ListUsers(users_pb2.ListUsersRequest(caller=admin))
    assert {k.account_id for k in keys.keys} == {b} and {t.account_id for t in teams.teams} == {b}
    assert a.user not in {u.user_id for u in users.users}
    assert await _snapshot(auth, a.account_id) == before
