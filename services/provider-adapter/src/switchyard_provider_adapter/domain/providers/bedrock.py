"""AWS Bedrock: chat through the Converse and ConverseStream APIs, embeddings through InvokeModel.

- Chat: ``POST {runtime}/model/{modelId}/converse`` (``/converse-stream`` streamed), request and
  answer per https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
  (the field names and unions are those of botocore's ``bedrock-runtime`` service model).
- Streams are binary AWS event-stream messages (``application/vnd.amazon.eventstream``),
  split with botocore's ``EventStreamBuffer``; each message's ``:event-type`` names a
  ConverseStreamOutput member and its payload is that member's JSON.
- Every request is signed with SigV4 (``aws_auth.sign``) or carries a Bedrock API key.
- Embeddings: Amazon Titan text embeddings and Cohere embed models through InvokeModel.

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
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
from botocore.eventstream import EventStreamBuffer, ParserError

from switchyard.llm.v1 import chat_pb2, embeddings_pb2, error_pb2
from switchyard_common.errors import make_error
from switchyard_provider_adapter.domain.allowlists import Allowlists
from switchyard_provider_adapter.domain.errors import (
    ProviderFailure,
    classify,
    redact,
    retry_after_seconds,
    unsupported_param,
)
from switchyard_provider_adapter.domain.providers.aws_auth import (
    AwsCredentials,
    RoleCredentials,
    sign,
    sts_endpoint,
)
from switchyard_provider_adapter.domain.providers.base import (
    JSON_TOOL_NAME,
    THINKING_BUDGETS,
    CallContext,
    Framing,
    HttpCall,
    Provider,
    check_supported,
    completion_id,
    extra_body,
    now,
    thinking_budget,
)

K = error_pb2.ErrorKind

SERVICE = "bedrock"
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
# LiteLLM's default when neither the deployment nor the model ARN names a region.
DEFAULT_REGION = "us-west-2"

SUPPORTED_PARAMS = frozenset(
    {
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "n",
        "user",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "reasoning_effort",
        "service_tier",
        "stream_options",
    }
)

# Top-level Converse members a client may set directly in the request body.
_CONVERSE_PASSTHROUGH = frozenset(
    {
        "guardrailConfig",
        "additionalModelResponseFieldPaths",
        "promptVariables",
        "requestMetadata",
        "performanceConfig",
        "serviceTier",
        "outputConfig",
    }
)
# Keys of a client body that are not model fields.
_NOT_MODEL_FIELDS = frozenset({"extra_headers", "extra_query"})

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
    "malformed_model_output": "stop",
    "malformed_tool_use": "stop",
}

# x-amzn-ErrorType / __type of Bedrock and AWS front-end errors → kind.
_ERROR_TYPES: dict[str, error_pb2.ErrorKind] = {
    "UnrecognizedClientException": K.ERROR_KIND_AUTHENTICATION,
    "InvalidSignatureException": K.ERROR_KIND_AUTHENTICATION,
    "IncompleteSignatureException": K.ERROR_KIND_AUTHENTICATION,
    "MissingAuthenticationTokenException": K.ERROR_KIND_AUTHENTICATION,
    "ExpiredTokenException": K.ERROR_KIND_AUTHENTICATION,
    "InvalidClientTokenId": K.ERROR_KIND_AUTHENTICATION,
    "SignatureDoesNotMatch": K.ERROR_KIND_AUTHENTICATION,
    "AccessDeniedException": K.ERROR_KIND_PERMISSION_DENIED,
    "ResourceNotFoundException": K.ERROR_KIND_NOT_FOUND,
    "ValidationException": K.ERROR_KIND_BAD_REQUEST,
    "SerializationException": K.ERROR_KIND_BAD_REQUEST,
    "ThrottlingException": K.ERROR_KIND_RATE_LIMIT,
    "ServiceQuotaExceededException": K.ERROR_KIND_RATE_LIMIT,
    "TooManyRequestsException": K.ERROR_KIND_RATE_LIMIT,
    "ModelNotReadyException": K.ERROR_KIND_RATE_LIMIT,
    "ModelTimeoutException": K.ERROR_KIND_TIMEOUT,
    "ServiceUnavailableException": K.ERROR_KIND_SERVICE_UNAVAILABLE,
    "InternalServerException": K.ERROR_KIND_INTERNAL_SERVER,
    # The model behind Bedrock failed (HTTP 424); retrying may succeed, like a 500.
    "ModelErrorException": K.ERROR_KIND_INTERNAL_SERVER,
    "ModelStreamErrorException": K.ERROR_KIND_INTERNAL_SERVER,
}
# Kinds whose OpenAI error ``code`` is the Bedrock exception name (others carry the status).
_KINDS_WITH_CODE = frozenset(
    {
        K.ERROR_KIND_RATE_LIMIT,
        K.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED,
        K.ERROR_KIND_CONTENT_POLICY_VIOLATION,
        K.ERROR_KIND_BAD_REQUEST,
    }
)
# Messages of authentication failures that come without a telling error type (API keys).
_AUTH_MESSAGE = re.compile(
    r"security token included in the request is (invalid|expired)|authentication failed|"
    r"api key is (invalid|expired)|signature we calculated does not match",
    re.IGNORECASE,
)

_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^,;]*)*?);base64,(?P<data>.*)$", re.DOTALL)
_IMAGE_FORMATS = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}
_DOCUMENT_FORMATS = {
    "application/pdf": "pdf",
    "text/csv": "csv",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/html": "html",
    "text/plain": "txt",
    "text/markdown": "md",
}
_TOOL_USE_ID_BAD = re.compile(r"[^a-zA-Z0-9_.:-]")
_DOC_NAME_BAD = re.compile(r"[^A-Za-z0-9\-()\[\] ]+")
# requestMetadata values (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html).
_METADATA_VALUE = re.compile(r"^[a-zA-Z0-9\s:_@$#=/+,\-.]{0,256}$")
_CLAUDE_VERSION = re.compile(r"claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d{1,2}))?(?!\d)")


def _bad_request(message: str, param: str = "") -> ProviderFailure:
    return ProviderFailure(make_error(K.ERROR_KIND_BAD_REQUEST, f"bedrock: {message}", param=param, provider=SERVICE))


def _extra(raw: bytes) -> dict[str, Any]:
    return dict(orjson.loads(raw)) if raw else {}


def _tool_use_id(raw: str) -> str:
    """Tool-call ids from other providers may hold characters Bedrock's ToolUseId rejects; the
    same id maps to the same value in the toolUse and its toolResult."""
    return _TOOL_USE_ID_BAD.sub("_", raw)[:64] or "tool_call"


def is_claude(model: str) -> bool:
    return "anthropic.claude" in model or model.startswith("claude")


def supports_native_json_schema(model: str) -> bool:
    """Structured outputs (``outputConfig.textFormat``) work on Claude 4.5 and newer on Bedrock
    (https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html); other models
    get the forced-tool fallback, which every tool-capable model understands."""
    if not is_claude(model):
        return False
    m = _CLAUDE_VERSION.search(model)
    if not m:
        return False
    return (int(m.group(1)), int(m.group(2) or 0)) >= (4, 5)


def finish_reason(stop_reason: Any, json_unwrapped: bool = False) -> str:
    reason = _FINISH.get(str(stop_reason or ""), "stop")
    return "stop" if reason == "tool_calls" and json_unwrapped else reason


def usage_from_bedrock(u: Mapping[str, Any]) -> chat_pb2.Usage:
    """Bedrock's ``inputTokens`` excludes cache reads and writes; OpenAI's ``prompt_tokens``
    includes them, with the cached part in ``prompt_tokens_details``."""
    plain = int(u.get("inputTokens") or 0)
    read = int(u.get("cacheReadInputTokens") or 0)
    write = int(u.get("cacheWriteInputTokens") or 0)
    out = int(u.get("outputTokens") or 0)
    usage = chat_pb2.Usage(
        prompt_tokens=plain + read + write, completion_tokens=out, total_tokens=plain + read + write + out
    )
    usage.prompt_tokens_details.cached_tokens = read
    usage.prompt_tokens_details.cache_creation_tokens = write
    return usage


# --- errors ---------------------------------------------------------------------------------


def error_type(headers: Mapping[str, str], data: Mapping[str, Any] | None) -> str:
    """``x-amzn-ErrorType: ThrottlingException:http://internal.amazon.com/coral/...`` or a body
    ``__type`` such as ``com.amazon.coral.validate#ValidationException``."""
    raw = headers.get("x-amzn-errortype") or headers.get("x-amzn-ErrorType") or ""
    if not raw and data:
        raw = str(data.get("__type") or data.get("code") or data.get("Code") or "")
    raw = raw.split(":", 1)[0]
    return raw.rsplit("#", 1)[-1].strip()


