"""The router's model registry, for the admin routes: deployments added, changed and removed at
run time, their stored definitions, model groups and health. Peer failures and the router's
refusals are GatewayErrors."""

from __future__ import annotations

from switchyard.router.v1 import router_pb2
from switchyard_edge.clients.peers import Peers
from switchyard_edge.errors import GatewayError, from_peer

# A health check may call every deployment of a group.
_HEALTH_TIMEOUT = 120.0


class ModelRegistry:
    def __init__(self, peers: Peers) -> None:
        self._stub = peers.router

    async def add(self, entry: router_pb2.ModelEntry, caller: str) -> router_pb2.ModelEntry:
        req = router_pb2.AddModelRequest(model=entry, caller=caller)
        resp = await from_peer("router", self._stub.AddModel(req, timeout=10.0))
        if resp.HasField("error"):
            raise GatewayError(resp.error)
        return resp.model

    async def update(self, req: router_pb2.UpdateModelRequest) -> router_pb2.ModelEntry:
        resp = await from_peer("router", self._stub.UpdateModel(req, timeout=10.0))
        if resp.HasField("error"):
            raise GatewayError(resp.error)
        return resp.model

    async def delete(self, model_id: str) -> None:
        resp = await from_peer(
            "router", self._stub.DeleteModel(router_pb2.DeleteModelRequest(id=model_id), timeout=10.0)
        )
        if resp.HasField("error"):
            raise GatewayError(resp.error)

    async def info(self, model_id: str) -> list[router_pb2.ModelEntry]:
        """Stored deployments: the one with ``model_id``, or all when it is empty."""
        req = router_pb2.GetModelInfoRequest(id=model_id)
        return list((await from_peer("router", self._stub.GetModelInfo(req, timeout=5.0))).models)

    async def groups(self, model_group: str) -> list[router_pb2.ModelGroupInfo]:
        req = router_pb2.GetModelGroupInfoRequest(model_group=model_group)
        return list((await from_peer("router", self._stub.GetModelGroupInfo(req, timeout=5.0))).groups)

    async def health(self, model: str, *, check_now: bool) -> list[router_pb2.DeploymentHealth]:
        req = router_pb2.GetHealthRequest(model=model, check_now=check_now)
        return list((await from_peer("router", self._stub.GetHealth(req, timeout=_HEALTH_TIMEOUT))).deployments)
