"""Budget admission from leases: copilot-budget grants this edge replica an amount (a lease) on a
set of scopes, and requests are admitted against it locally — one Lease call per many requests
instead of a Reserve call per request.

The budget service never grants more than the headroom left under every limit (and less as a
limit nears, so replicas share it), so leases never let spending pass a limit. Each admitted
request holds its worst-case cost of the lease until it ends, then gives back what it did not
spend; its actual cost reaches the ledger through usage events that name the lease. A lease is
used for a bounded time, then returned with the total spent under it."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import grpc

from switchyard.auth.v1 import auth_pb2
from switchyard.budget.v1 import budget_pb2
from switchyard_common.aio import BackgroundTasks
from switchyard_edge.clients.peers import Peers
from switchyard_edge.errors import GatewayError, peer_failure
from switchyard_llm.budget_scopes import Scopes, principal_limits, principal_scopes
from switchyard_llm.money import parse_usd

log = logging.getLogger(__name__)

ScopeKey = tuple[str, Scopes]


# Tries to return a lease (about 30 s in all) before leaving it to expire.
RETURN_ATTEMPTS = 6


def _scope_protos(scopes: Scopes) -> list[budget_pb2.Scope]:
    return [budget_pb2.Scope(kind=k, id=v) for k, v in scopes]


@dataclass
class Lease:
    lease_id: str
    account_id: str
    key: ScopeKey
    balance: float
    expires: float
    spent: float = 0.0
    inflight: int = 0
    retired: bool = False
    returned: bool = False


@dataclass
class Hold:
    """One request's claim on a lease."""

    lease: Lease
    amount: float
    cost: float = 0.0
    done: bool = field(default=False)


