"""Amazon Bedrock runtime and AWS STS as their endpoints speak on the wire.

- ``POST /model/{modelId}/converse`` and ``/converse-stream`` (Converse / ConverseStream JSON;
  the stream is the binary AWS event-stream, ``application/vnd.amazon.eventstream``, with
  ``:event-type``/``:message-type`` headers, CRC32s and the ``p`` padding field Bedrock adds);
- ``POST /model/{modelId}/invoke`` for Amazon Titan text and Cohere embed models, and for Claude
  models with Anthropic's Messages API body (``anthropic_version: bedrock-2023-05-31``), answered
  as ``anthropic_server`` answers it; ``/invoke-with-response-stream`` streams its events, each
  base64 in the ``bytes`` of a ``chunk`` event; ``/count-tokens`` counts an InvokeModel body;
- ``POST /`` for STS ``AssumeRole`` (signed) and ``AssumeRoleWithWebIdentity`` (query API, XML).

Every request's SigV4 signature is verified by recomputing it with botocore from the
credentials the fake knows (a request signed with another secret gets AWS's 403
``InvalidSignatureException``); Bedrock API keys (``Authorization: Bearer``) are checked too.
Request bodies are validated the way Bedrock rejects them (alternating roles, blank text,
tool blocks without ``toolConfig``, ...), errors carry ``x-amzn-ErrorType`` and AWS's JSON body.

Unscripted answers are a plain text reply (streamed on ``/converse-stream``), a tool call when
``toolChoice`` forces one, and deterministic embedding vectors.
``python -m switchyard_fakes.bedrock_server --port 18183``."""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import math
import re
import secrets
import struct
import uuid
import zlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from switchyard_fakes import anthropic_server
from switchyard_fakes.base import STATE, Reply, new_state_app, record, send
from switchyard_fakes.control import add_control_routes

# Credentials the fake accepts unless the app is built with others.
REGION = "us-east-1"
ACCESS_KEY_ID = "AKIAFAKESWITCHYARD01"
SECRET_ACCESS_KEY = "fakeSwitchyardSecret/Key+0123456789abcdef"
API_KEY = "ABSKZmFrZVN3aXRjaHlhcmRCZWRyb2NrQXBpS2V5"
ROLE_ARN = "arn:aws:iam::123456789012:role/switchyard-bedrock"
WEB_IDENTITY_TOKEN = "eyJmYWtlIjoib2lkYy10b2tlbiJ9.switchyard"

REPLY = "Hello from the Switchyard Bedrock fake. This answer went through the whole gateway."
EVENTSTREAM = "application/vnd.amazon.eventstream"
_CORAL = "http://internal.amazon.com/coral/com.amazon.bedrock/"
_CORAL_SERVICE = "http://internal.amazon.com/coral/com.amazon.coral.service/"
_STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
_PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<akid>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=(?P<sig>[0-9a-f]{64})$"
)
_CONVERSE_KEYS = frozenset(
    {
        "messages",
        "system",
        "inferenceConfig",
        "toolConfig",
        "guardrailConfig",
        "additionalModelRequestFields",
        "promptVariables",
        "additionalModelResponseFieldPaths",
        "requestMetadata",
        "performanceConfig",
        "serviceTier",
        "outputConfig",
    }
)
_CONTENT_BLOCKS = frozenset(
    {
        "text",
        "image",
        "document",
        "video",
        "audio",
        "toolUse",
        "toolResult",
        "guardContent",
        "cachePoint",
        "reasoningContent",
        "citationsContent",
        "searchResult",
    }
)
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_TOOL_USE_ID = re.compile(r"^[a-zA-Z0-9_.:-]{1,64}$")


