"""Limits of teams and end users are enforced, not stored: a team's budget and rate limits hold
across its keys (429 naming the team), an end user's budget across every key naming it, a blocked
end user is refused, and 50 concurrent requests against a team near its limit never spend past it.

Teams, keys and customers are made through auth's gRPC API with the edge's certificate (the HTTP
management routes are another part of issue 11)."""

from __future__ import annotations

import concurrent.futures
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import grpc
import httpx
import openai
import pytest
from google.protobuf import field_mask_pb2

from devstack import stack
from e2e.support import wait_for_spend
from switchyard.auth.v1 import (
    auth_pb2,
    customers_pb2,
    customers_pb2_grpc,
    keys_pb2,
    keys_pb2_grpc,
    teams_pb2,
    teams_pb2_grpc,
)
from switchyard.budget.v1 import budget_pb2, budget_pb2_grpc

# The master key as the edge passes it to auth: a super admin, acting in the default account.
MASTER = auth_pb2.Principal(account_id="default", is_admin=True, is_super_admin=True, key_alias="master_key")
ACCOUNT = "default"
ASK: dict[str, Any] = {"model": "fake-chat", "max_tokens": 20, "messages": [{"role": "user", "content": "count me"}]}


@dataclass
class Auth:
    teams: teams_pb2_grpc.TeamServiceStub
    keys: keys_pb2_grpc.KeyServiceStub
    customers: customers_pb2_grpc.CustomerServiceStub
    budget: budget_pb2_grpc.BudgetServiceStub
    base_url: str

    def team(self, **settings: Any) -> str:
        team_id = f"team-{uuid.uuid4().hex[:8]}"
        resp = self.teams.CreateTeam(
            teams_pb2.CreateTeamRequest(
                caller=MASTER, account_id=ACCOUNT, team_id=team_id, settings=teams_pb2.TeamSettings(**settings)
            ),
            timeout=10,
        )
        assert resp.WhichOneof("result") == "team", resp
        return team_id

    def key(self, team_id: str, **settings: Any) -> openai.OpenAI:
        resp = self.keys.CreateKey(
            keys_pb2.CreateKeyRequest(
                caller=MASTER, account_id=ACCOUNT, settings=auth_pb2.KeySettings(team_id=team_id, **settings)
            ),
            timeout=10,
        )
        assert not resp.HasField("error"), resp.error
        return openai.OpenAI(base_url=f"{self.base_url}/v1", api_key=resp.key, max_retries=0, timeout=30)

    def narrow_team(self, team_id: str, models: list[str]) -> None:
        resp = self.teams.UpdateTeam(
            teams_pb2.UpdateTeamRequest(
                caller=MASTER,
                account_id=ACCOUNT,
                team_id=team_id,
                settings=teams_pb2.TeamSettings(models=models),
                update_mask=field_mask_pb2.FieldMask(paths=["models"]),
            ),
            timeout=10,
        )
        assert resp.WhichOneof("result") == "team", resp

    def customer(self, **settings: Any) -> str:
        user_id = f"end-user-{uuid.uuid4().hex[:8]}"
        resp = self.customers.CreateCustomer(
            customers_pb2.CreateCustomerRequest(
                caller=MASTER, account_id=ACCOUNT, user_id=user_id, settings=customers_pb2.CustomerSettings(**settings)
            ),
            timeout=10,
        )
        assert resp.WhichOneof("result") == "customer", resp
        return user_id

    def spend(self, kind: budget_pb2.ScopeKind, scope_id: str) -> Decimal:
        resp = self.budget.GetSpend(
            budget_pb2.GetSpendRequest(account_id=ACCOUNT, scopes=[budget_pb2.Scope(kind=kind, id=scope_id)]),
            timeout=10,
        )
        return Decimal(resp.spends[0].spend)


@pytest.fixture(scope="module")
def auth(stack_cfg: stack.StackConfig, base_url: str) -> Iterator[Auth]:
    edge = stack.certificates(stack_cfg)["edge"]
    creds = grpc.ssl_channel_credentials(
        root_certificates=edge.ca_file.read_bytes(),
        private_key=edge.key_file.read_bytes(),
        certificate_chain=edge.cert_file.read_bytes(),
    )
    with (
        grpc.secure_channel(stack_cfg.addr("auth"), creds) as ch,
        grpc.secure_channel(stack_cfg.addr("copilot-budget"), creds) as budget,
    ):
        yield Auth(
            teams_pb2_grpc.TeamServiceStub(ch),
            keys_pb2_grpc.KeyServiceStub(ch),
            customers_pb2_grpc.CustomerServiceStub(ch),
            budget_pb2_grpc.BudgetServiceStub(budget),
            base_url,
        )


