"""LiteLLM's management plane and the tenant layer over HTTP: one table from route to the auth
service's RPC (``ROUTES``), with the request built from the body, query and path, and the answer
rendered in LiteLLM's shape. Auth decides who may do what (docs/tenancy.md); the edge passes the
verified caller and the account:

- a super admin names the account with ``?account_id=`` or ``account_id`` in the body (auth answers
  a write without one with 400); on the ``/key/*`` routes the master key without one acts in its
  own (default) account, as it did before tenancy, so LiteLLM scripts keep working;
- everyone else acts in the account of their credential (auth answers another one named with 404).

A body field the route does not take is a 400 naming it (``settings_json``)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import FastAPI, Request
from google.protobuf.message import Message
from starlette.datastructures import QueryParams
from starlette.responses import Response

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
from switchyard_common.settings_json import settings_from_json
from switchyard_edge import openapi
from switchyard_edge.handlers.httpio import BadInput, Refused, json_response, management_endpoint, read_json
from switchyard_edge.handlers.tenancy_json import key_json, team_fields, to_json

if TYPE_CHECKING:
    from switchyard_edge.app import Edge

M = TypeVar("M", bound=Message)


class Call:
    """One management request: the verified caller, the account it names, and its body, query
    and path parameters. Route-specific fields are taken out of the body first; what is left
    must be settings of the route's message."""

    def __init__(self, who: auth_pb2.Principal, request: Request, body: dict[str, Any], *, own_account: bool) -> None:
        self.who = who
        self.query: QueryParams = request.query_params
        self.path: dict[str, str] = request.path_params
        self.body = body
        account = self.query.get("account_id") or self.text("account_id")
        if not account and own_account and who.is_super_admin:
            account = who.account_id
        self.account_id = account

    @property
    def base(self) -> dict[str, Any]:
        return {"caller": self.who, "account_id": self.account_id}

    def _raw(self, name: str) -> Any:
        if name in self.path:
            return self.path[name]
        if name in self.body:
            return self.body.pop(name)
        return self.query.get(name)

    def text(self, *names: str, required: bool = False) -> str:
        """The first of ``names`` given (path, then body, then query)."""
        for name in names:
            value = self._raw(name)
            if value is None:
                continue
            if not isinstance(value, str):
                raise BadInput(f"'{name}' must be a string")
            if value:
                return value
        if required:
            raise BadInput(f"'{names[0]}' is required")
        return ""

    def texts(self, *names: str, required: bool = False) -> list[str]:
        """The ids under any of ``names``: a list or a single string in the body, a path
        parameter, or comma-separated in the query."""
        out: list[str] = []
        for name in names:
            if name in self.body:
                value = self.body.pop(name)
            elif name in self.path:
                value = self.path[name]
            elif name in self.query:
                value = [v for v in self.query[name].split(",") if v]
            else:
                continue
            if isinstance(value, str):
                value = [value]
            if value is None:
                continue
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise BadInput(f"'{name}' must be a list of strings")
            out.extend(value)
        if required and not out:
            raise BadInput(f"'{names[0]}' must name at least one id")
        return out

    def flag(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        if isinstance(value, str):
            if value.lower() in ("true", "1"):
                return True
            if value.lower() in ("false", "0"):
                return False
        if not isinstance(value, bool):
            raise BadInput(f"'{name}' must be true or false")
        return value

    def settings(self, cls: type[M], only: frozenset[str] | None = None) -> tuple[M, list[str]]:
        """The rest of the body as a settings message of ``cls`` (``only``: the fields this
        route takes of it), and the paths it names."""
        msg, paths = settings_from_json(self.body, cls)
        for path in paths:
            if only is not None and path not in only:
                raise BadInput(f"Unknown field '{path}': this route does not take it")
        self.body = {}
        return msg, paths

    def finish(self) -> None:
        """Refuse what is left of the body: fields the route does not take."""
        for key in self.body:
            raise BadInput(f"Unknown field '{key}': this route does not take it")

    def update(self, cls: type[M]) -> dict[str, Any]:
        """``settings`` and ``update_mask`` of an update: the fields the body names."""
        msg, paths = self.settings(cls)
        if not paths:
            raise BadInput("No fields to update.")
        return {"settings": msg, "update_mask": {"paths": paths}}

    def page(self) -> tuple[int, int]:
        """(limit, offset) from ``limit``/``offset`` or LiteLLM's ``page`` (from 1) and
        ``size``/``page_size``."""

        def number(name: str) -> int | None:
            value = self.query.get(name)
            if value is None or value == "":
                return None
            if not (value.isascii() and value.isdigit()) or len(value) > 9:
                raise BadInput(f"'{name}' must be a non-negative integer")
            return int(value)

        size = number("size") or number("page_size") or number("limit") or 0
        page = number("page")
        if page is not None and page >= 1:
            return size, (page - 1) * (size or 100)
        return size, number("offset") or 0


Build = Callable[[Call], Message]
Render = Callable[["Edge", Call, Any], Any]


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...]
    path: str
    # "Service.Method" of the auth service.
    rpc: str
    build: Build
    render: Render
    # /key/* routes: the master key without account_id acts in its own account.
    own_account: bool = False
    # Refused (403) before any call unless the caller is a super admin.
    super_admin_only: bool = False

    @property
    def write(self) -> bool:
        return not self.rpc.split(".")[1].startswith(("Get", "List"))