# --- AWS event-stream encoding -----------------------------------------------------------------


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude (total length, headers length, CRC32), headers (name
    length, name, type 7 = string, value length, value), payload, message CRC32
    (https://smithy.io/2.0/aws/amazon-eventstream.html)."""
    head = b""
    for name, value in headers.items():
        n, v = name.encode(), value.encode()
        head += struct.pack("!B", len(n)) + n + b"\x07" + struct.pack("!H", len(v)) + v
    prelude = struct.pack("!II", 12 + len(head) + len(payload) + 4, len(head))
    message = prelude + struct.pack("!I", zlib.crc32(prelude)) + head + payload
    return message + struct.pack("!I", zlib.crc32(message))


def event(event_type: str, payload: Mapping[str, Any]) -> bytes:
    """A ConverseStream event; Bedrock pads every payload with a random-length ``p`` field."""
    body = {**payload, "p": _PADDING[: secrets.randbelow(len(_PADDING)) + 1]}
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return encode_message(headers, orjson.dumps(body))


def exception_event(exception_type: str, message: str) -> bytes:
    """A modelled exception in the stream (e.g. ``throttlingException``)."""
    headers = {":exception-type": exception_type, ":content-type": "application/json", ":message-type": "exception"}
    return encode_message(headers, orjson.dumps({"message": message}))


# --- Converse answers ------------------------------------------------------------------------


def usage(input_tokens: int, output_tokens: int, cache_read: int = 0, cache_write: int = 0) -> dict[str, int]:
    """TokenUsage: ``inputTokens`` excludes cache reads and writes; ``totalTokens`` counts all."""
    u = {
        "inputTokens": input_tokens,
        "outputTokens": output_tokens,
        "totalTokens": input_tokens + output_tokens + cache_read + cache_write,
    }
    if cache_read or cache_write:
        u["cacheReadInputTokens"] = cache_read
        u["cacheWriteInputTokens"] = cache_write
    return u


def converse_body(content: list[dict[str, Any]], stop_reason: str, token_usage: Mapping[str, int]) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason,
        "usage": dict(token_usage),
        "metrics": {"latencyMs": 87},
    }


def _request_id() -> dict[str, str]:
    return {"x-amzn-RequestId": str(uuid.uuid4())}


def reply_json(body: Mapping[str, Any], status: int = 200) -> Reply:
    return Reply(status=status, body=dict(body), headers=_request_id())


def reply_text(text: str, input_tokens: int, output_tokens: int, stop_reason: str = "end_turn") -> Reply:
    return reply_json(converse_body([{"text": text}], stop_reason, usage(input_tokens, output_tokens)))


def reply_tool_uses(calls: Iterable[tuple[str, str, Any]], token_usage: Mapping[str, int] | None = None) -> Reply:
    """calls: (toolUseId, name, input object)."""
    content = [{"toolUse": {"toolUseId": i, "name": n, "input": a}} for i, n, a in calls]
    return reply_json(converse_body(content, "tool_use", token_usage or usage(30, 12)))


def stream_blocks(
    blocks: list[tuple[Any, ...]], stop_reason: str, token_usage: Mapping[str, int], *, exception: str = ""
) -> list[bytes]:
    """ConverseStream frames for content blocks: ("text", [pieces]), ("tool", id, name,
    [input JSON pieces]) or ("reasoning", [pieces], signature). With ``exception`` set, the stream
    breaks off after the first block with that exception (e.g. ``throttlingException``)."""
    frames = [event("messageStart", {"role": "assistant"})]
    for index, block in enumerate(blocks):
        kind = block[0]
        if kind == "tool":
            _, tool_id, name, pieces = block
            frames.append(
                event(
                    "contentBlockStart",
                    {"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": tool_id, "name": name}}},
                )
            )
            frames += [
                event("contentBlockDelta", {"contentBlockIndex": index, "delta": {"toolUse": {"input": p}}})
                for p in pieces
            ]
        elif kind == "reasoning":
            _, pieces, signature = block
            frames += [
                event("contentBlockDelta", {"contentBlockIndex": index, "delta": {"reasoningContent": {"text": p}}})
                for p in pieces
            ]
            frames.append(
                event(
                    "contentBlockDelta",
                    {"contentBlockIndex": index, "delta": {"reasoningContent": {"signature": signature}}},
                )
            )
        else:
            frames += [event("contentBlockDelta", {"contentBlockIndex": index, "delta": {"text": p}}) for p in block[1]]
        frames.append(event("contentBlockStop", {"contentBlockIndex": index}))
        if exception:
            return [*frames, exception_event(exception, f"The stream broke off ({exception}).")]
    frames.append(event("messageStop", {"stopReason": stop_reason}))
    frames.append(event("metadata", {"usage": dict(token_usage), "metrics": {"latencyMs": 87}}))
    return frames


