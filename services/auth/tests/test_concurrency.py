"""Entitlement checks under concurrency: creations racing for the last places of an account are
counted one after another (the account row is locked), so the limit holds exactly."""

from __future__ import annotations

import asyncio

from auth_testing import Auth

from switchyard.auth.v1 import keys_pb2, teams_pb2
from switchyard.llm.v1 import error_pb2


async def test_twenty_concurrent_keys_against_max_keys_ten(auth: Auth) -> None:
    acct = await auth.account(max_keys=10)
    calls = [
        auth.keys.CreateKey(keys_pb2.CreateKeyRequest(caller=auth.master, account_id=acct), timeout=30)
        for _ in range(20)
    ]
    results = await asyncio.gather(*calls)
    made = [r for r in results if not r.HasField("error")]
    refused = [r for r in results if r.HasField("error")]
    assert len(made) == 10 and len(refused) == 10
    assert all(r.error.kind == error_pb2.ERROR_KIND_PERMISSION_DENIED and r.error.param == "max_keys" for r in refused)
    listed = await auth.keys.ListKeys(keys_pb2.ListKeysRequest(caller=auth.master, account_id=acct))
    assert listed.total_count == 10


async def test_concurrent_teams_against_max_teams(auth: Auth) -> None:
    acct = await auth.account(max_teams=3)
    results = await asyncio.gather(
        *(
            auth.teams.CreateTeam(teams_pb2.CreateTeamRequest(caller=auth.master, account_id=acct), timeout=30)
            for _ in range(8)
        )
    )
    assert sum(not r.HasField("error") for r in results) == 3
    assert {r.error.param for r in results if r.HasField("error")} == {"max_teams"}
