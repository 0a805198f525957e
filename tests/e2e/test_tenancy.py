"""Tenancy over HTTP: accounts made by the super admin, account admins that manage only their own
account, an isolation matrix (every management route of account A called with each role's
credential of account B: 403 or 404 as the authorization table says, and nothing of A changed),
and LiteLLM's key lifecycle (update, regenerate, block, delete by alias, unknown fields)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from e2e.support import MASTER_KEY
from switchyard_auth.domain import authz
from switchyard_auth.domain.authz import Caller, Op, Role

CHAT = {"model": "fake-chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _ok(resp: httpx.Response) -> Any:
    assert resp.status_code == 200, f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text}"
    return resp.json()


@dataclass
class Tenant:
    """An account with its admin's key and one object of each kind."""

    account_id: str
    admin_key: str
    admin_user_id: str = ""
    team_id: str = ""
    user_id: str = ""
    user_key: str = ""
    key: str = ""
    key_hash: str = ""
    key_alias: str = ""
    org_id: str = ""
    customer_id: str = ""
    budget_id: str = ""
    # role label → (secret, the caller auth resolves it to)
    creds: dict[str, tuple[str, Caller]] = field(default_factory=dict)


def _new_account(http: httpx.Client, name: str) -> Tenant:
    account_id = _ok(http.post("/account/new", json={"account_name": name}))["account_id"]
    admin = _ok(
        http.post(
            "/user/new",
            params={"account_id": account_id},
            json={"user_email": f"admin@{name}.example", "user_role": "proxy_admin"},
        )
    )
    return Tenant(account_id=account_id, admin_key=admin["key"], admin_user_id=admin["user_id"])


def _fill(http: httpx.Client, t: Tenant, base_url: str) -> None:
    """One object of every kind, made by the account's admin (no account_id: their own)."""
    with httpx.Client(base_url=base_url, headers=_bearer(t.admin_key), timeout=30) as a:
        t.budget_id = _ok(a.post("/budget/new", json={"max_budget": 50}))["budget_id"]
        t.org_id = _ok(a.post("/organization/new", json={"organization_alias": "org", "max_budget": 40}))[
            "organization_id"
        ]
        t.team_id = _ok(
            a.post("/team/new", json={"team_alias": "team", "organization_id": t.org_id, "max_budget": 30})
        )["team_id"]
        user = _ok(
            a.post("/user/new", json={"user_email": f"u-{uuid.uuid4().hex[:6]}@x.example", "teams": [t.team_id]})
        )
        t.user_id, t.user_key = user["user_id"], user["key"]
        t.key_alias = f"alias-{uuid.uuid4().hex[:8]}"
        made = _ok(a.post("/key/generate", json={"team_id": t.team_id, "key_alias": t.key_alias, "models": []}))
        t.key, t.key_hash = made["key"], made["token"]
        t.customer_id = _ok(a.post("/customer/new", json={"user_id": f"end-{uuid.uuid4().hex[:6]}", "max_budget": 5}))[
            "user_id"
        ]


@dataclass
class World:
    a: Tenant
    b: Tenant
    base_url: str
    default_key: str
    default_team: str


