"""AWS Bedrock: chat through the Converse and ConverseStream APIs, embeddings through InvokeModel.

- Chat: ``POST {runtime}/model/{modelId}/converse`` (``/converse-stream`` streamed), request and
  answer per https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
  (the field names and unions are those of botocore's ``bedrock-runtime`` service model).
- Streams are binary AWS event-stream messages (``application/vnd.amazon.eventstream``),
  split with botocore's ``EventStreamBuffer``; each message's ``:event-type`` names a
  ConverseStreamOutput member and its payload is that member's JSON.
- Every request is signed with SigV4 (``sigv4.sign``) or carries a Bedrock API key; the
  temporary credentials of assumed roles come from a ``RoleSource`` (clients/aws_sts.py).
- Embeddings: Amazon Titan text embeddings and Cohere embed models through InvokeModel.
- Anthropic Messages API requests for Claude models: natively through InvokeModel
  (``/invoke``, ``/invoke-with-response-stream``, ``/count-tokens``; claude_messages.py).

Deployment ``litellm_params``: ``model: bedrock/<model id | inference profile | ARN>``
(``bedrock/converse/...`` too; ``model_id`` overrides the id sent, e.g. provisioned throughput),
``aws_region_name``, ``api_base`` or ``aws_bedrock_runtime_endpoint``; credentials
``aws_access_key_id`` + ``aws_secret_access_key`` (+ ``aws_session_token``), or
``aws_bearer_token_bedrock``, or ``aws_role_name`` (+ ``aws_session_name``,
``aws_session_duration_seconds``, ``aws_sts_endpoint``) assumed with those keys or with
``aws_web_identity_token`` / ``aws_web_identity_token_file`` (EKS IRSA:
``os.environ/AWS_ROLE_ARN`` and ``os.environ/AWS_WEB_IDENTITY_TOKEN_FILE``); Converse settings
applied to every call: ``guardrailConfig``, ``performanceConfig``, ``requestMetadata``,
``serviceTier``, ``additionalModelRequestFields``, and a default ``max_tokens``."""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol
from urllib.parse import quote

import orjson

from switchyard.llm.v1 import chat_pb2, embeddings_pb2, error_pb2, messages_pb2
from switchyard_provider_adapter.domain.errors import ProviderFailure
from switchyard_provider_adapter.domain.providers.base import CallContext, Framing, HttpCall, Provider
from switchyard_provider_adapter.domain.providers.bedrock.answers import parse_completion
from switchyard_provider_adapter.domain.providers.bedrock.converse import SUPPORTED_PARAMS, chat_body, json_mode
from switchyard_provider_adapter.domain.providers.bedrock.embeddings import embed_body, embed_family, parse_embeddings
from switchyard_provider_adapter.domain.providers.bedrock.errors import SERVICE, bedrock_error
from switchyard_provider_adapter.domain.providers.bedrock.sigv4 import AwsCredentials, sign
from switchyard_provider_adapter.domain.providers.bedrock.stream import (
    BedrockMessagesDecoder,
    BedrockStreamDecoder,
    EventStreamFrames,
)
from switchyard_provider_adapter.domain.providers.claude_messages import input_tokens, message_usage, native_body
from switchyard_provider_adapter.domain.providers.common.failures import auth_failure, bad_request

_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
# LiteLLM's default when neither the deployment nor the model ARN names a region.
DEFAULT_REGION = "us-west-2"
# The anthropic_version InvokeModel takes for Claude's Messages API bodies.
BEDROCK_VERSION = "bedrock-2023-05-31"
EVENTSTREAM = "application/vnd.amazon.eventstream"


def sts_endpoint(region: str, override: str | None) -> str:
    return (override or f"https://sts.{region}.amazonaws.com").rstrip("/") + "/"


class RoleSource(Protocol):
    """Temporary credentials of an assumed role (clients/aws_sts.py), fetched with ``send``."""

    async def get(
        self,
        send: Callable[[HttpCall, float], Awaitable[tuple[int, Mapping[str, str], bytes]]],
        *,
        endpoint: str,
        region: str,
        role_arn: str,
        session_name: str,
        duration_s: int,
        base: AwsCredentials | None,
        web_identity_token: str | None,
        web_identity_token_file: str | None = None,
    ) -> AwsCredentials: ...


