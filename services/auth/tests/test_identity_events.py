"""Identity events reach Kafka: consumed from the real broker, they carry every change of every
entity with its state, its limits in force and a version that only grows."""

from __future__ import annotations

import asyncio

from aiokafka.structs import ConsumerRecord
from auth_testing import Auth, mask

from switchyard.auth.v1 import keys_pb2, teams_pb2
from switchyard.events.v1 import identity_pb2
from switchyard_common.kafka import EventConsumer

A = identity_pb2.IdentityAction
E = identity_pb2.IdentityEntity


async def _consume(auth: Auth, n: int, timeout: float = 60) -> list[tuple[bytes, identity_pb2.IdentityEvent]]:
    got: list[tuple[bytes, identity_pb2.IdentityEvent]] = []
    done = asyncio.Event()

    async def handler(rec: ConsumerRecord[bytes, bytes]) -> None:
        got.append((rec.key or b"", identity_pb2.IdentityEvent.FromString(rec.value or b"")))
        if len(got) >= n:
            done.set()

    consumer = EventConsumer(
        auth.kafka,
        group_id="identity-test",
        topics=[auth.publisher.topic],
        handler=handler,
        client_id="identity-test",
    )
    await consumer.start()
    try:
        async with asyncio.timeout(timeout):
            await done.wait()
    finally:
        await consumer.stop()
    return got


async def test_changes_arrive_on_the_identity_topic(auth_with_kafka: Auth) -> None:
    auth = auth_with_kafka
    acct = await auth.account()
    team = await auth.team(acct, max_budget="10", budget_duration="1d", rpm_limit=5)
    secret, info = await auth.key(acct, team_id=team, max_budget="2")
    await auth.teams.UpdateTeam(
        teams_pb2.UpdateTeamRequest(
            caller=auth.master,
            account_id=acct,
            team_id=team,
            settings=teams_pb2.TeamSettings(max_budget="20"),
            update_mask=mask("max_budget"),
        )
    )
    regen = await auth.keys.RegenerateKey(
        keys_pb2.RegenerateKeyRequest(caller=auth.master, account_id=acct, key=secret)
    )
    await auth.keys.RemoveKeys(keys_pb2.RemoveKeysRequest(caller=auth.master, account_id=acct, keys=[info.key_id]))
    assert await auth.producer.flush(30)
    expected = len(auth.events)
    got = await _consume(auth, expected)
    assert [e for _, e in got] == auth.events, "every event published, in order (one account: one partition)"
    assert {k for k, _ in got} == {acct.encode()}, "keyed by account"
    by_kind = [(e.entity, e.action) for _, e in got]
    assert by_kind == [
        (E.IDENTITY_ENTITY_ACCOUNT, A.IDENTITY_ACTION_CREATED),
        (E.IDENTITY_ENTITY_TEAM, A.IDENTITY_ACTION_CREATED),
        (E.IDENTITY_ENTITY_KEY, A.IDENTITY_ACTION_CREATED),
        (E.IDENTITY_ENTITY_TEAM, A.IDENTITY_ACTION_UPDATED),
        (E.IDENTITY_ENTITY_KEY, A.IDENTITY_ACTION_UPDATED),
        (E.IDENTITY_ENTITY_KEY, A.IDENTITY_ACTION_DELETED),
    ]
    events = [e for _, e in got]
    created_team, updated_team = events[1], events[3]
    assert created_team.team.settings.max_budget == "10" and created_team.limit.max_budget == "10"
    assert created_team.rate_limits.rpm_limit == 5 and created_team.entity_id == team
    assert updated_team.limit.max_budget == "20" and updated_team.settings_version > created_team.settings_version
    key_created, key_regenerated, key_deleted = events[2], events[4], events[5]
    # Older consumers read key_hash and key_settings; newer ones the key_id and the key.
    assert key_created.key_hash == info.key_hash and key_created.key_settings.max_budget == "2"
    assert key_created.key_id == info.key_id and key_created.key.key_id == info.key_id
    assert key_regenerated.previous_key_hash == info.key_hash and key_regenerated.key_hash == regen.info.key_hash
    assert key_regenerated.key_id == info.key_id
    assert key_deleted.key_id == info.key_id and key_deleted.settings_version > key_regenerated.settings_version
