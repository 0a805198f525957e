"""The principal a virtual key yields: who it is (account, key, user, team, organisation, roles)
and everything the edge needs to admit its requests without asking again (models, aliases, tags,
allowed routes, and the spend and request limits of every scope that applies)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from switchyard.auth.v1 import auth_pb2, organizations_pb2, teams_pb2, users_pb2
from switchyard_auth.domain import limits
from switchyard_auth.domain.limits import Limits

S = TypeVar("S")


@dataclass(frozen=True)
class KeyFacts:
    key_id: str
    key_hash: str
    account_id: str
    settings: auth_pb2.KeySettings
    version: int
    # Unix seconds; 0 for none.
    expires_at: int
    budget: Limits | None = None


@dataclass(frozen=True)
class Entity(Generic[S]):
    """A user, team or organisation the key belongs to, with its budget object's limits."""

    settings: S
    version: int
    budget: Limits | None = None


@dataclass(frozen=True)
class Membership:
    role: str
    max_budget_in_team: str
    version: int
    budget: Limits | None = None


def refusal(
    key: KeyFacts,
    account_status: str,
    user: Entity[users_pb2.UserSettings] | None,
    team: Entity[teams_pb2.TeamSettings] | None,
    org: Entity[organizations_pb2.OrganizationSettings] | None,
    now: float,
) -> str | None:
    """Why the key may not be used now, or None."""
    if account_status != "active":
        return "Authentication Error: this key's account is not active."
    if key.settings.blocked:
        return "Authentication Error: this key is blocked."
    if key.expires_at and key.expires_at < now:
        return "Authentication Error: this key has expired."
    for what, entity in (("team", team), ("user", user), ("organization", org)):
        if entity is not None and entity.settings.blocked:
            return f"Authentication Error: this key's {what} is blocked."
    return None


def build(
    key: KeyFacts,
    user: Entity[users_pb2.UserSettings] | None,
    team: Entity[teams_pb2.TeamSettings] | None,
    member: Membership | None,
    org: Entity[organizations_pb2.OrganizationSettings] | None,
    org_id: str,
    cache_ttl: int,
) -> auth_pb2.Principal:
    s = key.settings
    role = user.settings.user_role if user is not None else ""
    p = auth_pb2.Principal(
        account_id=key.account_id,
        key_hash=key.key_hash,
        key_id=key.key_id,
        key_alias=s.key_alias,
        team_id=s.team_id,
        user_id=s.user_id,
        org_id=org_id,
        role=role,
        # Only the master key: the edge's current routes let is_admin manage what is not
        # per-account (the router's model registry); an account admin's rights are its role's.
        is_admin=False,
        # A key without models of its own may call what its team may, else what its user may.
        models=list(s.models)
        or (list(team.settings.models) if team is not None else [])
        or (list(user.settings.models) if user is not None else []),
        limits=s.limits,
        guardrails=s.guardrails,
        metadata_json=s.metadata_json,
        cache_ttl_seconds=cache_ttl,
        expires_at=key.expires_at,
        tags=s.tags,
        allowed_routes=s.allowed_routes,
        model_aliases=dict(s.aliases),
        model_rpm_limit=dict(s.model_rpm_limit),
        model_tpm_limit=dict(s.model_tpm_limit),
        credential_kind=auth_pb2.CREDENTIAL_KIND_VIRTUAL_KEY,
    )
    for name, budget in s.model_max_budget.items():
        p.model_max_budget[name].CopyFrom(budget)
    key_limits = limits.effective(limits.of(s), key.budget)
    spend = [limits.spend_limit(key_limits, key.version)]
    if key_limits.rpm_limit or key_limits.tpm_limit or key_limits.max_parallel_requests:
        p.limits.CopyFrom(limits.rate_limits(key_limits))
    if spend[0] is not None:
        p.key_limit.CopyFrom(spend[0])
    if user is not None:
        own = limits.effective(limits.of(user.settings), user.budget)
        _scope(p.user_limit, p.user_rate_limits, own, user.version, spend)
    if team is not None:
        own = limits.effective(limits.of(team.settings), team.budget)
        _scope(p.team_limit, p.team_rate_limits, own, team.version, spend)
        p.team_alias = team.settings.team_alias
        p.team_models.extend(team.settings.models)
        p.team_model_aliases.update(team.settings.model_aliases)
        if member is not None:
            p.team_role = member.role
            m = limits.member(member.max_budget_in_team, member.budget, own.budget_duration)
            _scope(p.team_member_limit, p.team_member_rate_limits, m, member.version, spend)
    if org is not None:
        own = limits.effective(limits.of(org.settings), org.budget)
        _scope(p.org_limit, p.org_rate_limits, own, org.version, spend)
    p.has_budget = any(sl is not None and bool(sl.max_budget) for sl in spend)
    return p


def _scope(
    spend_out: auth_pb2.SpendLimit,
    rates_out: auth_pb2.RateLimits,
    own: Limits,
    version: int,
    spend: list[auth_pb2.SpendLimit | None],
) -> None:
    sl = limits.spend_limit(own, version)
    if sl is not None:
        spend_out.CopyFrom(sl)
    spend.append(sl)
    rates_out.CopyFrom(limits.rate_limits(own))


def master(account_id: str, cache_ttl: int) -> auth_pb2.Principal:
    """The master key's principal: the super admin, at home in the default account."""
    return auth_pb2.Principal(
        account_id=account_id,
        is_admin=True,
        is_super_admin=True,
        key_alias="master_key",
        cache_ttl_seconds=cache_ttl,
        credential_kind=auth_pb2.CREDENTIAL_KIND_MASTER_KEY,
    )


def user_refusal(account_status: str, user: Entity[users_pb2.UserSettings] | None, revoked: bool) -> str | None:
    """Why a session (or an identity-provider token) of ``user`` may not be used now, or None."""
    if revoked:
        return "Authentication Error: this session has been logged out; sign in again."
    if user is None:
        return "Authentication Error: this session's user no longer exists."
    if account_status != "active":
        return "Authentication Error: this session's account is not active."
    if user.settings.blocked:
        return "Authentication Error: this session's user is blocked."
    return None


def of_user(
    account_id: str,
    user_id: str,
    user: Entity[users_pb2.UserSettings],
    *,
    kind: auth_pb2.CredentialKind,
    super_admin: bool,
    session_id: str,
    expires_at: int,
    cache_ttl: int,
) -> auth_pb2.Principal:
    """A signed-in user's principal (a session or an identity-provider token): the user's role,
    models and limits; no key. The edge caches it for ``cache_ttl`` seconds and never past
    ``expires_at``."""
    s = user.settings
    p = auth_pb2.Principal(
        account_id=account_id,
        user_id=user_id,
        org_id=s.organization_id,
        role=s.user_role,
        is_super_admin=super_admin,
        # is_admin lets the edge's routes manage what is not per account (the router's model
        # registry): the master key's right, and so a signed-in super admin's.
        is_admin=super_admin,
        models=s.models,
        metadata_json=s.metadata_json,
        cache_ttl_seconds=cache_ttl,
        expires_at=expires_at,
        credential_kind=kind,
        session_id=session_id,
    )
    own = limits.effective(limits.of(s), user.budget)
    spend: list[auth_pb2.SpendLimit | None] = []
    _scope(p.user_limit, p.user_rate_limits, own, user.version, spend)
    p.has_budget = any(sl is not None and bool(sl.max_budget) for sl in spend)
    return p
