"""Azure OpenAI (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference).

The wire format is OpenAI's; what differs is where and how: deployment-scoped URLs
``{api_base}/openai/deployments/{deployment}/{operation}?api-version=...`` (or the version-less
``/openai/v1/`` API when ``api_version`` is ``v1``/``preview``), and authentication by ``api-key``
header, a Microsoft Entra ID token (``azure_ad_token``) or an Entra client-credentials grant
(``tenant_id``/``client_id``/``client_secret``) whose tokens come from an ``EntraTokenSource``. Azure's
content filter answers 400 with ``code: content_filter`` and an ``innererror``
(``ResponsibleAIPolicyViolation`` and the per-category results), kept in the error details."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import orjson

from switchyard.llm.v1 import chat_pb2, error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_llm.errors import make_error
from switchyard_provider_adapter.domain.errors import ProviderFailure, azure_innererror, provider_error
from switchyard_provider_adapter.domain.providers.base import CallContext
from switchyard_provider_adapter.domain.providers.openai import OpenAIProvider

# The latest GA data-plane inference version
# (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/api-version-lifecycle).
DEFAULT_API_VERSION = "2024-10-21"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_SCOPE = "https://cognitiveservices.azure.com/.default"


class EntraTokenSource(Protocol):
    """Entra ID access tokens of a client-credentials grant (clients/entra.py)."""

    async def token(
        self, ctx: CallContext, *, authority: str, tenant: str, client_id: str, secret: str, scope: str
    ) -> str: ...


class AzureProvider(OpenAIProvider):
    def __init__(self, tokens: EntraTokenSource, name: str = "azure") -> None:
        super().__init__(name)
        self.tokens = tokens

    def api_base(self, ctx: CallContext) -> str:
        if not ctx.deployment.api_base:
            raise ProviderFailure(
                make_error(
                    ErrorKind.ERROR_KIND_BAD_REQUEST,
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

    def responses_url(self, ctx: CallContext) -> str:
        version = str(ctx.params.get("api_version") or DEFAULT_API_VERSION)
        if version in ("v1", "latest", "preview"):
            return self.endpoint(ctx, "responses")
        # The Responses API is not deployment-scoped: the deployment goes as `model` in the body
        # (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/responses).
        base = self.api_base(ctx).removesuffix("/openai")
        return f"{base}/openai/responses?{urlencode({'api-version': version})}"

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
                    ErrorKind.ERROR_KIND_AUTHENTICATION,
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
            err.kind = ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION
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
