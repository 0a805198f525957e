"""gRPC BudgetService: admission by reservation, release, spend logs."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from decimal import Decimal

import asyncpg
import grpc
import orjson
from redis.exceptions import RedisError

from switchyard.budget.v1 import budget_pb2, budget_pb2_grpc
from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_copilot_budget.clients.ledger import Ledger
from switchyard_copilot_budget.clients.reservations import Refused, Reservations
from switchyard_copilot_budget.domain.scopes import LimitSpec
from switchyard_copilot_budget.domain.spend_pages import page_bytes, page_token
from switchyard_llm.budget_scopes import describe, kind_name
from switchyard_llm.errors import make_error
from switchyard_llm.money import format_usd, parse_usd

log = logging.getLogger(__name__)

_STORE_ERRORS = (RedisError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


class BudgetServicer(budget_pb2_grpc.BudgetServiceServicer):
    def __init__(self, ledger: Ledger, reservations: Reservations, *, max_ttl: int) -> None:
        self._ledger = ledger
        self._reservations = reservations
        self._max_ttl = max_ttl

    def _scopes(self, scopes: Iterable[budget_pb2.Scope]) -> list[tuple[str, str]]:
        return [(kind_name(sc.kind), sc.id) for sc in scopes if sc.id]

    @staticmethod
    def _limits(scopes: Iterable[budget_pb2.Scope]) -> dict[tuple[str, str], LimitSpec]:
        """The limits the caller's principal carries (ValueError for an unreadable amount)."""
        out = {}
        for sc in scopes:
            if sc.id and sc.HasField("limit") and sc.limit.version > 0:
                budget = parse_usd(sc.limit.max_budget) if sc.limit.max_budget else None
                out[(kind_name(sc.kind), sc.id)] = LimitSpec(budget, sc.limit.budget_duration or None, sc.limit.version)
        return out

    async def _hold(
        self,
        context: grpc.aio.ServicerContext,
        account_id: str,
        hold_id: str,
        scopes: Iterable[budget_pb2.Scope],
        need_s: str,
        want_s: str | None,
        ttl_seconds: int,
    ) -> tuple[Decimal | None, error_pb2.Error | None]:
        """(the amount held, None) or (None, the refusal). Amounts and ids come from the edge, not
        from a client: a malformed one breaks this API's contract (INVALID_ARGUMENT)."""
        try:
            need = parse_usd(need_s)
            want = parse_usd(want_s) if want_s else None
            limits = self._limits(scopes)
        except ValueError:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "amounts must be decimal numbers")
        if need < 0 or (want is not None and want < need):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "amounts must be non-negative and want >= need")
        if not account_id or not hold_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "account_id and an id are required")
        ttl = min(max(ttl_seconds or 600, 1), self._max_ttl)
        try:
            held = await self._reservations.reserve(account_id, hold_id, self._scopes(scopes), need, ttl, want, limits)
            return held, None
        except Refused as r:
            return None, make_error(
                ErrorKind.ERROR_KIND_BUDGET_EXCEEDED,
                f"Budget has been exceeded! {describe(r.kind, r.scope_id)} spend: {r.spent} max_budget: {r.limit}",
            )
        except _STORE_ERRORS:
            log.warning("budget store unavailable; admission refused", exc_info=True)
            await context.abort(grpc.StatusCode.UNAVAILABLE, "budget store unavailable; try again shortly")

    async def Reserve(
        self, request: budget_pb2.ReserveRequest, context: grpc.aio.ServicerContext
    ) -> budget_pb2.ReserveResponse:
        _held, err = await self._hold(
            context,
            request.account_id,
            request.request_id,
            request.scopes,
            request.amount_usd,
            None,
            request.ttl_seconds,
        )
        if err is not None:
            return budget_pb2.ReserveResponse(admitted=False, error=err)
        return budget_pb2.ReserveResponse(admitted=True, reservation_id=request.request_id)

    async def Lease(
        self, request: budget_pb2.LeaseRequest, context: grpc.aio.ServicerContext
    ) -> budget_pb2.LeaseResponse:
        held, err = await self._hold(
            context,
            request.account_id,
            request.lease_id,
            request.scopes,
            request.need_usd,
            request.want_usd or request.need_usd,
            request.ttl_seconds,
        )
        if err is not None or held is None:
            return budget_pb2.LeaseResponse(admitted=False, error=err)
        return budget_pb2.LeaseResponse(admitted=True, granted_usd=format_usd(held))

    async def ReturnLease(
        self, request: budget_pb2.ReturnLeaseRequest, context: grpc.aio.ServicerContext
    ) -> budget_pb2.ReturnLeaseResponse:
        try:
            spent = parse_usd(request.spent_usd)
        except ValueError:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "spent_usd must be a decimal number")
        try:
            await self._reservations.return_lease(
                request.lease_id, request.account_id, self._scopes(request.scopes), spent
            )
        except _STORE_ERRORS:
            # The holder retries; if it cannot, the lease expires on its own.
            log.warning("lease return failed", exc_info=True)
            await context.abort(grpc.StatusCode.UNAVAILABLE, "budget store unavailable; return the lease again")
        return budget_pb2.ReturnLeaseResponse()

    async def Release(
        self, request: budget_pb2.ReleaseRequest, context: grpc.aio.ServicerContext
    ) -> budget_pb2.ReleaseResponse:
        try:
            await self._reservations.release(request.reservation_id)
        except _STORE_ERRORS:
            log.warning("release failed; the reservation expires on its own", exc_info=True)
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, "budget store unavailable; the reservation expires at its TTL"
            )
        return budget_pb2.ReleaseResponse()

    async def GetSpend(
        self, request: budget_pb2.GetSpendRequest, context: grpc.aio.ServicerContext
    ) -> budget_pb2.GetSpendResponse:
        out = budget_pb2.GetSpendResponse()
        try:
            for scope in request.scopes:
                limit, spend, reset_at = await self._ledger.total_spend(
                    kind_name(scope.kind), scope.id, request.account_id
                )
                item = out.spends.add(
                    scope=scope, spend=format_usd(spend), max_budget=format_usd(limit) if limit is not None else ""
                )
                if reset_at is not None:
                    item.budget_reset_at.FromDatetime(reset_at)
        except _STORE_ERRORS:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "spend ledger unavailable")
        return out

    async def ListSpendLogs(
        self, request: budget_pb2.ListSpendLogsRequest, context: grpc.aio.ServicerContext
    ) -> budget_pb2.ListSpendLogsResponse:
        limit = min(max(request.limit or 100, 1), 1000)
        budget = page_bytes(request.max_bytes)
        out = budget_pb2.ListSpendLogsResponse()
        size = 0
        last: asyncpg.Record | None = None
        try:
            # One row more than the limit says whether there is a next page.
            async with contextlib.aclosing(self._ledger.spend_logs(request, limit + 1)) as rows:
                async for r in rows:
                    row = _spend_log(r)
                    n = row.ByteSize()
                    if len(out.logs) == limit or (out.logs and size + n > budget):
                        assert last is not None
                        out.next_page_token = page_token(last["start_time"], last["attempt"], last["event_id"])
                        break
                    out.logs.append(row)
                    size += n
                    last = r
        except ValueError as exc:
            return budget_pb2.ListSpendLogsResponse(
                error=make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, str(exc), param="page_token")
            )
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError):
            await context.abort(grpc.StatusCode.UNAVAILABLE, "spend ledger unavailable")
        return out


