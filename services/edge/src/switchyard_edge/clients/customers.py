"""The end users (customers) requests name, cached: their blocked flag and limits, from auth's
CustomerService once per customer, then from identity events. A warm request naming an end user
costs no call; a request naming none costs nothing at all."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import grpc

from switchyard.auth.v1 import auth_pb2, customers_pb2
from switchyard.events.v1 import identity_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_edge.errors import GatewayError, peer_failure

if TYPE_CHECKING:
    from switchyard.auth.v1.customers_pb2_grpc import CustomerServiceAsyncStub

_MAX_ENTRIES = 100_000
# Identity events keep entries current; the TTL only bounds how long an entry outlives a missed
# event (this edge reads the topic from its start-up on).
CACHE_SECONDS = 300.0


class Customers:
    def __init__(self, stub: CustomerServiceAsyncStub | None, *, timeout: float) -> None:
        self._stub = stub
        self._timeout = timeout
        # (account, end user) → (the customer or None for no such customer, expires at)
        self._cache: dict[tuple[str, str], tuple[customers_pb2.Customer | None, float]] = {}
        self._loading: dict[tuple[str, str], asyncio.Future[customers_pb2.Customer | None]] = {}

    async def get(self, account_id: str, end_user: str) -> customers_pb2.Customer | None:
        """The customer ``end_user`` of the account, or None when the account has none of that id
        (an end user nobody configured has no limits). Concurrent misses share one call."""
        key = (account_id, end_user)
        hit = self._cache.get(key)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        fut: asyncio.Future[customers_pb2.Customer | None] = asyncio.get_running_loop().create_future()
        self._loading[key] = fut
        try:
            customer = await self._fetch(account_id, end_user)
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: waiters re-raise it, nobody else needs to
            raise
        finally:
            self._loading.pop(key, None)
        fut.set_result(customer)
        self._put(key, customer)
        return customer

    async def _fetch(self, account_id: str, end_user: str) -> customers_pb2.Customer | None:
        if self._stub is None:
            return None
        # The edge asks as the trusted caller of the account (auth trusts the edge's word for a
        # super admin): the request's key need not be allowed to read customers.
        req = customers_pb2.GetCustomerRequest(
            caller=auth_pb2.Principal(account_id=account_id, is_super_admin=True),
            account_id=account_id,
            user_id=end_user,
        )
        try:
            resp = await self._stub.GetCustomer(req, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise peer_failure("auth", exc) from None
        if resp.WhichOneof("result") == "customer":
            return resp.customer
        if resp.error.kind == ErrorKind.ERROR_KIND_NOT_FOUND:
            return None
        raise GatewayError(resp.error)

    def _put(self, key: tuple[str, str], customer: customers_pb2.Customer | None) -> None:
        if len(self._cache) >= _MAX_ENTRIES:
            self._cache.clear()
        self._cache[key] = (customer, time.monotonic() + CACHE_SECONDS)

    def on_identity_event(self, event: identity_pb2.IdentityEvent) -> None:
        """A customer changed: the event carries it (a newer version replaces the cached one); a
        deleted customer has no limits from now on. An account deleted forgets its customers."""
        if event.entity == identity_pb2.IDENTITY_ENTITY_ACCOUNT:
            if event.action == identity_pb2.IDENTITY_ACTION_DELETED:
                for key in [k for k in self._cache if k[0] == event.account_id]:
                    del self._cache[key]
            return
        if event.entity != identity_pb2.IDENTITY_ENTITY_CUSTOMER or not event.entity_id:
            return
        key = (event.account_id, event.entity_id)
        if event.action == identity_pb2.IDENTITY_ACTION_DELETED or not event.HasField("customer"):
            self._put(key, None)
            return
        hit = self._cache.get(key)
        if hit is not None and hit[0] is not None and hit[0].version > event.customer.version:
            return
        self._put(key, event.customer)
