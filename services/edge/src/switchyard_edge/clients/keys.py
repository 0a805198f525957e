"""Virtual keys, for the management routes: the auth service's admin RPCs, with their refusals
and peer failures as GatewayErrors. A deleted key leaves the edge's principal cache at once."""

from __future__ import annotations

from switchyard.auth.v1 import auth_pb2
from switchyard_edge.clients.peers import Peers
from switchyard_edge.clients.principals import Principals
from switchyard_edge.errors import GatewayError, from_peer

_TIMEOUT = 5.0


class KeysClient:
    def __init__(self, peers: Peers, principals: Principals) -> None:
        self._stub = peers.auth
        self._principals = principals

    async def generate(
        self, caller: auth_pb2.Principal, settings: auth_pb2.KeySettings, key: str
    ) -> auth_pb2.GenerateKeyResponse:
        """The new key (``key``: the caller's choice of secret, or empty for a generated one)."""
        req = auth_pb2.GenerateKeyRequest(caller=caller, settings=settings, key=key)
        resp = await from_peer("auth", self._stub.GenerateKey(req, timeout=_TIMEOUT))
        if resp.WhichOneof("result") == "error":
            raise GatewayError(resp.error)
        return resp

    async def get(self, caller: auth_pb2.Principal, key: str) -> auth_pb2.KeyInfo:
        resp = await from_peer(
            "auth", self._stub.GetKey(auth_pb2.GetKeyRequest(caller=caller, key=key), timeout=_TIMEOUT)
        )
        if resp.WhichOneof("result") == "error":
            raise GatewayError(resp.error)
        return resp.info

    async def delete(self, caller: auth_pb2.Principal, keys: list[str]) -> list[str]:
        """The hashes of the keys deleted."""
        req = auth_pb2.DeleteKeysRequest(caller=caller, keys=keys)
        resp = await from_peer("auth", self._stub.DeleteKeys(req, timeout=_TIMEOUT))
        if resp.HasField("error"):
            raise GatewayError(resp.error)
        for h in resp.deleted_key_hashes:
            self._principals.invalidate_key(h)
        return list(resp.deleted_key_hashes)