@pytest.fixture(scope="module")
def world(http: httpx.Client, base_url: str) -> Iterator[World]:
    a, b = _new_account(http, "acme"), _new_account(http, f"beta-{uuid.uuid4().hex[:6]}")
    _fill(http, a, base_url)
    _fill(http, b, base_url)
    # Account B's credentials, one per role.
    with httpx.Client(base_url=base_url, headers=_bearer(b.admin_key), timeout=30) as adm:
        b.creds["proxy_admin"] = (b.admin_key, Caller(b.account_id, Role.PROXY_ADMIN, user_id=b.admin_user_id))
        for role in ("proxy_admin_viewer", "internal_user", "internal_user_viewer"):
            u = _ok(adm.post("/user/new", json={"user_email": f"{role}@b.example", "user_role": role}))
            b.creds[role] = (u["key"], Caller(b.account_id, Role(role), user_id=u["user_id"]))
        for team_role, label in (("admin", "team_admin"), ("user", "team_user")):
            u = _ok(adm.post("/user/new", json={"user_email": f"{label}@b.example", "user_role": "internal_user"}))
            member = {"user_id": u["user_id"], "role": team_role}
            _ok(adm.post("/team/member_add", json={"team_id": b.team_id, "member": member}))
            teams = frozenset({b.team_id})
            caller = Caller(
                b.account_id,
                Role.INTERNAL_USER,
                user_id=u["user_id"],
                admin_teams=teams if team_role == "admin" else frozenset(),
                member_teams=teams,
            )
            b.creds[label] = (u["key"], caller)
    # An account admin named by e-mail (sign-in maps it to the account) with its user's key.
    _ok(http.post(f"/account/{b.account_id}/admins", json={"user_email": "owner@b.example"}))
    owner = _ok(
        http.post(
            "/user/new",
            params={"account_id": b.account_id},
            json={"user_email": "owner@b.example", "user_role": "proxy_admin"},
        )
    )
    b.creds["account_admin"] = (owner["key"], Caller(b.account_id, Role.PROXY_ADMIN, user_id=owner["user_id"]))
    # A key of no user.
    bare = _ok(http.post("/key/generate", params={"account_id": b.account_id}, json={}))
    b.creds["key"] = (bare["key"], Caller(b.account_id, Role.KEY))
    # Account A's own people below its admin, for the walk of the table within one account.
    with httpx.Client(base_url=base_url, headers=_bearer(a.admin_key), timeout=30) as adm:
        team = frozenset({a.team_id})
        for role in ("proxy_admin_viewer", "internal_user", "internal_user_viewer"):
            u = _ok(adm.post("/user/new", json={"user_email": f"{role}@acme.example", "user_role": role}))
            a.creds[role] = (u["key"], Caller(a.account_id, Role(role), user_id=u["user_id"]))
        u = _ok(adm.post("/user/new", json={"user_email": "lead@acme.example", "user_role": "internal_user"}))
        _ok(
            adm.post(
                "/team/member_add", json={"team_id": a.team_id, "member": {"user_id": u["user_id"], "role": "admin"}}
            )
        )
        a.creds["team_admin"] = (
            u["key"],
            Caller(a.account_id, Role.INTERNAL_USER, user_id=u["user_id"], admin_teams=team, member_teams=team),
        )
        # The user the probes name is a plain member of the team.
        a.creds["team_user"] = (
            a.user_key,
            Caller(a.account_id, Role.INTERNAL_USER, user_id=a.user_id, member_teams=team),
        )
        bare_a = _ok(adm.post("/key/generate", json={}))
        a.creds["key"] = (bare_a["key"], Caller(a.account_id, Role.KEY, key_id=bare_a["key_id"]))
    # Objects of the default account (the master key's own).
    default_key = _ok(http.post("/key/generate", json={}))["key"]
    default_team = _ok(http.post("/team/new", params={"account_id": "default"}, json={"team_alias": "d"}))["team_id"]
    yield World(a, b, base_url, default_key, default_team)


async def _chat(c: httpx.AsyncClient, key: str) -> int:
    r = await c.post("/v1/chat/completions", json=CHAT, headers=_bearer(key))
    # Shown with a failing test's captured output: why a call was refused.
    print("chat", r.status_code, r.text[:300])
    return r.status_code


