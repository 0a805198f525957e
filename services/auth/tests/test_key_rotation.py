"""Key rotation with a grace period: /key/regenerate's replaced secret keeps working as the key
is now, until the grace period ends, and never longer."""

from __future__ import annotations

import time

from auth_testing import Auth

from switchyard.auth.v1 import auth_pb2, keys_pb2
from switchyard.llm.v1 import error_pb2


async def _auth(auth: Auth, secret: str) -> auth_pb2.AuthenticateResponse:
    return await auth.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=secret), timeout=10)


async def _regenerate(auth: Auth, acct: str, key: str, **fields: str) -> keys_pb2.RegenerateKeyResponse:
    req = keys_pb2.RegenerateKeyRequest(caller=auth.master, account_id=acct, key=key, **fields)
    return await auth.keys.RegenerateKey(req, timeout=10)


async def test_a_replaced_secret_works_until_its_grace_period_ends(auth: Auth) -> None:
    acct = await auth.account()
    old, info = await auth.key(acct, key_alias="rotating")
    started = time.time()
    regen = await _regenerate(auth, acct, old, grace_period="1h")
    assert not regen.HasField("error"), regen.error.message
    until = regen.previous_key_valid_until.ToSeconds()
    assert started + 3600 - 5 <= until <= time.time() + 3600 + 5
    new = (await _auth(auth, regen.key)).principal
    during = (await _auth(auth, old)).principal
    assert during.key_id == new.key_id == info.key_id and during.key_hash == new.key_hash
    # The edge refuses a cached principal past its expiry: the grace period's end.
    assert during.expires_at == until and not new.expires_at
    # The grace period is over: the replaced secret is refused like any unknown one.
    await auth.pool.execute("UPDATE previous_key_secrets SET valid_until = now() - interval '1 second'")
    over = await _auth(auth, old)
    assert over.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION
    assert (await _auth(auth, regen.key)).HasField("principal")


async def test_without_a_grace_period_the_replaced_secret_stops_at_once(auth: Auth) -> None:
    acct = await auth.account()
    old, _ = await auth.key(acct)
    regen = await _regenerate(auth, acct, old)
    assert not regen.HasField("previous_key_valid_until")
    assert (await _auth(auth, old)).error.kind == error_pb2.ERROR_KIND_AUTHENTICATION


async def test_a_replaced_secret_is_the_key_as_it_is_now(auth: Auth) -> None:
    """Blocked, the key refuses both secrets; deleted, neither comes back; a replaced secret can
    never be given to a key again."""
    acct = await auth.account()
    old, info = await auth.key(acct)
    regen = await _regenerate(auth, acct, old, grace_period="2h")
    await auth.keys.BlockKey(keys_pb2.BlockKeyRequest(caller=auth.master, account_id=acct, key=info.key_id))
    assert (await _auth(auth, old)).error.kind == error_pb2.ERROR_KIND_AUTHENTICATION
    await auth.keys.UnblockKey(keys_pb2.UnblockKeyRequest(caller=auth.master, account_id=acct, key=info.key_id))
    assert (await _auth(auth, old)).HasField("principal")
    reuse = await _regenerate(auth, acct, regen.key, new_key=old)
    assert reuse.error.kind == error_pb2.ERROR_KIND_BAD_REQUEST and reuse.error.param == "new_key"
    await auth.keys.RemoveKeys(keys_pb2.RemoveKeysRequest(caller=auth.master, account_id=acct, keys=[info.key_id]))
    assert (await _auth(auth, old)).error.kind == error_pb2.ERROR_KIND_AUTHENTICATION
    assert (await _auth(auth, regen.key)).error.kind == error_pb2.ERROR_KIND_AUTHENTICATION


async def test_a_rotation_without_grace_ends_every_earlier_secret(auth: Auth) -> None:
    acct = await auth.account()
    first, _ = await auth.key(acct)
    second = (await _regenerate(auth, acct, first, grace_period="1h")).key
    third = (await _regenerate(auth, acct, second, grace_period="1h")).key
    assert (await _auth(auth, second)).HasField("principal")
    assert (await _auth(auth, first)).error.kind == error_pb2.ERROR_KIND_AUTHENTICATION, "one grace period at a time"
    fourth = (await _regenerate(auth, acct, third)).key
    for old in (second, third):
        assert (await _auth(auth, old)).error.kind == error_pb2.ERROR_KIND_AUTHENTICATION
    assert (await _auth(auth, fourth)).HasField("principal")


async def test_a_bad_grace_period_is_refused_naming_it(auth: Auth) -> None:
    acct = await auth.account()
    old, _ = await auth.key(acct)
    for bad in ("soon", "31d", "-1h"):
        resp = await _regenerate(auth, acct, old, grace_period=bad)
        assert resp.error.kind == error_pb2.ERROR_KIND_BAD_REQUEST and resp.error.param == "grace_period", bad
    assert (await _auth(auth, old)).HasField("principal"), "a refused regeneration changes nothing"
