"""The identity consumer keeps a key's spend limit under the key's stable id (the same across
regeneration, and the id usage events settle against), from the limit in force that auth's
events carry (the key's own, else its budget object's); and the limits of teams, users,
organisations, customers and team members by version on the scopes admission and settlement use
(``switchyard_llm.budget_scopes``); an account's deletion drops them all."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from aiokafka.structs import ConsumerRecord
from google.protobuf import timestamp_pb2

from switchyard.auth.v1 import auth_pb2
from switchyard.events.v1 import identity_pb2, usage_pb2
from switchyard_copilot_budget.clients.ledger import Ledger
from switchyard_copilot_budget.clients.reservations import Refused, Reservations
from switchyard_copilot_budget.consumers import IdentityHandler
from switchyard_llm.budget_scopes import key_model_scope_id, member_scope_id

E = identity_pb2.IdentityEntity
A = identity_pb2.IdentityAction


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


def _event(
    account: str,
    entity: identity_pb2.IdentityEntity,
    entity_id: str,
    budget: str,
    version: int,
    *,
    action: identity_pb2.IdentityAction = A.IDENTITY_ACTION_UPDATED,
    member: str = "",
) -> identity_pb2.IdentityEvent:
    e = identity_pb2.IdentityEvent(
        event_id=str(uuid.uuid4()),
        account_id=account,
        action=action,
        entity=entity,
        entity_id=entity_id,
        member_user_id=member,
        settings_version=version,
    )
    if budget:
        e.limit.CopyFrom(auth_pb2.SpendLimit(max_budget=budget, version=version))
    return e


@pytest.mark.parametrize(
    ("entity", "kind"),
    [
        (E.IDENTITY_ENTITY_TEAM, "team"),
        (E.IDENTITY_ENTITY_USER, "user"),
        (E.IDENTITY_ENTITY_ORGANIZATION, "org"),
        (E.IDENTITY_ENTITY_CUSTOMER, "end_user"),
    ],
)
async def test_an_entitys_limit_follows_its_events_by_version(
    parts: tuple[Ledger, Reservations], entity: identity_pb2.IdentityEntity, kind: str
) -> None:
    ledger, res = parts
    handler = IdentityHandler(ledger, res, "identity")
    acct, sid = uuid.uuid4().hex, uuid.uuid4().hex
    await handler(_record(_event(acct, entity, sid, "2", 5)))
    assert (await ledger.scope_limit(kind, sid, acct))[0] == Decimal(2)
    await handler(_record(_event(acct, entity, sid, "9", 4)))  # older: ignored
    assert (await ledger.scope_limit(kind, sid, acct))[0] == Decimal(2)
    # In force for admission: 2 USD and no more.
    await res.reserve(acct, "a-" + sid, [(kind, sid)], Decimal("1.5"), 60)
    with pytest.raises(Refused) as exc:
        await res.reserve(acct, "b-" + sid, [(kind, sid)], Decimal(1), 60)
    assert (exc.value.kind, exc.value.scope_id) == (kind, sid)
    # A newer event without a limit removes it; the hold in flight stays held meanwhile.
    await handler(_record(_event(acct, entity, sid, "", 6)))
    assert (await ledger.scope_limit(kind, sid, acct))[0] is None
    await res.reserve(acct, "c-" + sid, [(kind, sid)], Decimal(100), 60)
    # A newer limit comes back; a deletion removes it again.
    await handler(_record(_event(acct, entity, sid, "3", 7)))
    assert (await ledger.scope_limit(kind, sid, acct))[0] == Decimal(3)
    await handler(_record(_event(acct, entity, sid, "3", 8, action=A.IDENTITY_ACTION_DELETED)))
    assert (await ledger.scope_limit(kind, sid, acct))[0] is None


async def test_a_team_members_limit_is_kept_under_the_member_scope(parts: tuple[Ledger, Reservations]) -> None:
    ledger, res = parts
    handler = IdentityHandler(ledger, res, "identity")
    acct, team = uuid.uuid4().hex, "eng"
    await handler(_record(_event(acct, E.IDENTITY_ENTITY_TEAM_MEMBER, team, "1", 3, member="alice")))
    assert (await ledger.scope_limit("team_member", member_scope_id(team, "alice"), acct))[0] == Decimal(1)
    assert (await ledger.scope_limit("team_member", member_scope_id(team, "bob"), acct))[0] is None


async def test_the_same_team_id_in_two_accounts_has_two_limits(parts: tuple[Ledger, Reservations]) -> None:
    """Ids are unique per account only: account B's team "eng" gets its own limit, not none."""
    ledger, res = parts
    handler = IdentityHandler(ledger, res, "identity")
    a, b = uuid.uuid4().hex, uuid.uuid4().hex
    await handler(_record(_event(a, E.IDENTITY_ENTITY_TEAM, "eng", "5", 10)))
    await handler(_record(_event(b, E.IDENTITY_ENTITY_TEAM, "eng", "1", 11)))
    assert (await ledger.scope_limit("team", "eng", a))[0] == Decimal(5)
    assert (await ledger.scope_limit("team", "eng", b))[0] == Decimal(1)
    with pytest.raises(Refused):
        await res.reserve(b, "x-" + b, [("team", "eng")], Decimal(2), 60)