def bedrock_error(
    status: int, headers: Mapping[str, str], body: bytes, secrets: Iterable[str] = (), *, etype: str = ""
) -> error_pb2.Error:
    """A typed error from a Bedrock error answer (or a streamed exception event)."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = None
    data = parsed if isinstance(parsed, Mapping) else None
    etype = etype or error_type(headers, data)
    if data is not None:
        message = str(data.get("message") or data.get("Message") or data.get("originalMessage") or "")
    else:
        message = body.decode("utf-8", "replace").strip()[:2000]
    # AWS appends the canonical request it expected to signature errors; it can hold the
    # session token and helps no client of the gateway.
    message = message.split("\n\nThe Canonical String for this request", 1)[0].strip()
    message = redact(message or f"HTTP {status}", secrets)
    kind = _ERROR_TYPES.get(etype)
    if kind is None:
        kind = classify(status, message)
    # The message decides between a plain bad request and the kinds routers fall back on.
    if kind in (K.ERROR_KIND_BAD_REQUEST, K.ERROR_KIND_INTERNAL_SERVER):
        refined = classify(400, message)
        if refined in (K.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED, K.ERROR_KIND_CONTENT_POLICY_VIOLATION):
            kind = refined
    if _AUTH_MESSAGE.search(message) and kind in (K.ERROR_KIND_PERMISSION_DENIED, K.ERROR_KIND_BAD_REQUEST):
        kind = K.ERROR_KIND_AUTHENTICATION
    code = etype if etype and kind in _KINDS_WITH_CODE else ""
    retry = (
        retry_after_seconds(headers) if kind in (K.ERROR_KIND_RATE_LIMIT, K.ERROR_KIND_SERVICE_UNAVAILABLE) else None
    )
    text = f"bedrock: {etype}: {message}" if etype else f"bedrock: {message}"
    return make_error(kind, text, code=code, retry_after=retry, provider=SERVICE)


# Streamed exception events (``:message-type: exception``) carry the member name of
# ConverseStreamOutput; the HTTP status the same error has as a response.
_STREAM_EXCEPTIONS = {
    "internalServerException": ("InternalServerException", 500),
    "modelStreamErrorException": ("ModelStreamErrorException", 424),
    "validationException": ("ValidationException", 400),
    "throttlingException": ("ThrottlingException", 429),
    "serviceUnavailableException": ("ServiceUnavailableException", 503),
}


# --- event-stream framing ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AwsEvent:
    """One AWS event-stream message: its ``:message-type`` (event, exception or error), its
    ``:event-type`` or ``:exception-type``, the ``:error-code``/``:error-message`` of generic
    errors, and the raw payload."""

    message_type: str
    event_type: str
    payload: bytes
    error_code: str = ""
    error_message: str = ""


class EventStreamFrames:
    """Incremental decoder of ``application/vnd.amazon.eventstream`` bodies (prelude, headers,
    payload, CRC32s; https://smithy.io/2.0/aws/amazon-eventstream.html) on botocore's parser."""

    __slots__ = ("_buffer", "_pending")

    def __init__(self) -> None:
        self._buffer = EventStreamBuffer()
        # Bytes received and not yet consumed by a complete message.
        self._pending = 0

    def feed(self, data: bytes) -> list[AwsEvent]:
        self._buffer.add_data(data)
        self._pending += len(data)
        out: list[AwsEvent] = []
        try:
            for message in self._buffer:
                self._pending -= int(message.prelude.total_length)
                h = message.headers
                message_type = str(h.get(":message-type") or "event")
                out.append(
                    AwsEvent(
                        message_type=message_type,
                        event_type=str(h.get(":exception-type") or h.get(":event-type") or ""),
                        payload=bytes(message.payload),
                        error_code=str(h.get(":error-code") or ""),
                        error_message=str(h.get(":error-message") or ""),
                    )
                )
        except ParserError as exc:
            raise ValueError(f"corrupt AWS event-stream message: {type(exc).__name__}: {exc}") from None
        return out

    def close(self) -> list[AwsEvent]:
        if self._pending:
            raise ValueError(f"the event stream ended inside a message ({self._pending} bytes left)")
        return []


class BedrockStreamDecoder:
    """ConverseStream events → OpenAI chunks, one chunk per event that carries content."""

    __slots__ = (
        "_blocks",
        "_created",
        "_finished",
        "_id",
        "_json_tool",
        "_model",
        "_tool_count",
        "_unwrapped",
        "_usage",
    )

    def __init__(self, model: str, json_tool: bool) -> None:
        self._json_tool = json_tool
        self._id = completion_id()
        self._model = model
        self._created = now()
        self._usage: chat_pb2.Usage | None = None
        self._finished = False
        # contentBlockIndex → ("tool"|"json", tool index); other blocks (text, reasoning) have no start.
        self._blocks: dict[int, tuple[str, int]] = {}
        self._tool_count = 0
        self._unwrapped = False

    @property
    def usage(self) -> chat_pb2.Usage | None:
        return self._usage

    @property
    def finished(self) -> bool:
        return self._finished

    def _chunk(self) -> tuple[chat_pb2.ChatCompletionChunk, chat_pb2.ChunkChoice]:
        c = chat_pb2.ChatCompletionChunk(id=self._id, created=self._created, model=self._model)
        return c, c.choices.add(index=0)

    def feed(self, frame: AwsEvent) -> Iterable[chat_pb2.ChatCompletionChunk]:
        if frame.message_type == "exception":
            name, status = _STREAM_EXCEPTIONS.get(
                frame.event_type, (frame.event_type[:1].upper() + frame.event_type[1:], 500)
            )
            raise ProviderFailure(bedrock_error(status, {}, frame.payload, etype=name))
        if frame.message_type == "error":
            message = frame.error_message or frame.payload.decode("utf-8", "replace")
            body = orjson.dumps({"message": message})
            raise ProviderFailure(bedrock_error(500, {}, body, etype=frame.error_code or "InternalServerException"))
        if frame.message_type != "event":
            return ()
        data = orjson.loads(frame.payload) if frame.payload else {}
        etype = frame.event_type
        if etype == "contentBlockDelta":
            return self._delta(data)
        if etype == "messageStart":
            c, ch = self._chunk()
            ch.delta.role = str(data.get("role") or "assistant")
            ch.delta.content = ""
            return (c,)
        if etype == "contentBlockStart":
            return self._block_start(data)
        if etype == "messageStop":
            c, ch = self._chunk()
            ch.finish_reason = finish_reason(data.get("stopReason"), self._unwrapped and self._tool_count == 0)
            return (c,)
        if etype == "metadata":
            if isinstance(data.get("usage"), Mapping):
                self._usage = usage_from_bedrock(data["usage"])
            self._finished = True
        return ()  # contentBlockStop and event types added later

    def _block_start(self, data: Mapping[str, Any]) -> Iterable[chat_pb2.ChatCompletionChunk]:
        index = int(data.get("contentBlockIndex", 0))
        tool = (data.get("start") or {}).get("toolUse")
        if not isinstance(tool, Mapping):
            return ()
        if self._json_tool and tool.get("name") == JSON_TOOL_NAME:
            self._blocks[index] = ("json", -1)
            self._unwrapped = True
            return ()
        tool_index = self._tool_count
        self._tool_count += 1
        self._blocks[index] = ("tool", tool_index)
        c, ch = self._chunk()
        t = ch.delta.tool_calls.add(index=tool_index, id=str(tool.get("toolUseId") or ""), type="function")
        t.name = str(tool.get("name") or "")
        t.arguments = ""
        return (c,)

    def _delta(self, data: Mapping[str, Any]) -> Iterable[chat_pb2.ChatCompletionChunk]:
        kind, tool_index = self._blocks.get(int(data.get("contentBlockIndex", 0)), ("text", -1))
        delta = data.get("delta") or {}
        c, ch = self._chunk()
        if "text" in delta:
            ch.delta.content = str(delta["text"])
        elif "toolUse" in delta:
            piece = str((delta["toolUse"] or {}).get("input") or "")
            if not piece:
                return ()
            if kind == "json":
                ch.delta.content = piece
            else:
                ch.delta.tool_calls.add(index=max(tool_index, 0)).arguments = piece
        elif "reasoningContent" in delta:
            rc = delta["reasoningContent"] or {}
            if "text" in rc:
                ch.delta.reasoning_content = str(rc["text"])
            elif "signature" in rc:
                ch.delta.extra_json = orjson.dumps(
                    {"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": rc["signature"]}]}
                )
            elif "redactedContent" in rc:
                ch.delta.extra_json = orjson.dumps(
                    {"thinking_blocks": [{"type": "redacted_thinking", "data": rc["redactedContent"]}]}
                )
            else:
                return ()
        elif "citation" in delta:
            ch.delta.extra_json = orjson.dumps({"provider_specific_fields": {"citation": delta["citation"]}})
        else:
            return ()
        return (c,)