def _spend_until_refused(clients: list[openai.OpenAI], http: httpx.Client, **extra: Any) -> tuple[Any, Decimal]:
    """Requests, one after another, round the clients until one is refused with 429; the
    refusal and what the admitted ones cost (from the ledger)."""
    spent = Decimal(0)
    for i in range(40):
        try:
            raw = clients[i % len(clients)].chat.completions.with_raw_response.create(**ASK, **extra)
        except openai.RateLimitError as exc:
            return exc, spent
        spent += Decimal(str(wait_for_spend(http, raw.headers["x-litellm-call-id"])[0]["spend"]))
    raise AssertionError("the limit was never enforced")


def test_a_teams_budget_holds_across_its_keys_and_the_429_names_the_team(auth: Auth, http: httpx.Client) -> None:
    budget = Decimal("0.0001")
    team = auth.team(max_budget=str(budget))
    # No wait for identity events: the team's limit holds from its keys' first request.
    refused, spent = _spend_until_refused([auth.key(team), auth.key(team)], http)
    assert refused.status_code == 429 and refused.body["type"] == "budget_exceeded"
    assert f"team '{team}'" in refused.body["message"]
    assert 0 < spent <= budget
    assert auth.spend(budget_pb2.SCOPE_KIND_TEAM, team) == spent


def test_a_teams_rpm_limit_holds_across_its_keys_and_the_429_names_the_team(auth: Auth) -> None:
    team = auth.team(rpm_limit=3)
    first, second = auth.key(team), auth.key(team)
    for i in range(3):
        (first if i % 2 else second).chat.completions.create(**ASK)
    for client in (first, second):
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(**ASK)
        assert f"Rate limit reached for team '{team}': rpm_limit 3" in info.value.body["message"]
        assert int(info.value.response.headers["retry-after"]) > 0
    # Another team is not limited by it.
    auth.key(auth.team(rpm_limit=3)).chat.completions.create(**ASK)


def test_an_end_users_budget_holds_across_keys_by_field_or_header(
    auth: Auth, http: httpx.Client, client: openai.OpenAI
) -> None:
    budget = Decimal("0.0001")
    customer = auth.customer(max_budget=str(budget))
    # The master key has no budget of its own: the end user's is what refuses.
    via_field = openai.OpenAI(base_url=client.base_url, api_key=client.api_key, max_retries=0, timeout=30)
    refused, spent = _spend_until_refused([via_field], http, user=customer)
    assert refused.body["type"] == "budget_exceeded" and f"end user '{customer}'" in refused.body["message"]
    assert 0 < spent <= budget
    # Named by LiteLLM's header instead, from another key: the same end user, still refused.
    other = auth.key(auth.team())
    with pytest.raises(openai.RateLimitError) as info:
        other.chat.completions.create(**ASK, extra_headers={"x-litellm-end-user-id": customer})
    assert f"end user '{customer}'" in info.value.body["message"]
    # Another end user, and no end user at all, are not limited by it.
    other.chat.completions.create(**ASK, user=f"someone-{uuid.uuid4().hex[:6]}")
    other.chat.completions.create(**ASK)


def test_a_blocked_end_user_is_refused(auth: Auth, client: openai.OpenAI) -> None:
    customer = auth.customer(blocked=True)
    with pytest.raises(openai.PermissionDeniedError) as info:
        client.chat.completions.create(**ASK, user=customer)
    assert f"End user '{customer}' is blocked" in info.value.body["message"]


