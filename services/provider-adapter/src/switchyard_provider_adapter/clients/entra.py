"""Microsoft Entra ID access tokens for Azure OpenAI deployments that authenticate with a client
secret (``tenant_id``/``client_id``/``client_secret``): the client-credentials grant
(https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow),
sent over the adapter's pooled HTTP client (``CallContext.send``), tokens cached until shortly
before they expire."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping
from urllib.parse import quote, urlencode

import orjson

from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_llm.errors import make_error
from switchyard_provider_adapter.domain.errors import ProviderFailure, error_message_from_body, redact
from switchyard_provider_adapter.domain.providers.base import CallContext, HttpCall

# A token is renewed this long before it expires, so no call goes out with a dying token.
TOKEN_RENEW_MARGIN_S = 300.0
TOKEN_TIMEOUT_S = 10.0


class EntraTokens:
    """Client-credentials tokens, one fetch at a time per client."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, ...], tuple[str, float]] = {}
        self._locks: dict[tuple[str, ...], asyncio.Lock] = {}

    async def token(
        self, ctx: CallContext, *, authority: str, tenant: str, client_id: str, secret: str, scope: str
    ) -> str:
        key = (authority, tenant, client_id, scope, hashlib.sha256(secret.encode()).hexdigest())
        hit = self._tokens.get(key)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            hit = self._tokens.get(key)
            if hit is not None and hit[1] > time.monotonic():
                return hit[0]
            token, lifetime = await self._fetch(
                ctx, authority=authority, tenant=tenant, client_id=client_id, secret=secret, scope=scope
            )
            self._tokens[key] = (token, time.monotonic() + max(0.0, lifetime - TOKEN_RENEW_MARGIN_S))
            return token

    async def _fetch(
        self, ctx: CallContext, *, authority: str, tenant: str, client_id: str, secret: str, scope: str
    ) -> tuple[str, float]:
        if ctx.send is None:
            raise RuntimeError("no HTTP sender for the Entra ID token request")
        url = f"{authority.rstrip('/')}/{quote(tenant, safe='')}/oauth2/v2.0/token"
        form = urlencode(
            {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": scope}
        )
        call = HttpCall(
            "POST",
            url,
            {"content-type": "application/x-www-form-urlencoded", "accept": "application/json"},
            form.encode(),
        )
        status, _, body = await ctx.send(call, TOKEN_TIMEOUT_S)
        if status >= 400:
            raise ProviderFailure(_token_error(status, body, ctx.secrets()))
        try:
            data = orjson.loads(body)
            token = str(data["access_token"])
            lifetime = float(data.get("expires_in") or 3600)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise ProviderFailure(
                make_error(
                    ErrorKind.ERROR_KIND_AUTHENTICATION,
                    "azure: the Entra ID token response is unreadable",
                    provider="azure",
                )
            ) from None
        return token, lifetime


def _token_error(status: int, body: bytes, secrets: list[str]) -> error_pb2.Error:
    """Entra ID answers ``{"error": "invalid_client", "error_description": "AADSTS...: ..."}``."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, Mapping) and isinstance(data.get("error"), str):
        detail = f"{data['error']}: {data.get('error_description') or ''}".strip()
    else:
        detail = error_message_from_body(body)[0] or f"HTTP {status}"
    kind = ErrorKind.ERROR_KIND_AUTHENTICATION if status < 500 else ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE
    return make_error(kind, redact(f"azure: Entra ID token request failed: {detail}", secrets)[:2000], provider="azure")