def _spend_log(r: asyncpg.Record) -> budget_pb2.SpendLog:
    out = budget_pb2.SpendLog(
        request_id=r["request_id"],
        attempt=r["attempt"],
        event_id=r["event_id"],
        account_id=r["account_id"],
        call_type=r["call_type"],
        key_hash=r["key_hash"],
        team_id=r["team_id"],
        user_id=r["user_id"],
        end_user=r["end_user"],
        model=r["model"],
        model_group=r["model_group"],
        deployment_id=r["deployment_id"],
        provider=r["provider"],
        status=r["status"],
        spend=format_usd(r["spend"]),
        tags=list(r["tags"]),
        trace_id=r["trace_id"],
        stream=r["stream"],
        http_status=r["http_status"],
        metadata_json=orjson.dumps(r["metadata"]) if r["metadata"] else b"",
    )
    out.usage.prompt_tokens = r["prompt_tokens"]
    out.usage.completion_tokens = r["completion_tokens"]
    out.usage.total_tokens = r["total_tokens"]
    if r["cached_tokens"] or r["cache_creation_tokens"]:
        out.usage.prompt_tokens_details.cached_tokens = r["cached_tokens"]
        out.usage.prompt_tokens_details.cache_creation_tokens = r["cache_creation_tokens"]
    if r["reasoning_tokens"]:
        out.usage.completion_tokens_details.reasoning_tokens = r["reasoning_tokens"]
    out.start_time.FromDatetime(r["start_time"])
    out.end_time.FromDatetime(r["end_time"])
    return out
