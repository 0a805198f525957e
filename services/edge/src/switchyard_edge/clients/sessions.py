"""Sign-in, for the /sso/* routes and the session keys' JWKS: the auth service's SessionService,
with its refusals and peer failures as GatewayErrors."""

from __future__ import annotations

import time

from switchyard.auth.v1 import sessions_pb2
from switchyard_edge.clients.peers import Peers
from switchyard_edge.clients.principals import Principals
from switchyard_edge.errors import GatewayError, from_peer

_TIMEOUT = 10.0
# The JWKS changes only when auth's keys do (a rollout): verifiers may read it this stale.
JWKS_CACHE_SECONDS = 60.0


class SessionsClient:
    def __init__(self, peers: Peers, principals: Principals) -> None:
        self._stub = peers.sessions
        self._principals = principals
        self._jwks: tuple[bytes, float] | None = None

    async def jwks(self) -> bytes:
        if self._jwks is None or time.monotonic() - self._jwks[1] > JWKS_CACHE_SECONDS:
            resp = await from_peer("auth", self._stub.GetJwks(sessions_pb2.GetJwksRequest(), timeout=_TIMEOUT))
            self._jwks = (resp.jwks_json, time.monotonic())
        return self._jwks[0]

    async def begin(self, redirect_uri: str, return_to: str) -> tuple[str, str]:
        """(the identity provider's authorization URL, the login's state)."""
        req = sessions_pb2.BeginLoginRequest(redirect_uri=redirect_uri, return_to=return_to)
        resp = await from_peer("auth", self._stub.BeginLogin(req, timeout=_TIMEOUT))
        if resp.WhichOneof("result") == "error":
            raise GatewayError(resp.error)
        return resp.authorization_url, resp.state

    async def complete(self, req: sessions_pb2.CompleteLoginRequest) -> sessions_pb2.CompleteLoginResponse:
        resp = await from_peer("auth", self._stub.CompleteLogin(req, timeout=_TIMEOUT))
        if resp.WhichOneof("result") == "error":
            raise GatewayError(resp.error)
        return resp

    async def logout(self, credential: str, post_logout_redirect_uri: str) -> str:
        """Revoke a session token; the identity provider's end-session URL (or empty)."""
        req = sessions_pb2.LogoutRequest(credential=credential, post_logout_redirect_uri=post_logout_redirect_uri)
        resp = await from_peer("auth", self._stub.Logout(req, timeout=_TIMEOUT))
        if resp.HasField("error"):
            raise GatewayError(resp.error)
        self._principals.forget(credential)
        return resp.end_session_url

    async def provider_event(self, body: bytes, signature: str) -> int:
        """Hand the identity provider's webhook call to auth; how many users it blocked."""
        req = sessions_pb2.HandleProviderEventRequest(body=body, signature=signature)
        resp = await from_peer("auth", self._stub.HandleProviderEvent(req, timeout=_TIMEOUT))
        if resp.HasField("error"):
            raise GatewayError(resp.error)
        return resp.users_blocked
