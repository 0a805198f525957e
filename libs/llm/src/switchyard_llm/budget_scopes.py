"""Which spend scopes a caller has: the one place that decides it, for admission at the edge
(a lease per principal and end user) and for settlement in copilot-budget (each usage event).

A caller's spend counts against its key, user, team, organisation and team membership (each when
it has one) and against the end user (customer) the request names. Admission and settlement use
the same scopes, so what a lease held on is what the usage events charge."""

from __future__ import annotations

from typing import TypeAlias

from switchyard.auth.v1 import auth_pb2
from switchyard.budget.v1 import budget_pb2
from switchyard.events.v1 import identity_pb2, usage_pb2

# (kind, id) of each scope.
Scopes: TypeAlias = tuple[tuple[budget_pb2.ScopeKind, str], ...]

# A scope kind's name in copilot-budget's Redis keys and ledger rows.
_KIND_NAMES: dict[budget_pb2.ScopeKind, str] = {
    budget_pb2.SCOPE_KIND_KEY: "key",
    budget_pb2.SCOPE_KIND_USER: "user",
    budget_pb2.SCOPE_KIND_TEAM: "team",
    budget_pb2.SCOPE_KIND_ORG: "org",
    budget_pb2.SCOPE_KIND_END_USER: "end_user",
    budget_pb2.SCOPE_KIND_TAG: "tag",
    budget_pb2.SCOPE_KIND_ACCOUNT: "account",
    budget_pb2.SCOPE_KIND_TEAM_MEMBER: "team_member",
    budget_pb2.SCOPE_KIND_KEY_MODEL: "key_model",
}

# How a refusal names a scope of each kind (LiteLLM names the entity that ran out).
_NOUNS = {
    "key": "key",
    "user": "user",
    "team": "team",
    "org": "organization",
    "end_user": "end user",
    "tag": "tag",
    "account": "account",
}


def kind_name(kind: budget_pb2.ScopeKind) -> str:
    return _KIND_NAMES.get(kind, "unknown")


def _pair(first: str, second: str) -> str:
    # Ids may hold any character but NUL, so the first one's length comes first: no two pairs
    # share a scope id.
    return f"{len(first)}:{first}/{second}"


def _unpair(scope_id: str) -> tuple[str, str] | None:
    n, _, rest = scope_id.partition(":")
    if not n.isdigit():
        return None
    return rest[: int(n)], rest[int(n) + 1 :]


def member_scope_id(team_id: str, user_id: str) -> str:
    """The scope of a user's membership of a team."""
    return _pair(team_id, user_id)


def key_model_scope_id(key_id: str, model: str) -> str:
    """The scope of a key's spend on one model group (its ``model_max_budget``)."""
    return _pair(key_id, model)


def describe(kind: str, scope_id: str) -> str:
    """A scope as a refusal names it, e.g. ``team 'eng'``."""
    if kind in ("team_member", "key_model") and (pair := _unpair(scope_id)) is not None:
        if kind == "team_member":
            return f"team member '{pair[1]}' of team '{pair[0]}'"
        return f"key '{pair[0]}' on model '{pair[1]}'"
    return f"{_NOUNS.get(kind, kind)} '{scope_id}'"


def _caller(key_id: str, user_id: str, team_id: str, org_id: str, end_user: str, model: str) -> Scopes:
    # A key's spend scope is its stable id (the same across regeneration); events and principals
    # from before key ids name it by hash, which is the same value for a key never regenerated.
    scopes = (
        (budget_pb2.SCOPE_KIND_KEY, key_id),
        (budget_pb2.SCOPE_KIND_USER, user_id),
        (budget_pb2.SCOPE_KIND_TEAM, team_id),
        (budget_pb2.SCOPE_KIND_ORG, org_id),
        (budget_pb2.SCOPE_KIND_TEAM_MEMBER, member_scope_id(team_id, user_id) if team_id and user_id else ""),
        (budget_pb2.SCOPE_KIND_END_USER, end_user),
        (budget_pb2.SCOPE_KIND_KEY_MODEL, key_model_scope_id(key_id, model) if key_id and model else ""),
    )
    return tuple(s for s in scopes if s[1])