# --- request builders shared by the entity families -----------------------------------------


def create(req: type[Message], settings_cls: type[Message], id_field: str) -> Build:
    return lambda c: req(**c.base, **{id_field: c.text(id_field)}, settings=c.settings(settings_cls)[0])


def update(req: type[Message], settings_cls: type[Message], id_field: str) -> Build:
    return lambda c: req(**c.base, **{id_field: c.text(id_field, required=True)}, **c.update(settings_cls))


def one(req: type[Message], id_field: str, *aliases: str, required: bool = True) -> Build:
    return lambda c: req(**c.base, **{id_field: c.text(id_field, *aliases, required=required)})


def many(req: type[Message], field: str, *names: str) -> Build:
    return lambda c: req(**c.base, **{field: c.texts(*names, required=True)})


def listing(req: type[Message], **filters: str) -> Build:
    """A list request: query parameter → request field, and the page."""

    def build(c: Call) -> Message:
        limit, offset = c.page()
        return req(**c.base, **{field: c.query.get(q, "") for q, field in filters.items()}, limit=limit, offset=offset)

    return build


def with_team_id(req: type[Message], field: str = "models") -> Build:
    return lambda c: req(**c.base, team_id=c.text("team_id", required=True), **{field: c.texts(field, required=True)})


def _members(c: Call, cls: type[M], allowed: frozenset[str], *names: str) -> list[M]:
    """LiteLLM's ``member`` (one object or a list), each naming a user by id or e-mail."""
    raw = next((c.body.pop(n) for n in names if n in c.body), None)
    if raw is None:
        raise BadInput(f"'{names[0]}' is required")
    out = []
    for item in raw if isinstance(raw, list) else [raw]:
        if not isinstance(item, dict):
            raise BadInput(f"'{names[0]}' must be an object or a list of objects")
        if "role" in item and "role" not in allowed:
            item = {("user_role" if k == "role" else k): v for k, v in item.items()}
        for key in item:
            if key not in allowed:
                raise BadInput(f"Unknown field '{names[0]}.{key}': this route does not take it")
        out.append(settings_from_json(item, cls)[0])
    return out


_TEAM_MEMBER = frozenset({"user_id", "user_email", "role", "max_budget_in_team", "budget_id"})
_ORG_MEMBER = frozenset({"user_id", "user_email", "user_role", "budget_id"})


def team_member_add(c: Call) -> Message:
    team_id = c.text("team_id", required=True)
    members = _members(c, teams_pb2.TeamMember, _TEAM_MEMBER, "member", "members")
    budget = c.body.pop("max_budget_in_team", None)
    if budget is not None:
        shared, _ = settings_from_json({"max_budget_in_team": budget}, teams_pb2.TeamMember)
        for m in members:
            m.max_budget_in_team = m.max_budget_in_team or shared.max_budget_in_team
    return teams_pb2.AddTeamMembersRequest(**c.base, team_id=team_id, members=members)


