"""Identity events: one for every change of every entity, with its state and version after the
change (topic ``identity``, key = account id). Built while a change is made and published once
its transaction has committed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from switchyard.auth.v1 import auth_pb2
from switchyard.events.v1 import identity_pb2
from switchyard_common.kafka import EventProducer
from switchyard_common.telemetry import inject_headers

A = identity_pb2.IdentityAction
E = identity_pb2.IdentityEntity

# The oneof field of IdentityEvent.state that holds each kind's entity.
_STATE_FIELD = {
    E.IDENTITY_ENTITY_KEY: "key",
    E.IDENTITY_ENTITY_TEAM: "team",
    E.IDENTITY_ENTITY_USER: "user",
    E.IDENTITY_ENTITY_ORGANIZATION: "organization",
    E.IDENTITY_ENTITY_CUSTOMER: "customer",
    E.IDENTITY_ENTITY_BUDGET: "budget",
    E.IDENTITY_ENTITY_ACCOUNT: "account",
    E.IDENTITY_ENTITY_TEAM_MEMBER: "team_member",
    E.IDENTITY_ENTITY_ORGANIZATION_MEMBER: "organization_member",
    E.IDENTITY_ENTITY_ACCOUNT_ADMIN: "account_admin",
}


def key_event(
    action: identity_pb2.IdentityAction, info: auth_pb2.KeyInfo, previous_key_hash: str = ""
) -> identity_pb2.IdentityEvent:
    """A key's event, readable by consumers that predate entity kinds (key_hash, key_settings)."""
    event = _event(info.account_id, action, E.IDENTITY_ENTITY_KEY, info.key_id, info.version, info)
    event.key_hash = info.key_hash
    event.key_id = info.key_id
    event.key_settings.CopyFrom(info.settings)
    event.previous_key_hash = previous_key_hash
    if info.HasField("limit"):
        event.limit.CopyFrom(info.limit)
    event.rate_limits.CopyFrom(info.settings.limits)
    return event


def entity_event(
    action: identity_pb2.IdentityAction,
    entity: identity_pb2.IdentityEntity,
    account_id: str,
    entity_id: str,
    version: int,
    state: Message,
    *,
    limit: auth_pb2.SpendLimit | None = None,
    rate_limits: auth_pb2.RateLimits | None = None,
    member_user_id: str = "",
) -> identity_pb2.IdentityEvent:
    event = _event(account_id, action, entity, entity_id, version, state)
    event.member_user_id = member_user_id
    if limit is not None and limit.ByteSize():
        event.limit.CopyFrom(limit)
    if rate_limits is not None:
        event.rate_limits.CopyFrom(rate_limits)
    return event


def state_event(
    action: identity_pb2.IdentityAction, entity: identity_pb2.IdentityEntity, msg: Any, id_field: str
) -> identity_pb2.IdentityEvent:
    """The event of an entity message (Team, User, Organization, Customer, BudgetObject): its
    limits in force ride along; member lists do not (memberships have events of their own)."""
    fields = msg.DESCRIPTOR.fields_by_name
    state = msg
    if "members" in fields:
        state = type(msg)()
        state.CopyFrom(msg)
        state.ClearField("members")
    return entity_event(
        action,
        entity,
        msg.account_id,
        getattr(msg, id_field),
        msg.version,
        state,
        limit=msg.limit if "limit" in fields and msg.HasField("limit") else None,
        rate_limits=msg.rate_limits if "rate_limits" in fields else None,
    )


def _event(
    account_id: str,
    action: identity_pb2.IdentityAction,
    entity: identity_pb2.IdentityEntity,
    entity_id: str,
    version: int,
    state: Message,
) -> identity_pb2.IdentityEvent:
    now = timestamp_pb2.Timestamp()
    now.GetCurrentTime()
    event = identity_pb2.IdentityEvent(
        event_id=str(uuid.uuid4()),
        occurred_at=now,
        account_id=account_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        settings_version=version,
    )
    getattr(event, _STATE_FIELD[entity]).CopyFrom(state)
    return event


@dataclass
class Publisher:
    producer: EventProducer
    topic: str

    def publish(self, events: list[identity_pb2.IdentityEvent]) -> None:
        """Queue events of a committed change (the producer buffers while Kafka is away)."""
        headers = inject_headers()
        for event in events:
            self.producer.publish(self.topic, event.SerializeToString(), key=event.account_id.encode(), headers=headers)
