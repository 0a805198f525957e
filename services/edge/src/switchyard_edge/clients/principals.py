"""Cached authentication: a warm request costs no call to the auth service. Entries expire after
the TTL auth gives and are dropped at once when an identity event names their key."""

from __future__ import annotations

import hashlib
import logging
import time

import grpc
from aiokafka.structs import ConsumerRecord
from google.protobuf.message import DecodeError

from switchyard.auth.v1 import auth_pb2
from switchyard.events.v1 import identity_pb2
from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_edge.clients.peers import Peers
from switchyard_edge.errors import GatewayError, peer_failure

log = logging.getLogger(__name__)

_MAX_ENTRIES = 100_000


class Principals:
    def __init__(self, peers: Peers, *, timeout: float, negative_ttl: float) -> None:
        self._peers = peers
        self._timeout = timeout
        self._negative_ttl = negative_ttl
        # sha256(credential) → (principal or error, expires at, monotonic)
        self._cache: dict[str, tuple[auth_pb2.Principal | error_pb2.Error, float]] = {}
        self._by_key_hash: dict[str, set[str]] = {}

    async def authenticate(self, credential: str) -> auth_pb2.Principal:
        digest = hashlib.sha256(credential.encode()).hexdigest()
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and hit[1] > now:
            value = hit[0]
        else:
            try:
                resp = await self._peers.auth.Authenticate(
                    auth_pb2.AuthenticateRequest(credential=credential), timeout=self._timeout
                )
            except grpc.aio.AioRpcError as exc:
                raise peer_failure("auth", exc) from None
            if resp.WhichOneof("result") == "principal":
                value = resp.principal
                ttl = float(value.cache_ttl_seconds or 0)
            else:
                value = resp.error
                ttl = self._negative_ttl if value.kind == ErrorKind.ERROR_KIND_AUTHENTICATION else 0.0
            if ttl > 0:
                if len(self._cache) >= _MAX_ENTRIES:
                    self._cache.clear()
                    self._by_key_hash.clear()
                self._cache[digest] = (value, now + ttl)
                if isinstance(value, auth_pb2.Principal) and value.key_hash:
                    self._by_key_hash.setdefault(value.key_hash, set()).add(digest)
        if isinstance(value, error_pb2.Error):
            raise GatewayError(value)
        if value.expires_at and value.expires_at < time.time():
            raise GatewayError.of(ErrorKind.ERROR_KIND_AUTHENTICATION, "Authentication Error: this key has expired.")
        return value

    def invalidate_key(self, key_hash: str) -> None:
        for digest in self._by_key_hash.pop(key_hash, ()):
            self._cache.pop(digest, None)

    async def on_identity_event(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            event = identity_pb2.IdentityEvent.FromString(record.value or b"")
        except DecodeError:
            log.warning("undecodable identity event ignored")
            return
        if event.key_hash:
            self.invalidate_key(event.key_hash)