# --- request translation ------------------------------------------------------------------------


def _image_block(url: str, where: str, allowlists: Allowlists) -> dict[str, Any]:
    m = _DATA_URL.match(url)
    if m:
        mime = (m.group("mime") or "image/png").lower()
        fmt = _IMAGE_FORMATS.get(mime)
        if fmt is None:
            raise _bad_request(f"{where}: Bedrock takes png, jpeg, gif or webp images, not {mime}", "messages")
        return {"image": {"format": fmt, "source": {"bytes": m.group("data")}}}
    if url.startswith("s3://"):
        allowlists.check_object(url, where, SERVICE)
        ext = url.rsplit(".", 1)[-1].lower()
        fmt = {"jpg": "jpeg"}.get(ext, ext)
        if fmt not in ("png", "jpeg", "gif", "webp"):
            raise _bad_request(f"{where}: cannot tell the image format of {url}", "messages")
        return {"image": {"format": fmt, "source": {"s3Location": {"uri": url}}}}
    # Bedrock reads image bytes or S3 objects only; fetching arbitrary URLs from inside the
    # gateway's network on a client's behalf is not done.
    raise _bad_request(f"{where}: Bedrock needs the image inline (a base64 data: URL) or as an s3:// URI", "messages")


def _document_block(f: chat_pb2.FileContent, where: str, n: int, allowlists: Allowlists) -> dict[str, Any]:
    stem = (f.filename.rsplit(".", 1)[0] if f.HasField("filename") else "") or f"document-{n}"
    name = re.sub(r"\s+", " ", _DOC_NAME_BAD.sub("-", stem)).strip()[:200] or f"document-{n}"
    if f.HasField("file_data"):
        m = _DATA_URL.match(f.file_data)
        if not m:
            raise _bad_request(f"{where}: file_data must be a base64 data: URL", "messages")
        mime = (m.group("mime") or "application/pdf").lower()
        if mime in _IMAGE_FORMATS:
            return {"image": {"format": _IMAGE_FORMATS[mime], "source": {"bytes": m.group("data")}}}
        fmt = _DOCUMENT_FORMATS.get(mime)
        if fmt is None:
            raise _bad_request(f"{where}: Bedrock does not take documents of type {mime}", "messages")
        return {"document": {"format": fmt, "name": name, "source": {"bytes": m.group("data")}}}
    if f.HasField("file_id") and f.file_id.startswith("s3://"):
        allowlists.check_object(f.file_id, where, SERVICE)
        ext = f.file_id.rsplit(".", 1)[-1].lower()
        return {
            "document": {
                "format": ext if ext in _DOCUMENT_FORMATS.values() else "pdf",
                "name": name,
                "source": {"s3Location": {"uri": f.file_id}},
            }
        }
    raise _bad_request(f"{where}: a file part needs file_data (a data: URL) or an s3:// file_id", "messages")


