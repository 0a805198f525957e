"""Kafka consumers: usage events settle reservations and fill the ledger; identity events keep
the spend limits of keys current."""

from __future__ import annotations

import logging

from aiokafka.structs import ConsumerRecord
from google.protobuf.message import DecodeError
from redis.exceptions import RedisError

from switchyard.events.v1 import identity_pb2, usage_pb2
from switchyard_common.kafka import PoisonMessage
from switchyard_common.money import parse_usd
from switchyard_common.telemetry import current_trace_id
from switchyard_copilot_budget.clients.ledger import Ledger, scopes_of
from switchyard_copilot_budget.clients.reservations import Reservations

log = logging.getLogger(__name__)


class UsageHandler:
    def __init__(self, ledger: Ledger, reservations: Reservations) -> None:
        self._ledger = ledger
        self._reservations = reservations

    async def __call__(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            event = usage_pb2.UsageEvent.FromString(record.value or b"")
            cost = parse_usd(event.cost_usd)
        except (DecodeError, ValueError) as exc:
            raise PoisonMessage(f"undecodable usage event: {exc}") from None
        if not event.event_id or not event.account_id:
            raise PoisonMessage("usage event without event_id or account_id")
        applied = await self._ledger.record_usage(event, cost, current_trace_id())
        if not applied:
            return
        scopes = scopes_of(event)
        try:
            if event.reservation_id or cost:
                await self._reservations.settle(event.reservation_id, event.account_id, scopes, cost, final=event.final)
        except (RedisError, OSError, TimeoutError):
            # PostgreSQL already holds the truth; make admission re-read it instead of trusting Redis.
            log.warning("settling in Redis failed; scopes will be reloaded", exc_info=True)
            try:
                await self._reservations.forget_scopes(event.account_id, scopes)
            except (RedisError, OSError, TimeoutError):
                log.warning("Redis unreachable; cached scopes expire on their own")


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
        delete = event.action == identity_pb2.IDENTITY_ACTION_DELETED
        s = event.key_settings
        max_budget = parse_usd(s.max_budget) if s.max_budget else None
        if not delete and max_budget is None:
            delete = True  # a key without a budget needs no limit row
        changed = await self._ledger.apply_limit(
            event.event_id,
            self._topic,
            event.account_id,
            "key",
            event.key_hash,
            max_budget,
            s.budget_duration or None,
            delete,
        )
        if changed:
            try:
                await self._reservations.forget_scopes(event.account_id, [("key", event.key_hash)])
            except (RedisError, OSError, TimeoutError):
                log.warning("Redis unreachable; cached key limit expires on its own")
