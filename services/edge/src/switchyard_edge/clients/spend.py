"""Spend, for the management routes: copilot-budget's spend totals and spend logs, with its peer
failures as GatewayErrors."""

from __future__ import annotations

import grpc

from switchyard.budget.v1 import budget_pb2
from switchyard_edge.clients.peers import Peers
from switchyard_edge.errors import GatewayError, peer_failure


class SpendClient:
    def __init__(self, peers: Peers) -> None:
        self._stub = peers.budget

    async def of_key(self, account_id: str, key_hash: str) -> budget_pb2.ScopeSpend | None:
        """What a key spent (and when its budget window restarts); None when nothing is known."""
        req = budget_pb2.GetSpendRequest(
            account_id=account_id, scopes=[budget_pb2.Scope(kind=budget_pb2.SCOPE_KIND_KEY, id=key_hash)]
        )
        try:
            resp = await self._stub.GetSpend(req, timeout=5.0)
        except grpc.aio.AioRpcError as exc:
            raise peer_failure("copilot-budget", exc) from None
        return resp.spends[0] if resp.spends else None

    async def logs(self, req: budget_pb2.ListSpendLogsRequest) -> budget_pb2.ListSpendLogsResponse:
        """One page of spend logs; a page_token the budget service refuses is the caller's 400."""
        try:
            resp = await self._stub.ListSpendLogs(req, timeout=10.0)
        except grpc.aio.AioRpcError as exc:
            raise peer_failure("copilot-budget", exc) from None
        if resp.HasField("error"):
            raise GatewayError(resp.error)
        return resp
