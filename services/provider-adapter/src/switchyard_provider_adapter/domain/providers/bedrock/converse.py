"""OpenAI chat requests → Converse request bodies
(https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html; the field
names and unions are those of botocore's ``bedrock-runtime`` service model)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2
from switchyard_llm.anthropic_messages import is_claude
from switchyard_llm.sampling import SamplingTable, max_output_tokens
from switchyard_provider_adapter.domain.allowlists import Allowlists
from switchyard_provider_adapter.domain.providers.base import CallContext
from switchyard_provider_adapter.domain.providers.bedrock.errors import SERVICE
from switchyard_provider_adapter.domain.providers.claude import (
    build_turns,
    supports_native_json_schema,
    thinking,
    tool_use_id,
    tool_uses,
)
from switchyard_provider_adapter.domain.providers.common.content import json_object, parse_data_url
from switchyard_provider_adapter.domain.providers.common.failures import bad_request, unsupported, unsupported_param
from switchyard_provider_adapter.domain.providers.common.params import JSON_TOOL_NAME, check_supported

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
NOT_MODEL_FIELDS = frozenset({"extra_headers", "extra_query"})


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

_SAMPLING = SamplingTable({"temperature": "temperature", "top_p": "topP"})
_CACHE_POINT = {"cachePoint": {"type": "default"}}


def _tool_use_id(raw: str) -> str:
    """Tool-call ids from other providers may hold characters Bedrock's ToolUseId rejects; the
    same id maps to the same value in the toolUse and its toolResult."""
    return _TOOL_USE_ID_BAD.sub("_", raw)[:64] or "tool_call"


def _inline(url: str) -> tuple[str, str] | None:
    """(lower-case media type, base64 data) of a data URL; None for anything else."""
    try:
        data = parse_data_url(url)
    except ValueError:
        return None
    return None if data is None else (data.mime.lower(), data.data)


def _image_block(url: str, where: str, allowlists: Allowlists) -> dict[str, Any]:
    inline = _inline(url)
    if inline is not None:
        mime = inline[0] or "image/png"
        fmt = _IMAGE_FORMATS.get(mime)
        if fmt is None:
            raise bad_request(SERVICE, f"{where}: Bedrock takes png, jpeg, gif or webp images, not {mime}", "messages")
        return {"image": {"format": fmt, "source": {"bytes": inline[1]}}}
    if url.startswith("s3://"):
        allowlists.check_object(url, where, SERVICE)
        ext = url.rsplit(".", 1)[-1].lower()
        fmt = {"jpg": "jpeg"}.get(ext, ext)
        if fmt not in ("png", "jpeg", "gif", "webp"):
            raise bad_request(SERVICE, f"{where}: cannot tell the image format of {url}", "messages")
        return {"image": {"format": fmt, "source": {"s3Location": {"uri": url}}}}
    # Bedrock reads image bytes or S3 objects only; fetching arbitrary URLs from inside the
    # gateway's network on a client's behalf is not done.
    raise bad_request(
        SERVICE, f"{where}: Bedrock needs the image inline (a base64 data: URL) or as an s3:// URI", "messages"
    )


def _document_block(f: chat_pb2.FileContent, where: str, n: int, allowlists: Allowlists) -> dict[str, Any]:
    stem = (f.filename.rsplit(".", 1)[0] if f.HasField("filename") else "") or f"document-{n}"
    name = re.sub(r"\s+", " ", _DOC_NAME_BAD.sub("-", stem)).strip()[:200] or f"document-{n}"
    if f.HasField("file_data"):
        inline = _inline(f.file_data)
        if inline is None:
            raise bad_request(SERVICE, f"{where}: file_data must be a base64 data: URL", "messages")
        mime = inline[0] or "application/pdf"
        if mime in _IMAGE_FORMATS:
            return {"image": {"format": _IMAGE_FORMATS[mime], "source": {"bytes": inline[1]}}}
        fmt = _DOCUMENT_FORMATS.get(mime)
        if fmt is None:
            raise bad_request(SERVICE, f"{where}: Bedrock does not take documents of type {mime}", "messages")
        return {"document": {"format": fmt, "name": name, "source": {"bytes": inline[1]}}}
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
    raise bad_request(SERVICE, f"{where}: a file part needs file_data (a data: URL) or an s3:// file_id", "messages")


def native_json_schema(family: str) -> bool:
    """Whether Converse's structured outputs (``outputConfig.textFormat``, strict tools) serve the
    model: Claude models that have them; other models get the forced-tool fallback, which every
    tool-capable model understands."""
    return is_claude(family) and supports_native_json_schema(family)


def model_family(ctx: CallContext) -> str:
    """The model id, or the deployment's base_model when the id says nothing (ARNs)."""
    mid = str(ctx.params.get("model_id") or ctx.model)
    return (ctx.deployment.pricing.base_model or mid) if mid.startswith("arn:") else mid