def reply_stream(frames: list[bytes]) -> Reply:
    return Reply(frames=frames, content_type=EVENTSTREAM, headers=_request_id())


def reply_error(status: int, error_type: str, message: str, headers: Mapping[str, str] | None = None) -> Reply:
    """An AWS JSON error: ``x-amzn-ErrorType`` names the exception, the body has ``message``."""
    return Reply(
        status=status,
        body={"message": message},
        headers={"x-amzn-ErrorType": f"{error_type}:{_CORAL}", **_request_id(), **(headers or {})},
    )


def _error(status: int, error_type: str | None, message: str, *, key: str = "message") -> web.Response:
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if error_type:
        headers["x-amzn-ErrorType"] = f"{error_type}:{_CORAL_SERVICE if status == 403 else _CORAL}"
    return web.Response(
        status=status, body=orjson.dumps({key: message}), content_type="application/json", headers=headers
    )


def _validation(message: str) -> web.Response:
    return _error(400, "ValidationException", message)


# --- request validation ----------------------------------------------------------------------


def _check_block(block: Any, where: str) -> str | None:
    if not isinstance(block, dict) or len(block) != 1 or next(iter(block)) not in _CONTENT_BLOCKS:
        return f"{where} must set exactly one of the ContentBlock members"
    (kind, value) = next(iter(block.items()))
    if kind == "text" and (not isinstance(value, str) or not value.strip()):
        return (
            f"The text field in the ContentBlock object at {where} is blank. Add text to the text field, and try again."
        )
    if kind == "image":
        if not isinstance(value, dict) or value.get("format") not in ("png", "jpeg", "gif", "webp"):
            return f"{where}.image.format must be one of png, jpeg, gif, webp"
        source = value.get("source") or {}
        if "bytes" in source:
            try:
                base64.b64decode(source["bytes"], validate=True)
            except (ValueError, TypeError):
                return f"{where}.image.source.bytes is not valid base64"
        elif "s3Location" not in source:
            return f"{where}.image.source must set bytes or s3Location"
    if kind == "toolUse":
        if not isinstance(value, dict) or not _TOOL_USE_ID.match(str(value.get("toolUseId", ""))):
            return f"{where}.toolUse.toolUseId is invalid"
        if not _TOOL_NAME.match(str(value.get("name", ""))) or "input" not in value:
            return f"{where}.toolUse needs a valid name and an input"
    if kind == "toolResult":
        if not isinstance(value, dict) or not _TOOL_USE_ID.match(str(value.get("toolUseId", ""))):
            return f"{where}.toolResult.toolUseId is invalid"
        if not isinstance(value.get("content"), list):
            return f"{where}.toolResult.content must be a list"
    return None