async def test_deleting_an_account_drops_all_its_limits(parts: tuple[Ledger, Reservations]) -> None:
    ledger, res = parts
    handler = IdentityHandler(ledger, res, "identity")
    acct, other = uuid.uuid4().hex, uuid.uuid4().hex
    await handler(_record(_event(acct, E.IDENTITY_ENTITY_TEAM, "t", "0", 20)))
    await handler(_record(_event(acct, E.IDENTITY_ENTITY_USER, "u", "0", 21)))
    await handler(_record(_event(other, E.IDENTITY_ENTITY_TEAM, "t", "0", 22)))
    with pytest.raises(Refused):
        await res.reserve(acct, "r-" + acct, [("team", "t")], Decimal("0.1"), 60)  # cached in Redis now
    await handler(_record(_event(acct, E.IDENTITY_ENTITY_ACCOUNT, acct, "", 23, action=A.IDENTITY_ACTION_DELETED)))
    assert (await ledger.scope_limit("team", "t", acct))[0] is None
    assert (await ledger.scope_limit("user", "u", acct))[0] is None
    assert (await ledger.scope_limit("team", "t", other))[0] == Decimal(0)
    await res.reserve(acct, "s-" + acct, [("team", "t"), ("user", "u")], Decimal("0.1"), 60)


async def test_a_keys_model_budgets_follow_its_events(parts: tuple[Ledger, Reservations]) -> None:
    """model_max_budget: one limit per model group; a model no longer listed loses its limit."""
    ledger, res = parts
    handler = IdentityHandler(ledger, res, "identity")
    acct, key_id = uuid.uuid4().hex, uuid.uuid4().hex * 2

    def event(version: int, budgets: dict[str, str]) -> identity_pb2.IdentityEvent:
        settings = auth_pb2.KeySettings(
            model_max_budget={m: auth_pb2.ModelBudget(budget_limit=b, time_period="1d") for m, b in budgets.items()}
        )
        return identity_pb2.IdentityEvent(
            event_id=str(uuid.uuid4()),
            account_id=acct,
            action=A.IDENTITY_ACTION_UPDATED,
            entity=E.IDENTITY_ENTITY_KEY,
            key_id=key_id,
            key_hash=key_id,
            key=auth_pb2.KeyInfo(key_id=key_id, settings=settings),
            settings_version=version,
        )

    gpt, claude = key_model_scope_id(key_id, "gpt-4o"), key_model_scope_id(key_id, "claude")
    await handler(_record(event(3, {"gpt-4o": "1", "claude": "2"})))
    assert (await ledger.scope_limit("key_model", gpt, acct))[0] == Decimal(1)
    assert (await ledger.scope_limit("key_model", claude, acct))[0] == Decimal(2)
    with pytest.raises(Refused) as exc:
        await res.reserve(acct, "r-" + key_id, [("key", key_id), ("key_model", gpt)], Decimal("1.5"), 60)
    assert (exc.value.kind, exc.value.scope_id) == ("key_model", gpt)
    await handler(_record(event(4, {"gpt-4o": "5"})))
    assert (await ledger.scope_limit("key_model", gpt, acct))[0] == Decimal(5)
    assert (await ledger.scope_limit("key_model", claude, acct))[0] is None
    await res.reserve(acct, "s-" + key_id, [("key", key_id), ("key_model", gpt)], Decimal("1.5"), 60)
    await handler(_record(event(2, {"gpt-4o": "0"})))  # older: ignored
    assert (await ledger.scope_limit("key_model", gpt, acct))[0] == Decimal(5)