def test_a_super_admin_makes_an_account_whose_admin_manages_only_it(world: World, http: httpx.Client) -> None:
    a = world.a
    with httpx.Client(base_url=world.base_url, headers=_bearer(a.admin_key), timeout=30) as adm:
        made = _ok(adm.post("/key/generate", json={"key_alias": "from-admin"}))
        assert made["account_id"] == a.account_id
        # Everything the admin lists is acme's.
        keys = _ok(adm.get("/key/list", params={"return_full_object": "true"}))
        assert keys["total_count"] == len(keys["keys"]) >= 3
        assert {k["account_id"] for k in keys["keys"]} == {a.account_id}
        assert [t["team_id"] for t in _ok(adm.get("/team/list"))] == [a.team_id]
        users = _ok(adm.get("/user/list"))
        assert {u["account_id"] for u in users["users"]} == {a.account_id} and users["total"] == len(
            users["users"]
        ) >= 2
        # The default account's objects are not there for acme's admin, whatever it names.
        assert adm.get("/key/info", params={"key": world.default_key}).status_code == 404
        assert adm.post("/key/delete", json={"keys": [world.default_key]}).status_code == 404
        assert adm.get("/team/info", params={"team_id": world.default_team}).status_code == 404
        refused = adm.post("/team/new", json={"account_id": "default", "team_alias": "sneaky"})
        assert refused.status_code == 404 and "detail" in refused.json()
        refused = adm.post("/user/new", params={"account_id": "default"}, json={"user_email": "x@acme.example"})
        assert refused.status_code == 404
        # Super admins' routes are not an account admin's.
        assert adm.post("/account/new", json={"account_name": "mine"}).status_code == 403
        assert adm.get(f"/copilot/entitlements/{a.account_id}").status_code == 403
        # The account reads its own account.
        assert _ok(adm.get(f"/account/{a.account_id}"))["account_name"] == "acme"
    assert _ok(http.get("/key/info", params={"key": world.default_key}))["info"]["account_id"] == "default"
    # A super admin's write names the account.
    missing = http.post("/team/new", json={"team_alias": "where"})
    assert missing.status_code == 400 and "account_id" in missing.json()["detail"]
    listed = _ok(http.get("/account/list"))["accounts"]
    assert {x["account_id"] for x in listed} >= {a.account_id, world.b.account_id, "default"}


def test_entitlements_are_the_super_admins_and_enforced(world: World, http: httpx.Client) -> None:
    b = world.b
    url = f"/copilot/entitlements/{b.account_id}"
    put = _ok(http.put(url, json={"max_teams": 1, "features": {"playground": False}}))
    assert put["status"] == "updated" and put["entitlements"]["max_teams"] == 1
    got = _ok(http.get(url))
    assert got["account_id"] == b.account_id and got["entitlements"]["features"] == {"playground": False}
    over = httpx.post(f"{world.base_url}/team/new", json={"team_alias": "one too many"}, headers=_bearer(b.admin_key))
    assert over.status_code == 403 and "max_teams" in over.json()["detail"]
    assert http.put(url, json={"max_teams": None, "bogus": 1}).status_code == 400
    _ok(http.put(url, json={"max_teams": None}))
    assert _ok(http.get(url))["entitlements"]["max_teams"] is None


async def test_regenerate_with_a_grace_period_keeps_both_secrets_working(world: World) -> None:
    a = world.a
    async with httpx.AsyncClient(base_url=world.base_url, headers=_bearer(a.admin_key), timeout=30) as adm:
        made = _ok(await adm.post("/key/generate", json={"key_alias": f"g-{uuid.uuid4().hex[:6]}"}))
        old = made["key"]
        assert await _chat(adm, old) == 200  # cached on the edge before the rotation
        bad = await adm.post("/key/regenerate", json={"key": old, "grace_period": "soon"})
        assert bad.status_code == 400 and "grace_period" in bad.json()["detail"]
        regen = _ok(await adm.post("/key/regenerate", json={"key": old, "grace_period": "1h"}))
        assert regen["key_id"] == made["key_id"] and "previous_key_valid_until" in regen
        assert await _chat(adm, regen["key"]) == 200
        assert await _chat(adm, old) == 200
        # A rotation without a grace period (after a leak, say) ends every earlier secret at once.
        again = _ok(await adm.post("/key/regenerate", json={"key": regen["key"]}))
        assert await _chat(adm, regen["key"]) == 401
        assert await _chat(adm, old) == 401
        assert await _chat(adm, again["key"]) == 200