class BudgetLeases:
    def __init__(
        self,
        peers: Peers,
        background: BackgroundTasks,
        *,
        timeout: float,
        lease_seconds: float = 30.0,
        server_ttl_seconds: int = 120,
        want_multiplier: float = 100.0,
        min_want_usd: float = 1.0,
    ) -> None:
        self._peers = peers
        self._bg = background
        self._timeout = timeout
        self._lease_seconds = lease_seconds
        self._server_ttl = server_ttl_seconds
        self._multiplier = want_multiplier
        self._min_want = min_want_usd
        self._leases: dict[ScopeKey, Lease] = {}
        self._locks: dict[ScopeKey, asyncio.Lock] = {}

    def _take(self, key: ScopeKey, amount: float) -> Hold | None:
        lease = self._leases.get(key)
        if lease is None or lease.retired:
            return None
        if lease.expires <= time.monotonic():
            self._retire(lease)
            return None
        if lease.balance <= 0 or lease.balance < amount:
            # An exhausted lease admits nothing, not even a zero estimate: the budget service
            # decides whether any room is left.
            return None
        lease.balance -= amount
        lease.inflight += 1
        return Hold(lease, amount)

    async def admit(
        self,
        principal: auth_pb2.Principal,
        amount: float,
        deadline: float,
        *,
        end_user: str = "",
        end_user_limit: auth_pb2.SpendLimit | None = None,
        model: str = "",
        model_limit: auth_pb2.SpendLimit | None = None,
    ) -> Hold:
        """Hold ``amount`` USD for one request, taking a new lease when needed; raises a
        GatewayError (429 budget exceeded naming the scope, 503 budget service down) when it
        cannot. The end user and the key's model group are scopes of the lease when they have a
        spend limit (``end_user_limit``, ``model_limit``): a lease of their own is only worth its
        call then."""
        scopes = principal_scopes(
            principal, end_user if end_user_limit is not None else "", model if model_limit is not None else ""
        )
        key: ScopeKey = (principal.account_id, scopes)
        hold = self._take(key, amount)
        if hold is not None:
            return hold
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            hold = self._take(key, amount)  # another request may have renewed it meanwhile
            if hold is not None:
                return hold
            old = self._leases.pop(key, None)
            if old is not None:
                self._retire(old)
            lease = await self._new_lease(principal, key, amount, deadline, end_user_limit, model_limit)
            self._leases[key] = lease
            lease.balance -= amount
            lease.inflight += 1
            return Hold(lease, amount)

    async def _new_lease(
        self,
        principal: auth_pb2.Principal,
        key: ScopeKey,
        need: float,
        deadline: float,
        end_user_limit: auth_pb2.SpendLimit | None,
        model_limit: auth_pb2.SpendLimit | None,
    ) -> Lease:
        account_id, scopes = key
        lease_id = f"lease-{uuid.uuid4()}"
        want = max(need * self._multiplier, self._min_want, need)
        req = budget_pb2.LeaseRequest(
            account_id=account_id,
            lease_id=lease_id,
            scopes=_scope_protos(scopes),
            want_usd=f"{want:.10f}",
            need_usd=f"{need:.10f}",
            ttl_seconds=self._server_ttl,
        )
        # The limits as auth says they are now: in force from this first admission even if the
        # identity events that carry them have not reached copilot-budget yet.
        limits = principal_limits(principal)
        for kind, extra in (
            (budget_pb2.SCOPE_KIND_END_USER, end_user_limit),
            (budget_pb2.SCOPE_KIND_KEY_MODEL, model_limit),
        ):
            if extra is not None and extra.version:
                limits[kind] = extra
        for sc in req.scopes:
            if (limit := limits.get(sc.kind)) is not None:
                sc.limit.CopyFrom(limit)
        try:
            resp = await self._peers.budget.Lease(req, timeout=max(0.05, min(self._timeout, deadline)))
        except grpc.aio.AioRpcError as exc:
            raise peer_failure("copilot-budget", exc, request_deadline=deadline < self._timeout) from None
        if not resp.admitted:
            raise GatewayError(resp.error)
        granted = float(parse_usd(resp.granted_usd))
        return Lease(lease_id, account_id, key, granted, time.monotonic() + self._lease_seconds)

    def finish(self, hold: Hold, cost: float) -> None:
        """The request ended having spent ``cost`` USD (its usage events carry the lease id)."""
        if hold.done:
            return
        hold.done = True
        lease = hold.lease
        lease.balance += hold.amount - cost
        lease.spent += cost
        lease.inflight -= 1
        self._maybe_return(lease)

    def _retire(self, lease: Lease) -> None:
        lease.retired = True
        if self._leases.get(lease.key) is lease:
            del self._leases[lease.key]
        self._maybe_return(lease)

    def _maybe_return(self, lease: Lease) -> None:
        if lease.retired and lease.inflight == 0 and not lease.returned:
            lease.returned = True
            req = budget_pb2.ReturnLeaseRequest(
                account_id=lease.account_id,
                lease_id=lease.lease_id,
                spent_usd=f"{lease.spent:.10f}",
                scopes=_scope_protos(lease.key[1]),
            )
            self._bg.spawn(self._return(req))

    async def _return(self, req: budget_pb2.ReturnLeaseRequest) -> None:
        # A return records what was spent but not settled yet; a lease that expires instead gives
        # its whole hold back, so the return is worth a few tries (a return is idempotent).
        for attempt in range(RETURN_ATTEMPTS):
            try:
                await self._peers.budget.ReturnLease(req, timeout=5.0)
                return
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
                    break
                await asyncio.sleep(min(0.5 * 2**attempt, 8.0))
        log.warning("lease return failed; the budget service releases it when it expires")

    def retire_for(self, account_id: str, kind: budget_pb2.ScopeKind, scope_id: str) -> None:
        """Stop using leases that cover a scope whose limit changed (identity event): the next
        request takes a lease under the new limit."""
        scope = (kind, scope_id)
        for lease in [le for k, le in self._leases.items() if k[0] == account_id and scope in k[1]]:
            self._retire(lease)

    def retire_all(self) -> None:
        for lease in list(self._leases.values()):
            self._retire(lease)

    def active(self) -> Sequence[Lease]:
        return list(self._leases.values())
