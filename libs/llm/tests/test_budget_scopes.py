"""Which spend scopes a caller has, for admission (a principal) and settlement (a usage event)."""

from __future__ import annotations

from switchyard.auth.v1 import auth_pb2
from switchyard.budget.v1 import budget_pb2
from switchyard.events.v1 import usage_pb2
from switchyard_llm.budget_scopes import (
    describe,
    event_scopes,
    key_model_scope_id,
    kind_name,
    member_scope_id,
    model_limit,
    principal_limits,
    principal_scopes,
)


def test_a_principal_is_admitted_against_what_it_has() -> None:
    p = auth_pb2.Principal(key_hash="k", team_id="t", org_id="o")
    assert principal_scopes(p) == (
        (budget_pb2.SCOPE_KIND_KEY, "k"),
        (budget_pb2.SCOPE_KIND_TEAM, "t"),
        (budget_pb2.SCOPE_KIND_ORG, "o"),
    )
    assert principal_scopes(auth_pb2.Principal(is_admin=True)) == ()


def test_an_event_counts_against_the_scopes_its_request_was_admitted_against() -> None:
    e = usage_pb2.UsageEvent(key_hash="k", user_id="u", team_id="t", org_id="o", end_user="customer-1")
    p = auth_pb2.Principal(key_hash="k", user_id="u", team_id="t", org_id="o")
    assert event_scopes(e) == principal_scopes(p, "customer-1")
    assert [kind_name(k) for k, _ in event_scopes(e)] == ["key", "user", "team", "org", "team_member", "end_user"]


def test_member_scopes_of_different_pairs_never_collide() -> None:
    assert member_scope_id("a/b", "c") != member_scope_id("a", "b/c")
    assert describe("team_member", member_scope_id("a/b", "c")) == "team member 'c' of team 'a/b'"
    assert describe("team", "eng") == "team 'eng'"
    assert describe("org", "acme") == "organization 'acme'"


def test_only_limits_auth_versioned_are_carried() -> None:
    p = auth_pb2.Principal(
        team_limit=auth_pb2.SpendLimit(max_budget="1", version=3), user_limit=auth_pb2.SpendLimit(max_budget="2")
    )
    assert principal_limits(p) == {budget_pb2.SCOPE_KIND_TEAM: p.team_limit}


def test_a_keys_model_budget_is_a_scope_of_its_own() -> None:
    p = auth_pb2.Principal(
        key_id="k",
        key_limit=auth_pb2.SpendLimit(max_budget="9", version=4),
        model_max_budget={"gpt-4o": auth_pb2.ModelBudget(budget_limit="1", time_period="1d")},
    )
    assert model_limit(p, "claude") is None
    assert model_limit(p, "gpt-4o") == auth_pb2.SpendLimit(max_budget="1", budget_duration="1d", version=4)
    e = usage_pb2.UsageEvent(key_id="k", model_group="gpt-4o")
    assert event_scopes(e) == principal_scopes(p, model="gpt-4o")
    assert event_scopes(e)[-1] == (budget_pb2.SCOPE_KIND_KEY_MODEL, key_model_scope_id("k", "gpt-4o"))
    assert describe("key_model", key_model_scope_id("k", "gpt-4o")) == "key 'k' on model 'gpt-4o'"
