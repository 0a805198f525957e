"""Kafka consumers: usage events settle reservations and fill the ledger; identity events keep
the spend limits of keys, teams, users, organisations, customers and team members current."""

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
from switchyard_llm.budget_scopes import identity_scope, key_model_scope_id, kind_name
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
    """Keeps the spend limits of keys, teams, users, organisations, customers and team members
    as auth's identity events say, by version; an account's deletion drops all of its limits."""

    def __init__(self, ledger: Ledger, reservations: Reservations, topic: str) -> None:
        self._ledger = ledger
        self._reservations = reservations
        self._topic = topic

    async def __call__(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            event = identity_pb2.IdentityEvent.FromString(record.value or b"")
        except DecodeError as exc:
            raise PoisonMessage(f"undecodable identity event: {exc}") from None
        delete = event.action == identity_pb2.IDENTITY_ACTION_DELETED
        if event.entity == identity_pb2.IDENTITY_ENTITY_ACCOUNT and delete:
            dropped = await self._ledger.drop_account_limits(event.event_id, self._topic, event.account_id)
            await self._forget(event.account_id, dropped)
            return
        found = identity_scope(event)
        if found is None:
            return
        scope = (kind_name(found[0]), found[1])
        # The limit in force (the entity's own, else its budget object's) rides in `limit` since
        # events name their entity; older key events carry only the key's own settings.
        s = event.limit if event.entity else event.key_settings
        max_budget = parse_usd(s.max_budget) if s.max_budget else None
        if not delete and max_budget is None:
            delete = True  # an entity without a budget needs no limit row
        changed = await self._ledger.apply_limit(
            event.event_id,
            self._topic,
            event.account_id,
            scope[0],
            scope[1],
            max_budget,
            s.budget_duration or None,
            delete,
            version=event.settings_version,
        )
        forget = [scope] if changed else []
        if scope[0] == "key":
            forget += await self._model_limits(event, scope[1])
        if forget:
            await self._forget(event.account_id, forget)

    async def _model_limits(self, event: identity_pb2.IdentityEvent, key_id: str) -> list[tuple[str, str]]:
        """A key's ``model_max_budget``: one limit per model group, under ``key_model`` scopes."""
        settings = event.key.settings if event.HasField("key") else event.key_settings
        deleted = event.action == identity_pb2.IDENTITY_ACTION_DELETED
        limits: dict[str, tuple[Decimal, str | None]] = {}
        if not deleted:
            for model, b in settings.model_max_budget.items():
                if b.budget_limit:
                    limits[key_model_scope_id(key_id, model)] = (parse_usd(b.budget_limit), b.time_period or None)
        changed = await self._ledger.apply_model_limits(
            f"{event.event_id}:models",
            self._topic,
            event.account_id,
            key_model_scope_id(key_id, ""),
            limits,
            version=event.settings_version,
        )
        return [("key_model", sid) for sid in changed]

    async def _forget(self, account_id: str, scopes: list[tuple[str, str]]) -> None:
        try:
            await self._reservations.forget_scopes(account_id, scopes)
        except (RedisError, OSError, TimeoutError):
            log.warning("Redis unreachable; cached limits expire on their own")
