"""Admission by atomic reservation (real Redis) against limits and spend in PostgreSQL, and the
exactly-once ledger."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from google.protobuf import timestamp_pb2

from switchyard.events.v1 import usage_pb2
from switchyard_copilot_budget.clients.ledger import Ledger
from switchyard_copilot_budget.clients.reservations import Refused, Reservations


async def _limit(ledger: Ledger, key: str, budget: str, account: str = "acct") -> None:
    assert await ledger.apply_limit(str(uuid.uuid4()), "identity", account, "key", key, Decimal(budget), None, False)


async def test_concurrent_reservations_never_exceed_the_limit(parts: tuple[Ledger, Reservations]) -> None:
    ledger, res = parts
    key = uuid.uuid4().hex
    await _limit(ledger, key, "1.00")
    results = await asyncio.gather(
        *[res.reserve("acct", f"r-{i}-{key}", [("key", key)], Decimal("0.15"), 60) for i in range(40)],
        return_exceptions=True,
    )
    admitted = [r for r in results if isinstance(r, Decimal)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert not [r for r in results if not isinstance(r, Decimal | Refused)]
    assert len(admitted) == 6 and len(refused) == 34, "6 * 0.15 <= 1.00 < 7 * 0.15"


async def test_a_scope_without_room_refuses_even_a_request_estimated_at_zero(
    parts: tuple[Ledger, Reservations],
) -> None:
    ledger, res = parts
    zero = uuid.uuid4().hex
    await _limit(ledger, zero, "0")  # max_budget: 0 means no spending at all
    with pytest.raises(Refused) as exc:
        await res.reserve("acct", "z-" + zero, [("key", zero)], Decimal(0), 60, want=Decimal(1))
    assert Decimal(exc.value.limit) == 0
    full = uuid.uuid4().hex
    await _limit(ledger, full, "0.10")
    await res.reserve("acct", "a-" + full, [("key", full)], Decimal("0.10"), 60)
    with pytest.raises(Refused):
        await res.reserve("acct", "b-" + full, [("key", full)], Decimal(0), 60)


async def test_settlement_frees_the_reservation_and_charges_actual_cost(parts: tuple[Ledger, Reservations]) -> None:
    ledger, res = parts
    key = uuid.uuid4().hex
    await _limit(ledger, key, "1.00")
    await res.reserve("acct", "a-" + key, [("key", key)], Decimal("0.90"), 60)
    with pytest.raises(Refused):
        await res.reserve("acct", "b-" + key, [("key", key)], Decimal("0.20"), 60)
    await res.settle("a-" + key, "acct", [("key", key)], Decimal("0.10"), final=True)
    await res.reserve("acct", "c-" + key, [("key", key)], Decimal("0.85"), 60)  # 0.10 spent + 0.85 fits
    with pytest.raises(Refused) as exc:
        await res.reserve("acct", "d-" + key, [("key", key)], Decimal("0.10"), 60)
    assert exc.value.limit.startswith("1")


async def test_expired_reservations_are_released(parts: tuple[Ledger, Reservations]) -> None:
    ledger, res = parts
    key = uuid.uuid4().hex
    await _limit(ledger, key, "1.00")
    await res.reserve("acct", "x-" + key, [("key", key)], Decimal("0.95"), 1)
    with pytest.raises(Refused):
        await res.reserve("acct", "y-" + key, [("key", key)], Decimal("0.10"), 60)
    await asyncio.sleep(2.1)
    assert await res.expire_due() >= 1
    await res.reserve("acct", "z-" + key, [("key", key)], Decimal("0.10"), 60)


async def test_scopes_without_limits_admit_and_same_request_is_idempotent(parts: tuple[Ledger, Reservations]) -> None:
    _, res = parts
    scope = [("team", uuid.uuid4().hex)]
    await res.reserve("acct", "same", scope, Decimal("1000"), 60)
    await res.reserve("acct", "same", scope, Decimal("1000"), 60)  # a retried Reserve is not charged twice


def _event(event_id: str, key: str, cost: str) -> usage_pb2.UsageEvent:
    now = timestamp_pb2.Timestamp()
    now.GetCurrentTime()
    return usage_pb2.UsageEvent(
        event_id=event_id,
        request_id=event_id.split(":", maxsplit=1)[0],
        attempt=0,
        account_id="acct",
        key_hash=key,
        success=True,
        cost_usd=cost,
        start_time=now,
        end_time=now,
    )


async def test_ledger_applies_each_event_once(parts: tuple[Ledger, Reservations]) -> None:
    ledger, _ = parts
    key = uuid.uuid4().hex
    await _limit(ledger, key, "5")
    e = _event(f"{uuid.uuid4()}:0", key, "0.25")
    assert await ledger.record_usage(e, Decimal("0.25"), "trace") is True
    assert await ledger.record_usage(e, Decimal("0.25"), "trace") is False
    limit, spend = await ledger.scope_limit("key", key, "acct")
    assert (limit, spend) == (Decimal("5"), Decimal("0.25"))
    # Another account cannot read this scope.
    assert await ledger.scope_limit("key", key, "other") == (None, Decimal(0))


async def _headroom(res: Reservations, key: str) -> Decimal:
    """What a 0-need lease could see: limit - spent - reserved (read through a probe reservation)."""
    probe = f"probe-{uuid.uuid4()}"
    got = await res.reserve("acct", probe, [("key", key)], Decimal(0), 60, want=Decimal(10**6))
    await res.release(probe)
    return got * 2  # lease fraction 0.5


async def test_leases_share_the_headroom_and_shrink_near_the_limit(parts: tuple[Ledger, Reservations]) -> None:
    ledger, res = parts
    key = uuid.uuid4().hex
    await _limit(ledger, key, "1.00")
    scope = [("key", key)]
    first = await res.reserve("acct", "l1-" + key, scope, Decimal("0.01"), 60, want=Decimal("10"))
    assert first == Decimal("0.5"), "half the headroom"
    second = await res.reserve("acct", "l2-" + key, scope, Decimal("0.01"), 60, want=Decimal("10"))
    assert second == Decimal("0.25")
    small = await res.reserve("acct", "l3-" + key, scope, Decimal("0.01"), 60, want=Decimal("0.05"))
    assert small == Decimal("0.05"), "never more than wanted"
    with pytest.raises(Refused):
        await res.reserve("acct", "l4-" + key, scope, Decimal("0.30"), 60, want=Decimal("1"))
    assert first + second + small <= Decimal("1.00")


def _record(value: bytes, offset: int = 0) -> Any:
    from aiokafka.structs import ConsumerRecord

    return ConsumerRecord("usage", 0, offset, 0, 0, b"acct", value, None, len(value), 0, [])


async def _usage(res: Reservations, ledger: Ledger, lease: str, key: str, cost: str) -> None:
    """A usage event of a request under ``lease``, applied as the usage consumer applies it."""
    from switchyard_copilot_budget.consumers import UsageHandler

    e = _event(f"{uuid.uuid4()}:0", key, cost)
    e.reservation_id = lease
    await UsageHandler(ledger, res)([_record(e.SerializeToString())])


async def test_lease_settlement_return_and_late_events(parts: tuple[Ledger, Reservations]) -> None:
    ledger, res = parts
    key = uuid.uuid4().hex
    await _limit(ledger, key, "1.00")
    scope = [("key", key)]
    lease = "lease-" + key
    assert await res.reserve("acct", lease, scope, Decimal("0.1"), 60, want=Decimal("0.8")) == Decimal("0.5")
    # Two requests under the lease settle through usage events (not final).
    for cost in ("0.10", "0.05"):
        await _usage(res, ledger, lease, key, cost)
    assert await _headroom(res, key) == Decimal("0.5"), "1.00 - 0.15 spent - 0.35 still held"
    # The holder returns the lease having spent 0.25 in total: 0.10 is not settled yet, so it stays held.
    assert await res.return_lease(lease, "acct", scope, Decimal("0.25")) == Decimal("0.10")
    assert await _headroom(res, key) == Decimal("0.75"), "1.00 - 0.15 spent - 0.10 awaiting its event"
    await _usage(res, ledger, lease, key, "0.10")
    assert await _headroom(res, key) == Decimal("0.75"), "the late event moved the hold to spent"
    assert await ledger.scope_limit("key", key, "acct") == (Decimal("1.00"), Decimal("0.25"))
    # A lease whose holder vanished is released on expiry.
    gone = "gone-" + key
    await res.reserve("acct", gone, scope, Decimal("0.1"), 1, want=Decimal("0.3"))
    await asyncio.sleep(2.1)
    await res.expire_due()
    assert await _headroom(res, key) == Decimal("0.75")


async def test_settle_many_in_one_round_trip(parts: tuple[Ledger, Reservations]) -> None:
    ledger, res = parts
    key = uuid.uuid4().hex
    await _limit(ledger, key, "1.00")
    scope = [("key", key)]
    for i in range(3):
        await res.reserve("acct", f"m{i}-{key}", scope, Decimal("0.2"), 60)
    await res.settle_many([(f"m{i}-{key}", "acct", scope, Decimal("0.05"), True, Decimal(0)) for i in range(3)])
    assert await _headroom(res, key) == Decimal("0.85"), "holds released, 0.15 spent"


async def test_usage_batch_handler_applies_once(parts: tuple[Ledger, Reservations]) -> None:
    from aiokafka.structs import ConsumerRecord

    from switchyard_copilot_budget.consumers import UsageHandler

    ledger, res = parts
    key = uuid.uuid4().hex
    await _limit(ledger, key, "1.00")
    await res.reserve("acct", "req-" + key, [("key", key)], Decimal("0.5"), 60)
    e = _event(f"req-{key}:0", key, "0.10")
    e.reservation_id, e.final = "req-" + key, True
    trace = f"00-{'a' * 32}-{'b' * 16}-01".encode()

    def rec(value: bytes, offset: int) -> ConsumerRecord[bytes, bytes]:
        return ConsumerRecord("usage", 0, offset, 0, 0, b"acct", value, None, len(value), 0, [("traceparent", trace)])

    handler = UsageHandler(ledger, res)
    await handler([rec(e.SerializeToString(), 0), rec(b"\xff not protobuf", 1), rec(e.SerializeToString(), 2)])
    await handler([rec(e.SerializeToString(), 3)])  # a replay
    assert await ledger.scope_limit("key", key, "acct") == (Decimal("1.00"), Decimal("0.10"))
    assert await _headroom(res, key) == Decimal("0.90")


T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


async def _window_limit(ledger: Ledger, key: str, budget: str, duration: str | None, now: datetime = T0) -> None:
    assert await ledger.apply_limit(
        str(uuid.uuid4()), "identity", "acct", "key", key, Decimal(budget), duration, False, now=now
    )


async def test_budget_window_restarts_spend_on_schedule(parts: tuple[Ledger, Reservations]) -> None:
    ledger, res = parts
    key = uuid.uuid4().hex
    scope = [("key", key)]
    await _window_limit(ledger, key, "1.00", "1h")
    assert await ledger.total_spend("key", key, "acct") == (Decimal("1.00"), Decimal(0), T0 + timedelta(hours=1))
    await ledger.record_usage(_event(f"{uuid.uuid4()}:0", key, "0.95"), Decimal("0.95"), "")
    await res.settle("", "acct", scope, Decimal("0.95"), final=True)
    with pytest.raises(Refused):
        await res.reserve("acct", "a-" + key, scope, Decimal("0.10"), 60)
    # Not due yet: nothing changes.
    await res.reset_windows(T0 + timedelta(minutes=59))
    assert (await ledger.total_spend("key", key, "acct"))[1] == Decimal("0.95")
    # Due (the check ran 5 minutes late): spend starts again from zero, the next window keeps the schedule.
    await res.reset_windows(T0 + timedelta(hours=1, minutes=5))
    assert await ledger.total_spend("key", key, "acct") == (Decimal("1.00"), Decimal(0), T0 + timedelta(hours=2))
    assert await res.reserve("acct", "b-" + key, scope, Decimal("0.90"), 60) == Decimal("0.90")
    # Windows missed entirely (the service was down) are skipped, not replayed one by one.
    await res.reset_windows(T0 + timedelta(hours=4, minutes=30))
    assert (await ledger.total_spend("key", key, "acct"))[2] == T0 + timedelta(hours=5)
    # The ledger keeps every row: windows only move the running total.
    assert await ledger.scope_limit("key", key, "acct") == (Decimal("1.00"), Decimal(0))


async def test_holds_in_flight_survive_a_window_restart(parts: tuple[Ledger, Reservations]) -> None:
    ledger, res = parts
    key = uuid.uuid4().hex
    scope = [("key", key)]
    await _window_limit(ledger, key, "1.00", "1d")
    await res.reserve("acct", "held-" + key, scope, Decimal("0.60"), 600)
    await res.reset_windows(T0 + timedelta(days=1))
    with pytest.raises(Refused):  # 0.60 still held by the request in flight
        await res.reserve("acct", "more-" + key, scope, Decimal("0.50"), 60)
    await res.settle("held-" + key, "acct", scope, Decimal("0.20"), final=True)
    assert await _headroom(res, key) == Decimal("0.80"), "its cost lands in the new window"


async def test_changing_the_duration_starts_a_new_window(parts: tuple[Ledger, Reservations]) -> None:
    ledger, _ = parts
    key = uuid.uuid4().hex
    await _window_limit(ledger, key, "1.00", "1d")
    later = T0 + timedelta(hours=3)
    await _window_limit(ledger, key, "2.00", "1d", now=later)  # budget raised, same window
    assert await ledger.total_spend("key", key, "acct") == (Decimal("2.00"), Decimal(0), T0 + timedelta(days=1))
    await _window_limit(ledger, key, "2.00", "7d", now=later)
    assert (await ledger.total_spend("key", key, "acct"))[2] == later + timedelta(days=7)
    await _window_limit(ledger, key, "2.00", None, now=later)
    assert (await ledger.total_spend("key", key, "acct"))[2] is None


async def test_limits_stored_before_windows_get_one_starting_at_the_next_check(
    parts: tuple[Ledger, Reservations],
) -> None:
    ledger, res = parts
    key = uuid.uuid4().hex
    await _window_limit(ledger, key, "1.00", "1h")
    await ledger.record_usage(_event(f"{uuid.uuid4()}:0", key, "0.30"), Decimal("0.30"), "")
    await ledger._pool.execute("UPDATE spend_limits SET budget_reset_at = NULL WHERE scope_id = $1", key)
    check = T0 + timedelta(days=3)
    await res.reset_windows(check)
    assert await ledger.total_spend("key", key, "acct") == (
        Decimal("1.00"),
        Decimal("0.30"),
        check + timedelta(hours=1),
    )


async def test_unsettled_spend_of_a_returned_lease_never_goes_back_to_the_headroom(
    parts: tuple[Ledger, Reservations],
) -> None:
    """A lease returned while its usage events are still on their way (Kafka down for longer than
    any grace period) keeps that spend counted: through expiry runs and a lost Redis cache."""
    ledger, res = parts
    key = uuid.uuid4().hex
    await _limit(ledger, key, "1.00")
    scope = [("key", key)]
    lease = "lease-" + key
    await res.reserve("acct", lease, scope, Decimal("0.1"), 1, want=Decimal("0.9"))
    await _usage(res, ledger, lease, key, "0.20")
    assert await res.return_lease(lease, "acct", scope, Decimal("0.60")) == Decimal("0.40")
    assert await res.return_lease(lease, "acct", scope, Decimal("0.60")) == Decimal(0), "a retried return"
    assert await _headroom(res, key) == Decimal("0.40"), "1.00 - 0.20 settled - 0.40 reported, not settled"
    await asyncio.sleep(1.1)
    await res.expire_due()
    await res.forget_scopes("acct", scope)  # Redis lost the cached scope: reloaded from PostgreSQL
    assert await _headroom(res, key) == Decimal("0.40")
    assert await ledger.scope_limit("key", key, "acct") == (Decimal("1.00"), Decimal("0.60"))
    # The events come at last: they take the place of the reported spend, counted once.
    await _usage(res, ledger, lease, key, "0.30")
    await _usage(res, ledger, lease, key, "0.10")
    assert await _headroom(res, key) == Decimal("0.40")
    await res.forget_scopes("acct", scope)
    assert await _headroom(res, key) == Decimal("0.40")
    assert await ledger._pool.fetchval("SELECT count(*) FROM lease_pending WHERE lease_id = $1", lease) == 0
    # An event beyond what was reported is charged on top.
    await _usage(res, ledger, lease, key, "0.05")
    assert await _headroom(res, key) == Decimal("0.35")


async def test_a_limit_the_caller_knows_of_holds_before_its_identity_event(parts: tuple[Ledger, Reservations]) -> None:
    """A key created a moment ago: its limit travels with its first admission and holds at once;
    the identity event that follows (same version) changes nothing, a newer one replaces it and
    an older one never does."""
    from switchyard_copilot_budget.domain.scopes import LimitSpec

    ledger, res = parts
    key = uuid.uuid4().hex
    scope = [("key", key)]
    spec = {("key", key): LimitSpec(Decimal("1.00"), "1d", 7)}
    assert await res.reserve("acct", "a-" + key, scope, Decimal("0.60"), 60, limits=spec) == Decimal("0.60")
    with pytest.raises(Refused):
        await res.reserve("acct", "b-" + key, scope, Decimal("0.60"), 60, limits=spec)
    _, _, reset_at = await ledger.total_spend("key", key, "acct")
    assert reset_at is not None
    # The identity event of the same version: already in force (the window keeps running).
    assert not await ledger.apply_limit(
        str(uuid.uuid4()), "identity", "acct", "key", key, Decimal("1.00"), "1d", False, version=7
    )
    assert (await ledger.total_spend("key", key, "acct"))[2] == reset_at
    # A newer version raises the budget; an older one arriving late does not undo it.
    assert await ledger.apply_limit(
        str(uuid.uuid4()), "identity", "acct", "key", key, Decimal("5.00"), "1d", False, version=9
    )
    assert not await ledger.apply_limit(
        str(uuid.uuid4()), "identity", "acct", "key", key, Decimal("1.00"), "1d", False, version=8
    )
    await res.forget_scopes("acct", scope)
    stale = {("key", key): LimitSpec(Decimal("1.00"), "1d", 7)}  # an edge's principal cached before the change
    assert await res.reserve("acct", "c-" + key, scope, Decimal("3.00"), 60, limits=stale) == Decimal("3.00")
    # Deleted (version 10): a principal cached before the deletion cannot bring the limit back.
    assert await ledger.apply_limit(str(uuid.uuid4()), "identity", "acct", "key", key, None, None, True, version=10)
    await ledger.ensure_limit("acct", "key", key, Decimal("1.00"), None, 9)
    assert (await ledger.scope_state("key", key, "acct"))[0::2] == (None, 10)
    # Another account cannot put a limit on this scope.
    await ledger.ensure_limit("other", "key", key, Decimal("0.01"), None, 99)
    assert (await ledger.scope_state("key", key, "acct"))[0::2] == (None, 10)


async def test_a_keys_spend_follows_its_stable_id_across_regeneration(parts: tuple[Ledger, Reservations]) -> None:
    """/key/regenerate gives a key a new hash but keeps its id: the spend of a key without a
    limit (summed over the ledger) counts rows under every hash it had, and rows written before
    key ids were stored, which carry only the hash that was its id then."""
    ledger, _ = parts
    key_id, new_hash = uuid.uuid4().hex, uuid.uuid4().hex
    before = _event(f"{uuid.uuid4()}:0", key_id, "0.10")  # hash == id: before regeneration
    await ledger.record_usage(before, Decimal("0.10"), "")
    await ledger._pool.execute("UPDATE spend_logs SET key_id = NULL WHERE event_id = $1", before.event_id)
    after = _event(f"{uuid.uuid4()}:0", new_hash, "0.25")
    after.key_id = key_id
    await ledger.record_usage(after, Decimal("0.25"), "")
    assert await ledger.total_spend("key", key_id, "acct") == (None, Decimal("0.35"), None)