async def test_key_lifecycle_litellm_flows(world: World) -> None:
    a = world.a
    async with httpx.AsyncClient(base_url=world.base_url, headers=_bearer(a.admin_key), timeout=30) as adm:
        made = _ok(
            await adm.post("/key/generate", json={"key_alias": f"k-{uuid.uuid4().hex[:6]}", "team_id": a.team_id})
        )
        key, key_id = made["key"], made["key_id"]
        # /key/update changes settings; the secret keeps working.
        updated = _ok(await adm.post("/key/update", json={"key": key, "max_budget": 2, "metadata": {"x": 1}}))
        assert updated["max_budget"] == 2 and updated["metadata"] == {"x": 1} and updated["token"] == made["token"]
        assert await _chat(adm, key) == 200
        info = _ok(await adm.get("/key/info", params={"key": key}))["info"]
        assert info["max_budget"] == 2 and info["team_id"] == a.team_id and info["team_alias"] == "team"
        # Spend arrives through Kafka; regenerate keeps the id and the spend.
        deadline = time.monotonic() + 30
        while (spend := _ok(await adm.get("/key/info", params={"key": key}))["info"]["spend"]) <= 0:
            assert time.monotonic() < deadline, "the key's spend never arrived"
            await asyncio.sleep(0.2)
        regen = _ok(await adm.post("/key/regenerate", json={"key": key}))
        new = regen["key"]
        assert new != key and regen["key_id"] == key_id and regen["previous_key_hash"] == made["token"]
        assert await _chat(adm, key) == 401
        assert await _chat(adm, new) == 200
        info = _ok(await adm.get("/key/info", params={"key": new}))["info"]
        assert info["key_id"] == key_id and info["spend"] >= spend
        # Block and unblock.
        assert _ok(await adm.post("/key/block", json={"key": new}))["blocked"] is True
        assert await _chat(adm, new) == 401
        assert _ok(await adm.post("/key/unblock", json={"key": new}))["blocked"] is False
        assert await _chat(adm, new) == 200
        # Delete by alias.
        alias = f"gone-{uuid.uuid4().hex[:6]}"
        doomed = _ok(await adm.post("/key/generate", json={"key_alias": alias}))
        deleted = _ok(await adm.post("/key/delete", json={"key_aliases": [alias]}))
        assert deleted["deleted_keys"] == [doomed["token"]]
        assert await _chat(adm, doomed["key"]) == 401
        # Lists page with a total.
        page = _ok(await adm.get("/key/list", params={"page": 1, "size": 1}))
        assert len(page["keys"]) == 1 and page["total_count"] >= 3 and page["total_pages"] == page["total_count"]


async def test_an_unknown_field_is_a_400_naming_it(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.base_url, headers=_bearer(world.a.admin_key), timeout=30) as adm:
        answers = await asyncio.gather(
            adm.post("/key/generate", json={"models": [], "permisions": {}}),
            adm.post("/key/update", json={"key": world.a.key, "soft_budgets": 1}),
            adm.post("/team/new", json={"team_alias": "t", "max_budgett": 1}),
            adm.post("/user/new", json={"user_email": "n@acme.example", "user_rol": "internal_user"}),
            adm.post("/customer/new", json={"user_id": "c", "aliass": "x"}),
            adm.post("/budget/new", json={"max_budget": 1, "rpm": 5}),
            adm.post("/organization/new", json={"organization_alias": "o", "team": "x"}),
            adm.post("/team/member_add", json={"team_id": world.a.team_id, "member": {"user_id": "x", "rol": "user"}}),
            adm.post("/key/block", json={"key": world.a.key, "reason": "x"}),
            adm.post("/team/delete", json={"team_ids": [world.a.team_id], "force": True}),
            adm.post("/team/member_update", json={"team_id": world.a.team_id, "user_id": "x", "user_role": "admin"}),
        )
    for resp, name in zip(
        answers,
        [
            "permisions",
            "soft_budgets",
            "max_budgett",
            "user_rol",
            "aliass",
            "rpm",
            "team",
            "rol",
            "reason",
            "force",
            "user_role",
        ],
        strict=True,
    ):
        assert resp.status_code == 400, (resp.request.url, resp.text)
        assert name in resp.json()["detail"], resp.text


