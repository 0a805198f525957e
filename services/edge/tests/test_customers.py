"""The edge's customer cache follows identity events: a customer created, blocked or deleted after
it was first looked up is seen on the next request without a call to auth."""

from __future__ import annotations

from switchyard.auth.v1 import customers_pb2
from switchyard.events.v1 import identity_pb2
from switchyard_edge.clients.customers import Customers

E, A = identity_pb2.IdentityEntity, identity_pb2.IdentityAction


def _event(action: identity_pb2.IdentityAction, version: int, *, blocked: bool = False) -> identity_pb2.IdentityEvent:
    c = customers_pb2.Customer(user_id="c", account_id="a", version=version)
    c.settings.blocked = blocked
    return identity_pb2.IdentityEvent(
        account_id="a", action=action, entity=E.IDENTITY_ENTITY_CUSTOMER, entity_id="c", customer=c
    )


async def test_events_keep_the_cache_current() -> None:
    cache = Customers(None, timeout=1.0)  # no auth: a lookup that misses finds no customer
    assert await cache.get("a", "c") is None
    cache.on_identity_event(_event(A.IDENTITY_ACTION_CREATED, 1))
    assert (await cache.get("a", "c")) is not None
    cache.on_identity_event(_event(A.IDENTITY_ACTION_BLOCKED, 3, blocked=True))
    cache.on_identity_event(_event(A.IDENTITY_ACTION_UPDATED, 2))  # older: ignored
    got = await cache.get("a", "c")
    assert got is not None and got.settings.blocked
    cache.on_identity_event(_event(A.IDENTITY_ACTION_DELETED, 4))
    assert await cache.get("a", "c") is None
    cache.on_identity_event(_event(A.IDENTITY_ACTION_CREATED, 5))
    cache.on_identity_event(
        identity_pb2.IdentityEvent(
            account_id="a", action=A.IDENTITY_ACTION_DELETED, entity=E.IDENTITY_ENTITY_ACCOUNT, entity_id="a"
        )
    )
    assert await cache.get("a", "c") is None