class BedrockProvider(Provider):
    framing = Framing.AWS_EVENTSTREAM
    supported_params = SUPPORTED_PARAMS

    def __init__(self, roles: RoleSource, name: str = "bedrock") -> None:
        self.name = name
        # Temporary credentials of assumed roles, shared by every deployment of this process.
        self.roles = roles

    # --- where and how ------------------------------------------------------------------
    def model_id(self, ctx: CallContext, *, invoke: bool = False) -> str:
        """The modelId of the URL: a foundation model, an inference profile (``us.anthropic...``)
        or an ARN; ``model_id`` in litellm_params overrides it (provisioned throughput). ``invoke``:
        for InvokeModel (the Messages API natively), which takes ``bedrock/invoke/`` models too."""
        mid = str(ctx.params.get("model_id") or ctx.model)
        if mid.startswith("converse/"):
            mid = mid.removeprefix("converse/")
        if mid.startswith("invoke/") and invoke:
            mid = mid.removeprefix("invoke/")
        if mid.startswith("invoke/"):
            raise bad_request(
                SERVICE,
                "bedrock/invoke/ models use the legacy InvokeModel chat API, which is not supported; "
                "use bedrock/<model> (the Converse API)",
                "model",
            )
        return mid

    def region(self, ctx: CallContext) -> str:
        configured = ctx.params.get("aws_region_name")
        region, source = DEFAULT_REGION, "aws_region_name"
        if configured:
            region = str(configured)
        else:
            mid = str(ctx.params.get("model_id") or ctx.model)
            if mid.startswith("arn:"):
                parts = mid.split(":")
                if len(parts) > 3 and parts[3]:
                    region, source = parts[3], "model"
        # The region becomes part of the host names of the runtime and STS endpoints: anything
        # but a region name could point them (and the credentials they get) at another host.
        if not _REGION.fullmatch(region):
            raise bad_request(SERVICE, f"{source}: the AWS region must look like us-east-1", source)
        return region

    def runtime_base(self, ctx: CallContext, region: str) -> str:
        base = ctx.deployment.api_base or ctx.params.get("aws_bedrock_runtime_endpoint")
        return str(base or f"https://bedrock-runtime.{region}.amazonaws.com").rstrip("/")

    def url(self, ctx: CallContext, region: str, action: str, *, invoke: bool = False) -> str:
        # The model id is one path segment: ':' and '/' (ARNs) are percent-encoded as the AWS
        # SDKs do; sign() then puts the URL in its on-the-wire form before signing it.
        mid = self.model_id(ctx, invoke=invoke)
        return f"{self.runtime_base(ctx, region)}/model/{quote(mid, safe='')}/{action}"

    async def credentials(self, ctx: CallContext, region: str) -> AwsCredentials:
        c = ctx.credentials
        key_id, secret = c.get("aws_access_key_id"), c.get("aws_secret_access_key")
        base = AwsCredentials(key_id, secret, c.get("aws_session_token") or None) if key_id and secret else None
        role = ctx.params.get("aws_role_name")
        if role:
            if ctx.send is None:
                raise auth_failure(SERVICE, "role assumption is not available")
            return await self.roles.get(
                ctx.send,
                endpoint=sts_endpoint(region, ctx.params.get("aws_sts_endpoint")),
                region=region,
                role_arn=str(role),
                session_name=str(ctx.params.get("aws_session_name") or "switchyard"),
                duration_s=int(ctx.params.get("aws_session_duration_seconds") or 3600),
                base=base,
                web_identity_token=c.get("aws_web_identity_token") or None,
                web_identity_token_file=str(ctx.params.get("aws_web_identity_token_file") or "") or None,
            )
        if base is None:
            raise auth_failure(
                SERVICE,
                f"deployment {ctx.deployment.id} has no AWS credentials; set aws_access_key_id and "
                "aws_secret_access_key (optionally aws_session_token), aws_bearer_token_bedrock, or aws_role_name",
            )
        return base

    async def authorize(self, ctx: CallContext, call: HttpCall, region: str) -> HttpCall:
        token = ctx.credentials.get("aws_bearer_token_bedrock")
        if token:
            # Bedrock API keys are bearer tokens; such calls are not signed.
            call.headers["authorization"] = f"Bearer {token}"
            return call
        return sign(call, await self.credentials(ctx, region), region=region, service=SERVICE)

    def frame_decoder(self) -> EventStreamFrames:
        return EventStreamFrames()

    def error(self, ctx: CallContext, status: int, headers: Mapping[str, str], body: bytes) -> error_pb2.Error:
        return bedrock_error(status, headers, body, ctx.secrets())

    # --- chat ---------------------------------------------------------------------------
    async def chat_call(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, stream: bool) -> HttpCall:
        region = self.region(ctx)
        body = chat_body(ctx, req)
        headers = {"content-type": "application/json", **ctx.extra_headers}
        if not stream:
            headers["accept"] = "application/json"
        call = HttpCall(
            "POST", self.url(ctx, region, "converse-stream" if stream else "converse"), headers, orjson.dumps(body)
        )
        return await self.authorize(ctx, call, region)

    def chat_response(
        self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, body: bytes, headers: Mapping[str, str]
    ) -> chat_pb2.ChatCompletion:
        return parse_completion(ctx.model, body, json_mode(ctx, req) == "tool")

    def stream_decoder(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> BedrockStreamDecoder:
        return BedrockStreamDecoder(ctx.model, json_mode(ctx, req) == "tool")

    # --- the Messages API, natively (Claude through InvokeModel) ------------------------
    # https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages.html
    async def messages_call(
        self, ctx: CallContext, native: messages_pb2.AnthropicMessagesRequest, stream: bool
    ) -> HttpCall:
        region = self.region(ctx)
        body = native_body(SERVICE, native, model=None, stream=None, version=BEDROCK_VERSION, betas_in_body=True)
        headers = {"content-type": "application/json", **ctx.extra_headers}
        headers["accept"] = EVENTSTREAM if stream else "application/json"
        action = "invoke-with-response-stream" if stream else "invoke"
        call = HttpCall("POST", self.url(ctx, region, action, invoke=True), headers, body)
        return await self.authorize(ctx, call, region)

    def messages_usage(self, ctx: CallContext, body: bytes) -> chat_pb2.Usage:
        return message_usage(body)

    def messages_decoder(self, ctx: CallContext) -> BedrockMessagesDecoder:
        return BedrockMessagesDecoder(SERVICE)

    async def count_tokens_call(self, ctx: CallContext, native: messages_pb2.AnthropicMessagesRequest) -> HttpCall:
        # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_CountTokens.html: the
        # InvokeModel body (a blob, base64 in JSON) under input.invokeModel; InvokeModel requires
        # max_tokens, which a count_tokens body has not.
        region = self.region(ctx)
        body = native_body(
            SERVICE,
            native,
            model=None,
            stream=None,
            version=BEDROCK_VERSION,
            betas_in_body=True,
            defaults={"max_tokens": 1},
        )
        payload = orjson.dumps({"input": {"invokeModel": {"body": base64.b64encode(body).decode()}}})
        headers = {"content-type": "application/json", "accept": "application/json", **ctx.extra_headers}
        call = HttpCall("POST", self.url(ctx, region, "count-tokens", invoke=True), headers, payload)
        return await self.authorize(ctx, call, region)

    def count_tokens_response(self, ctx: CallContext, body: bytes) -> int:
        return input_tokens(body, "inputTokens")

    # --- embeddings ---------------------------------------------------------------------
    def embedding_inputs_per_call(self, ctx: CallContext) -> int | None:
        # Titan embeds one text per InvokeModel; Cohere takes up to 96.
        try:
            return 1 if embed_family(ctx).startswith("titan") else 96
        except ProviderFailure:
            return None

    async def embed_call(self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest) -> HttpCall:
        region = self.region(ctx)
        body = embed_body(ctx, req)
        headers = {"content-type": "application/json", "accept": "application/json", **ctx.extra_headers}
        call = HttpCall("POST", self.url(ctx, region, "invoke"), headers, orjson.dumps(body))
        return await self.authorize(ctx, call, region)

    def embed_response(
        self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest, body: bytes
    ) -> embeddings_pb2.EmbeddingResponse:
        return parse_embeddings(ctx, req, body)