def test_a_user_is_made_with_a_working_first_key(world: World) -> None:
    with httpx.Client(base_url=world.base_url, headers=_bearer(world.a.admin_key), timeout=30) as adm:
        made = _ok(adm.post("/user/new", json={"user_email": "first@acme.example", "key_alias": "first"}))
        assert made["key"].startswith("sk-") and made["user_role"] == "internal_user"
        info = _ok(adm.get("/user/info", params={"user_id": made["user_id"]}))
        assert [k["key_alias"] for k in info["keys"]] == ["first"]
        own = httpx.get(f"{world.base_url}/user/info", headers=_bearer(made["key"]))
        assert _ok(own)["user_id"] == made["user_id"]


@dataclass(frozen=True)
class Probe:
    """One call of a management route on account A's objects."""

    op: Op | None
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    # Names an object of A by id (so it is also tried without account_id, in the caller's own
    # account); creations and lists only touch A when they name it.
    names_object: bool = True
    # The status for every caller of B regardless of role (account and super admin routes).
    status: int | None = None


def _probes(a: Tenant) -> list[Probe]:
    team, user, key, org, cust, budget = a.team_id, a.user_id, a.key_hash, a.org_id, a.customer_id, a.budget_id
    acct = f"/account/{a.account_id}"
    return [
        Probe(Op.KEY_CREATE, "POST", "/key/generate", body={"team_id": team}, names_object=False),
        Probe(Op.KEY_UPDATE, "POST", "/key/update", body={"key": key, "max_budget": 1}),
        Probe(Op.KEY_READ, "GET", "/key/info", params={"key": key}),
        Probe(Op.KEY_READ, "GET", "/key/list", names_object=False),
        Probe(Op.KEY_REGENERATE, "POST", "/key/regenerate", body={"key": key}),
        Probe(Op.KEY_REGENERATE, "POST", f"/key/{key}/regenerate", body={}),
        Probe(Op.KEY_BLOCK, "POST", "/key/block", body={"key": key}),
        Probe(Op.KEY_BLOCK, "POST", "/key/unblock", body={"key": key}),
        Probe(Op.KEY_DELETE, "POST", "/key/delete", body={"keys": [key]}),
        Probe(Op.KEY_DELETE, "POST", "/key/delete", body={"key_aliases": [a.key_alias]}),
        Probe(Op.TEAM_CREATE, "POST", "/team/new", body={"team_alias": "x"}, names_object=False),
        Probe(Op.TEAM_UPDATE, "POST", "/team/update", body={"team_id": team, "max_budget": 1}),
        Probe(Op.TEAM_READ, "GET", "/team/info", params={"team_id": team}),
        Probe(Op.TEAM_READ, "GET", "/team/list", names_object=False),
        Probe(Op.TEAM_DELETE, "POST", "/team/delete", body={"team_ids": [team]}),
        Probe(Op.TEAM_MEMBERS_WRITE, "POST", "/team/member_add",
              body={"team_id": team, "member": {"user_id": a.admin_user_id, "role": "user"}}),
        Probe(Op.TEAM_MEMBERS_WRITE, "POST", "/team/member_update",
              body={"team_id": team, "user_id": user, "role": "admin"}),
        Probe(Op.TEAM_MEMBERS_WRITE, "POST", "/team/member_delete", body={"team_id": team, "user_id": user}),
        Probe(Op.TEAM_MODELS_WRITE, "POST", "/team/model/add", body={"team_id": team, "models": ["fake-chat"]}),
        Probe(Op.TEAM_MODELS_WRITE, "POST", "/team/model/delete", body={"team_id": team, "models": ["fake-chat"]}),
        Probe(Op.TEAM_BLOCK, "POST", "/team/block", body={"team_id": team}),
        Probe(Op.TEAM_BLOCK, "POST", "/team/unblock", body={"team_id": team}),
        Probe(Op.USER_CREATE, "POST", "/user/new", body={"user_email": "in@acme.example"}, names_object=False),
        Probe(Op.USER_UPDATE, "POST", "/user/update", body={"user_id": user, "user_role": "proxy_admin"}),
        Probe(Op.USER_READ, "GET", "/user/info", params={"user_id": user}),
        Probe(Op.USER_READ, "GET", "/user/list", names_object=False),
        Probe(Op.USER_DELETE, "POST", "/user/delete", body={"user_ids": [user]}),
        Probe(Op.ORG_CREATE, "POST", "/organization/new", body={"organization_alias": "x"}, names_object=False),
        Probe(Op.ORG_UPDATE, "PATCH", "/organization/update", body={"organization_id": org, "max_budget": 1}),
        Probe(Op.ORG_READ, "GET", "/organization/info", params={"organization_id": org}),
        Probe(Op.ORG_READ, "GET", "/organization/list", names_object=False),
        Probe(Op.ORG_DELETE, "DELETE", "/organization/delete", body={"organization_ids": [org]}),
        Probe(Op.ORG_MEMBERS_WRITE, "POST", "/organization/member_add",
              body={"organization_id": org, "member": {"user_id": user, "role": "internal_user"}}),
        Probe(Op.ORG_MEMBERS_WRITE, "PATCH", "/organization/member_update",
              body={"organization_id": org, "user_id": user, "role": "org_admin"}),
        Probe(Op.ORG_MEMBERS_WRITE, "DELETE", "/organization/member_delete",
              body={"organization_id": org, "user_id": user}),
        Probe(Op.CUSTOMER_CREATE, "POST", "/customer/new", body={"user_id": "new-end-user"}, names_object=False),
        Probe(Op.CUSTOMER_UPDATE, "POST", "/customer/update", body={"user_id": cust, "blocked": True}),
        Probe(Op.CUSTOMER_READ, "GET", "/customer/info", params={"end_user_id": cust}),
        Probe(Op.CUSTOMER_READ, "GET", "/customer/list", names_object=False),
        Probe(Op.CUSTOMER_DELETE, "POST", "/customer/delete", body={"user_ids": [cust]}),
        Probe(Op.CUSTOMER_BLOCK, "POST", "/customer/block", body={"user_ids": [cust]}),
        Probe(Op.CUSTOMER_BLOCK, "POST", "/customer/unblock", body={"user_ids": [cust]}),
        Probe(Op.BUDGET_CREATE, "POST", "/budget/new", body={"max_budget": 1}, names_object=False),
        Probe(Op.BUDGET_UPDATE, "POST", "/budget/update", body={"budget_id": budget, "max_budget": 1}),
        Probe(Op.BUDGET_READ, "GET", "/budget/info", params={"budget_id": budget}),
        Probe(Op.BUDGET_READ, "GET", "/budget/list", names_object=False),
        Probe(Op.BUDGET_DELETE, "POST", "/budget/delete", body={"budget_ids": [budget]}),
        # The account itself: another account's is not there; accounts and entitlements are
        # the super admin's.
        Probe(None, "GET", acct, status=404),
        Probe(None, "PUT", acct, body={"account_alias": "taken"}, status=404),
        Probe(None, "DELETE", acct, params={"confirm": "acme"}, status=404),
        Probe(None, "GET", f"{acct}/admins", status=404),
        Probe(None, "POST", f"{acct}/admins", body={"user_email": "mole@b.example"}, status=404),
        Probe(None, "PUT", f"{acct}/admins/admin@acme.example", body={"role": "account_viewer"}, status=404),
        Probe(None, "DELETE", f"{acct}/admins/admin@acme.example", status=404),
        Probe(Op.ACCOUNT_CREATE, "POST", "/account/new", body={"account_name": "b-made-this"}, names_object=False),
        Probe(Op.ACCOUNT_LIST, "GET", "/account/list", names_object=False),
        Probe(None, "GET", f"/copilot/entitlements/{a.account_id}", status=403),
        Probe(None, "PUT", f"/copilot/entitlements/{a.account_id}", body={"max_keys": 0}, status=403),
    ]  # fmt: skip


