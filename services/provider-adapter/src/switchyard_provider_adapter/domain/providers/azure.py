"""Azure OpenAI (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference).

The wire format is OpenAI's; what differs is where and how: deployment-scoped URLs
``{api_base}/openai/deployments/{deployment}/{operation}?api-version=...`` (or the version-less
``/openai/v1/`` API when ``api_version`` is ``v1``/``preview``), and authentication by ``api-key``
header, a Microsoft Entra ID token (``azure_ad_token``) or an Entra client-credentials grant
(``tenant_id``/``client_id``/``client_secret``) whose tokens are fetched and cached here. Azure's
content filter answers 400 with ``code: content_filter`` and an ``innererror``
(``ResponsibleAIPolicyViolation`` and the per-category results), kept in the error details."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from switchyard.llm.v1 import chat_pb2, error_pb2
from switchyard_common.errors import make_error
from switchyard_provider_adapter.domain.errors import (
    ProviderFailure,
    azure_innererror,
    error_message_from_body,
    provider_error,
    redact,
)
from switchyard_provider_adapter.domain.providers.base import CallContext, HttpCall
from switchyard_provider_adapter.domain.providers.openai import OpenAIProvider, OpenAIStreamDecoder

K = error_pb2.ErrorKind

# The latest GA data-plane inference version
# (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/api-version-lifecycle).
DEFAULT_API_VERSION = "2024-10-21"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_SCOPE = "https://cognitiveservices.azure.com/.default"
# A token is renewed this long before it expires, so no call goes out with a dying token.
TOKEN_RENEW_MARGIN_S = 300.0
TOKEN_TIMEOUT_S = 10.0


class EntraTokens:
    """Client-credentials tokens from Microsoft Entra ID
    (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow),
    cached until shortly before they expire; one fetch at a time per client."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, ...], tuple[str, float]] = {}
        self._locks: dict[tuple[str, ...], asyncio.Lock] = {}
        self.fetches = 0

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
        self.fetches += 1
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
                    K.ERROR_KIND_AUTHENTICATION, "azure: the Entra ID token response is unreadable", provider="azure"
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
    kind = K.ERROR_KIND_AUTHENTICATION if status < 500 else K.ERROR_KIND_SERVICE_UNAVAILABLE
    return make_error(kind, redact(f"azure: Entra ID token request failed: {detail}", secrets)[:2000], provider="azure")


class AzureProvider(OpenAIProvider):
    def __init__(self, name: str = "azure") -> None:
        super().__init__(name)
        self.tokens = EntraTokens()

    def api_base(self, ctx: CallContext) -> str:
        if not ctx.deployment.api_base:
            raise ProviderFailure(
                make_error(
                    K.ERROR_KIND_BAD_REQUEST,
                    f"azure deployment {ctx.deployment.id} needs an api_base (https://<resource>.openai.azure.com)",
                    provider="azure",
                )
            )
        return ctx.deployment.api_base.rstrip("/")

    def endpoint(self, ctx: CallContext, operation: str) -> str:
        version = str(ctx.params.get("api_version") or DEFAULT_API_VERSION)
        base = self.api_base(ctx)
        if base.endswith("/openai"):
            base = base[: -len("/openai")]
        if version in ("v1", "latest", "preview"):
            # The v1 API takes the deployment as `model` in the body and no dated version
            # (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/api-version-lifecycle#api-evolution).
            url = f"{base}/openai/v1/{operation}"
            return url + "?api-version=preview" if version == "preview" else url
        deployment = quote(ctx.model, safe="")
        return f"{base}/openai/deployments/{deployment}/{operation}?{urlencode({'api-version': version})}"

    async def request_headers(self, ctx: CallContext) -> dict[str, str]:
        h = {"content-type": "application/json", "accept": "application/json"}
        creds = ctx.credentials
        key = creds.get("api_key")
        secret = creds.get("client_secret") or creds.get("azure_client_secret")
        tenant = str(ctx.params.get("tenant_id") or ctx.params.get("azure_tenant_id") or "")
        client_id = str(ctx.params.get("client_id") or ctx.params.get("azure_client_id") or "")
        if key:
            h["api-key"] = key
        elif creds.get("azure_ad_token"):
            h["authorization"] = f"Bearer {creds['azure_ad_token']}"
        elif secret and tenant and client_id:
            token = await self.tokens.token(
                ctx,
                authority=str(ctx.params.get("azure_authority_host") or DEFAULT_AUTHORITY),
                tenant=tenant,
                client_id=client_id,
                secret=secret,
                scope=str(ctx.params.get("azure_scope") or DEFAULT_SCOPE),
            )
            h["authorization"] = f"Bearer {token}"
        else:
            raise ProviderFailure(
                make_error(
                    K.ERROR_KIND_AUTHENTICATION,
                    f"azure deployment {ctx.deployment.id} has no credentials: set api_key, azure_ad_token, "
                    "or tenant_id + client_id + client_secret",
                    provider="azure",
                )
            )
        h.update(ctx.extra_headers)
        return h

    def chat_response(
        self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, body: bytes, headers: Mapping[str, str]
    ) -> chat_pb2.ChatCompletion:
        # The answer's `model` is the base model (e.g. gpt-4o-2024-08-06), not the deployment;
        # prices come from model_info.base_model (see PriceBook), so it is passed on as is.
        return super().chat_response(ctx, req, body, headers)

    def stream_decoder(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> OpenAIStreamDecoder:
        return OpenAIStreamDecoder()

    def error(self, ctx: CallContext, status: int, headers: Mapping[str, str], body: bytes) -> error_pb2.Error:
        err = provider_error("azure", status, headers, body, ctx.secrets())
        azure_error = _error_object(body)
        inner = azure_error.get("innererror")
        shown = azure_innererror(inner, ctx.secrets())
        if shown:
            # As LiteLLM surfaces it: error.provider_specific_fields.innererror (its
            # classification fields only).
            err.provider_details_json = orjson.dumps({"innererror": shown})
        inner_code = inner.get("code") if isinstance(inner, Mapping) else None
        if status == 400 and (
            azure_error.get("code") == "content_filter" or inner_code == "ResponsibleAIPolicyViolation"
        ):
            err.kind = K.ERROR_KIND_CONTENT_POLICY_VIOLATION
            err.type = "invalid_request_error"
            err.code = "content_filter"
        return err


def _error_object(body: bytes) -> Mapping[str, Any]:
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    err = data.get("error") if isinstance(data, Mapping) else None
    return err if isinstance(err, Mapping) else {}