def principal_scopes(p: auth_pb2.Principal, end_user: str = "", model: str = "") -> Scopes:
    """The scopes a principal's requests naming ``end_user`` are admitted against; ``model``: the
    model group, when the key has a budget for it (``model_max_budget``)."""
    return _caller(p.key_id or p.key_hash, p.user_id, p.team_id, p.org_id, end_user, model)


def event_scopes(e: usage_pb2.UsageEvent) -> Scopes:
    """The scopes a usage event's spend counts against: those its request was admitted against
    (the end user and the key's model group count whether or not they have a limit)."""
    return _caller(e.key_id or e.key_hash, e.user_id, e.team_id, e.org_id, e.end_user, e.model_group)


def model_limit(p: auth_pb2.Principal, model: str) -> auth_pb2.SpendLimit | None:
    """The key's spend limit on the model group ``model`` (``model_max_budget``), or None. It
    carries the key's version when auth sent one, to be put in force at the first admission."""
    if not p.model_max_budget or model not in p.model_max_budget:
        return None
    b = p.model_max_budget[model]
    return auth_pb2.SpendLimit(max_budget=b.budget_limit, budget_duration=b.time_period, version=p.key_limit.version)


def principal_limits(p: auth_pb2.Principal) -> dict[budget_pb2.ScopeKind, auth_pb2.SpendLimit]:
    """The spend limits the principal carries, by scope kind (those auth sent with a version):
    the budget service puts each in force at the first admission if it holds an older one."""
    out = {}
    for kind, field in (
        (budget_pb2.SCOPE_KIND_KEY, "key_limit"),
        (budget_pb2.SCOPE_KIND_TEAM, "team_limit"),
        (budget_pb2.SCOPE_KIND_USER, "user_limit"),
        (budget_pb2.SCOPE_KIND_ORG, "org_limit"),
        (budget_pb2.SCOPE_KIND_TEAM_MEMBER, "team_member_limit"),
    ):
        if p.HasField(field):
            limit: auth_pb2.SpendLimit = getattr(p, field)
            if limit.version:
                out[kind] = limit
    return out


# The scope kind of each entity whose identity events carry a spend limit.
_ENTITY_KINDS = {
    identity_pb2.IDENTITY_ENTITY_UNSPECIFIED: budget_pb2.SCOPE_KIND_KEY,
    identity_pb2.IDENTITY_ENTITY_KEY: budget_pb2.SCOPE_KIND_KEY,
    identity_pb2.IDENTITY_ENTITY_TEAM: budget_pb2.SCOPE_KIND_TEAM,
    identity_pb2.IDENTITY_ENTITY_USER: budget_pb2.SCOPE_KIND_USER,
    identity_pb2.IDENTITY_ENTITY_ORGANIZATION: budget_pb2.SCOPE_KIND_ORG,
    identity_pb2.IDENTITY_ENTITY_CUSTOMER: budget_pb2.SCOPE_KIND_END_USER,
    identity_pb2.IDENTITY_ENTITY_TEAM_MEMBER: budget_pb2.SCOPE_KIND_TEAM_MEMBER,
}


def identity_scope(e: identity_pb2.IdentityEvent) -> tuple[budget_pb2.ScopeKind, str] | None:
    """The scope whose limits an identity event changes (the budget service stores the event's
    limit there; edges stop using leases on it); None for events about nothing limited."""
    kind = _ENTITY_KINDS.get(e.entity)
    if kind is None:
        return None
    if kind == budget_pb2.SCOPE_KIND_KEY:
        # A key's scope is its stable id (events from before key ids name it by hash, the same).
        sid = e.key_id or e.key_hash
    elif kind == budget_pb2.SCOPE_KIND_TEAM_MEMBER:
        sid = member_scope_id(e.entity_id, e.member_user_id) if e.entity_id and e.member_user_id else ""
    else:
        sid = e.entity_id
    return (kind, sid) if sid else None