async def _snapshot(world: World) -> dict[str, Any]:
    """Everything of account A, read by A's admin (and its entitlements by the super admin)."""
    a = world.a
    async with httpx.AsyncClient(base_url=world.base_url, headers=_bearer(a.admin_key), timeout=30) as adm:
        paths = [
            "/key/list?return_full_object=true",
            "/team/list",
            "/user/list",
            "/organization/list",
            "/customer/list",
            "/budget/list",
            f"/account/{a.account_id}",
            f"/account/{a.account_id}/admins",
            f"/team/info?team_id={a.team_id}",
        ]
        answers = await asyncio.gather(*(adm.get(p) for p in paths))
        ent = await adm.get(f"/copilot/entitlements/{a.account_id}", headers=_bearer(MASTER_KEY))
    return {p: _ok(r) for p, r in zip([*paths, "entitlements"], [*answers, ent], strict=True)}


def _expected(probe: Probe, caller: Caller) -> int:
    """An object of another account (or another account named) is not found, for every role,
    before any role check; an operation on no object that none of the caller's roles may ever
    do (creating or listing accounts) is refused."""
    if probe.status is not None:
        return probe.status
    assert probe.op is not None
    if probe.path in ("/account/new", "/account/list"):
        assert not authz.may_attempt(caller, probe.op), "the table lets an account's role manage accounts"
        return 403
    return 404