def team_member_update(c: Call) -> Message:
    team_id = c.text("team_id", required=True)
    user_id, email = c.text("user_id"), c.text("user_email")
    if not (user_id or email):
        raise BadInput("'user_id' or 'user_email' is required")
    member, paths = c.settings(teams_pb2.TeamMember, only=frozenset({"role", "max_budget_in_team", "budget_id"}))
    if not paths:
        raise BadInput("No fields to update.")
    member.team_id, member.user_id, member.user_email = team_id, user_id, email
    return teams_pb2.UpdateTeamMemberRequest(**c.base, member=member, update_mask={"paths": paths})


def team_member_delete(c: Call) -> Message:
    team_id = c.text("team_id", required=True)
    ids, emails = c.texts("user_id", "user_ids"), c.texts("user_email", "user_emails")
    if not (ids or emails):
        raise BadInput("'user_id' or 'user_email' is required")
    return teams_pb2.RemoveTeamMembersRequest(**c.base, team_id=team_id, user_ids=ids, user_emails=emails)


def team_new(c: Call) -> Message:
    team_id = c.text("team_id")
    with_members = "members_with_roles" in c.body
    members = _members(c, teams_pb2.TeamMember, _TEAM_MEMBER, "members_with_roles") if with_members else []
    return teams_pb2.CreateTeamRequest(
        **c.base, team_id=team_id, members=members, settings=c.settings(teams_pb2.TeamSettings)[0]
    )


def org_member_add(c: Call) -> Message:
    org = c.text("organization_id", required=True)
    members = _members(c, organizations_pb2.OrganizationMember, _ORG_MEMBER, "member", "members")
    return organizations_pb2.AddOrganizationMembersRequest(**c.base, organization_id=org, members=members)


def org_member_update(c: Call) -> Message:
    org = c.text("organization_id", required=True)
    member = organizations_pb2.OrganizationMember(
        organization_id=org,
        user_id=c.text("user_id"),
        user_email=c.text("user_email"),
        user_role=c.text("user_role", "role", required=True),
        budget_id=c.text("budget_id"),
    )
    if not (member.user_id or member.user_email):
        raise BadInput("'user_id' or 'user_email' is required")
    return organizations_pb2.UpdateOrganizationMemberRequest(**c.base, member=member)


def org_member_delete(c: Call) -> Message:
    org = c.text("organization_id", required=True)
    ids, emails = c.texts("user_id", "user_ids"), c.texts("user_email", "user_emails")
    if not (ids or emails):
        raise BadInput("'user_id' or 'user_email' is required")
    return organizations_pb2.RemoveOrganizationMembersRequest(
        **c.base, organization_id=org, user_ids=ids, user_emails=emails
    )


# Fields of /user/new that belong to the user's first key rather than to the user.
_USER_KEY_FIELDS = ("key_alias", "duration")


def user_new(c: Call) -> Message:
    user_id = c.text("user_id")
    teams = c.texts("teams")
    team_id = c.text("team_id")
    if team_id and team_id not in teams:
        teams.append(team_id)
    create_key = c.flag("auto_create_key", True)
    key_body = {k: c.body.pop(k) for k in _USER_KEY_FIELDS if k in c.body}
    if team_id:
        key_body["team_id"] = team_id
    key_settings, _ = settings_from_json(key_body, auth_pb2.KeySettings)
    return users_pb2.CreateUserRequest(
        **c.base,
        user_id=user_id,
        teams=teams,
        create_key=create_key,
        key_settings=key_settings,
        settings=c.settings(users_pb2.UserSettings)[0],
    )


def key_generate(c: Call) -> Message:
    return keys_pb2.CreateKeyRequest(**c.base, key=c.text("key"), settings=c.settings(auth_pb2.KeySettings)[0])


