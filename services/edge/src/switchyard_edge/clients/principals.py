"""Cached authentication: a warm request costs no call to the auth service. Entries expire after
the TTL auth gives (and never outlive the credential's own expiry) and are dropped at once when
an identity event names their key (by its hash, its previous hash after a regeneration, or its
stable id), their session (logout) or anything the principal was built from: its team, user,
organization, team membership or account."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable

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
        # (what, id) → digests of cached principals built from it (see _refs).
        self._by_ref: dict[tuple[str, str], set[str]] = {}

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
                    self._by_ref.clear()
                self._cache[digest] = (value, now + ttl)
                if isinstance(value, auth_pb2.Principal):
                    for ref in _refs(value):
                        self._by_ref.setdefault(ref, set()).add(digest)
        if isinstance(value, error_pb2.Error):
            raise GatewayError(value)
        if value.expires_at and value.expires_at < time.time():
            what = "session" if value.session_id else "key" if value.key_hash else "token"
            raise GatewayError.of(
                ErrorKind.ERROR_KIND_AUTHENTICATION, f"Authentication Error: this {what} has expired."
            )
        return value

    def invalidate(self, refs: Iterable[tuple[str, str]]) -> None:
        """Drop the principals built from any of ``refs`` (``("key", hash)``, ``("team", id)``, ...):
        a management write on this edge holds here at once, before its identity event arrives."""
        for ref in refs:
            self._drop(ref)

    def forget(self, credential: str) -> None:
        """This replica forgets a credential's principal at once (a logged-out session), before
        the identity event that tells every replica comes back."""
        self._cache.pop(hashlib.sha256(credential.encode()).hexdigest(), None)

    def _drop(self, ref: tuple[str, str]) -> None:
        for digest in self._by_ref.pop(ref, ()):
            self._cache.pop(digest, None)
        if ref[0] == "key":
            # The cache is keyed by the SHA-256 of the credential, which is the key's hash: this
            # also drops a cached refusal (a blocked key that was just unblocked works at once).
            self._cache.pop(ref[1], None)

    async def on_identity_event(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            event = identity_pb2.IdentityEvent.FromString(record.value or b"")
        except DecodeError:
            log.warning("undecodable identity event ignored")
            return
        for ref in _event_refs(event):
            self._drop(ref)


def _refs(p: auth_pb2.Principal) -> list[tuple[str, str]]:
    """What a cached principal was built from (the master key has none but its account)."""
    refs = [("account", p.account_id)]
    for what, value in (
        ("key", p.key_hash),
        ("key_id", p.key_id),
        ("team", p.team_id),
        ("user", p.user_id),
        ("session", p.session_id),
    ):
        if value:
            refs.append((what, value))
    if p.org_id:
        refs.append(("org", p.org_id))
    return refs


_ENTITY_REF = {
    identity_pb2.IDENTITY_ENTITY_TEAM: "team",
    identity_pb2.IDENTITY_ENTITY_USER: "user",
    identity_pb2.IDENTITY_ENTITY_ORGANIZATION: "org",
}


def _event_refs(e: identity_pb2.IdentityEvent) -> list[tuple[str, str]]:
    """The cached principals an identity event makes stale."""
    refs = [("key", h) for h in (e.key_hash, e.previous_key_hash) if h]
    if e.key_id:
        refs.append(("key_id", e.key_id))
    if (what := _ENTITY_REF.get(e.entity)) and e.entity_id:
        refs.append((what, e.entity_id))
    memberships = (identity_pb2.IDENTITY_ENTITY_TEAM_MEMBER, identity_pb2.IDENTITY_ENTITY_ORGANIZATION_MEMBER)
    if e.entity in memberships and e.member_user_id:
        refs.append(("user", e.member_user_id))
    if e.entity == identity_pb2.IDENTITY_ENTITY_ACCOUNT and e.entity_id:
        refs.append(("account", e.entity_id))
    if e.entity == identity_pb2.IDENTITY_ENTITY_SESSION and e.entity_id:
        refs.append(("session", e.entity_id))
    return refs
