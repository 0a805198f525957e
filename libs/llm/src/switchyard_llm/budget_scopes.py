"""Which spend scopes a caller has: the one place that decides it, for admission at the edge
(a lease per principal) and for settlement in copilot-budget (each usage event).

A caller's spend counts against its key, user, team and organisation (each when it has one);
the end user a request names counts at settlement too, but is not part of admission: an edge's
lease covers every request of one principal, whichever end user each names."""

from __future__ import annotations

from typing import TypeAlias

from switchyard.auth.v1 import auth_pb2
from switchyard.budget.v1 import budget_pb2
from switchyard.events.v1 import usage_pb2

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
}


def kind_name(kind: budget_pb2.ScopeKind) -> str:
    return _KIND_NAMES.get(kind, "unknown")


def _caller(key_id: str, user_id: str, team_id: str, org_id: str) -> Scopes:
    # A key's spend scope is its stable id (the same across regeneration); events and principals
    # from before key ids name it by hash, which is the same value for a key never regenerated.
    return (
        (budget_pb2.SCOPE_KIND_KEY, key_id),
        (budget_pb2.SCOPE_KIND_USER, user_id),
        (budget_pb2.SCOPE_KIND_TEAM, team_id),
        (budget_pb2.SCOPE_KIND_ORG, org_id),
    )


def principal_scopes(p: auth_pb2.Principal) -> Scopes:
    """The scopes a principal's requests are admitted against."""
    return tuple(s for s in _caller(p.key_id or p.key_hash, p.user_id, p.team_id, p.org_id) if s[1])


def event_scopes(e: usage_pb2.UsageEvent) -> Scopes:
    """The scopes a usage event's spend counts against: its principal's and its end user."""
    scopes = (
        *_caller(e.key_id or e.key_hash, e.user_id, e.team_id, e.org_id),
        (budget_pb2.SCOPE_KIND_END_USER, e.end_user),
    )
    return tuple(s for s in scopes if s[1])