async def test_isolation_matrix_every_route_of_account_a_with_every_role_of_account_b(world: World) -> None:
    before = await _snapshot(world)
    a, b = world.a, world.b
    calls: list[tuple[str, Probe, bool, int]] = []
    for label, (_, caller) in b.creds.items():
        for probe in _probes(a):
            for named in (True, False) if probe.names_object and probe.status is None else (True,):
                calls.append((label, probe, named, _expected(probe, caller)))
    limit = asyncio.Semaphore(16)

    async def call(c: httpx.AsyncClient, label: str, probe: Probe, named: bool) -> httpx.Response:
        account = {"account_id": a.account_id} if named and not probe.path.startswith("/account/") else {}
        params = {**probe.params, **account}
        async with limit:
            return await c.request(
                probe.method, probe.path, params=params, json=probe.body, headers=_bearer(b.creds[label][0])
            )

    async with httpx.AsyncClient(base_url=world.base_url, timeout=30) as c:
        answers = await asyncio.gather(*(call(c, label, p, named) for label, p, named, _ in calls))
    wrong = []
    for (label, probe, named, want), resp in zip(calls, answers, strict=True):
        body = resp.json()
        if resp.status_code != want or set(body) != {"detail"}:
            wrong.append(f"{label} {probe.method} {probe.path} named={named}: {resp.status_code} (want {want}) {body}")
    assert not wrong, "\n".join(wrong)
    assert len(calls) > 8 * 60
    assert await _snapshot(world) == before


_READ_OF = {
    "key": Op.KEY_READ,
    "team": Op.TEAM_READ,
    "user": Op.USER_READ,
    "organization": Op.ORG_READ,
    "customer": Op.CUSTOMER_READ,
    "budget": Op.BUDGET_READ,
}


def _target(a: Tenant, noun: str) -> authz.Target:
    """What relates A's probed objects to people: its key is a team key of no user, its user a
    plain member of its team."""
    team = frozenset({a.team_id})
    if noun == "key":
        return authz.Target(a.account_id, key_id=a.key_hash, team_ids=team)
    if noun == "team":
        return authz.Target(a.account_id, team_ids=team)
    if noun == "user":
        return authz.Target(a.account_id, user_id=a.user_id, team_ids=team)
    return authz.Target(a.account_id)