def validate_converse(body: Any) -> str | None:
    """The message Bedrock's ValidationException would carry, or None."""
    if not isinstance(body, dict):
        return "Malformed input request, please reformat your input and try again."
    unknown = sorted(set(body) - _CONVERSE_KEYS)
    if unknown:
        return f"Malformed input request: extraneous key [{unknown[0]}] is not permitted, please reformat your input and try again."
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "A conversation must start with a user message. Try again with a conversation that starts with a user message."
    uses_tools = False
    pending_ids: list[str] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role must be user or assistant"
        if i == 0 and m["role"] != "user":
            return "A conversation must start with a user message. Try again with a conversation that starts with a user message."
        if i > 0 and m["role"] == messages[i - 1].get("role"):
            return (
                "A conversation must alternate between user and assistant roles. Make sure the conversation "
                "alternates between user and assistant roles and try again."
            )
        content = m.get("content")
        if not isinstance(content, list) or not content:
            return f"messages.{i}.content must be a non-empty list"
        results: list[str] = []
        uses: list[str] = []
        for j, block in enumerate(content):
            problem = _check_block(block, f"messages.{i}.content.{j}")
            if problem:
                return problem
            if "toolUse" in block:
                uses.append(block["toolUse"]["toolUseId"])
            if "toolResult" in block:
                results.append(block["toolResult"]["toolUseId"])
        uses_tools = uses_tools or bool(uses or results)
        if m["role"] == "user" and pending_ids and sorted(results) != sorted(pending_ids):
            return (
                f"messages.{i}.content: Expected toolResult blocks at messages.{i}.content for the following Ids: "
                + ", ".join(pending_ids)
            )
        pending_ids = uses
    for j, block in enumerate(body.get("system") or []):
        if (
            not isinstance(block, dict)
            or len(block) != 1
            or next(iter(block)) not in ("text", "guardContent", "cachePoint")
        ):
            return f"system.{j} must set exactly one of text, guardContent, cachePoint"
        if "text" in block and not str(block["text"]).strip():
            return f"The text field in the SystemContentBlock object at system.{j} is blank."
    inference = body.get("inferenceConfig") or {}
    extra = set(inference) - {"maxTokens", "temperature", "topP", "stopSequences"}
    if extra:
        return f"Malformed input request: extraneous key [{sorted(extra)[0]}] in inferenceConfig is not permitted"
    tool_config = body.get("toolConfig")
    if uses_tools and not tool_config:
        return "The toolConfig field must be defined when using toolUse and toolResult content blocks."
    if tool_config is not None:
        tools = tool_config.get("tools")
        if not isinstance(tools, list) or not tools:
            return "toolConfig.tools must be a non-empty list"
        for k, t in enumerate(tools):
            if not isinstance(t, dict) or len(t) != 1 or next(iter(t)) not in ("toolSpec", "systemTool", "cachePoint"):
                return f"toolConfig.tools.{k} must set exactly one of toolSpec, systemTool, cachePoint"
            spec = t.get("toolSpec")
            if spec is not None and (
                not _TOOL_NAME.match(str(spec.get("name", "")))
                or not isinstance((spec.get("inputSchema") or {}).get("json"), dict)
            ):
                return f"toolConfig.tools.{k}.toolSpec needs a valid name and inputSchema.json"
        choice = tool_config.get("toolChoice")
        if choice is not None and (
            not isinstance(choice, dict) or len(choice) != 1 or next(iter(choice)) not in ("auto", "any", "tool")
        ):
            return "toolConfig.toolChoice must set exactly one of auto, any, tool"
    fmt = (body.get("outputConfig") or {}).get("textFormat")
    if fmt is not None:
        schema = ((fmt.get("structure") or {}).get("jsonSchema") or {}).get("schema")
        if fmt.get("type") != "json_schema" or not isinstance(schema, str):
            return "outputConfig.textFormat needs type json_schema and structure.jsonSchema.schema as a string"
        try:
            orjson.loads(schema)
        except orjson.JSONDecodeError:
            return "outputConfig.textFormat.structure.jsonSchema.schema is not valid JSON"
    return None


def _words(text: str) -> int:
    return max(1, len(text.split()))


def _prompt_words(body: Mapping[str, Any]) -> int:
    texts = [str(b.get("text", "")) for b in body.get("system") or [] if isinstance(b, dict)]
    for m in body.get("messages") or []:
        texts += [str(b.get("text", "")) for b in m.get("content") or [] if isinstance(b, dict)]
    return _words(" ".join(texts))