def test_50_concurrent_requests_against_a_team_near_its_limit_never_overspend(auth: Auth, http: httpx.Client) -> None:
    budget = Decimal("0.001")
    team = auth.team(max_budget=str(budget))
    keys = [auth.key(team) for _ in range(5)]
    # Bring the team near its limit first: about 70% spent, room left for a few worst cases.
    warm = Decimal(0)
    while warm < budget * Decimal("0.7"):
        raw = keys[0].chat.completions.with_raw_response.create(**ASK)
        warm += Decimal(str(wait_for_spend(http, raw.headers["x-litellm-call-id"])[0]["spend"]))

    def ask(i: int) -> str | openai.RateLimitError:
        try:
            raw = keys[i % len(keys)].chat.completions.with_raw_response.create(**ASK)
        except openai.RateLimitError as exc:
            return exc
        return str(raw.headers["x-litellm-call-id"])

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        outcomes = list(pool.map(ask, range(50)))
    admitted = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, openai.RateLimitError)]
    assert refused and all(f"team '{team}'" in r.body["message"] for r in refused)
    costs = [Decimal(str(wait_for_spend(http, call_id)[0]["spend"])) for call_id in admitted]
    spent = warm + sum(costs, Decimal(0))
    # Leases never hold more than the headroom left under every limit, so the team's spend stays
    # within its budget however many requests race: the in-flight worst case bounds admission,
    # and nothing is spent past the limit at all.
    overspend = spent - budget
    print(f"team budget {budget}, spent {spent} ({len(admitted)} of 50 admitted after {warm}), overspend {overspend}")
    assert overspend <= 0
    assert auth.spend(budget_pb2.SCOPE_KIND_TEAM, team) == spent


def test_aliases_resolve_key_first_then_team_and_key_tags_reach_spend_rows(auth: Auth, http: httpx.Client) -> None:
    team = auth.team(model_aliases={"team-alias": "fake-chat", "shared": "always-500"})
    user = auth.key(team, aliases={"shared": "fake-chat"}, tags=["cost-center-7"])
    for alias in ("shared", "team-alias"):
        raw = user.chat.completions.with_raw_response.create(**{**ASK, "model": alias})
        assert raw.headers["x-litellm-model-group"] == "fake-chat", alias
    (row,) = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert "cost-center-7" in row["request_tags"]


def test_a_key_is_refused_routes_outside_its_allowed_routes(auth: Auth, base_url: str) -> None:
    user = auth.key(auth.team(), allowed_routes=["/chat/completions"])
    user.chat.completions.create(**ASK)
    with pytest.raises(openai.PermissionDeniedError) as info:
        user.models.list()
    assert "allowed routes" in info.value.body["message"]
    resp = httpx.get(f"{base_url}/key/info", headers={"Authorization": f"Bearer {user.api_key}"})
    assert resp.status_code == 403 and "allowed routes" in resp.json()["detail"]
    # Every dialect's route is checked, each answering in its own shape.
    bearer = {"Authorization": f"Bearer {user.api_key}"}
    hi = {"model": ASK["model"], "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    refused = [
        httpx.post(f"{base_url}/v1/messages", headers=bearer, json=hi),
        httpx.post(f"{base_url}/v1/responses", headers=bearer, json={"model": ASK["model"], "input": "hi"}),
        httpx.post(f"{base_url}/v1/completions", headers=bearer, json={"model": ASK["model"], "prompt": "hi"}),
        httpx.get(f"{base_url}/v1/responses/resp_missing", headers=bearer),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert refused[0].json()["error"]["type"] == "permission_error"
    assert "allowed routes" in refused[1].json()["error"]["message"]


def test_a_teams_models_bound_its_keys_own_models(auth: Auth) -> None:
    team = auth.team(models=["fake-chat", "ollama-chat"])
    user = auth.key(team, models=["fake-chat", "ollama-chat"])
    user.chat.completions.create(**{**ASK, "model": "ollama-chat"})
    # The team narrows after the key was made: the key's own list no longer widens it. The edge
    # drops the key's cached principal on the team's identity event.
    auth.narrow_team(team, ["fake-chat"])
    deadline = time.monotonic() + 30
    while True:
        try:
            user.chat.completions.create(**{**ASK, "model": "ollama-chat"})
        except openai.PermissionDeniedError as exc:
            assert "not allowed to access model=ollama-chat" in exc.body["message"]
            break
        assert time.monotonic() < deadline, "the team's narrower models never applied"
    user.chat.completions.create(**ASK)


def test_a_keys_model_budget_refuses_that_model_only(auth: Auth, http: httpx.Client) -> None:
    budget = Decimal("0.0001")
    user = auth.key(
        auth.team(),
        max_budget="10",
        model_max_budget={"fake-chat": auth_pb2.ModelBudget(budget_limit=str(budget), time_period="1d")},
    )
    refused, spent = _spend_until_refused([user], http)
    assert refused.body["type"] == "budget_exceeded" and "on model 'fake-chat'" in refused.body["message"]
    assert 0 < spent <= budget
    user.chat.completions.create(**{**ASK, "model": "ollama-chat"})
