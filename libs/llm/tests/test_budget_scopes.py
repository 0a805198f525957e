"""Which spend scopes a caller has, for admission (a principal) and settlement (a usage event)."""

from __future__ import annotations

from switchyard.auth.v1 import auth_pb2
from switchyard.budget.v1 import budget_pb2
from switchyard.events.v1 import usage_pb2
from switchyard_llm.budget_scopes import event_scopes, kind_name, principal_scopes


def test_a_principal_is_admitted_against_what_it_has() -> None:
    p = auth_pb2.Principal(key_hash="k", team_id="t", org_id="o")
    assert principal_scopes(p) == (
        (budget_pb2.SCOPE_KIND_KEY, "k"),
        (budget_pb2.SCOPE_KIND_TEAM, "t"),
        (budget_pb2.SCOPE_KIND_ORG, "o"),
    )
    assert principal_scopes(auth_pb2.Principal(is_admin=True)) == ()


def test_an_event_counts_against_the_same_scopes_and_its_end_user() -> None:
    e = usage_pb2.UsageEvent(key_hash="k", user_id="u", team_id="t", org_id="o", end_user="customer-1")
    p = auth_pb2.Principal(key_hash="k", user_id="u", team_id="t", org_id="o")
    assert event_scopes(e) == (*principal_scopes(p), (budget_pb2.SCOPE_KIND_END_USER, "customer-1"))
    assert [kind_name(k) for k, _ in event_scopes(e)] == ["key", "user", "team", "org", "end_user"]