def key_regenerate(c: Call) -> Message:
    key, new_key, grace = c.text("key", required=True), c.text("new_key"), c.text("grace_period")
    msg, paths = c.settings(auth_pb2.KeySettings)
    return keys_pb2.RegenerateKeyRequest(
        **c.base, key=key, new_key=new_key, settings=msg, update_mask={"paths": paths}, grace_period=grace
    )


def key_delete(c: Call) -> Message:
    keys, aliases = c.texts("keys"), c.texts("key_aliases")
    if not (keys or aliases):
        raise BadInput("'keys' or 'key_aliases' must name at least one key")
    return keys_pb2.RemoveKeysRequest(**c.base, keys=keys, key_aliases=aliases)


def account_new(c: Call) -> Message:
    account_id = c.text("account_id")
    raw = c.body.pop("entitlements", None)
    ent = settings_from_json(_object(raw, "entitlements"), accounts_pb2.Entitlements)[0] if raw is not None else None
    return accounts_pb2.CreateAccountRequest(
        caller=c.who, account_id=account_id, settings=c.settings(accounts_pb2.AccountSettings)[0], entitlements=ent
    )


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadInput(f"'{name}' must be an object")
    return value


def account_admin(req: type[Message], *, role: bool) -> Build:
    def build(c: Call) -> Message:
        fields = {"user_email": c.text("user_email", required=True)}
        if role:
            fields["role"] = c.text("role")
        return req(caller=c.who, account_id=c.text("account_id", required=True), **fields)

    return build


def path_account(req: type[Message]) -> Build:
    return lambda c: req(caller=c.who, account_id=c.path["account_id"])


# --- answers ---------------------------------------------------------------------------------


def field(name: str) -> Render:
    return lambda edge, c, r: to_json(getattr(r, name))


def items(name: str) -> Render:
    """LiteLLM's bare list (``/team/list``, ``/customer/list``, ...)."""
    return lambda edge, c, r: [to_json(x) for x in getattr(r, name)]


def fields(*names: str) -> Render:
    def render(edge: Edge, c: Call, r: Any) -> Any:
        out = {}
        for n in names:
            v = getattr(r, n)
            out[n] = v if isinstance(v, int | str) else list(v)
        return out

    return render


def key_answer(edge: Edge, c: Call, r: Any) -> Any:
    return key_json(r.info)


def key_with_secret(edge: Edge, c: Call, r: Any) -> Any:
    out = key_json(r.info)
    out["key"] = r.key
    if getattr(r, "previous_key_hash", ""):
        out["previous_key_hash"] = r.previous_key_hash
    if isinstance(r, keys_pb2.RegenerateKeyResponse) and r.HasField("previous_key_valid_until"):
        out["previous_key_valid_until"] = r.previous_key_valid_until.ToDatetime(tzinfo=UTC).isoformat()
    return out


async def key_info(edge: Edge, c: Call, r: keys_pb2.GetKeyInfoResponse) -> Any:
    info = r.info
    # Spend lives under the key's stable id (it survives /key/regenerate).
    spend = await edge.spend.of_key(info.account_id, info.key_id or info.key_hash)
    info.spend = spend.spend if spend is not None else "0"
    out = key_json(info)
    if spend is not None and spend.HasField("budget_reset_at"):
        out["budget_reset_at"] = spend.budget_reset_at.ToDatetime(tzinfo=UTC).isoformat()
    if r.HasField("team"):
        out.update(team_fields(r.team))
    return {"key": info.key_hash, "info": out}