def json_mode(ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> str:
    """How a JSON response format is asked for: "native" (outputConfig.textFormat), "tool"
    (the forced json_tool_call) or "" (none asked)."""
    if not req.HasField("response_format") or req.response_format.type in ("", "text"):
        return ""
    rf = req.response_format
    if rf.type == "json_schema" and native_json_schema(model_family(ctx)):
        return "native"
    if rf.type in ("json_schema", "json_object"):
        return "tool"
    raise bad_request(SERVICE, f"response_format type {rf.type!r} is not supported", "response_format")


def chat_body(ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> dict[str, Any]:
    dropped = check_supported(ctx, req, SUPPORTED_PARAMS)
    if req.HasField("n") and req.n != 1 and "n" not in dropped and not ctx.drop_params:
        raise unsupported_param("n", ctx.provider)
    if req.HasField("parallel_tool_calls") and not req.parallel_tool_calls and not ctx.drop_params:
        # Converse has no switch for parallel tool calls.
        raise unsupported_param("parallel_tool_calls", ctx.provider)
    family = model_family(ctx)
    body: dict[str, Any] = {}
    system, messages = build_turns(SERVICE, ctx, req, _BLOCKS)
    body["messages"] = messages
    if system:
        body["system"] = system
    inference: dict[str, Any] = {}
    cap = max_output_tokens(req)
    if cap is not None:
        inference["maxTokens"] = cap
    elif ctx.params.get("max_tokens"):
        inference["maxTokens"] = int(ctx.params["max_tokens"])
    _SAMPLING.apply(req, inference)
    stops = [s for s in req.stop if s]
    if stops:
        inference["stopSequences"] = stops
    fields: dict[str, Any] = {}
    thinks = False
    if req.HasField("reasoning_effort") and req.reasoning_effort != "none":
        if is_claude(family):
            # A cap set by the client or the deployment is kept; without one, maxTokens leaves
            # room for the answer after the thinking budget.
            inference["maxTokens"], fields["thinking"] = thinking(
                SERVICE, req.reasoning_effort, inference.get("maxTokens"), fixed=True
            )
            thinks = True
        elif not ctx.drop_params:
            raise unsupported_param("reasoning_effort", ctx.provider)
    mode = json_mode(ctx, req)
    if mode == "native":
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
    for k, v in json_object(req.extra_json).items():
        if k in NOT_MODEL_FIELDS:
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
    thinks = thinks or (isinstance(fields.get("thinking"), Mapping) and fields["thinking"].get("type") == "enabled")
    _tools(ctx, req, body, mode == "tool", thinks, _history_tools(req))
    # Deployment-level Converse settings (e.g. a guardrail every call of the deployment uses);
    # what the request itself sets wins.
    for key in ("guardrailConfig", "performanceConfig", "requestMetadata", "serviceTier"):
        value = ctx.params.get(key)
        if isinstance(value, Mapping):
            body[key] = dict(value)
    if req.HasField("user"):
        if not _METADATA_VALUE.match(req.user):
            raise bad_request(
                SERVICE,
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


def _history_tools(req: chat_pb2.ChatCompletionRequest) -> list[str]:
    """Names of the tools the conversation's assistant messages called."""
    names: list[str] = []
    for m in req.messages:
        if m.role == "assistant":
            names.extend(tc.function.name for tc in m.tool_calls)
            if m.HasField("function_call"):
                names.append(m.function_call.name)
    return names


def _tools(
    ctx: CallContext,
    req: chat_pb2.ChatCompletionRequest,
    body: dict[str, Any],
    json_tool: bool,
    thinking: bool,
    history_tools: list[str],
) -> None:
    family = model_family(ctx)
    specs: list[dict[str, Any]] = []
    for i, t in enumerate(req.tools):
        if t.type != "function":
            native = json_object(t.extra_json)
            # Tools already in Converse's shape (toolSpec, systemTool, cachePoint) pass through.
            if len(native) == 1 and next(iter(native)) in ("toolSpec", "systemTool", "cachePoint"):
                specs.append(native)
                continue
            if ctx.drop_params:
                continue
            raise unsupported(SERVICE, f"bedrock does not support tools of type {t.type!r} (tools[{i}])", "tools")
        fn = t.function
        spec: dict[str, Any] = {"name": fn.name}
        if fn.HasField("description") and fn.description:
            spec["description"] = fn.description
        schema = orjson.loads(fn.parameters_json) if fn.parameters_json else {"type": "object", "properties": {}}
        spec["inputSchema"] = {"json": schema}
        if fn.HasField("strict") and fn.strict and native_json_schema(family):
            spec["strict"] = True
        specs.append({"toolSpec": spec})
        rest = json_object(t.extra_json)
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


class _Blocks:
    """OpenAI messages as Converse content blocks (the turn dialect of ``build_turns``)."""

    def content(
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
            native = json_object(p.other_json)
            # Blocks already in Converse's shape (cachePoint, document, guardContent, ...) pass through.
            if len(native) == 1 and "type" not in native:
                ctx.allowlists.check_objects(native, where, SERVICE)
                return [native]
            raise bad_request(
                SERVICE, f"{where}: content part type {native.get('type')!r} is not supported", "messages"
            )
        elif text_only:
            raise bad_request(SERVICE, f"{where}: system messages can only hold text", "messages")
        elif which == "image_url":
            block = _image_block(p.image_url.url, where, ctx.allowlists)
        elif which == "file":
            block = _document_block(p.file, where, n, ctx.allowlists)
        elif which == "input_audio":
            if ctx.drop_params:
                return []
            raise unsupported(SERVICE, "bedrock Converse does not take audio input parts", "messages")
        else:
            return []
        if json_object(p.extra_json).get("cache_control"):
            return [block, dict(_CACHE_POINT)]
        return [block]

    def assistant(
        self, ctx: CallContext, m: chat_pb2.ChatMessage, extra: Mapping[str, Any], where: str
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
        blocks.extend(self.content(ctx, m, extra, where))
        blocks.extend(
            {"toolUse": {"toolUseId": _tool_use_id(call_id), "name": name, "input": args}}
            for call_id, name, args in tool_uses(SERVICE, m, where)
        )
        return blocks

    def tool_result(
        self, ctx: CallContext, m: chat_pb2.ChatMessage, extra: Mapping[str, Any], where: str
    ) -> dict[str, Any]:
        call_id = tool_use_id(SERVICE, m, where)
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


_BLOCKS = _Blocks()
