"""The management plane's RPCs: each one's happy path, its validation errors (naming the field),
entitlements, the two-step account deletion, key regeneration, budget objects and the principal."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
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
from switchyard.events.v1 import identity_pb2
from switchyard.llm.v1 import error_pb2

A = identity_pb2.IdentityAction
E = identity_pb2.IdentityEntity


def ok(resp: Any) -> Any:
    assert not resp.HasField("error"), f"{resp.error.message} ({resp.error.param})"
    return resp


def refused(resp: Any, kind: int, param: str | None = None) -> error_pb2.Error:
    assert resp.HasField("error"), f"expected an error, got {resp}"
    assert resp.error.kind == kind, f"{resp.error.kind}: {resp.error.message}"
    if param is not None:
        assert resp.error.param == param, f"param {resp.error.param!r}: {resp.error.message}"
    return resp.error


def events_of(auth: Auth, entity: int) -> list[identity_pb2.IdentityEvent]:
    return [e for e in auth.events if e.entity == entity]


async def test_accounts_entitlements_and_admins(auth: Auth) -> None:
    m = auth.master
    name = f"acme-{uuid.uuid4().hex[:8]}"
    made = ok(
        await auth.accounts.CreateAccount(
            accounts_pb2.CreateAccountRequest(
                caller=m,
                settings=accounts_pb2.AccountSettings(account_name=name, domain=f"{name}.example"),
                entitlements=accounts_pb2.Entitlements(max_keys=5, features={"playground": False}),
            )
        )
    ).account
    acct = made.account_id
    assert made.settings.status == "active" and made.entitlements.max_keys == 5
    assert events_of(auth, E.IDENTITY_ENTITY_ACCOUNT)[-1].account.account_id == acct
    # Names and domains are unique; values are checked.
    for settings, param in (
        (accounts_pb2.AccountSettings(account_name=name), "account_name"),
        (accounts_pb2.AccountSettings(), "account_name"),
        (accounts_pb2.AccountSettings(account_name="x" + name, domain="Not A Domain"), "domain"),
        (accounts_pb2.AccountSettings(account_name="y" + name, status="deleted"), "status"),
        (accounts_pb2.AccountSettings(account_name="z" + name, metadata_json=b"[1]"), "metadata"),
    ):
        refused(
            await auth.accounts.CreateAccount(accounts_pb2.CreateAccountRequest(caller=m, settings=settings)),
            error_pb2.ERROR_KIND_BAD_REQUEST,
            param,
        )
    got = ok(await auth.accounts.GetAccount(accounts_pb2.GetAccountRequest(caller=m, account_id=acct))).account
    assert got.settings.account_name == name
    listed = ok(await auth.accounts.ListAccounts(accounts_pb2.ListAccountsRequest(caller=m, limit=1)))
    assert len(listed.accounts) == 1 and listed.total_count >= 2
    updated = ok(
        await auth.accounts.UpdateAccount(
            accounts_pb2.UpdateAccountRequest(
                caller=m,
                account_id=acct,
                settings=accounts_pb2.AccountSettings(account_alias="Acme Inc", account_name="ignored"),
                update_mask=mask("account_alias"),
            )
        )
    ).account
    assert updated.settings.account_alias == "Acme Inc" and updated.settings.account_name == name
    assert updated.version > made.version
    # Suspension stops the account's keys; reactivation restores them.
    secret, _ = await auth.key(acct)
    for status, works in (("suspended", False), ("active", True)):
        ok(
            await auth.accounts.UpdateAccount(
                accounts_pb2.UpdateAccountRequest(
                    caller=m,
                    account_id=acct,
                    settings=accounts_pb2.AccountSettings(status=status),
                    update_mask=mask("status"),
                )
            )
        )
        resp = await auth.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=secret))
        assert (resp.WhichOneof("result") == "principal") is works, resp
    # Entitlements merge: named fields replace (unset removes), features merge flag by flag.
    merged = ok(
        await auth.accounts.UpdateEntitlements(
            accounts_pb2.UpdateEntitlementsRequest(
                caller=m,
                account_id=acct,
                entitlements=accounts_pb2.Entitlements(max_teams=3, features={"copilot_agents": False}),
                update_mask=mask("max_teams", "max_keys", "features"),
            )
        )
    ).entitlements
    assert merged.max_teams == 3 and not merged.HasField("max_keys")
    assert dict(merged.features) == {"playground": False, "copilot_agents": False}
    refused(
        await auth.accounts.UpdateEntitlements(
            accounts_pb2.UpdateEntitlementsRequest(
                caller=m,
                account_id=acct,
                entitlements=accounts_pb2.Entitlements(max_budget="lots"),
                update_mask=mask("max_budget"),
            )
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "max_budget",
    )
    # Every credential of the account reads its entitlements; only super admins change them.
    _, _, user = await auth.user(acct, "internal_user")
    seen = ok(await auth.accounts.GetEntitlements(accounts_pb2.GetEntitlementsRequest(caller=user)))
    assert seen.account_id == acct and seen.entitlements.max_teams == 3
    refused(
        await auth.accounts.UpdateEntitlements(
            accounts_pb2.UpdateEntitlementsRequest(caller=user, account_id=acct, update_mask=mask("max_teams"))
        ),
        error_pb2.ERROR_KIND_PERMISSION_DENIED,
    )
    # Admins by e-mail.
    added = ok(
        await auth.accounts.AddAccountAdmin(
            accounts_pb2.AddAccountAdminRequest(caller=m, account_id=acct, user_email="Boss@Acme.Example")
        )
    ).admin
    assert added.user_email == "boss@acme.example" and added.role == "account_admin"
    refused(
        await auth.accounts.AddAccountAdmin(
            accounts_pb2.AddAccountAdminRequest(caller=m, account_id=acct, user_email="boss@acme.example")
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "user_email",
    )
    refused(
        await auth.accounts.AddAccountAdmin(
            accounts_pb2.AddAccountAdminRequest(caller=m, account_id=acct, user_email="not-an-email")
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "user_email",
    )
    changed = ok(
        await auth.accounts.UpdateAccountAdmin(
            accounts_pb2.UpdateAccountAdminRequest(
                caller=m, account_id=acct, user_email="boss@acme.example", role="account_viewer"
            )
        )
    ).admin
    assert changed.role == "account_viewer"
    refused(
        await auth.accounts.UpdateAccountAdmin(
            accounts_pb2.UpdateAccountAdminRequest(
                caller=m, account_id=acct, user_email="boss@acme.example", role="god"
            )
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "role",
    )
    admins = ok(await auth.accounts.ListAccountAdmins(accounts_pb2.ListAccountAdminsRequest(caller=m, account_id=acct)))
    assert [a.user_email for a in admins.admins] == ["boss@acme.example"]
    ok(
        await auth.accounts.RemoveAccountAdmin(
            accounts_pb2.RemoveAccountAdminRequest(caller=m, account_id=acct, user_email="boss@acme.example")
        )
    )
    refused(
        await auth.accounts.RemoveAccountAdmin(
            accounts_pb2.RemoveAccountAdminRequest(caller=m, account_id=acct, user_email="boss@acme.example")
        ),
        error_pb2.ERROR_KIND_NOT_FOUND,
        "user_email",
    )
    assert [e.action for e in events_of(auth, E.IDENTITY_ENTITY_ACCOUNT_ADMIN)] == [
        A.IDENTITY_ACTION_CREATED,
        A.IDENTITY_ACTION_UPDATED,
        A.IDENTITY_ACTION_DELETED,
    ]


async def test_account_delete_is_two_step_and_archives(auth: Auth) -> None:
    m = auth.master
    name = f"gone-{uuid.uuid4().hex[:8]}"
    acct = await auth.account(name)
    team = await auth.team(acct, team_alias="t")
    _, admin_secret, _ = await auth.user(acct, "proxy_admin")
    secret, info = await auth.key(acct, team_id=team)
    before = len(auth.events)
    for confirm in ("", "wrong"):
        err = refused(
            await auth.accounts.DeleteAccount(
                accounts_pb2.DeleteAccountRequest(caller=m, account_id=acct, confirm=confirm)
            ),
            error_pb2.ERROR_KIND_BAD_REQUEST,
            "confirm",
        )
        assert "2 keys" in err.message and "1 teams" in err.message and name in err.message
    assert len(auth.events) == before, "asking changed nothing"
    await auth.principal(secret)
    done = ok(
        await auth.accounts.DeleteAccount(accounts_pb2.DeleteAccountRequest(caller=m, account_id=acct, confirm=name))
    )
    assert done.deleted_keys == 2 and done.archived_teams == 1 and done.archived_users == 1
    assert done.account.settings.status == "deleted"
    for s in (secret, admin_secret):
        resp = await auth.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=s))
        assert resp.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION
    deleted = [e for e in auth.events[before:] if e.action == A.IDENTITY_ACTION_DELETED]
    assert {e.key_id for e in deleted if e.entity == E.IDENTITY_ENTITY_KEY} >= {info.key_id}
    assert deleted[-1].entity == E.IDENTITY_ENTITY_ACCOUNT and deleted[-1].account_id == acct
    # Archived: no one writes to it any more, its name can be used again.
    refused(
        await auth.teams.CreateTeam(teams_pb2.CreateTeamRequest(caller=m, account_id=acct)),
        error_pb2.ERROR_KIND_NOT_FOUND,
        "account_id",
    )
    await auth.account(name)
    refused(
        await auth.accounts.DeleteAccount(
            accounts_pb2.DeleteAccountRequest(caller=m, account_id="default", confirm="default")
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "account_id",
    )


async def test_organizations_and_their_members(auth: Auth) -> None:
    m = auth.master
    acct = await auth.account()
    org = ok(
        await auth.orgs.CreateOrganization(
            organizations_pb2.CreateOrganizationRequest(
                caller=m,
                account_id=acct,
                settings=organizations_pb2.OrganizationSettings(
                    organization_alias="Research", models=["gpt-4o", "claude"], max_budget="100", budget_duration="30d"
                ),
            )
        )
    ).organization
    oid = org.organization_id
    assert org.limit.max_budget == "100" and org.limit.version == org.version
    refused(
        await auth.orgs.CreateOrganization(
            organizations_pb2.CreateOrganizationRequest(
                caller=m, account_id=acct, settings=organizations_pb2.OrganizationSettings(budget_duration="fortnight")
            )
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "budget_duration",
    )
    refused(
        await auth.orgs.CreateOrganization(
            organizations_pb2.CreateOrganizationRequest(
                caller=m, account_id=acct, settings=organizations_pb2.OrganizationSettings(budget_id="nope")
            )
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "budget_id",
    )
    # A team's models lie within its organisation's.
    refused(
        await auth.teams.CreateTeam(
            teams_pb2.CreateTeamRequest(
                caller=m, account_id=acct, settings=teams_pb2.TeamSettings(organization_id=oid, models=["llama"])
            )
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "models",
    )
    team = await auth.team(acct, organization_id=oid, models=["gpt-4o"])
    uid, _, _ = await auth.user(acct)
    with_members = ok(
        await auth.orgs.AddOrganizationMembers(
            organizations_pb2.AddOrganizationMembersRequest(
                caller=m,
                account_id=acct,
                organization_id=oid,
                members=[
                    organizations_pb2.OrganizationMember(user_id=uid, user_role="org_admin"),
                    organizations_pb2.OrganizationMember(user_email="new@org.example"),
                ],
            )
        )
    ).organization
    assert sorted(x.user_role for x in with_members.members) == ["internal_user", "org_admin"]
    assert list(with_members.teams) == [team]
    refused(
        await auth.orgs.AddOrganizationMembers(
            organizations_pb2.AddOrganizationMembersRequest(
                caller=m,
                account_id=acct,
                organization_id=oid,
                members=[organizations_pb2.OrganizationMember(user_id=uid, user_role="emperor")],
            )
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "user_role",
    )
    member = ok(
        await auth.orgs.UpdateOrganizationMember(
            organizations_pb2.UpdateOrganizationMemberRequest(
                caller=m,
                account_id=acct,
                member=organizations_pb2.OrganizationMember(
                    organization_id=oid, user_id=uid, user_role="internal_user"
                ),
            )
        )
    ).member
    assert member.user_role == "internal_user"
    listed = ok(
        await auth.orgs.ListOrganizations(
            organizations_pb2.ListOrganizationsRequest(caller=m, account_id=acct, organization_alias="searc")
        )
    )
    assert [o.organization_id for o in listed.organizations] == [oid] and listed.total_count == 1
    updated = ok(
        await auth.orgs.UpdateOrganization(
            organizations_pb2.UpdateOrganizationRequest(
                caller=m,
                account_id=acct,
                organization_id=oid,
                settings=organizations_pb2.OrganizationSettings(max_budget="50"),
                update_mask=mask("max_budget"),
            )
        )
    ).organization
    assert updated.limit.max_budget == "50" and updated.settings.budget_duration == "30d"
    after = ok(
        await auth.orgs.RemoveOrganizationMembers(
            organizations_pb2.RemoveOrganizationMembersRequest(
                caller=m, account_id=acct, organization_id=oid, user_emails=["new@org.example"]
            )
        )
    ).organization
    assert [x.user_id for x in after.members] == [uid]
    # An organisation with teams stays; without, it goes.
    refused(
        await auth.orgs.DeleteOrganizations(
            organizations_pb2.DeleteOrganizationsRequest(caller=m, account_id=acct, organization_ids=[oid])
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "organization_ids",
    )
    ok(await auth.teams.DeleteTeams(teams_pb2.DeleteTeamsRequest(caller=m, account_id=acct, team_ids=[team])))
    gone = ok(
        await auth.orgs.DeleteOrganizations(
            organizations_pb2.DeleteOrganizationsRequest(caller=m, account_id=acct, organization_ids=[oid])
        )
    )
    assert list(gone.deleted_organization_ids) == [oid]
    refused(
        await auth.orgs.GetOrganization(
            organizations_pb2.GetOrganizationRequest(caller=m, account_id=acct, organization_id=oid)
        ),
        error_pb2.ERROR_KIND_NOT_FOUND,
        "organization_id",
    )
    kinds = {e.entity for e in auth.events}
    assert {E.IDENTITY_ENTITY_ORGANIZATION, E.IDENTITY_ENTITY_ORGANIZATION_MEMBER} <= kinds


async def test_teams_members_models_and_blocking(auth: Auth) -> None:
    m = auth.master
    acct = await auth.account()
    uid, _, _ = await auth.user(acct)
    created = ok(
        await auth.teams.CreateTeam(
            teams_pb2.CreateTeamRequest(
                caller=m,
                account_id=acct,
                team_id="ml",
                settings=teams_pb2.TeamSettings(
                    team_alias="ML", models=["gpt-4o"], max_budget="20", rpm_limit=100, model_aliases={"fast": "gpt-4o"}
                ),
                members=[teams_pb2.TeamMember(user_id=uid, role="admin")],
            )
        )
    ).team
    assert created.team_id == "ml" and [x.role for x in created.members] == ["admin"]
    assert created.limit.max_budget == "20" and created.rate_limits.rpm_limit == 100
    refused(
        await auth.teams.CreateTeam(teams_pb2.CreateTeamRequest(caller=m, account_id=acct, team_id="ml")),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "team_id",
    )
    for settings, param in (
        (teams_pb2.TeamSettings(max_budget="-5"), "max_budget"),
        (teams_pb2.TeamSettings(rpm_limit=-1), "rpm_limit"),
        (teams_pb2.TeamSettings(model_aliases={"": "x"}), "model_aliases"),
        (teams_pb2.TeamSettings(tags=["x" * 300]), "tags"),
        (teams_pb2.TeamSettings(organization_id="nope"), "organization_id"),
    ):
        refused(
            await auth.teams.CreateTeam(teams_pb2.CreateTeamRequest(caller=m, account_id=acct, settings=settings)),
            error_pb2.ERROR_KIND_BAD_REQUEST,
            param,
        )
    # Members: by e-mail (a new user), twice is refused, roles are checked.
    team = ok(
        await auth.teams.AddTeamMembers(
            teams_pb2.AddTeamMembersRequest(
                caller=m,
                account_id=acct,
                team_id="ml",
                members=[teams_pb2.TeamMember(user_email="ada@ml.example", max_budget_in_team="5")],
            )
        )
    ).team
    ada = next(x for x in team.members if x.user_email == "ada@ml.example")
    assert ada.role == "user" and ada.limit.max_budget == "5"
    refused(
        await auth.teams.AddTeamMembers(
            teams_pb2.AddTeamMembersRequest(
                caller=m, account_id=acct, team_id="ml", members=[teams_pb2.TeamMember(user_id=uid)]
            )
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "members",
    )
    refused(
        await auth.teams.AddTeamMembers(
            teams_pb2.AddTeamMembersRequest(
                caller=m, account_id=acct, team_id="ml", members=[teams_pb2.TeamMember(user_id="ghost")]
            )
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "user_id",
    )
    changed = ok(
        await auth.teams.UpdateTeamMember(
            teams_pb2.UpdateTeamMemberRequest(
                caller=m,
                account_id=acct,
                member=teams_pb2.TeamMember(team_id="ml", user_email="ada@ml.example", role="admin"),
                update_mask=mask("role"),
            )
        )
    ).member
    assert changed.role == "admin" and changed.max_budget_in_team == "5"
    refused(
        await auth.teams.UpdateTeamMember(
            teams_pb2.UpdateTeamMemberRequest(
                caller=m,
                account_id=acct,
                member=teams_pb2.TeamMember(team_id="ml", user_id=uid, role="owner"),
                update_mask=mask("role"),
            )
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "role",
    )
    after = ok(
        await auth.teams.RemoveTeamMembers(
            teams_pb2.RemoveTeamMembersRequest(caller=m, account_id=acct, team_id="ml", user_emails=["ada@ml.example"])
        )
    ).team
    assert [x.user_id for x in after.members] == [uid]
    # Models.
    models = ok(
        await auth.teams.AddTeamModels(
            teams_pb2.AddTeamModelsRequest(caller=m, account_id=acct, team_id="ml", models=["claude", "gpt-4o"])
        )
    ).team
    assert list(models.settings.models) == ["gpt-4o", "claude"]
    models = ok(
        await auth.teams.RemoveTeamModels(
            teams_pb2.RemoveTeamModelsRequest(caller=m, account_id=acct, team_id="ml", models=["gpt-4o"])
        )
    ).team
    assert list(models.settings.models) == ["claude"]
    # Update, list, get.
    updated = ok(
        await auth.teams.UpdateTeam(
            teams_pb2.UpdateTeamRequest(
                caller=m,
                account_id=acct,
                team_id="ml",
                settings=teams_pb2.TeamSettings(team_alias="Machine Learning"),
                update_mask=mask("team_alias"),
            )
        )
    ).team
    assert updated.settings.team_alias == "Machine Learning" and updated.settings.max_budget == "20"
    listed = ok(await auth.teams.ListTeams(teams_pb2.ListTeamsRequest(caller=m, account_id=acct, user_id=uid)))
    assert [t.team_id for t in listed.teams] == ["ml"] and listed.total_count == 1
    # Blocking a team stops its keys.
    secret, _ = await auth.key(acct, team_id="ml")
    ok(await auth.teams.BlockTeam(teams_pb2.BlockTeamRequest(caller=m, account_id=acct, team_id="ml")))
    resp = await auth.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=secret))
    assert "team is blocked" in resp.error.message
    assert events_of(auth, E.IDENTITY_ENTITY_TEAM)[-1].action == A.IDENTITY_ACTION_BLOCKED
    ok(await auth.teams.UnblockTeam(teams_pb2.UnblockTeamRequest(caller=m, account_id=acct, team_id="ml")))
    await auth.principal(secret)
    # Deleting a team deletes its keys.
    gone = ok(await auth.teams.DeleteTeams(teams_pb2.DeleteTeamsRequest(caller=m, account_id=acct, team_ids=["ml"])))
    assert gone.deleted_keys == 1
    resp = await auth.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=secret))
    assert resp.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION


async def test_users_with_first_key_roles_and_deletion(auth: Auth) -> None:
    m = auth.master
    acct = await auth.account()
    team = await auth.team(acct)
    made = ok(
        await auth.users.CreateUser(
            users_pb2.CreateUserRequest(
                caller=m,
                account_id=acct,
                settings=users_pb2.UserSettings(user_email="Ann@Example.test", user_role="proxy_admin", max_budget="9"),
                teams=[team],
                create_key=True,
                key_settings=auth_pb2.KeySettings(key_alias="ann-first"),
            )
        )
    )
    assert made.key.startswith("sk-") and made.key_info.settings.user_id == made.user.user_id
    assert [x.team_id for x in made.user.memberships] == [team]
    p = await auth.principal(made.key)
    assert p.role == "proxy_admin" and p.user_limit.max_budget == "9" and p.account_id == acct
    assert not p.is_admin, "is_admin is the master key's: the edge lets it manage what is not per-account"
    for settings, param in (
        (users_pb2.UserSettings(user_email="ann@example.TEST"), "user_email"),
        (users_pb2.UserSettings(user_email="no-at-sign"), "user_email"),
        (users_pb2.UserSettings(user_role="root"), "user_role"),
        (users_pb2.UserSettings(max_budget="a lot"), "max_budget"),
    ):
        refused(
            await auth.users.CreateUser(users_pb2.CreateUserRequest(caller=m, account_id=acct, settings=settings)),
            error_pb2.ERROR_KIND_BAD_REQUEST,
            param,
        )
    refused(
        await auth.users.CreateUser(users_pb2.CreateUserRequest(caller=m, account_id=acct, teams=["nope"])),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "teams",
    )
    # A user reads themself.
    me = ok(await auth.users.GetUser(users_pb2.GetUserRequest(caller=p)))
    assert me.user.user_id == made.user.user_id
    listed = ok(
        await auth.users.ListUsers(users_pb2.ListUsersRequest(caller=m, account_id=acct, user_role="proxy_admin"))
    )
    assert [u.user_id for u in listed.users] == [made.user.user_id]
    listed = ok(await auth.users.ListUsers(users_pb2.ListUsersRequest(caller=m, account_id=acct, team_id=team)))
    assert listed.total_count == 1
    # A role change holds at once, whatever principal the edge cached.
    ok(
        await auth.users.UpdateUser(
            users_pb2.UpdateUserRequest(
                caller=m,
                account_id=acct,
                user_id=made.user.user_id,
                settings=users_pb2.UserSettings(user_role="internal_user_viewer"),
                update_mask=mask("user_role"),
            )
        )
    )
    refused(
        await auth.teams.CreateTeam(teams_pb2.CreateTeamRequest(caller=p)),
        error_pb2.ERROR_KIND_PERMISSION_DENIED,
    )
    refused(
        await auth.users.UpdateUser(
            users_pb2.UpdateUserRequest(
                caller=m, account_id=acct, user_id=made.user.user_id, update_mask=mask("user_role")
            )
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "user_role",
    )
    gone = ok(
        await auth.users.DeleteUsers(
            users_pb2.DeleteUsersRequest(caller=m, account_id=acct, user_ids=[made.user.user_id])
        )
    )
    assert gone.deleted_keys == 1
    assert (await auth.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=made.key))).error.http_status == 401


async def test_customers(auth: Auth) -> None:
    m = auth.master
    acct = await auth.account()
    budget = ok(
        await auth.budgets.CreateBudget(
            budget_objects_pb2.CreateBudgetRequest(
                caller=m,
                account_id=acct,
                settings=budget_objects_pb2.BudgetObjectSettings(max_budget="3", budget_duration="1d", rpm_limit=7),
            )
        )
    ).budget
    c = ok(
        await auth.customers.CreateCustomer(
            customers_pb2.CreateCustomerRequest(
                caller=m,
                account_id=acct,
                user_id="end-user-1",
                settings=customers_pb2.CustomerSettings(
                    alias="E1", budget_id=budget.budget_id, allowed_model_region="eu"
                ),
            )
        )
    ).customer
    assert c.limit.max_budget == "3" and c.limit.budget_duration == "1d" and c.rate_limits.rpm_limit == 7
    refused(
        await auth.customers.CreateCustomer(customers_pb2.CreateCustomerRequest(caller=m, account_id=acct)),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "user_id",
    )
    refused(
        await auth.customers.CreateCustomer(
            customers_pb2.CreateCustomerRequest(
                caller=m,
                account_id=acct,
                user_id="e2",
                settings=customers_pb2.CustomerSettings(allowed_model_region="mars"),
            )
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "allowed_model_region",
    )
    got = ok(
        await auth.customers.GetCustomer(
            customers_pb2.GetCustomerRequest(caller=m, account_id=acct, user_id="end-user-1")
        )
    )
    assert got.customer.settings.alias == "E1"
    listed = ok(
        await auth.customers.ListCustomers(
            customers_pb2.ListCustomersRequest(caller=m, account_id=acct, budget_id=budget.budget_id)
        )
    )
    assert listed.total_count == 1
    updated = ok(
        await auth.customers.UpdateCustomer(
            customers_pb2.UpdateCustomerRequest(
                caller=m,
                account_id=acct,
                user_id="end-user-1",
                settings=customers_pb2.CustomerSettings(max_budget="1"),
                update_mask=mask("max_budget"),
            )
        )
    ).customer
    assert updated.limit.max_budget == "1" and updated.limit.budget_duration == "1d", "own amount, budget's window"
    blocked = ok(
        await auth.customers.BlockCustomers(
            customers_pb2.BlockCustomersRequest(caller=m, account_id=acct, user_ids=["end-user-1"])
        )
    )
    assert blocked.customers[0].settings.blocked
    assert events_of(auth, E.IDENTITY_ENTITY_CUSTOMER)[-1].action == A.IDENTITY_ACTION_BLOCKED
    ok(
        await auth.customers.UnblockCustomers(
            customers_pb2.UnblockCustomersRequest(caller=m, account_id=acct, user_ids=["end-user-1"])
        )
    )
    ok(
        await auth.customers.DeleteCustomers(
            customers_pb2.DeleteCustomersRequest(caller=m, account_id=acct, user_ids=["end-user-1"])
        )
    )
    refused(
        await auth.customers.DeleteCustomers(
            customers_pb2.DeleteCustomersRequest(caller=m, account_id=acct, user_ids=["end-user-1"])
        ),
        error_pb2.ERROR_KIND_NOT_FOUND,
        "user_id",
    )


async def test_budget_objects_feed_the_limits_of_who_points_to_them(auth: Auth) -> None:
    m = auth.master
    acct = await auth.account()
    budget = ok(
        await auth.budgets.CreateBudget(
            budget_objects_pb2.CreateBudgetRequest(
                caller=m,
                account_id=acct,
                budget_id="standard",
                settings=budget_objects_pb2.BudgetObjectSettings(
                    max_budget="10", soft_budget="8", budget_duration="30d"
                ),
            )
        )
    ).budget
    team = await auth.team(acct, budget_id="standard")
    secret, info = await auth.key(acct, team_id=team)
    p = await auth.principal(secret)
    assert p.team_limit.max_budget == "10" and p.team_limit.soft_budget == "8" and p.has_budget
    assert not p.HasField("key_limit"), "the key has no budget of its own"
    old_version = p.team_limit.version
    before = len(auth.events)
    changed = ok(
        await auth.budgets.UpdateBudget(
            budget_objects_pb2.UpdateBudgetRequest(
                caller=m,
                account_id=acct,
                budget_id="standard",
                settings=budget_objects_pb2.BudgetObjectSettings(max_budget="25"),
                update_mask=mask("max_budget"),
            )
        )
    ).budget
    assert changed.settings.max_budget == "25" and changed.settings.budget_duration == "30d"
    fanned = auth.events[before:]
    team_event = next(e for e in fanned if e.entity == E.IDENTITY_ENTITY_TEAM)
    assert team_event.limit.max_budget == "25" and team_event.settings_version > old_version
    assert (await auth.principal(secret)).team_limit.version == team_event.settings_version
    refused(
        await auth.budgets.DeleteBudgets(
            budget_objects_pb2.DeleteBudgetsRequest(caller=m, account_id=acct, budget_ids=["standard"])
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "budget_ids",
    )
    refused(
        await auth.budgets.CreateBudget(
            budget_objects_pb2.CreateBudgetRequest(
                caller=m,
                account_id=acct,
                settings=budget_objects_pb2.BudgetObjectSettings(
                    model_max_budget={"gpt-4o": auth_pb2.ModelBudget(time_period="1d")}
                ),
            )
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
    )
    listed = ok(await auth.budgets.ListBudgets(budget_objects_pb2.ListBudgetsRequest(caller=m, account_id=acct)))
    assert [b.budget_id for b in listed.budgets] == ["standard"]
    got = ok(
        await auth.budgets.GetBudget(
            budget_objects_pb2.GetBudgetRequest(caller=m, account_id=acct, budget_id="standard")
        )
    )
    assert got.budget.version == changed.version and budget.version < changed.version
    ok(
        await auth.teams.UpdateTeam(
            teams_pb2.UpdateTeamRequest(caller=m, account_id=acct, team_id=team, update_mask=mask("budget_id"))
        )
    )
    ok(
        await auth.budgets.DeleteBudgets(
            budget_objects_pb2.DeleteBudgetsRequest(caller=m, account_id=acct, budget_ids=["standard"])
        )
    )
    assert info.key_id


FULL_KEY = dict(
    key_alias="full",
    models=["gpt-4o", "claude"],
    max_budget="5",
    soft_budget="4",
    budget_duration="7d",
    tags=["prod", "team-a"],
    metadata_json=orjson.dumps({"owner": "qa", "n": 1}),
    aliases={"fast": "gpt-4o"},
    allowed_routes=["llm_api_routes", "/key/info"],
    model_max_budget={"gpt-4o": auth_pb2.ModelBudget(budget_limit="1.5", time_period="1d")},
    model_rpm_limit={"gpt-4o": 10},
    model_tpm_limit={"gpt-4o": 1000},
    permissions_json=orjson.dumps({"allow_pii_controls": True}),
    allowed_cache_controls=["no-cache"],
    object_permission_json=orjson.dumps({"mcp_servers": ["s1"]}),
    key_type="llm_api",
    guardrails=["pii"],
)


async def test_keys_carry_every_field_update_list_block_and_delete(auth: Auth) -> None:
    m = auth.master
    acct = await auth.account()
    settings = auth_pb2.KeySettings(**FULL_KEY)  # type: ignore[arg-type]
    settings.limits.rpm_limit = 60
    made = ok(await auth.keys.CreateKey(keys_pb2.CreateKeyRequest(caller=m, account_id=acct, settings=settings)))
    got = ok(
        await auth.keys.GetKeyInfo(keys_pb2.GetKeyInfoRequest(caller=m, account_id=acct, key=made.info.key_id))
    ).info
    # JSON fields come back as the same JSON (PostgreSQL's jsonb orders keys its own way).
    assert orjson.loads(got.settings.metadata_json) == orjson.loads(settings.metadata_json)
    got.settings.metadata_json = settings.metadata_json
    assert got.settings == settings and got.created_by == "master_key"
    assert got.limit.max_budget == "5" and got.limit.soft_budget == "4"
    p = await auth.principal(made.key)
    assert dict(p.model_aliases) == {"fast": "gpt-4o"} and list(p.tags) == ["prod", "team-a"]
    assert list(p.allowed_routes) == ["llm_api_routes", "/key/info"] and p.key_limit.soft_budget == "4"
    assert p.model_max_budget["gpt-4o"].budget_limit == "1.5" and dict(p.model_rpm_limit) == {"gpt-4o": 10}
    assert p.limits.rpm_limit == 60
    for bad, param in (
        (auth_pb2.KeySettings(key_type="superkey"), "key_type"),
        (auth_pb2.KeySettings(permissions_json=b'"yes"'), "permissions"),
        (auth_pb2.KeySettings(model_rpm_limit={"gpt-4o": -1}), "model_rpm_limit"),
        (auth_pb2.KeySettings(soft_budget="NaN-ish"), "soft_budget"),
        (auth_pb2.KeySettings(team_id="nope"), "team_id"),
        (auth_pb2.KeySettings(user_id="nope"), "user_id"),
        (auth_pb2.KeySettings(budget_id="nope"), "budget_id"),
        (auth_pb2.KeySettings(key_alias="full"), "key_alias"),
    ):
        refused(
            await auth.keys.CreateKey(keys_pb2.CreateKeyRequest(caller=m, account_id=acct, settings=bad)),
            error_pb2.ERROR_KIND_BAD_REQUEST,
            param,
        )
    # Update: what the mask names changes (unset: cleared), the rest and the secret stay.
    updated = ok(
        await auth.keys.UpdateKey(
            keys_pb2.UpdateKeyRequest(
                caller=m,
                account_id=acct,
                key=made.key,
                settings=auth_pb2.KeySettings(models=["claude"], duration="1d"),
                update_mask=mask("models", "max_budget", "limits.rpm_limit", "duration"),
            )
        )
    ).info
    assert list(updated.settings.models) == ["claude"] and not updated.settings.max_budget
    assert updated.settings.limits.rpm_limit == 0 and updated.settings.key_alias == "full"
    assert updated.expires_at > 0 and updated.version > made.info.version
    p = await auth.principal(made.key)
    assert list(p.models) == ["claude"] and not p.has_budget
    refused(
        await auth.keys.UpdateKey(
            keys_pb2.UpdateKeyRequest(caller=m, account_id=acct, key=made.key, update_mask=mask("no_such_field"))
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "no_such_field",
    )
    # List: filters, pages, total.
    for i in range(3):
        await auth.key(acct, key_alias=f"bulk-{i}")
    page = ok(await auth.keys.ListKeys(keys_pb2.ListKeysRequest(caller=m, account_id=acct, limit=2, offset=1)))
    assert len(page.keys) == 2 and page.total_count == 4
    one = ok(await auth.keys.ListKeys(keys_pb2.ListKeysRequest(caller=m, account_id=acct, key_alias="bulk-1")))
    assert [k.settings.key_alias for k in one.keys] == ["bulk-1"]
    # Block, unblock.
    ok(await auth.keys.BlockKey(keys_pb2.BlockKeyRequest(caller=m, account_id=acct, key=made.info.key_id)))
    assert "blocked" in (await auth.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=made.key))).error.message
    ok(await auth.keys.UnblockKey(keys_pb2.UnblockKeyRequest(caller=m, account_id=acct, key=made.info.key_id)))
    await auth.principal(made.key)
    # Delete by alias and secret, all or none.
    refused(
        await auth.keys.RemoveKeys(
            keys_pb2.RemoveKeysRequest(caller=m, account_id=acct, key_aliases=["bulk-0", "no-such-alias"])
        ),
        error_pb2.ERROR_KIND_NOT_FOUND,
        "key_aliases",
    )
    gone = ok(
        await auth.keys.RemoveKeys(
            keys_pb2.RemoveKeysRequest(caller=m, account_id=acct, keys=[made.key], key_aliases=["bulk-0"])
        )
    )
    assert made.info.key_id in gone.deleted_key_ids and len(gone.deleted_key_hashes) == 2
    left = ok(await auth.keys.ListKeys(keys_pb2.ListKeysRequest(caller=m, account_id=acct)))
    assert left.total_count == 2


async def test_team_keys_stay_within_their_team(auth: Auth) -> None:
    m = auth.master
    acct = await auth.account()
    team = await auth.team(acct, models=["gpt-4o", "claude"], max_budget="10", tpm_limit=1000)
    uid, _, _ = await auth.user(acct)
    outsider, _, _ = await auth.user(acct)
    await auth.member(acct, team, uid)
    for settings, param in (
        (auth_pb2.KeySettings(team_id=team, models=["llama"]), "models"),
        (auth_pb2.KeySettings(team_id=team, max_budget="11"), "max_budget"),
        (auth_pb2.KeySettings(team_id=team, limits=auth_pb2.RateLimits(tpm_limit=2000)), "tpm_limit"),
        (auth_pb2.KeySettings(team_id=team, user_id=outsider), "user_id"),
    ):
        refused(
            await auth.keys.CreateKey(keys_pb2.CreateKeyRequest(caller=m, account_id=acct, settings=settings)),
            error_pb2.ERROR_KIND_BAD_REQUEST,
            param,
        )
    secret, info = await auth.key(acct, team_id=team, user_id=uid, max_budget="10")
    p = await auth.principal(secret)
    assert list(p.models) == ["gpt-4o", "claude"], "a key without models may call its team's"
    assert list(p.team_models) == ["gpt-4o", "claude"] and p.team_role == "user"
    assert p.team_limit.max_budget == "10" and p.team_rate_limits.tpm_limit == 1000
    refused(
        await auth.keys.UpdateKey(
            keys_pb2.UpdateKeyRequest(
                caller=m,
                account_id=acct,
                key=info.key_id,
                settings=auth_pb2.KeySettings(models=["llama"]),
                update_mask=mask("models"),
            )
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "models",
    )


async def test_a_users_models_bound_their_keys(auth: Auth) -> None:
    m = auth.master
    acct = await auth.account()
    made = ok(
        await auth.users.CreateUser(
            users_pb2.CreateUserRequest(
                caller=m, account_id=acct, settings=users_pb2.UserSettings(models=["claude"]), create_key=True
            )
        )
    )
    assert list((await auth.principal(made.key)).models) == ["claude"], "a key without models: its user's"
    refused(
        await auth.keys.CreateKey(
            keys_pb2.CreateKeyRequest(
                caller=m, account_id=acct, settings=auth_pb2.KeySettings(user_id=made.user.user_id, models=["gpt-4o"])
            )
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "models",
    )


async def test_regenerate_keeps_the_key_and_changes_the_secret(auth: Auth) -> None:
    m = auth.master
    acct = await auth.account()
    secret, info = await auth.key(acct, max_budget="2", key_alias="rotating")
    before = len(auth.events)
    new = ok(await auth.keys.RegenerateKey(keys_pb2.RegenerateKeyRequest(caller=m, account_id=acct, key=secret)))
    assert new.key != secret and new.info.key_id == info.key_id and new.info.key_hash != info.key_hash
    assert new.previous_key_hash == info.key_hash and new.info.version > info.version
    assert new.info.settings.key_alias == "rotating" and new.info.limit.max_budget == "2"
    old = await auth.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=secret))
    assert old.error.http_status == 401
    p = await auth.principal(new.key)
    assert p.key_id == info.key_id and p.key_hash == new.info.key_hash, "the spend scope (key_id) is the same"
    (event,) = auth.events[before:]
    assert event.key_id == info.key_id and event.previous_key_hash == info.key_hash
    assert event.key_hash == new.info.key_hash and event.action == A.IDENTITY_ACTION_UPDATED
    # Again, with a secret of the caller's choice and a settings change; the first secret cannot come back.
    again = ok(
        await auth.keys.RegenerateKey(
            keys_pb2.RegenerateKeyRequest(
                caller=m,
                account_id=acct,
                key=info.key_id,
                new_key="sk-chosen-" + uuid.uuid4().hex,
                settings=auth_pb2.KeySettings(max_budget="3"),
                update_mask=mask("max_budget"),
            )
        )
    )
    assert again.info.key_id == info.key_id and again.info.limit.max_budget == "3"
    assert (await auth.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=new.key))).error.http_status == 401
    await auth.principal(again.key)
    refused(
        await auth.keys.RegenerateKey(
            keys_pb2.RegenerateKeyRequest(caller=m, account_id=acct, key=again.key, new_key=secret)
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "new_key",
    )
    refused(
        await auth.keys.RegenerateKey(
            keys_pb2.RegenerateKeyRequest(caller=m, account_id=acct, key=again.key, new_key="nope")
        ),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "new_key",
    )
    # The old secret names nothing any more.
    refused(
        await auth.keys.GetKeyInfo(keys_pb2.GetKeyInfoRequest(caller=m, account_id=acct, key=secret)),
        error_pb2.ERROR_KIND_NOT_FOUND,
        "key",
    )


async def test_entitlements_are_enforced(auth: Auth) -> None:
    m = auth.master
    acct = await auth.account(max_keys=2, max_teams=1, max_budget="100")
    await auth.key(acct)
    await auth.key(acct)
    err = refused(
        await auth.keys.CreateKey(keys_pb2.CreateKeyRequest(caller=m, account_id=acct)),
        error_pb2.ERROR_KIND_PERMISSION_DENIED,
        "max_keys",
    )
    assert err.http_status == 403 and "max_keys" in err.message
    # The first key of a new user counts too.
    refused(
        await auth.users.CreateUser(users_pb2.CreateUserRequest(caller=m, account_id=acct, create_key=True)),
        error_pb2.ERROR_KIND_PERMISSION_DENIED,
        "max_keys",
    )
    await auth.team(acct)
    refused(
        await auth.teams.CreateTeam(teams_pb2.CreateTeamRequest(caller=m, account_id=acct)),
        error_pb2.ERROR_KIND_PERMISSION_DENIED,
        "max_teams",
    )
    for call in (
        auth.teams.UpdateTeam(
            teams_pb2.UpdateTeamRequest(
                caller=m,
                account_id=acct,
                team_id=(await auth.teams.ListTeams(teams_pb2.ListTeamsRequest(caller=m, account_id=acct)))
                .teams[0]
                .team_id,
                settings=teams_pb2.TeamSettings(max_budget="150"),
                update_mask=mask("max_budget"),
            )
        ),
        auth.budgets.CreateBudget(
            budget_objects_pb2.CreateBudgetRequest(
                caller=m, account_id=acct, settings=budget_objects_pb2.BudgetObjectSettings(max_budget="100.01")
            )
        ),
        auth.customers.CreateCustomer(
            customers_pb2.CreateCustomerRequest(
                caller=m, account_id=acct, user_id="c", settings=customers_pb2.CustomerSettings(max_budget="1000")
            )
        ),
    ):
        refused(await call, error_pb2.ERROR_KIND_PERMISSION_DENIED, "max_budget")
    ok(
        await auth.budgets.CreateBudget(
            budget_objects_pb2.CreateBudgetRequest(
                caller=m, account_id=acct, settings=budget_objects_pb2.BudgetObjectSettings(max_budget="100")
            )
        )
    )


async def test_super_admin_scope(auth: Auth) -> None:
    m = auth.master
    a, b = await auth.account(), await auth.account()
    await auth.key(a, key_alias="same")
    await auth.key(b, key_alias="same")
    err = refused(
        await auth.keys.CreateKey(keys_pb2.CreateKeyRequest(caller=m)), error_pb2.ERROR_KIND_BAD_REQUEST, "account_id"
    )
    assert err.message == "account_id is required for this super admin write operation."
    refused(
        await auth.keys.CreateKey(keys_pb2.CreateKeyRequest(caller=m, account_id="no-such-account")),
        error_pb2.ERROR_KIND_NOT_FOUND,
        "account_id",
    )
    everywhere = ok(await auth.keys.ListKeys(keys_pb2.ListKeysRequest(caller=m, key_alias="same")))
    assert {k.account_id for k in everywhere.keys} >= {a, b}
    for acct in (a, b):
        ok(await auth.teams.CreateTeam(teams_pb2.CreateTeamRequest(caller=m, account_id=acct, team_id="twin")))
    refused(
        await auth.teams.GetTeam(teams_pb2.GetTeamRequest(caller=m, team_id="twin")),
        error_pb2.ERROR_KIND_BAD_REQUEST,
        "account_id",
    )
    one = ok(await auth.teams.GetTeam(teams_pb2.GetTeamRequest(caller=m, account_id=b, team_id="twin")))
    assert one.team.account_id == b