def key_list(edge: Edge, c: Call, r: keys_pb2.ListKeysResponse) -> Any:
    full = c.flag("return_full_object", False)
    limit, offset = c.page()
    size = limit or 100
    return {
        "keys": [key_json(k) if full else k.key_hash for k in r.keys],
        "total_count": r.total_count,
        "current_page": offset // size + 1,
        "total_pages": -(-r.total_count // size),
    }


async def _keys_of(
    edge: Edge, c: Call, account_id: str, *, team_id: str = "", user_id: str = ""
) -> list[dict[str, Any]]:
    """Keys of a team or user (of ``account_id``) for its info answer: those the caller may read."""
    req = keys_pb2.ListKeysRequest(caller=c.who, account_id=account_id, limit=500, team_id=team_id, user_id=user_id)
    resp = await edge.identity.call("KeyService.ListKeys", req, write=False)
    return [key_json(k) for k in resp.keys]


async def team_info(edge: Edge, c: Call, r: teams_pb2.GetTeamResponse) -> Any:
    team = to_json(r.team)
    return {
        "team_id": r.team.team_id,
        "team_info": team,
        "keys": await _keys_of(edge, c, r.team.account_id, team_id=r.team.team_id),
        "team_memberships": team["members_with_roles"],
    }


async def user_info(edge: Edge, c: Call, r: users_pb2.GetUserResponse) -> Any:
    user = to_json(r.user)
    return {
        "user_id": r.user.user_id,
        "user_info": user,
        "keys": await _keys_of(edge, c, r.user.account_id, user_id=r.user.user_id),
        "teams": user["teams"],
    }


def user_new_answer(edge: Edge, c: Call, r: users_pb2.CreateUserResponse) -> Any:
    out = to_json(r.user)
    if r.key:
        out.update(key=r.key, token=r.key_info.key_hash, key_alias=r.key_info.settings.key_alias or None)
        out["expires"] = key_json(r.key_info)["expires"]
    else:
        out["key"] = None
    return out


def user_list(edge: Edge, c: Call, r: users_pb2.ListUsersResponse) -> Any:
    limit, offset = c.page()
    size = limit or 100
    return {
        "users": [to_json(u) for u in r.users],
        "total": r.total_count,
        "page": offset // size + 1,
        "page_size": size,
        "total_pages": -(-r.total_count // size),
    }


def accounts(edge: Edge, c: Call, r: accounts_pb2.ListAccountsResponse) -> Any:
    return {"accounts": [to_json(a) for a in r.accounts], "total_count": r.total_count}


def deleted_account(edge: Edge, c: Call, r: accounts_pb2.DeleteAccountResponse) -> Any:
    out = to_json(r)
    out["status"] = "deleted"
    return out


def entitlements(status: str = "") -> Render:
    def render(edge: Edge, c: Call, r: Any) -> Any:
        out = {"account_id": r.account_id, "entitlements": to_json(r)["entitlements"]}
        if status:
            out["status"] = status
        return out

    return render


def entitlements_update(c: Call) -> Message:
    ent, paths = c.settings(accounts_pb2.Entitlements)
    if not paths:
        raise BadInput("No fields to update.")
    return accounts_pb2.UpdateEntitlementsRequest(
        caller=c.who, account_id=c.path["account_id"], entitlements=ent, update_mask={"paths": paths}
    )


def account_update(c: Call) -> Message:
    return accounts_pb2.UpdateAccountRequest(
        caller=c.who, account_id=c.path["account_id"], **c.update(accounts_pb2.AccountSettings)
    )


def account_delete(c: Call) -> Message:
    confirm = c.text("confirm")
    return accounts_pb2.DeleteAccountRequest(caller=c.who, account_id=c.path["account_id"], confirm=confirm)


def admins(edge: Edge, c: Call, r: accounts_pb2.ListAccountAdminsResponse) -> Any:
    return {"admins": [to_json(a) for a in r.admins]}


def key_update(c: Call) -> Message:
    return keys_pb2.UpdateKeyRequest(**c.base, key=c.text("key", required=True), **c.update(auth_pb2.KeySettings))


def user_list_request(c: Call) -> Message:
    limit, offset = c.page()
    q = c.query
    return users_pb2.ListUsersRequest(
        **c.base,
        user_role=q.get("role", "") or q.get("user_role", ""),
        team_id=q.get("team", "") or q.get("team_id", ""),
        organization_id=q.get("organization_id", ""),
        user_email=q.get("user_email", ""),
        user_ids=c.texts("user_ids"),
        limit=limit,
        offset=offset,
    )


def account_list(c: Call) -> Message:
    limit, offset = c.page()
    return accounts_pb2.ListAccountsRequest(caller=c.who, status=c.query.get("status", ""), limit=limit, offset=offset)


def deleted_keys(edge: Edge, c: Call, r: keys_pb2.RemoveKeysResponse) -> Any:
    return {"deleted_keys": list(r.deleted_key_hashes)}


def customers_named(key: str) -> Render:
    return lambda edge, c, r: {key: [x.user_id for x in r.customers]}


P, G, D, U = ("POST",), ("GET",), ("DELETE",), ("PUT",)
PATCH_OR_POST, DELETE_OR_POST = ("PATCH", "POST"), ("DELETE", "POST")
Te, Ke, Us, Org = teams_pb2, keys_pb2, users_pb2, organizations_pb2
Cu, Bu, Ac = customers_pb2, budget_objects_pb2, accounts_pb2

# Every management route of the tenancy model: method(s), path, the auth RPC, how its request is
# built and how its answer is rendered (docs/tenancy.md "The gRPC API" maps the same routes).
# fmt: off
ROUTES: tuple[Route, ...] = (
    # Keys (LiteLLM /key/*): the master key without account_id acts in its own account.
    Route(P, "/key/generate", "KeyService.CreateKey", key_generate, key_with_secret, own_account=True),
    Route(P, "/key/update", "KeyService.UpdateKey", key_update, key_answer, own_account=True),
    Route(G, "/key/info", "KeyService.GetKeyInfo", one(Ke.GetKeyInfoRequest, "key", required=False), key_info,
          own_account=True),
    Route(G, "/key/list", "KeyService.ListKeys",
          listing(Ke.ListKeysRequest, user_id="user_id", team_id="team_id", organization_id="organization_id",
                  key_alias="key_alias", key_hash="key_hash"),
          key_list, own_account=True),
    Route(P, "/key/regenerate", "KeyService.RegenerateKey", key_regenerate, key_with_secret, own_account=True),
    Route(P, "/key/{key}/regenerate", "KeyService.RegenerateKey", key_regenerate, key_with_secret, own_account=True),
    Route(P, "/key/block", "KeyService.BlockKey", one(Ke.BlockKeyRequest, "key"), key_answer, own_account=True),
    Route(P, "/key/unblock", "KeyService.UnblockKey", one(Ke.UnblockKeyRequest, "key"), key_answer, own_account=True),
    Route(P, "/key/delete", "KeyService.RemoveKeys", key_delete, deleted_keys, own_account=True),
    # Teams.
    Route(P, "/team/new", "TeamService.CreateTeam", team_new, field("team")),
    Route(P, "/team/update", "TeamService.UpdateTeam", update(Te.UpdateTeamRequest, Te.TeamSettings, "team_id"),
          field("team")),
    Route(G, "/team/info", "TeamService.GetTeam", one(Te.GetTeamRequest, "team_id"), team_info),
    Route(G, "/team/list", "TeamService.ListTeams",
          listing(Te.ListTeamsRequest, organization_id="organization_id", user_id="user_id", team_alias="team_alias"),
          items("teams")),
    Route(P, "/team/delete", "TeamService.DeleteTeams", many(Te.DeleteTeamsRequest, "team_ids", "team_ids"),
          fields("deleted_team_ids", "deleted_keys")),
    Route(P, "/team/member_add", "TeamService.AddTeamMembers", team_member_add, field("team")),
    Route(P, "/team/member_update", "TeamService.UpdateTeamMember", team_member_update, field("member")),
    Route(P, "/team/member_delete", "TeamService.RemoveTeamMembers", team_member_delete, field("team")),
    Route(P, "/team/model/add", "TeamService.AddTeamModels", with_team_id(Te.AddTeamModelsRequest), field("team")),
    Route(P, "/team/model/delete", "TeamService.RemoveTeamModels", with_team_id(Te.RemoveTeamModelsRequest),
          field("team")),
    Route(P, "/team/block", "TeamService.BlockTeam", one(Te.BlockTeamRequest, "team_id"), field("team")),
    Route(P, "/team/unblock", "TeamService.UnblockTeam", one(Te.UnblockTeamRequest, "team_id"), field("team")),
    # Users.
    Route(P, "/user/new", "UserService.CreateUser", user_new, user_new_answer),
    Route(P, "/user/update", "UserService.UpdateUser", update(Us.UpdateUserRequest, Us.UserSettings, "user_id"),
          field("user")),
    Route(G, "/user/info", "UserService.GetUser", one(Us.GetUserRequest, "user_id", required=False), user_info),
    Route(G, "/user/list", "UserService.ListUsers", user_list_request, user_list),
    Route(P, "/user/delete", "UserService.DeleteUsers", many(Us.DeleteUsersRequest, "user_ids", "user_ids"),
          fields("deleted_user_ids", "deleted_keys")),
    # Organisations.
    Route(P, "/organization/new", "OrganizationService.CreateOrganization",
          create(Org.CreateOrganizationRequest, Org.OrganizationSettings, "organization_id"), field("organization")),
    Route(PATCH_OR_POST, "/organization/update", "OrganizationService.UpdateOrganization",
          update(Org.UpdateOrganizationRequest, Org.OrganizationSettings, "organization_id"), field("organization")),
    Route(G, "/organization/info", "OrganizationService.GetOrganization",
          one(Org.GetOrganizationRequest, "organization_id"), field("organization")),
    Route(G, "/organization/list", "OrganizationService.ListOrganizations",
          listing(Org.ListOrganizationsRequest, org_alias="organization_alias"), items("organizations")),
    Route(DELETE_OR_POST, "/organization/delete", "OrganizationService.DeleteOrganizations",
          many(Org.DeleteOrganizationsRequest, "organization_ids", "organization_ids"),
          fields("deleted_organization_ids")),
    Route(P, "/organization/member_add", "OrganizationService.AddOrganizationMembers", org_member_add,
          field("organization")),
    Route(PATCH_OR_POST, "/organization/member_update", "OrganizationService.UpdateOrganizationMember",
          org_member_update, field("member")),
    Route(DELETE_OR_POST, "/organization/member_delete", "OrganizationService.RemoveOrganizationMembers",
          org_member_delete, field("organization")),
    # Customers (end users).
    Route(P, "/customer/new", "CustomerService.CreateCustomer",
          create(Cu.CreateCustomerRequest, Cu.CustomerSettings, "user_id"), field("customer")),
    Route(P, "/customer/update", "CustomerService.UpdateCustomer",
          update(Cu.UpdateCustomerRequest, Cu.CustomerSettings, "user_id"), field("customer")),
    Route(G, "/customer/info", "CustomerService.GetCustomer", one(Cu.GetCustomerRequest, "user_id", "end_user_id"),
          field("customer")),
    Route(G, "/customer/list", "CustomerService.ListCustomers", listing(Cu.ListCustomersRequest, budget_id="budget_id"),
          items("customers")),
    Route(P, "/customer/delete", "CustomerService.DeleteCustomers",
          many(Cu.DeleteCustomersRequest, "user_ids", "user_ids"), fields("deleted_user_ids")),
    Route(P, "/customer/block", "CustomerService.BlockCustomers",
          many(Cu.BlockCustomersRequest, "user_ids", "user_ids"), customers_named("blocked_users")),
    Route(P, "/customer/unblock", "CustomerService.UnblockCustomers",
          many(Cu.UnblockCustomersRequest, "user_ids", "user_ids"), customers_named("unblocked_users")),
    # Budget objects.
    Route(P, "/budget/new", "BudgetObjectService.CreateBudget",
          create(Bu.CreateBudgetRequest, Bu.BudgetObjectSettings, "budget_id"), field("budget")),
    Route(P, "/budget/update", "BudgetObjectService.UpdateBudget",
          update(Bu.UpdateBudgetRequest, Bu.BudgetObjectSettings, "budget_id"), field("budget")),
    Route(G, "/budget/info", "BudgetObjectService.GetBudget", one(Bu.GetBudgetRequest, "budget_id"), field("budget")),
    Route(G, "/budget/list", "BudgetObjectService.ListBudgets", listing(Bu.ListBudgetsRequest), items("budgets")),
    Route(P, "/budget/delete", "BudgetObjectService.DeleteBudgets",
          many(Bu.DeleteBudgetsRequest, "budget_ids", "budget_ids", "id", "budget_id"), fields("deleted_budget_ids")),
    # Accounts (tenants), their admins and entitlements (auth allows writes to super admins).
    Route(P, "/account/new", "AccountService.CreateAccount", account_new, field("account")),
    Route(G, "/account/list", "AccountService.ListAccounts", account_list, accounts),
    Route(G, "/account/{account_id}", "AccountService.GetAccount", path_account(Ac.GetAccountRequest),
          field("account")),
    Route(U, "/account/{account_id}", "AccountService.UpdateAccount", account_update, field("account")),
    Route(D, "/account/{account_id}", "AccountService.DeleteAccount", account_delete, deleted_account),
    Route(G, "/account/{account_id}/admins", "AccountService.ListAccountAdmins",
          path_account(Ac.ListAccountAdminsRequest), admins),
    Route(P, "/account/{account_id}/admins", "AccountService.AddAccountAdmin",
          account_admin(Ac.AddAccountAdminRequest, role=True), field("admin")),
    Route(U, "/account/{account_id}/admins/{user_email}", "AccountService.UpdateAccountAdmin",
          account_admin(Ac.UpdateAccountAdminRequest, role=True), field("admin")),
    Route(D, "/account/{account_id}/admins/{user_email}", "AccountService.RemoveAccountAdmin",
          account_admin(Ac.RemoveAccountAdminRequest, role=False), field("admin")),
    Route(G, "/copilot/entitlements/{account_id}", "AccountService.GetEntitlements",
          path_account(Ac.GetEntitlementsRequest), entitlements(), super_admin_only=True),
    Route(U, "/copilot/entitlements/{account_id}", "AccountService.UpdateEntitlements", entitlements_update,
          entitlements("updated"), super_admin_only=True),
)
# fmt: on

_SUPER_ADMIN_ONLY = "Only super admins may read or change entitlements."


async def _body(request: Request, limit: int) -> dict[str, Any]:
    """The JSON object of a body, or {} when there is none (GET, or a DELETE without one)."""
    if request.method == "GET" or (
        request.headers.get("content-length") in (None, "0") and "transfer-encoding" not in request.headers
    ):
        return {}
    body = await read_json(request, limit)
    if not isinstance(body, dict):
        raise BadInput("the request body must be a JSON object")
    return body


def handler(edge: Edge, route: Route) -> Callable[[Request, auth_pb2.Principal], Any]:
    async def handle(request: Request, who: auth_pb2.Principal) -> Response:
        if route.super_admin_only and not who.is_super_admin:
            raise Refused(403, _SUPER_ADMIN_ONLY)
        body = await _body(request, edge.settings.max_management_body_bytes)
        call = Call(who, request, body, own_account=route.own_account)
        req = route.build(call)
        call.finish()
        resp = await edge.identity.call(route.rpc, req, write=route.write)
        out = route.render(edge, call, resp)
        if inspect.isawaitable(out):
            out = await out
        return json_response(out)

    return handle


def register(app: FastAPI, edge: Edge) -> None:
    for route in ROUTES:
        for method in route.methods:
            endpoint = management_endpoint(edge, handler(edge, route))
            # The OpenAPI document names the operation (id and summary) after the function.
            endpoint.__name__ = method.lower() + re.sub(r"[^a-z]+", "_", route.path)
            body = None if method == "GET" else openapi.MANAGEMENT_BODIES.get(route.path, openapi.MANAGEMENT_OBJECT)
            extra = openapi.management_route(body, path=tuple(re.findall(r"{(\w+)}", route.path)))
            app.add_api_route(route.path, endpoint, methods=[method], openapi_extra=extra)
