"""The BudgetService over gRPC (real PostgreSQL and Redis): Reserve and Release as the per-request
admission API, and the error convention of switchyard/llm/v1/error.proto: refusals in the
response, a store that does not answer as UNAVAILABLE, a malformed amount as INVALID_ARGUMENT."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import grpc
import pytest

from switchyard.budget.v1 import budget_pb2, budget_pb2_grpc
from switchyard.llm.v1 import error_pb2
from switchyard_common.grpc_server import GrpcService
from switchyard_common.redis_client import create_redis
from switchyard_copilot_budget.clients.ledger import Ledger
from switchyard_copilot_budget.clients.reservations import Reservations
from switchyard_copilot_budget.handlers.budget import BudgetServicer
from switchyard_llm.budget_scopes import member_scope_id


async def _serve(ledger: Ledger, reservations: Reservations) -> tuple[GrpcService, grpc.aio.Channel]:
    servicer = BudgetServicer(ledger, reservations, max_ttl=600)
    service = GrpcService(
        host="127.0.0.1",
        port=0,
        service_names=[],
        register=lambda s: budget_pb2_grpc.add_BudgetServiceServicer_to_server(servicer, s),
    )
    await service.start()
    return service, grpc.aio.insecure_channel(f"127.0.0.1:{service.bound_port}")


@pytest.fixture
async def stub(parts: tuple[Ledger, Reservations]) -> AsyncIterator[budget_pb2_grpc.BudgetServiceStub]:
    service, channel = await _serve(*parts)
    try:
        yield budget_pb2_grpc.BudgetServiceStub(channel)
    finally:
        await channel.close()
        await service.stop()


@pytest.fixture
async def down(parts: tuple[Ledger, Reservations]) -> AsyncIterator[budget_pb2_grpc.BudgetServiceStub]:
    """The service with a Redis nobody answers on (port 9, discard)."""
    redis = create_redis("redis://127.0.0.1:9/0")
    service, channel = await _serve(parts[0], Reservations(redis, parts[0], scope_ttl=300))
    try:
        yield budget_pb2_grpc.BudgetServiceStub(channel)
    finally:
        await channel.close()
        await service.stop()
        await redis.aclose()


def _key_scope(key: str, budget: str) -> budget_pb2.Scope:
    scope = budget_pb2.Scope(kind=budget_pb2.SCOPE_KIND_KEY, id=key)
    scope.limit.max_budget, scope.limit.version = budget, 1
    return scope


async def test_reserve_holds_refuses_past_the_limit_and_release_gives_back(
    stub: budget_pb2_grpc.BudgetServiceStub,
) -> None:
    key = uuid.uuid4().hex
    scope = _key_scope(key, "1.00")

    async def reserve(request_id: str, amount: str) -> budget_pb2.ReserveResponse:
        req = budget_pb2.ReserveRequest(account_id="acct", request_id=request_id, scopes=[scope], amount_usd=amount)
        return await stub.Reserve(req, timeout=10)

    first = await reserve(f"r-1-{key}", "0.80")
    assert first.admitted and first.reservation_id == f"r-1-{key}"
    refused = await reserve(f"r-2-{key}", "0.30")
    assert not refused.admitted
    assert refused.error.kind == error_pb2.ERROR_KIND_BUDGET_EXCEEDED and refused.error.http_status == 429
    await stub.Release(budget_pb2.ReleaseRequest(account_id="acct", reservation_id=f"r-1-{key}"), timeout=10)
    assert (await reserve(f"r-2-{key}", "0.30")).admitted


@pytest.mark.parametrize("field", ["need_usd", "want_usd"])
async def test_malformed_amounts_are_invalid_argument(stub: budget_pb2_grpc.BudgetServiceStub, field: str) -> None:
    req = budget_pb2.LeaseRequest(account_id="acct", lease_id=uuid.uuid4().hex, need_usd="1", want_usd="2")
    setattr(req, field, "a lot")
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.Lease(req, timeout=10)
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.Reserve(budget_pb2.ReserveRequest(account_id="acct", request_id="r", amount_usd="x"), timeout=10)
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_store_that_does_not_answer_is_unavailable(down: budget_pb2_grpc.BudgetServiceStub) -> None:
    scope = budget_pb2.Scope(kind=budget_pb2.SCOPE_KIND_TEAM, id="t")
    calls = [
        down.Reserve(budget_pb2.ReserveRequest(account_id="a", request_id="r", scopes=[scope], amount_usd="1")),
        down.Lease(budget_pb2.LeaseRequest(account_id="a", lease_id="l", scopes=[scope], need_usd="1")),
        down.Release(budget_pb2.ReleaseRequest(account_id="a", reservation_id="r")),
    ]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await call
        assert exc.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_page_token_it_did_not_issue_is_an_error_in_the_answer(
    stub: budget_pb2_grpc.BudgetServiceStub,
) -> None:
    resp = await stub.ListSpendLogs(
        budget_pb2.ListSpendLogsRequest(account_id="acct", page_token="not-a-token"), timeout=10
    )
    assert resp.error.kind == error_pb2.ERROR_KIND_BAD_REQUEST and resp.error.param == "page_token"
    assert not resp.logs and not resp.next_page_token


async def test_a_refused_lease_names_the_scope_that_ran_out(
    stub: budget_pb2_grpc.BudgetServiceStub,
) -> None:
    acct = uuid.uuid4().hex
    scopes = []
    for kind, sid, budget in (
        (budget_pb2.SCOPE_KIND_KEY, "k1", "10"),
        (budget_pb2.SCOPE_KIND_TEAM, "platform", "0.001"),
        (budget_pb2.SCOPE_KIND_TEAM_MEMBER, member_scope_id("platform", "alice"), "10"),
    ):
        sc = budget_pb2.Scope(kind=kind, id=sid)
        sc.limit.max_budget, sc.limit.version = budget, 1
        scopes.append(sc)
    resp = await stub.Lease(
        budget_pb2.LeaseRequest(
            account_id=acct, lease_id="l-" + acct, scopes=scopes, want_usd="1", need_usd="0.01", ttl_seconds=60
        )
    )
    assert not resp.admitted
    assert resp.error.message.startswith("Budget has been exceeded! team 'platform' spend: 0")
    scopes[1].limit.max_budget, scopes[1].limit.version = "10", 2
    scopes[2].limit.max_budget, scopes[2].limit.version = "0", 2
    resp = await stub.Lease(
        budget_pb2.LeaseRequest(
            account_id=acct, lease_id="m-" + acct, scopes=scopes, want_usd="1", need_usd="0.01", ttl_seconds=60
        )
    )
    assert "team member 'alice' of team 'platform'" in resp.error.message