def _example(schema: Any) -> Any:
    """A value matching a (simple) JSON schema, for the default forced-tool answer."""
    if not isinstance(schema, dict):
        return {}
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: _example(v) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_example(schema.get("items"))]
    return {"string": "fake", "integer": 42, "number": 42, "boolean": True}.get(str(kind))


def default_converse(body: Mapping[str, Any], stream: bool) -> Reply:
    prompt = _prompt_words(body)
    tool_config = body.get("toolConfig") or {}
    choice = tool_config.get("toolChoice") or {}
    specs = [t["toolSpec"] for t in tool_config.get("tools") or [] if "toolSpec" in t]
    forced = (
        choice.get("tool", {}).get("name")
        if "tool" in choice
        else (specs[0]["name"] if "any" in choice and specs else None)
    )
    if forced:
        spec: dict[str, Any] = next((s for s in specs if s["name"] == forced), {"inputSchema": {"json": {}}})
        arguments = _example(spec["inputSchema"]["json"])
        if stream:
            return reply_stream(
                stream_blocks(
                    [("tool", "tooluse_fake_1", forced, [orjson.dumps(arguments).decode()])],
                    "tool_use",
                    usage(prompt, 12),
                )
            )
        return reply_tool_uses([("tooluse_fake_1", forced, arguments)], usage(prompt, 12))
    if stream:
        words = REPLY.split(" ")
        pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
        return reply_stream(stream_blocks([("text", pieces)], "end_turn", usage(prompt, _words(REPLY))))
    return reply_text(REPLY, prompt, _words(REPLY))


# --- embeddings --------------------------------------------------------------------------------


def _vector(text: str, dims: int, normalize: bool) -> list[float]:
    seed = hashlib.sha256(text.encode()).digest()
    vec = [math.sin(seed[j % 32] + j) for j in range(dims)]
    if normalize:
        norm = math.sqrt(sum(x * x for x in vec)) or 1.0
        vec = [x / norm for x in vec]
    return [round(x, 6) for x in vec]


# What InvokeModel takes of a Claude Messages API body besides what the Messages API takes.
CLAUDE_VERSION = "bedrock-2023-05-31"


def _claude_problem(body: Mapping[str, Any]) -> str | None:
    if body.get("anthropic_version") != CLAUDE_VERSION:
        return "Malformed input request: #: required key [anthropic_version] not found"
    for key in ("model", "stream"):
        if key in body:
            return f"Malformed input request: #: extraneous key [{key}] is not permitted"
    for key in ("max_tokens", "messages"):
        if key not in body:
            return f"Malformed input request: #: required key [{key}] not found"
    return None


def chunk_event(data: Mapping[str, Any]) -> bytes:
    """One event of a Claude stream: the Messages API event, base64 in ``bytes``."""
    payload = {"bytes": base64.b64encode(orjson.dumps(data)).decode(), "p": _PADDING[: secrets.randbelow(10) + 1]}
    headers = {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}
    return encode_message(headers, orjson.dumps(payload))


def default_claude(model: str, body: dict[str, Any], stream: bool) -> Reply:
    problem = _claude_problem(body)
    if problem:
        return reply_error(400, "ValidationException", problem)
    answer = anthropic_server.default_answer(body, set(), model)
    if not stream:
        return reply_json(answer.message())
    events = [data for _, data in answer.events()]
    events[-1]["amazon-bedrock-invocationMetrics"] = {
        "inputTokenCount": answer.input_tokens,
        "outputTokenCount": answer.output_tokens,
        "invocationLatency": 23,
        "firstByteLatency": 11,
    }
    return reply_stream([chunk_event(e) for e in events])


