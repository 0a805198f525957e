"""The OIDC identity provider (Zitadel, or any standards-compliant one), as auth talks to it:
discovery, the JWKS (cached; read again when a token names a key it does not hold, since
Zitadel rotates keys without notice), the token endpoint (authorization code with PKCE),
userinfo, introspection (client credentials of an API application) and the end-session URL.

JWTs are verified with PyJWT against the provider's JWKS, accepting only asymmetric algorithms
(never ``none`` or HMAC, whose "key" a JWKS would hand to anyone)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

log = logging.getLogger(__name__)

# The asymmetric algorithms OIDC providers sign with (Zitadel: RS256).
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"]
# Discovery documents change rarely; read again after this.
DISCOVERY_TTL_SECONDS = 3600.0
# A token naming an unknown key reads the JWKS again at most this often (a flood of forged kids
# must not become a flood of requests to the provider).
JWKS_REFRESH_INTERVAL_SECONDS = 10.0
LEEWAY_SECONDS = 5


class ProviderError(Exception):
    """The identity provider did not answer, or not as OIDC says."""


class TokenRejected(Exception):
    """A token or code the provider (or its keys) does not vouch for; the message says why."""


@dataclass(frozen=True)
class Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str
    introspection_endpoint: str
    end_session_endpoint: str


class OidcProvider:
    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float,
        introspection_client: tuple[str, str] | None = None,
        jwks_refresh_interval: float = JWKS_REFRESH_INTERVAL_SECONDS,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self._introspection_client = introspection_client
        self._jwks_refresh_interval = jwks_refresh_interval
        self._http = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._discovery: Discovery | None = None
        self._discovered_at = 0.0
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_read_at = float("-inf")
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self._http.aclose()

    @property
    def introspects(self) -> bool:
        return self._introspection_client is not None

    async def _json(self, method: str, url: str, **kw: Any) -> tuple[int, Any]:
        try:
            resp = await self._http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            raise ProviderError(f"the identity provider did not answer ({type(exc).__name__})") from None
        try:
            return resp.status_code, resp.json()
        except ValueError:
            raise ProviderError(f"the identity provider answered {resp.status_code} without JSON") from None

    async def discovery(self) -> Discovery:
        if self._discovery is not None and time.monotonic() - self._discovered_at < DISCOVERY_TTL_SECONDS:
            return self._discovery
        status, doc = await self._json("GET", f"{self.issuer}/.well-known/openid-configuration")
        if status != 200 or not isinstance(doc, dict):
            raise ProviderError(f"the identity provider's discovery document answered {status}")
        # OIDC Discovery 1.0 §4.3: the issuer in the document must be the one configured.
        if str(doc.get("issuer", "")).rstrip("/") != self.issuer:
            raise ProviderError("the discovery document names another issuer")
        try:
            self._discovery = Discovery(
                issuer=str(doc["issuer"]),
                authorization_endpoint=str(doc["authorization_endpoint"]),
                token_endpoint=str(doc["token_endpoint"]),
                jwks_uri=str(doc["jwks_uri"]),
                userinfo_endpoint=str(doc.get("userinfo_endpoint", "")),
                introspection_endpoint=str(doc.get("introspection_endpoint", "")),
                end_session_endpoint=str(doc.get("end_session_endpoint", "")),
            )
        except KeyError as exc:
            raise ProviderError(f"the discovery document lacks {exc.args[0]}") from None
        self._discovered_at = time.monotonic()
        return self._discovery

    async def _key(self, kid: str) -> jwt.PyJWK:
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:
            key = self._keys.get(kid)
            if key is None and time.monotonic() - self._keys_read_at >= self._jwks_refresh_interval:
                d = await self.discovery()
                status, doc = await self._json("GET", d.jwks_uri)
                if status != 200 or not isinstance(doc, dict):
                    raise ProviderError(f"the identity provider's JWKS answered {status}")
                try:
                    keyset = jwt.PyJWKSet.from_dict(doc)
                except jwt.PyJWKSetError:
                    raise ProviderError("the identity provider's JWKS holds no usable key") from None
                self._keys = {k.key_id: k for k in keyset.keys if k.key_id}
                self._keys_read_at = time.monotonic()
                key = self._keys.get(kid)
        if key is None:
            raise TokenRejected("the token was not signed by a key of the identity provider")
        return key

    async def verify_jwt(self, token: str, audiences: list[str], *, nonce: str | None = None) -> dict[str, Any]:
        """The claims of a JWT the provider signed for one of ``audiences``, checked for ``iss``,
        ``aud``, ``exp``, ``iat`` (and ``nonce`` for an ID token)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise TokenRejected("the token is not a well-formed JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise TokenRejected("the token's algorithm is not accepted")
        key = await self._key(str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[a for a in ALGORITHMS if a == header.get("alg")],
                audience=audiences,
                issuer=(await self.discovery()).issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected("the token has expired") from None
        except jwt.InvalidTokenError as exc:
            raise TokenRejected(f"the token does not verify ({type(exc).__name__})") from None
        if nonce is not None and claims.get("nonce") != nonce:
            raise TokenRejected("the ID token's nonce is not this login's")
        return claims

    async def authorization_url(
        self, *, state: str, nonce: str, code_challenge: str, redirect_uri: str, scope: str
    ) -> str:
        d = await self.discovery()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": scope,
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        sep = "&" if "?" in d.authorization_endpoint else "?"
        return f"{d.authorization_endpoint}{sep}{query}"

    async def exchange_code(self, code: str, code_verifier: str, redirect_uri: str) -> dict[str, Any]:
        """The token response of an authorization code (with its PKCE verifier)."""
        d = await self.discovery()
        status, body = await self._json(
            "POST",
            d.token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
            auth=(self.client_id, self._client_secret),
        )
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
            reason = body.get("error", status) if isinstance(body, dict) else status
            raise TokenRejected(f"the identity provider refused the code ({reason})")
        return body

    async def userinfo(self, access_token: str) -> dict[str, Any]:
        d = await self.discovery()
        if not d.userinfo_endpoint:
            return {}
        status, body = await self._json("GET", d.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"})
        return body if status == 200 and isinstance(body, dict) else {}

    async def introspect(self, token: str) -> dict[str, Any]:
        """RFC 7662: the token's claims when the provider says it is active."""
        if self._introspection_client is None:
            raise TokenRejected("opaque tokens are not accepted (no introspection client is configured)")
        d = await self.discovery()
        if not d.introspection_endpoint:
            raise ProviderError("the identity provider has no introspection endpoint")
        status, body = await self._json(
            "POST", d.introspection_endpoint, data={"token": token}, auth=self._introspection_client
        )
        if status != 200 or not isinstance(body, dict):
            raise ProviderError(f"the identity provider's introspection answered {status}")
        if body.get("active") is not True:
            raise TokenRejected("the identity provider says the token is not active")
        if str(body.get("iss", d.issuer)).rstrip("/") != self.issuer:
            raise TokenRejected("the token was issued by another issuer")
        return body

    async def end_session_url(self, post_logout_redirect_uri: str) -> str:
        d = await self.discovery()
        if not d.end_session_endpoint:
            return ""
        params = {"client_id": self.client_id}
        if post_logout_redirect_uri:
            params["post_logout_redirect_uri"] = post_logout_redirect_uri
        sep = "&" if "?" in d.end_session_endpoint else "?"
        return f"{d.end_session_endpoint}{sep}{urlencode(params)}"
