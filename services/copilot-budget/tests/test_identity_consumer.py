"""The identity consumer keeps a key's spend limit under the key's stable id (the same across
regeneration, and the id usage events settle against), from the limit in force that auth's
events carry (the key's own, else its budget object's)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from aiokafka.structs import ConsumerRecord
from google.protobuf import timestamp_pb2

from switchyard.auth.v1 import auth_pb2
from switchyard.events.v1 import identity_pb2, usage_pb2
from switchyard_copilot_budget.clients.ledger import Ledger
from switchyard_copilot_budget.clients.reservations import Reservations
from switchyard_copilot_budget.consumers import IdentityHandler

E = identity_pb2.IdentityEntity


def _record(event: identity_pb2.IdentityEvent) -> ConsumerRecord[bytes, bytes]:
    value = event.SerializeToString()
    return ConsumerRecord(
        topic="identity",
        partition=0,
        offset=0,
        timestamp=0,
        timestamp_type=0,
        key=event.account_id.encode(),
        value=value,
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=len(value),
        headers=(),
    )


def _usage(key_hash: str, key_id: str, cost: str) -> usage_pb2.UsageEvent:
    now = timestamp_pb2.Timestamp()
    now.GetCurrentTime()
    request_id = str(uuid.uuid4())
    return usage_pb2.UsageEvent(
        event_id=f"{request_id}:0",
        request_id=request_id,
        account_id="acct",
        key_hash=key_hash,
        key_id=key_id,
        success=True,
        cost_usd=cost,
        start_time=now,
        end_time=now,
    )


async def test_a_regenerated_keys_limit_and_spend_share_its_key_id(parts: tuple[Ledger, Reservations]) -> None:
    ledger, reservations = parts
    handler = IdentityHandler(ledger, reservations, "identity")
    key_id, new_hash = uuid.uuid4().hex * 2, uuid.uuid4().hex * 2
    event = identity_pb2.IdentityEvent(
        event_id=str(uuid.uuid4()),
        account_id="acct",
        action=identity_pb2.IDENTITY_ACTION_UPDATED,
        entity=E.IDENTITY_ENTITY_KEY,
        entity_id=key_id,
        key_id=key_id,
        key_hash=new_hash,
        previous_key_hash=key_id,
        key_settings=auth_pb2.KeySettings(max_budget="5"),
        limit=auth_pb2.SpendLimit(max_budget="5", version=3),
        settings_version=3,
    )
    await handler(_record(event))
    assert await ledger.record_usage(_usage(new_hash, key_id, "1.25"), Decimal("1.25"), "t") is True
    limit, spend = await ledger.scope_limit("key", key_id, "acct")
    assert limit == Decimal(5) and spend == Decimal("1.25"), "spend under the new secret counts against the key"


async def test_the_limit_in_force_is_the_events_limit(parts: tuple[Ledger, Reservations]) -> None:
    """A key whose only budget is its budget object's keeps it (its own max_budget is empty)."""
    ledger, reservations = parts
    handler = IdentityHandler(ledger, reservations, "identity")
    key_id = uuid.uuid4().hex * 2
    await handler(
        _record(
            identity_pb2.IdentityEvent(
                event_id=str(uuid.uuid4()),
                account_id="acct",
                action=identity_pb2.IDENTITY_ACTION_CREATED,
                entity=E.IDENTITY_ENTITY_KEY,
                key_id=key_id,
                key_hash=key_id,
                key_settings=auth_pb2.KeySettings(budget_id="standard"),
                limit=auth_pb2.SpendLimit(max_budget="7", budget_duration="30d", version=4),
                settings_version=4,
            )
        )
    )
    limit, _ = await ledger.scope_limit("key", key_id, "acct")
    assert limit == Decimal(7)
    # An event of a producer older than entity kinds still counts by the key's own settings.
    old = uuid.uuid4().hex * 2
    await handler(
        _record(
            identity_pb2.IdentityEvent(
                event_id=str(uuid.uuid4()),
                account_id="acct",
                action=identity_pb2.IDENTITY_ACTION_CREATED,
                key_hash=old,
                key_settings=auth_pb2.KeySettings(max_budget="2"),
                settings_version=5,
            )
        )
    )
    assert (await ledger.scope_limit("key", old, "acct"))[0] == Decimal(2)