def default_invoke(model: str, body: Any) -> Reply:
    headers = {**_request_id(), "X-Amzn-Bedrock-Invocation-Latency": "23"}
    if not isinstance(body, dict):
        return reply_error(
            400, "ValidationException", "Malformed input request, please reformat your input and try again."
        )
    if "anthropic.claude" in model:
        return default_claude(model, body, stream=False)
    if "titan-embed" in model:
        text = body.get("inputText")
        if not isinstance(text, str) or not text:
            return reply_error(
                400, "ValidationException", "Malformed input request: #: required key [inputText] not found"
            )
        v2 = "titan-embed-text-v2" in model
        extra = set(body) - ({"inputText", "dimensions", "normalize", "embeddingTypes"} if v2 else {"inputText"})
        if extra:
            return reply_error(
                400,
                "ValidationException",
                f"Malformed input request: #: extraneous key [{sorted(extra)[0]}] is not permitted",
            )
        dims = int(body.get("dimensions", 1024 if v2 else 1536))
        if v2 and dims not in (256, 512, 1024):
            return reply_error(
                400,
                "ValidationException",
                "Malformed input request: #/dimensions: 300 is not a valid enum value".replace("300", str(dims)),
            )
        tokens = _words(text)
        out = {
            "embedding": _vector(text, dims, bool(body.get("normalize", True)) if v2 else False),
            "inputTextTokenCount": tokens,
        }
        return Reply(body=out, headers={**headers, "X-Amzn-Bedrock-Input-Token-Count": str(tokens)})
    if "cohere.embed" in model:
        texts = body.get("texts")
        if not isinstance(texts, list) or not 0 < len(texts) <= 96 or not all(isinstance(t, str) for t in texts):
            return reply_error(400, "ValidationException", "Malformed input request: #/texts: expected 1 to 96 strings")
        if body.get("input_type") not in ("search_document", "search_query", "classification", "clustering"):
            return reply_error(
                400, "ValidationException", "Malformed input request: #: required key [input_type] not found"
            )
        dims = int(body.get("output_dimension", 1024))
        tokens = sum(_words(t) for t in texts)
        out = {
            "embeddings": [_vector(t, dims, False) for t in texts],
            "id": str(uuid.uuid4()),
            "response_type": "embeddings_floats",
            "texts": texts,
        }
        return Reply(body=out, headers={**headers, "X-Amzn-Bedrock-Input-Token-Count": str(tokens)})
    return reply_error(400, "ValidationException", "The provided model identifier is invalid.")


# --- the app -------------------------------------------------------------------------------------


