"""Kafka consumers: usage events settle reservations and fill the ledger; identity events keep
the spend limits of keys current."""

from __future__ import annotations

import logging
from decimal import Decimal

from aiokafka.structs import ConsumerRecord
from google.protobuf.message import DecodeError
from redis.exceptions import RedisError

from switchyard.events.v1 import identity_pb2, usage_pb2
from switchyard_common.kafka import PoisonMessage, Rejected
from switchyard_common.telemetry import trace_id_of
from switchyard_copilot_budget.clients.ledger import Ledger, scopes_of
from switchyard_copilot_budget.clients.reservations import Reservations
from switchyard_llm.money import parse_usd

log = logging.getLogger(__name__)


class UsageHandler:
    """Applies a partition's fetched usage events at once: one PostgreSQL transaction for the
    ledger rows and scope spend, then one Redis round trip to settle their holds. Events that
    cannot be read are returned as rejected: the consumer dead-letters them."""

    def __init__(self, ledger: Ledger, reservations: Reservations) -> None:
        self._ledger = ledger
        self._reservations = reservations

    async def __call__(self, records: list[ConsumerRecord[bytes, bytes]]) -> list[Rejected]:
        events: list[tuple[usage_pb2.UsageEvent, Decimal, str]] = []
        rejected = []
        for record in records:
            try:
                event = usage_pb2.UsageEvent.FromString(record.value or b"")
                cost = parse_usd(event.cost_usd)
            except (DecodeError, ValueError) as exc:
                rejected.append(Rejected(record, f"undecodable usage event: {exc}"))
                continue
            if not event.event_id or not event.account_id:
                rejected.append(Rejected(record, "usage event without event_id or account_id"))
                continue
            events.append((event, cost, trace_id_of(record.headers)))
        applied = await self._ledger.record_usage_batch(events)
        settle = [(e, cost, absorbed) for e, cost, absorbed in applied if e.reservation_id or cost]
        if not settle:
            return rejected
        try:
            await self._reservations.settle_many(
                [
                    (e.reservation_id, e.account_id, scopes_of(e), cost, e.final, absorbed)
                    for e, cost, absorbed in settle
                ]
            )
        except (RedisError, OSError, TimeoutError):
            # PostgreSQL already holds the truth; make admission re-read it instead of trusting Redis.
            log.warning("settling in Redis failed; scopes will be reloaded", exc_info=True)
            try:
                for e, _, _ in settle:
                    await self._reservations.forget_scopes(e.account_id, scopes_of(e))
            except (RedisError, OSError, TimeoutError):
                log.warning("Redis unreachable; cached scopes expire on their own")
        return rejected


class IdentityHandler:
    def __init__(self, ledger: Ledger, reservations: Reservations, topic: str) -> None:
        self._ledger = ledger
        self._reservations = reservations
        self._topic = topic

    async def __call__(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            event = identity_pb2.IdentityEvent.FromString(record.value or b"")
        except DecodeError as exc:
            raise PoisonMessage(f"undecodable identity event: {exc}") from None
        if not event.key_hash:
            return
        # The key's scope: its stable id (events from before key ids name it by hash, the same).
        key_id = event.key_id or event.key_hash
        delete = event.action == identity_pb2.IDENTITY_ACTION_DELETED
        # The limit in force (the key's own, else its budget object's) rides in `limit` since
        # events name their entity; older ones carry only the key's own settings.
        s = event.limit if event.entity else event.key_settings
        max_budget = parse_usd(s.max_budget) if s.max_budget else None
        if not delete and max_budget is None:
            delete = True  # a key without a budget needs no limit row
        changed = await self._ledger.apply_limit(
            event.event_id,
            self._topic,
            event.account_id,
            "key",
            key_id,
            max_budget,
            s.budget_duration or None,
            delete,
            version=event.settings_version,
        )
        if changed:
            try:
                await self._reservations.forget_scopes(event.account_id, [("key", key_id)])
            except (RedisError, OSError, TimeoutError):
                log.warning("Redis unreachable; cached key limit expires on its own")