_CACHE_POINT = {"cachePoint": {"type": "default"}}


class BedrockProvider(Provider):
    framing = Framing.AWS_EVENTSTREAM
    supported_params = SUPPORTED_PARAMS

    def __init__(self, name: str = "bedrock") -> None:
        self.name = name
        # Temporary credentials of assumed roles, shared by every deployment of this process.
        self.roles = RoleCredentials()

    # --- where and how ------------------------------------------------------------------
    def model_id(self, ctx: CallContext) -> str:
        """The modelId of the URL: a foundation model, an inference profile (``us.anthropic...``)
        or an ARN; ``model_id`` in litellm_params overrides it (provisioned throughput)."""
        mid = str(ctx.params.get("model_id") or ctx.model)
        if mid.startswith("converse/"):
            mid = mid.removeprefix("converse/")
        if mid.startswith("invoke/"):
            raise _bad_request(
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
            raise _bad_request(f"{source}: the AWS region must look like us-east-1", source)
        return region

    def runtime_base(self, ctx: CallContext, region: str) -> str:
        base = ctx.deployment.api_base or ctx.params.get("aws_bedrock_runtime_endpoint")
        return str(base or f"https://bedrock-runtime.{region}.amazonaws.com").rstrip("/")

    def url(self, ctx: CallContext, region: str, action: str) -> str:
        # The model id is one path segment: ':' and '/' (ARNs) are percent-encoded as the AWS
        # SDKs do; sign() then puts the URL in its on-the-wire form before signing it.
        return f"{self.runtime_base(ctx, region)}/model/{quote(self.model_id(ctx), safe='')}/{action}"

    async def credentials(self, ctx: CallContext, region: str) -> AwsCredentials:
        c = ctx.credentials
        key_id, secret = c.get("aws_access_key_id"), c.get("aws_secret_access_key")
        base = AwsCredentials(key_id, secret, c.get("aws_session_token") or None) if key_id and secret else None
        role = ctx.params.get("aws_role_name")
        if role:
            if ctx.send is None:
                raise ProviderFailure(
                    make_error(
                        K.ERROR_KIND_AUTHENTICATION, "bedrock: role assumption is not available", provider=SERVICE
                    )
                )
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
            raise ProviderFailure(
                make_error(
                    K.ERROR_KIND_AUTHENTICATION,
                    f"bedrock: deployment {ctx.deployment.id} has no AWS credentials; set aws_access_key_id and "
                    "aws_secret_access_key (optionally aws_session_token), aws_bearer_token_bedrock, or aws_role_name",
                    provider=SERVICE,
                )
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
        body = self.chat_body(ctx, req)
        headers = {"content-type": "application/json", **ctx.extra_headers}
        if not stream:
            headers["accept"] = "application/json"
        call = HttpCall(
            "POST", self.url(ctx, region, "converse-stream" if stream else "converse"), headers, orjson.dumps(body)
        )
        return await self.authorize(ctx, call, region)

    def _json_mode(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> str:
        """How a JSON response format is asked for: "native" (outputConfig.textFormat), "tool"
        (the forced json_tool_call) or "" (none asked)."""
        if not req.HasField("response_format") or req.response_format.type in ("", "text"):
            return ""
        rf = req.response_format
        if rf.type == "json_schema" and supports_native_json_schema(self._model_family(ctx)):
            return "native"
        if rf.type in ("json_schema", "json_object"):
            return "tool"
        raise _bad_request(f"response_format type {rf.type!r} is not supported", "response_format")

    def _model_family(self, ctx: CallContext) -> str:
        """The model id, or the deployment's base_model when the id says nothing (ARNs)."""
        mid = str(ctx.params.get("model_id") or ctx.model)
        return (ctx.deployment.pricing.base_model or mid) if mid.startswith("arn:") else mid

    def chat_body(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> dict[str, Any]:
        dropped = check_supported(ctx, req, self.supported_params)
        if req.HasField("n") and req.n != 1 and "n" not in dropped and not ctx.drop_params:
            raise unsupported_param("n", ctx.provider)
        if req.HasField("parallel_tool_calls") and not req.parallel_tool_calls and not ctx.drop_params:
            # Converse has no switch for parallel tool calls.
            raise unsupported_param("parallel_tool_calls", ctx.provider)
        family = self._model_family(ctx)
        body: dict[str, Any] = {}
        system, messages, history_tools = self._messages(ctx, req)
        body["messages"] = messages
        if system:
            body["system"] = system
        inference: dict[str, Any] = {}
        if req.HasField("max_completion_tokens"):
            inference["maxTokens"] = req.max_completion_tokens
        elif req.HasField("max_tokens"):
            inference["maxTokens"] = req.max_tokens
        elif ctx.params.get("max_tokens"):
            inference["maxTokens"] = int(ctx.params["max_tokens"])
        if req.HasField("temperature"):
            inference["temperature"] = req.temperature
        if req.HasField("top_p"):
            inference["topP"] = req.top_p
        stops = [s for s in req.stop if s]
        if stops:
            inference["stopSequences"] = stops
        fields: dict[str, Any] = {}
        thinking = False
        if req.HasField("reasoning_effort") and req.reasoning_effort != "none":
            if is_claude(family):
                budget = THINKING_BUDGETS.get(req.reasoning_effort)
                if budget is None:
                    raise _bad_request(
                        f"reasoning_effort must be one of {', '.join(THINKING_BUDGETS)} or none", "reasoning_effort"
                    )
                # maxTokens must leave room for the answer after the thinking budget.
                if "maxTokens" not in inference:
                    inference["maxTokens"] = max(4096, budget + 1024)
                fields["thinking"] = {
                    "type": "enabled",
                    "budget_tokens": thinking_budget(budget, inference["maxTokens"]),
                }
                thinking = True
            elif not ctx.drop_params:
                raise unsupported_param("reasoning_effort", ctx.provider)
        json_mode = self._json_mode(ctx, req)
        if json_mode == "native":
            rf = req.response_format.json_schema
            js: dict[str, Any] = {
                "schema": rf.schema_json.decode() if rf.schema_json else '{"type": "object"}',
                "name": rf.name or "response",
            }
            if rf.HasField("description"):
                js["description"] = rf.description
            body["outputConfig"] = {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": js}}}
        # Model-specific parameters of the deployment and the request go where Converse takes
        # them (LiteLLM does the same); Converse's own top-level members pass through.
        configured_fields = ctx.params.get("additionalModelRequestFields")
        if isinstance(configured_fields, Mapping):
            fields = {**dict(configured_fields), **fields}
        passthrough: dict[str, Any] = {}
        for k, v in extra_body(req).items():
            if k in _NOT_MODEL_FIELDS:
                continue
            if k in _CONVERSE_PASSTHROUGH:
                passthrough[k] = v
            elif k == "additionalModelRequestFields" and isinstance(v, Mapping):
                fields.update(v)
            elif k == "top_k":
                # Nova takes top-k inside its own inferenceConfig; Anthropic and others as top_k.
                if "amazon.nova" in family:
                    fields.setdefault("inferenceConfig", {})["topK"] = v
                else:
                    fields["top_k"] = v
            else:
                fields[k] = v
        thinking = thinking or (
            isinstance(fields.get("thinking"), Mapping) and fields["thinking"].get("type") == "enabled"
        )
        self._tools(ctx, req, body, json_mode == "tool", thinking, history_tools)
        # Deployment-level Converse settings (e.g. a guardrail every call of the deployment uses);
        # what the request itself sets wins.
        for key in ("guardrailConfig", "performanceConfig", "requestMetadata", "serviceTier"):
            value = ctx.params.get(key)
            if isinstance(value, Mapping):
                body[key] = dict(value)
        if req.HasField("user"):
            if not _METADATA_VALUE.match(req.user):
                raise _bad_request(
                    "user is sent as Bedrock requestMetadata, which allows letters, digits, spaces and :_@$#=/+,-. "
                    "(up to 256 characters)",
                    "user",
                )
            body["requestMetadata"] = {**body.get("requestMetadata", {}), "user": req.user}
        if req.HasField("service_tier") and req.service_tier != "auto":
            if req.service_tier in ("default", "flex", "priority", "reserved"):
                body["serviceTier"] = {"type": req.service_tier}
            elif not ctx.drop_params:
                raise unsupported_param("service_tier", ctx.provider)
        body.update(passthrough)
        if inference:
            body["inferenceConfig"] = inference
        if fields:
            body["additionalModelRequestFields"] = fields
        return body

    def _tools(
        self,
        ctx: CallContext,
        req: chat_pb2.ChatCompletionRequest,
        body: dict[str, Any],
        json_tool: bool,
        thinking: bool,
        history_tools: list[str],
    ) -> None:
        family = self._model_family(ctx)
        specs: list[dict[str, Any]] = []
        for i, t in enumerate(req.tools):
            if t.type != "function":
                native = _extra(t.extra_json)
                # Tools already in Converse's shape (toolSpec, systemTool, cachePoint) pass through.
                if len(native) == 1 and next(iter(native)) in ("toolSpec", "systemTool", "cachePoint"):
                    specs.append(native)
                    continue
                if ctx.drop_params:
                    continue
                raise ProviderFailure(
                    make_error(
                        K.ERROR_KIND_UNSUPPORTED_PARAMS,
                        f"bedrock does not support tools of type {t.type!r} (tools[{i}])",
                        param="tools",
                        provider=SERVICE,
                    )
                )
            fn = t.function
            spec: dict[str, Any] = {"name": fn.name}
            if fn.HasField("description") and fn.description:
                spec["description"] = fn.description
            schema = orjson.loads(fn.parameters_json) if fn.parameters_json else {"type": "object", "properties": {}}
            spec["inputSchema"] = {"json": schema}
            if fn.HasField("strict") and fn.strict and supports_native_json_schema(family):
                spec["strict"] = True
            specs.append({"toolSpec": spec})
            rest = _extra(t.extra_json)
            if "cache_control" in rest or "cache_control" in rest.get("__function_extra__", {}):
                specs.append(dict(_CACHE_POINT))
        if json_tool:
            rf = req.response_format
            schema = (
                orjson.loads(rf.json_schema.schema_json)
                if rf.type == "json_schema" and rf.json_schema.schema_json
                else {"type": "object"}
            )
            description = (
                rf.json_schema.description
                if rf.json_schema.HasField("description") and rf.json_schema.description
                else "Respond with a JSON object that matches this schema."
            )
            specs.append(
                {"toolSpec": {"name": JSON_TOOL_NAME, "description": description, "inputSchema": {"json": schema}}}
            )
        choice: dict[str, Any] | None = None
        if json_tool:
            # Claude rejects a forced tool while thinking; it still answers through the tool.
            choice = {"auto": {}} if thinking else {"tool": {"name": JSON_TOOL_NAME}}
        elif req.HasField("tool_choice"):
            which = req.tool_choice.WhichOneof("choice")
            if which == "mode":
                mode = req.tool_choice.mode
                if mode == "none":
                    if history_tools and not ctx.drop_params:
                        # Converse needs toolConfig when the history holds tool calls and has no
                        # "none" choice, so the model could still call a tool.
                        raise unsupported_param("tool_choice", ctx.provider)
                    if not history_tools:
                        return
                elif mode == "required":
                    choice = {"any": {}}
                else:
                    choice = {"auto": {}}
            elif which == "function_name":
                choice = {"tool": {"name": req.tool_choice.function_name}}
            elif which == "other_json":
                other = orjson.loads(req.tool_choice.other_json)
                if isinstance(other, dict) and len(other) == 1 and next(iter(other)) in ("auto", "any", "tool"):
                    choice = other
                elif not ctx.drop_params:
                    raise unsupported_param("tool_choice", ctx.provider)
        if not specs and history_tools:
            # A history with tool calls needs toolConfig; declare the tools it used.
            specs = [
                {"toolSpec": {"name": n, "inputSchema": {"json": {"type": "object", "properties": {}}}}}
                for n in dict.fromkeys(history_tools)
            ]
        if not specs:
            return
        config: dict[str, Any] = {"tools": specs}
        if choice is not None:
            config["toolChoice"] = choice
        body["toolConfig"] = config

    def _messages(
        self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
        system: list[dict[str, Any]] = []
        out: list[dict[str, Any]] = []
        history_tools: list[str] = []

        def add(role: str, blocks: list[dict[str, Any]]) -> None:
            # Converse needs alternating roles: consecutive turns of one role are merged (tool
            # results and a following user message form one user turn).
            if not blocks:
                return
            if out and out[-1]["role"] == role:
                out[-1]["content"].extend(blocks)
            else:
                out.append({"role": role, "content": blocks})

        for i, m in enumerate(req.messages):
            where = f"messages[{i}]"
            extra = _extra(m.extra_json)
            if m.role in ("system", "developer"):
                system.extend(self._content(ctx, m, extra, where, text_only=True))
            elif m.role == "user":
                add("user", self._content(ctx, m, extra, where))
            elif m.role == "assistant":
                add("assistant", self._assistant(ctx, m, extra, where, history_tools))
            elif m.role in ("tool", "function"):
                add("user", [self._tool_result(ctx, m, extra, where)])
            else:
                raise _bad_request(f"{where}: unknown role {m.role!r}", "messages")
        if not out:
            raise _bad_request("at least one user message is required", "messages")
        return system, out, history_tools

    def _content(
        self, ctx: CallContext, m: chat_pb2.ChatMessage, extra: Mapping[str, Any], where: str, text_only: bool = False
    ) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        which = m.WhichOneof("content")
        if which == "text":
            if m.text.strip():
                blocks.append({"text": m.text})
        elif which == "parts":
            for j, p in enumerate(m.parts.parts):
                blocks.extend(self._part(ctx, p, f"{where}.content[{j}]", text_only, j))
        # LiteLLM's message-level cache_control marks the end of the message.
        if extra.get("cache_control") and blocks:
            blocks.append(dict(_CACHE_POINT))
        return blocks

    def _part(
        self, ctx: CallContext, p: chat_pb2.ContentPart, where: str, text_only: bool, n: int
    ) -> list[dict[str, Any]]:
        which = p.WhichOneof("part")
        block: dict[str, Any]
        if which == "text":
            if not p.text.strip():
                return []
            block = {"text": p.text}
        elif which == "other_json":
            native = _extra(p.other_json)
            # Blocks already in Converse's shape (cachePoint, document, guardContent, ...) pass through.
            if len(native) == 1 and "type" not in native:
                ctx.allowlists.check_objects(native, where, SERVICE)
                return [native]
            raise _bad_request(f"{where}: content part type {native.get('type')!r} is not supported", "messages")
        elif text_only:
            raise _bad_request(f"{where}: system messages can only hold text", "messages")
        elif which == "image_url":
            block = _image_block(p.image_url.url, where, ctx.allowlists)
        elif which == "file":
            block = _document_block(p.file, where, n, ctx.allowlists)
        elif which == "input_audio":
            if ctx.drop_params:
                return []
            raise ProviderFailure(
                make_error(
                    K.ERROR_KIND_UNSUPPORTED_PARAMS,
                    "bedrock Converse does not take audio input parts",
                    param="messages",
                    provider=SERVICE,
                )
            )
        else:
            return []
        if _extra(p.extra_json).get("cache_control"):
            return [block, dict(_CACHE_POINT)]
        return [block]

    def _assistant(
        self,
        ctx: CallContext,
        m: chat_pb2.ChatMessage,
        extra: Mapping[str, Any],
        where: str,
        history_tools: list[str],
    ) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        # Reasoning goes back first and unchanged (with its signature) when a thinking turn
        # continues with tool results.
        for tb in extra.get("thinking_blocks") or ():
            if not isinstance(tb, Mapping):
                continue
            if tb.get("type") == "thinking" and tb.get("thinking"):
                text_block: dict[str, Any] = {"text": tb["thinking"]}
                if tb.get("signature"):
                    text_block["signature"] = tb["signature"]
                blocks.append({"reasoningContent": {"reasoningText": text_block}})
            elif tb.get("type") == "redacted_thinking" and tb.get("data"):
                blocks.append({"reasoningContent": {"redactedContent": tb["data"]}})
        blocks.extend(self._content(ctx, m, extra, where))
        calls = [
            (tc.id, tc.function.name, tc.function.arguments, f"{where}.tool_calls[{j}]")
            for j, tc in enumerate(m.tool_calls)
        ]
        if m.HasField("function_call"):
            fc = m.function_call
            calls.append((f"call_{fc.name}", fc.name, fc.arguments, f"{where}.function_call"))
        for call_id, name, arguments, at in calls:
            try:
                args = orjson.loads(arguments) if arguments.strip() else {}
            except orjson.JSONDecodeError:
                raise _bad_request(f"{at}.function.arguments is not valid JSON", "messages") from None
            if not isinstance(args, dict):
                raise _bad_request(f"{at}.function.arguments must be a JSON object", "messages")
            history_tools.append(name)
            blocks.append({"toolUse": {"toolUseId": _tool_use_id(call_id), "name": name, "input": args}})
        return blocks

    def _tool_result(
        self, ctx: CallContext, m: chat_pb2.ChatMessage, extra: Mapping[str, Any], where: str
    ) -> dict[str, Any]:
        call_id = m.tool_call_id if m.role == "tool" else f"call_{m.name}"
        if not call_id:
            raise _bad_request(f"{where}.tool_call_id is required", "messages")
        content: list[dict[str, Any]] = []
        which = m.WhichOneof("content")
        if which == "text":
            if m.text.strip():
                content.append({"text": m.text})
        elif which == "parts":
            for j, p in enumerate(m.parts.parts):
                content.extend(
                    b for b in self._part(ctx, p, f"{where}.content[{j}]", False, j) if "cachePoint" not in b
                )
        result: dict[str, Any] = {"toolUseId": _tool_use_id(call_id), "content": content}
        if extra.get("is_error"):
            result["status"] = "error"
        return {"toolResult": result}

    # --- answers ------------------------------------------------------------------------
    def chat_response(
        self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, body: bytes, headers: Mapping[str, str]
    ) -> chat_pb2.ChatCompletion:
        d = orjson.loads(body)
        json_tool = self._json_mode(ctx, req) == "tool"
        out = chat_pb2.ChatCompletion(id=completion_id(), created=now(), model=ctx.model)
        choice = out.choices.add(index=0)
        msg = choice.message
        msg.role = "assistant"
        message = (d.get("output") or {}).get("message") or {}
        texts: list[str] = []
        json_texts: list[str] = []
        reasoning: list[str] = []
        thinking_blocks: list[dict[str, Any]] = []
        citations: list[Any] = []
        for block in message.get("content") or ():
            if not isinstance(block, Mapping):
                continue
            if "text" in block:
                texts.append(str(block["text"]))
            elif "toolUse" in block:
                tu = block["toolUse"] or {}
                if json_tool and tu.get("name") == JSON_TOOL_NAME:
                    json_texts.append(orjson.dumps(tu.get("input") if tu.get("input") is not None else {}).decode())
                    continue
                tc = msg.tool_calls.add(id=str(tu.get("toolUseId") or ""), type="function")
                tc.function.name = str(tu.get("name") or "")
                tc.function.arguments = orjson.dumps(tu.get("input") if tu.get("input") is not None else {}).decode()
            elif "reasoningContent" in block:
                rc = block["reasoningContent"] or {}
                if isinstance(rc.get("reasoningText"), Mapping):
                    rt = rc["reasoningText"]
                    reasoning.append(str(rt.get("text") or ""))
                    thinking_blocks.append(
                        {"type": "thinking", "thinking": rt.get("text") or "", "signature": rt.get("signature")}
                    )
                elif rc.get("redactedContent"):
                    thinking_blocks.append({"type": "redacted_thinking", "data": rc["redactedContent"]})
            elif "citationsContent" in block:
                cc = block["citationsContent"] or {}
                texts.extend(str(c.get("text") or "") for c in cc.get("content") or () if isinstance(c, Mapping))
                citations.extend(cc.get("citations") or ())
        # The unwrapped JSON is the answer; text the model wrote around the tool call is not.
        final = json_texts or texts
        if final or not msg.tool_calls:
            msg.text = "".join(final)
        if reasoning:
            msg.reasoning_content = "".join(reasoning)
        extra: dict[str, Any] = {}
        if thinking_blocks:
            extra["thinking_blocks"] = thinking_blocks
        if citations:
            extra["provider_specific_fields"] = {"citations": citations}
        if extra:
            msg.extra_json = orjson.dumps(extra)
        choice.finish_reason = finish_reason(d.get("stopReason"), bool(json_texts) and not msg.tool_calls)
        if isinstance(d.get("usage"), Mapping):
            out.usage.CopyFrom(usage_from_bedrock(d["usage"]))
        if d.get("trace"):
            # Guardrail assessments (guardrailConfig.trace = enabled) reach the client.
            out.extra_json = orjson.dumps({"trace": d["trace"]})
        return out

    def stream_decoder(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> BedrockStreamDecoder:
        return BedrockStreamDecoder(ctx.model, self._json_mode(ctx, req) == "tool")

    # --- embeddings ---------------------------------------------------------------------
    def _embed_family(self, ctx: CallContext) -> str:
        family = self._model_family(ctx)
        if "titan-embed-text-v2" in family:
            return "titan-v2"
        if "titan-embed" in family:
            return "titan-v1"
        if "cohere.embed" in family:
            return "cohere"
        raise _bad_request(
            f"embeddings with {family} are not supported; use an Amazon Titan text or Cohere embed model", "model"
        )

    def embedding_inputs_per_call(self, ctx: CallContext) -> int | None:
        # Titan embeds one text per InvokeModel; Cohere takes up to 96.
        try:
            return 1 if self._embed_family(ctx).startswith("titan") else 96
        except ProviderFailure:
            return None

    async def embed_call(self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest) -> HttpCall:
        region = self.region(ctx)
        family = self._embed_family(ctx)
        if req.WhichOneof("input") != "texts":
            raise _bad_request("Bedrock embedding models take text input, not token ids", "input")
        texts = list(req.texts.values)
        extra = _extra(req.extra_json)
        if req.HasField("user") and not ctx.drop_params:
            raise unsupported_param("user", ctx.provider)
        body: dict[str, Any]
        if family.startswith("titan"):
            if len(texts) != 1:
                raise _bad_request(
                    f"Amazon Titan embeddings take one input per request ({len(texts)} given); send one string",
                    "input",
                )
            body = {"inputText": texts[0]}
            if family == "titan-v2":
                if req.HasField("dimensions"):
                    body["dimensions"] = req.dimensions
                if "normalize" in extra:
                    body["normalize"] = bool(extra.pop("normalize"))
            elif req.HasField("dimensions") and not ctx.drop_params:
                raise unsupported_param("dimensions", ctx.provider)
        else:
            body = {"texts": texts, "input_type": str(extra.pop("input_type", "search_document"))}
            if "truncate" in extra:
                body["truncate"] = extra.pop("truncate")
            if req.HasField("dimensions"):
                # Only Cohere Embed v4 has a variable output size.
                body["output_dimension"] = req.dimensions
        for key in extra:
            if key not in _NOT_MODEL_FIELDS and not ctx.drop_params:
                raise unsupported_param(key, ctx.provider)
        headers = {"content-type": "application/json", "accept": "application/json", **ctx.extra_headers}
        call = HttpCall("POST", self.url(ctx, region, "invoke"), headers, orjson.dumps(body))
        return await self.authorize(ctx, call, region)

    def embed_response(
        self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest, body: bytes
    ) -> embeddings_pb2.EmbeddingResponse:
        d = orjson.loads(body)
        family = self._embed_family(ctx)
        tokens: int | None = None
        if family.startswith("titan"):
            vectors: Any = [d["embedding"]]
            if d.get("inputTextTokenCount") is not None:
                tokens = int(d["inputTextTokenCount"])
        else:
            # embeddings_floats: a list of vectors; embeddings_by_type: {"float": [...], ...}.
            emb = d["embeddings"]
            vectors = emb.get("float") if isinstance(emb, Mapping) else emb
            if not isinstance(vectors, list):
                raise ValueError("the Cohere answer has no float embeddings")
        if tokens is None:
            header = ctx.response_headers.get("x-amzn-bedrock-input-token-count")
            tokens = int(header) if header else 0
        out = embeddings_pb2.EmbeddingResponse(model=ctx.model)
        as_base64 = req.HasField("encoding_format") and req.encoding_format == "base64"
        for i, vec in enumerate(vectors):
            e = out.data.add(index=i)
            if as_base64:
                # OpenAI's base64 encoding: little-endian float32.
                e.base64 = base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode()
            else:
                e.floats.values.extend(float(x) for x in vec)
        out.usage.prompt_tokens = tokens
        out.usage.total_tokens = tokens
        return out