class FakeBedrock:
    """Credentials and temporary sessions the fake accepts; reachable as ``app[BEDROCK]``."""

    def __init__(
        self,
        *,
        region: str = REGION,
        access_keys: Mapping[str, str] | None = None,
        api_keys: Iterable[str] | None = None,
        roles: Iterable[str] | None = None,
        web_identity_tokens: Iterable[str] | None = None,
        session_seconds_cap: int = 43200,
    ) -> None:
        self.region = region
        self.keys = dict(access_keys or {ACCESS_KEY_ID: SECRET_ACCESS_KEY})
        # Access keys issued by STS → the session token they must be sent with.
        self.session_tokens: dict[str, str] = {}
        self.api_keys = set(api_keys or {API_KEY})
        self.roles = set(roles or {ROLE_ARN})
        self.web_identity_tokens = set(web_identity_tokens or {WEB_IDENTITY_TOKEN})
        self.session_seconds_cap = session_seconds_cap
        self.issued: list[str] = []

    # --- authentication ----------------------------------------------------------------
    def authenticate(self, request: web.Request, body: bytes, service: str) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            if service == "bedrock" and auth[len("Bearer ") :] in self.api_keys:
                return None
            # Bedrock's answer to an unknown API key has no error type and a capitalised key.
            return _error(403, None, "Authentication failed: Please make sure your API Key is valid.", key="Message")
        if not auth:
            return _error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        m = _AUTH.match(auth)
        if not m:
            return _error(
                403,
                "IncompleteSignatureException",
                "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
            )
        akid, region, svc, signed = m["akid"], m["region"], m["service"], m["signed"].split(";")
        secret = self.keys.get(akid)
        token = self.session_tokens.get(akid)
        if secret is None or (token is not None and request.headers.get("X-Amz-Security-Token") != token):
            return _error(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
        if svc != service:
            return _error(
                403, "InvalidSignatureException", f"Credential should be scoped to correct service: '{service}'. "
            )
        if region != self.region:
            return _error(403, "InvalidSignatureException", "Credential should be scoped to a valid region. ")
        amz_date = request.headers.get("X-Amz-Date", "")
        try:
            signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return _error(
                403,
                "IncompleteSignatureException",
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            )
        now = datetime.now(UTC)
        if abs((now - signed_at).total_seconds()) > 300:
            earliest = (now - timedelta(minutes=5)).strftime("%Y%m%dT%H%M%SZ")
            return _error(
                403,
                "InvalidSignatureException",
                f"Signature expired: {amz_date} is now earlier than {earliest} ({now:%Y%m%dT%H%M%SZ} - 5 min.)",
            )
        if m["date"] != amz_date[:8]:
            return _error(
                403,
                "InvalidSignatureException",
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.",
            )
        if "host" not in signed:
            return _error(
                403,
                "InvalidSignatureException",
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            )
        headers = {}
        for name in signed:
            values = request.headers.getall(name, [])
            if not values:
                return _error(403, "InvalidSignatureException", f"The signed header {name} is missing.")
            headers[name] = ",".join(values)
        # The canonical request is rebuilt from the path exactly as received, as AWS does.
        aws_request = AWSRequest(
            method=request.method, url=f"http://{request.host}{request.raw_path}", data=body, headers=headers
        )
        aws_request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(akid, secret, token), svc, region)
        canonical = signer.canonical_request(aws_request)
        string_to_sign = signer.string_to_sign(aws_request, canonical)
        if not hmac.compare_digest(signer.signature(string_to_sign, aws_request), m["sig"]):
            return _error(
                403,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. Check your AWS "
                "Secret Access Key and signing method. Consult the service documentation for details.\n\n"
                f"The Canonical String for this request should have been\n'{canonical}'\n\n"
                f"The String-to-Sign should have been\n'{string_to_sign}'\n",
            )
        return None

    # --- STS -----------------------------------------------------------------------------
    async def sts(self, request: web.Request) -> web.StreamResponse:
        rec = await record(request)
        form = dict(parse_qsl(rec.body.decode()))
        action = form.get("Action", "")
        if action == "AssumeRole":
            failure = self.authenticate(request, rec.body, "sts")
            if failure is not None:
                return _sts_error(
                    failure.status,
                    "SignatureDoesNotMatch" if failure.status == 403 else "InvalidRequest",
                    _message(failure),
                )
        elif action == "AssumeRoleWithWebIdentity":
            if form.get("WebIdentityToken") not in self.web_identity_tokens:
                return _sts_error(
                    400, "InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider"
                )
        else:
            return _sts_error(400, "InvalidAction", f"Could not find operation {action} for version 2011-06-15")
        role = form.get("RoleArn", "")
        if role not in self.roles:
            return _sts_error(
                403, "AccessDenied", f"User is not authorized to perform: sts:{action} on resource: {role}"
            )
        if not form.get("RoleSessionName"):
            return _sts_error(400, "ValidationError", "1 validation error detected: Value null at 'roleSessionName'")
        seconds = min(int(form.get("DurationSeconds") or 3600), self.session_seconds_cap)
        akid = "ASIA" + secrets.token_hex(8).upper()
        secret = secrets.token_urlsafe(30)
        token = base64.b64encode(secrets.token_bytes(96)).decode()
        self.keys[akid] = secret
        self.session_tokens[akid] = token
        self.issued.append(akid)
        expires = (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
        xml = (
            f'<{action}Response xmlns="{_STS_NS}"><{action}Result>'
            f"<Credentials><AccessKeyId>{akid}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>"
            f"<SessionToken>{token}</SessionToken><Expiration>{expires}</Expiration></Credentials>"
            f"<AssumedRoleUser><AssumedRoleId>AROAFAKE:{form['RoleSessionName']}</AssumedRoleId>"
            f"<Arn>{role.replace(':role/', ':assumed-role/')}/{form['RoleSessionName']}</Arn></AssumedRoleUser>"
            f"</{action}Result><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            f"</{action}Response>"
        )
        return web.Response(body=xml.encode(), content_type="text/xml")

    # --- Bedrock runtime -------------------------------------------------------------------
    async def converse(self, request: web.Request) -> web.StreamResponse:
        return await self._runtime(request, "converse")

    async def converse_stream(self, request: web.Request) -> web.StreamResponse:
        return await self._runtime(request, "converse-stream")

    async def invoke(self, request: web.Request) -> web.StreamResponse:
        return await self._runtime(request, "invoke")

    async def invoke_stream(self, request: web.Request) -> web.StreamResponse:
        return await self._runtime(request, "invoke-with-response-stream")

    async def count_tokens(self, request: web.Request) -> web.StreamResponse:
        return await self._runtime(request, "count-tokens")

    async def _runtime(self, request: web.Request, action: str) -> web.StreamResponse:
        rec = await record(request)
        failure = self.authenticate(request, rec.body, "bedrock")
        if failure is not None:
            return failure
        model = request.match_info["model_id"]
        try:
            body = orjson.loads(rec.body) if rec.body else None
        except orjson.JSONDecodeError:
            return _error(400, "SerializationException", "Could not parse the request body as JSON.")
        if action == "count-tokens":
            return await send(request, _count_tokens(body))
        if action.startswith("converse"):
            problem = validate_converse(body)
            if problem:
                return _validation(problem)
        reply = request.app[STATE].next_reply(model)
        if reply is None:
            if action == "invoke":
                reply = default_invoke(model, body)
            elif action == "invoke-with-response-stream":
                reply = default_claude(model, body if isinstance(body, dict) else {}, stream=True)
            else:
                reply = default_converse(body or {}, action == "converse-stream")
        return await send(request, reply)


def _count_tokens(body: Any) -> Reply:
    """CountTokens of an InvokeModel body (base64 under ``input.invokeModel.body``)."""
    try:
        inner = orjson.loads(base64.b64decode(body["input"]["invokeModel"]["body"]))
    except (TypeError, KeyError, ValueError):
        return reply_error(400, "ValidationException", "Malformed input request: #/input: invokeModel.body required")
    problem = _claude_problem(inner) if isinstance(inner, dict) else "Malformed input request"
    if problem:
        return reply_error(400, "ValidationException", problem)
    return reply_json({"inputTokens": anthropic_server.count_words(inner)})


def _message(resp: web.Response) -> str:
    data = orjson.loads(resp.body) if isinstance(resp.body, bytes) else {}
    return str(data.get("message") or data.get("Message") or "")


def _sts_error(status: int, code: str, message: str) -> web.Response:
    kind = "Receiver" if status >= 500 else "Sender"
    xml = (
        f'<ErrorResponse xmlns="{_STS_NS}"><Error><Type>{kind}</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return web.Response(status=status, body=xml.encode(), content_type="text/xml")


BEDROCK = web.AppKey("bedrock", FakeBedrock)


def create_app(**options: Any) -> web.Application:
    """The fake; ``options`` are ``FakeBedrock``'s (credentials, region, roles)."""
    fake = FakeBedrock(**options)
    app = new_state_app()
    app[BEDROCK] = fake
    app.router.add_post("/model/{model_id}/converse", fake.converse)
    app.router.add_post("/model/{model_id}/converse-stream", fake.converse_stream)
    app.router.add_post("/model/{model_id}/invoke", fake.invoke)
    app.router.add_post("/model/{model_id}/invoke-with-response-stream", fake.invoke_stream)
    app.router.add_post("/model/{model_id}/count-tokens", fake.count_tokens)
    app.router.add_post("/", fake.sts)
    add_control_routes(app)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18183)
    args = parser.parse_args()
    web.run_app(create_app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