async def test_each_role_of_an_account_reaches_what_the_table_says_on_its_own_accounts_objects(
    world: World,
) -> None:
    """Within account A, every role below its admin calls every route on A's objects: a read the
    table allows answers 200, a change it does not is 403 where the role may read the object and
    404 where it may not; nothing changes (changes the table allows are not tried here)."""
    before = await _snapshot(world)
    a = world.a
    calls: list[tuple[str, Probe, int]] = []
    for label, (_, caller) in a.creds.items():
        for probe in _probes(a):
            if probe.op is None or not probe.names_object or probe.path.startswith("/account/"):
                continue
            noun = probe.op.value.split(".")[0]
            target, read = _target(a, noun), _READ_OF[noun]
            if authz.allowed(caller, probe.op, target):
                if probe.op is not read:
                    continue
                want = 200
            else:
                want = 403 if probe.op is not read and authz.allowed(caller, read, target) else 404
            calls.append((label, probe, want))
    async with httpx.AsyncClient(base_url=world.base_url, timeout=30) as c:
        answers = await asyncio.gather(
            *(
                c.request(p.method, p.path, params=p.params, json=p.body, headers=_bearer(a.creds[label][0]))
                for label, p, _ in calls
            )
        )
    wrong = [
        f"{label} {p.method} {p.path}: {r.status_code} (want {want}) {r.text[:200]}"
        for (label, p, want), r in zip(calls, answers, strict=True)
        if r.status_code != want or (want != 200 and set(r.json()) != {"detail"})
    ]
    assert not wrong, "\n".join(wrong)
    assert {w for *_, w in calls} == {200, 403, 404}
    assert await _snapshot(world) == before


def test_the_caller_is_checked_before_the_body_which_is_capped(world: World) -> None:
    big = b'{"team_alias": "' + b"x" * (1024 * 1024 + 1) + b'"}'
    headers = {"Content-Type": "application/json"}
    anonymous = httpx.post(f"{world.base_url}/team/new", content=big, headers=headers, timeout=30)
    assert anonymous.status_code == 401 and "detail" in anonymous.json()
    admin = httpx.post(
        f"{world.base_url}/team/new", content=big, headers={**headers, **_bearer(world.a.admin_key)}, timeout=30
    )
    assert admin.status_code == 413 and "detail" in admin.json()
    not_json = httpx.post(
        f"{world.base_url}/team/update", content=b"[1, 2]", headers={**headers, **_bearer(world.a.admin_key)}
    )
    assert not_json.status_code == 400 and "object" in not_json.json()["detail"]


def test_an_account_is_changed_administered_and_deleted_in_two_steps(world: World, http: httpx.Client) -> None:
    name = f"doomed-{uuid.uuid4().hex[:6]}"
    t = _new_account(http, name)
    url = f"/account/{t.account_id}"
    assert _ok(http.put(url, json={"account_alias": "Doomed Inc"}))["account_alias"] == "Doomed Inc"
    assert http.put(url, json={}).status_code == 400
    assert _ok(http.post(f"{url}/admins", json={"user_email": "Boss@Doomed.example"}))["role"] == "account_admin"
    changed = _ok(http.put(f"{url}/admins/boss@doomed.example", json={"role": "account_viewer"}))
    assert changed["role"] == "account_viewer"
    assert [x["user_email"] for x in _ok(http.get(f"{url}/admins"))["admins"]] == ["boss@doomed.example"]
    _ok(http.delete(f"{url}/admins/boss@doomed.example"))
    assert _ok(http.get(f"{url}/admins"))["admins"] == []
    # The account's admin may read it, not change it.
    with httpx.Client(base_url=world.base_url, headers=_bearer(t.admin_key), timeout=30) as adm:
        assert _ok(adm.get(url))["account_name"] == name
        assert adm.put(url, json={"account_alias": "mine"}).status_code == 403
        assert adm.delete(url, params={"confirm": name}).status_code == 403
        # Step one says what would go and changes nothing.
        asked = http.delete(url)
        assert asked.status_code == 400 and "confirm" in asked.json()["detail"]
        assert adm.get("/key/list").status_code == 200
        # Step two, confirmed by the account's name.
        gone = _ok(http.delete(url, params={"confirm": name}))
        assert gone["status"] == "deleted" and gone["deleted_keys"] >= 1
        assert adm.get("/key/list").status_code == 401
    assert name not in {x["account_name"] for x in _ok(http.get("/account/list"))["accounts"]}
