"""What a caller's tenancy settings do to one request: aliases, allowed routes, and the rate-limit
scopes it is counted on (named for a refusal)."""

from __future__ import annotations

from switchyard.auth.v1 import auth_pb2, customers_pb2
from switchyard_edge.domain.tenancy import rate_scopes, resolve_model, route_allowed
from switchyard_llm.budget_scopes import member_scope_id


def test_the_keys_alias_wins_over_the_teams() -> None:
    p = auth_pb2.Principal(
        model_aliases={"fast": "gpt-4o-mini"}, team_model_aliases={"fast": "claude-haiku", "smart": "gpt-4o"}
    )
    assert resolve_model(p, "fast") == "gpt-4o-mini"
    assert resolve_model(p, "smart") == "gpt-4o"
    assert resolve_model(p, "gpt-4o") == "gpt-4o"
    assert resolve_model(auth_pb2.Principal(), "fast") == "fast"


def test_allowed_routes() -> None:
    assert route_allowed([], "/key/generate")
    assert route_allowed(["/chat/completions"], "/v1/chat/completions")
    assert route_allowed(["/v1/chat/completions"], "/chat/completions")
    assert not route_allowed(["/chat/completions"], "/v1/embeddings")
    assert route_allowed(["llm_api_routes"], "/v1/embeddings")
    assert route_allowed(["llm_api_routes"], "/openai/deployments/gpt/chat/completions")
    assert not route_allowed(["llm_api_routes"], "/key/generate")
    assert route_allowed(["/key/*"], "/key/info")
    assert not route_allowed(["/key/*"], "/team/new")


def test_a_principal_without_limits_has_no_scopes() -> None:
    p = auth_pb2.Principal(account_id="a", key_hash="k", team_id="t", user_id="u")
    assert rate_scopes(p, "m", "", None) is None
    assert rate_scopes(auth_pb2.Principal(account_id="a"), "m", "eu", None) is None, "the master key is not limited"


def test_every_limited_scope_is_counted_and_named() -> None:
    r = auth_pb2.RateLimits(rpm_limit=5)
    p = auth_pb2.Principal(
        account_id="a",
        key_hash="k",
        team_id="t",
        user_id="u",
        org_id="o",
        limits=auth_pb2.RateLimits(tpm_limit=100),
        team_rate_limits=r,
        user_rate_limits=r,
        org_rate_limits=auth_pb2.RateLimits(),
        team_member_rate_limits=auth_pb2.RateLimits(max_parallel_requests=2),
        model_rpm_limit={"gpt-4o": 3},
    )
    customer = customers_pb2.Customer(user_id="c", rate_limits=auth_pb2.RateLimits(rpm_limit=1))
    limited = rate_scopes(p, "gpt-4o", "c", customer)
    assert limited is not None
    assert [s.id for s in limited.candidate.scopes] == [
        "key:k",
        "key_model:k:gpt-4o",
        "team:a:t",
        "user:a:u",
        f"team_member:a:{member_scope_id('t', 'u')}",
        "end_user:a:c",
    ]
    assert limited.names == (
        "this key",
        "this key on model 'gpt-4o'",
        "team 't'",
        "user 'u'",
        "team member 'u' of team 't'",
        "end user 'c'",
    )
    assert limited.counts_tokens
    # Another model: the key's model limit does not apply; no end user: nor does the customer's.
    other = rate_scopes(p, "claude", "", customer)
    assert other is not None and "key_model:k:gpt-4o" not in [s.id for s in other.candidate.scopes]
    assert "end_user:a:c" not in [s.id for s in other.candidate.scopes]
