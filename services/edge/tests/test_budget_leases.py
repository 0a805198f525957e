"""Lease accounting on the edge: holds come out of the lease and what a request did not spend
goes back to it (the Lease RPCs themselves are exercised end to end in tests/e2e)."""

from __future__ import annotations

import time

from switchyard_edge.clients.budget_leases import BudgetLeases, Hold, Lease


class _NoPeers:
    pass


class _Tasks:
    def __init__(self) -> None:
        self.spawned: list[object] = []

    def spawn(self, coro: object) -> bool:
        self.spawned.append(coro)
        coro.close()  # type: ignore[attr-defined]
        return True


def _leases() -> tuple[BudgetLeases, _Tasks]:
    tasks = _Tasks()
    return BudgetLeases(_NoPeers(), tasks, timeout=1.0), tasks  # type: ignore[arg-type]


def test_holds_and_settlement() -> None:
    leases, tasks = _leases()
    key = ("acct", ((1, "k"),))
    lease = Lease("l1", "acct", key, balance=1.0, expires=time.monotonic() + 30)
    leases._leases[key] = lease
    a = leases._take(key, 0.4)
    b = leases._take(key, 0.4)
    assert isinstance(a, Hold) and isinstance(b, Hold)
    assert leases._take(key, 0.4) is None, "0.2 left is not enough for another 0.4"
    leases.finish(a, 0.05)
    assert abs(lease.balance - 0.55) < 1e-9 and lease.inflight == 1 and abs(lease.spent - 0.05) < 1e-9
    leases.finish(a, 0.05)
    assert lease.inflight == 1, "finishing twice changes nothing"
    leases.retire_for("other-acct", 1, "k")
    assert not lease.retired, "a scope of the same id in another account is another scope"
    leases.retire_for("acct", 1, "k")
    assert not tasks.spawned, "a lease with requests in flight is returned only when they end"
    leases.finish(b, 0.10)
    assert len(tasks.spawned) == 1 and lease.returned and abs(lease.spent - 0.15) < 1e-9


def test_expired_lease_is_not_used() -> None:
    leases, tasks = _leases()
    key = ("acct", ((1, "k"),))
    leases._leases[key] = Lease("l1", "acct", key, balance=1.0, expires=time.monotonic() - 1)
    assert leases._take(key, 0.1) is None
    assert len(tasks.spawned) == 1, "the expired lease went back"


def test_an_exhausted_lease_admits_nothing_not_even_a_zero_estimate() -> None:
    leases, _ = _leases()
    key = ("acct", ((1, "k"),))
    leases._leases[key] = Lease("l1", "acct", key, balance=0.0, expires=time.monotonic() + 30)
    assert leases._take(key, 0.0) is None, "the budget service decides whether any room is left"
