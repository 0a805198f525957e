"""What a caller's tenancy settings do to one request, decided from its principal (and the end
user it names) alone: the model an alias stands for, whether the route is one the key may call,
and the rate-limit scopes the request is counted on, each named for a refusal.

The principal comes from auth (cached); the customer from the edge's customer cache. Nothing
here does I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from switchyard.auth.v1 import auth_pb2, customers_pb2
from switchyard_common.rate_limits import Candidate, Scope
from switchyard_llm.budget_scopes import member_scope_id

# LiteLLM's name for the routes that call a model (`allowed_routes: ["llm_api_routes"]`).
LLM_API_ROUTES = "llm_api_routes"
_LLM_PATHS = frozenset(
    {
        "/chat/completions",
        "/completions",
        "/embeddings",
        "/images/generations",
        "/models",
        "/messages",
        "/responses",
    }
)


def resolve_model(p: auth_pb2.Principal, model: str) -> str:
    """The model a request for ``model`` asks for: the key's alias of it, else its team's, else
    itself (LiteLLM: a key's ``aliases`` win over its team's ``model_aliases``)."""
    if p.model_aliases and model in p.model_aliases:
        return p.model_aliases[model]
    if p.team_model_aliases and model in p.team_model_aliases:
        return p.team_model_aliases[model]
    return model


def _bare(path: str) -> str:
    return path[3:] if path.startswith("/v1/") else path


def route_allowed(allowed: Sequence[str], path: str) -> bool:
    """Whether a key limited to ``allowed`` routes (LiteLLM ``allowed_routes``; empty: every
    route) may call ``path``. An entry names a path with or without ``/v1``, a prefix ending in
    ``*``, or ``llm_api_routes`` (every model route)."""
    if not allowed:
        return True
    bare = _bare(path)
    for entry in allowed:
        if entry == LLM_API_ROUTES:
            if bare in _LLM_PATHS or path.startswith(("/openai/deployments/", "/engines/")):
                return True
        elif entry.endswith("*"):
            if path.startswith(entry[:-1]) or bare.startswith(_bare(entry[:-1])):
                return True
        elif entry == path or _bare(entry) == bare:
            return True
    return False


@dataclass(frozen=True, slots=True)
class Limited:
    """A request's rate-limit scopes, all admitted together, and how a refusal names each."""

    candidate: Candidate
    names: tuple[str, ...]
    # The RateLimits each scope was built from (a refusal quotes the limit that refused).
    limits: tuple[auth_pb2.RateLimits, ...]

    @property
    def counts_tokens(self) -> bool:
        return any(s.tpm > 0 for s in self.candidate.scopes)


def _limited(r: auth_pb2.RateLimits) -> bool:
    return r.rpm_limit > 0 or r.tpm_limit > 0 or r.max_parallel_requests > 0


def customer_limits(c: customers_pb2.Customer | None) -> auth_pb2.RateLimits | None:
    if c is None:
        return None
    if c.HasField("rate_limits"):
        return c.rate_limits
    s = c.settings
    return auth_pb2.RateLimits(
        rpm_limit=s.rpm_limit, tpm_limit=s.tpm_limit, max_parallel_requests=s.max_parallel_requests
    )


def rate_scopes(
    p: auth_pb2.Principal, model: str, end_user: str, customer: customers_pb2.Customer | None
) -> Limited | None:
    """The scopes one request of ``p`` for ``model`` naming ``end_user`` is rate limited on (its
    key, the key's limits for the model, its team, user, organisation, team membership and the
    end user), each with a limit; None when none has one (the request then costs no Redis call).
    Scope ids carry the account: ids of teams, users and customers are unique per account only."""
    if not p.key_hash:
        return None  # the master key is not limited
    if not (
        p.HasField("limits")
        or p.HasField("team_rate_limits")
        or p.HasField("user_rate_limits")
        or p.HasField("org_rate_limits")
        or p.HasField("team_member_rate_limits")
        or p.model_rpm_limit
        or p.model_tpm_limit
        or (end_user and customer is not None)
    ):
        return None  # the common case, on every request: decided without building anything
    acct = p.account_id
    found: list[tuple[str, str, auth_pb2.RateLimits]] = []
    if _limited(p.limits):
        found.append((f"key:{p.key_hash}", "this key", p.limits))
    model_rpm = p.model_rpm_limit.get(model, 0) if p.model_rpm_limit else 0
    model_tpm = p.model_tpm_limit.get(model, 0) if p.model_tpm_limit else 0
    if model_rpm or model_tpm:
        found.append(
            (
                f"key_model:{p.key_hash}:{model}",
                f"this key on model '{model}'",
                auth_pb2.RateLimits(rpm_limit=model_rpm, tpm_limit=model_tpm),
            )
        )
    for field, kind, sid, name in (
        ("team_rate_limits", "team", p.team_id, "team '{t}'"),
        ("user_rate_limits", "user", p.user_id, "user '{u}'"),
        ("org_rate_limits", "org", p.org_id, "organization '{o}'"),
        ("team_member_rate_limits", "team_member", p.team_id and p.user_id, "team member '{u}' of team '{t}'"),
    ):
        if sid and p.HasField(field):
            r: auth_pb2.RateLimits = getattr(p, field)
            if _limited(r):
                if kind == "team_member":
                    sid = member_scope_id(p.team_id, p.user_id)
                label = name.format(t=p.team_id, u=p.user_id, o=p.org_id)
                found.append((f"{kind}:{acct}:{sid}", label, r))
    if end_user and (c := customer_limits(customer)) is not None and _limited(c):
        found.append((f"end_user:{acct}:{end_user}", f"end user '{end_user}'", c))
    if not found:
        return None
    scopes = tuple(
        Scope(sid, rpm=r.rpm_limit, tpm=r.tpm_limit, parallel=r.max_parallel_requests) for sid, _, r in found
    )
    return Limited(Candidate(scopes), tuple(n for _, n, _ in found), tuple(r for _, _, r in found))
