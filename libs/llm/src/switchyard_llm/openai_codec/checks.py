"""The checks the JSON parsers make, for requests that arrive as protobuf (the gRPC Gateway API):
everything a provider adapter relies on is well formed."""

from __future__ import annotations

import math
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2, embeddings_pb2
from switchyard_llm.errors import RequestError
from switchyard_llm.event_fields import MAX_ID_CHARS, MAX_MODEL_CHARS, metadata_problem, tags_problem
from switchyard_llm.openai_codec.fields import check_event_text
from switchyard_llm.openai_codec.messages import ROLES

# Messages one chat request may hold (agent transcripts run to a few thousand; far beyond is an
# attempt to make the gateway parse and copy something huge).
MAX_MESSAGES = 10_000


# Token ids are vocabulary indices: non-negative and far below this (the largest vocabularies
# have about a million entries).
MAX_TOKEN_ID = (1 << 31) - 1


def check_event_options(opts: chat_pb2.RequestOptions) -> None:
    """``metadata`` and ``tags`` reach the usage event and the ledger: bounded, and without NUL."""
    if opts.metadata_json and (problem := metadata_problem(opts.metadata_json)):
        raise RequestError(problem, "metadata")
    if opts.tags and (problem := tags_problem(opts.tags)):
        raise RequestError(problem, "tags")


def check_json(raw: bytes, where: str, *, obj: bool = True) -> None:
    if not raw:
        return
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RequestError(f"{where} must be JSON", where) from None
    if obj and not isinstance(value, dict):
        raise RequestError(f"{where} must be a JSON object", where)


def check_finite(msg: Any, fields: tuple[str, ...]) -> None:
    for f in fields:
        if msg.HasField(f) and not math.isfinite(getattr(msg, f)):
            raise RequestError(f"'{f}' must be a finite number", f)


def check_options(opts: chat_pb2.RequestOptions) -> None:
    if opts.HasField("timeout_seconds") and not (math.isfinite(opts.timeout_seconds) and opts.timeout_seconds > 0):
        raise RequestError("'timeout' must be a positive number of seconds", "timeout")
    if opts.HasField("num_retries") and opts.num_retries < 0:
        raise RequestError("'num_retries' must not be negative", "num_retries")
    check_json(opts.metadata_json, "metadata")
    check_event_options(opts)


def check_request_ids(req: chat_pb2.ChatCompletionRequest | embeddings_pb2.EmbeddingRequest) -> None:
    if not req.model:
        raise RequestError("'model' is required", "model")
    check_event_text(req.model, "model", MAX_MODEL_CHARS)
    if req.HasField("user"):
        check_event_text(req.user, "user", MAX_ID_CHARS)


def check_chat_request(req: chat_pb2.ChatCompletionRequest, *, max_messages: int = MAX_MESSAGES) -> None:
    """The checks ``chat_request_from_json`` makes, for a request that arrives as protobuf (the
    gRPC Gateway API): everything a provider adapter relies on is well formed."""
    check_request_ids(req)
    if not req.messages:
        raise RequestError("'messages' must be a non-empty list", "messages")
    if len(req.messages) > max_messages:
        raise RequestError(
            f"'messages' holds {len(req.messages)} messages; at most {max_messages} are accepted", "messages"
        )
    for i, m in enumerate(req.messages):
        where = f"messages[{i}]"
        if m.role not in ROLES:
            raise RequestError(f"{where}.role must be one of {', '.join(sorted(ROLES))}", where)
        check_json(m.extra_json, f"{where}.extra_json")
        for j, part in enumerate(m.parts.parts if m.WhichOneof("content") == "parts" else ()):
            pw = f"{where}.content[{j}]"
            kind = part.WhichOneof("part")
            if kind is None:
                raise RequestError(f"{pw} has no content", where)
            if kind == "image_url" and not part.image_url.url:
                raise RequestError(f"{pw}.image_url.url is required", where)
            if kind == "other_json":
                check_json(part.other_json, pw)
            check_json(part.extra_json, f"{pw}.extra_json")
        for j, tc in enumerate(m.tool_calls):
            check_json(tc.extra_json, f"{where}.tool_calls[{j}].extra_json")
    check_finite(req, ("temperature", "top_p", "presence_penalty", "frequency_penalty"))
    if any(not math.isfinite(v) for v in req.logit_bias.values()):
        raise RequestError("'logit_bias' values must be finite numbers", "logit_bias")
    for i, t in enumerate(req.tools):
        where = f"tools[{i}]"
        if (t.type or "function") == "function" and not t.function.name:
            raise RequestError(f"{where}.function.name is required", where)
        check_json(t.function.parameters_json, f"{where}.function.parameters")
        check_json(t.extra_json, f"{where}.extra_json")
    if req.HasField("tool_choice") and req.tool_choice.WhichOneof("choice") == "other_json":
        check_json(req.tool_choice.other_json, "tool_choice")
    if req.HasField("response_format"):
        rf = req.response_format
        if not rf.type:
            raise RequestError("'response_format' must be an object with a type", "response_format")
        if rf.type == "json_schema":
            if not rf.json_schema.name:
                raise RequestError("'response_format.json_schema.name' is required", "response_format")
            check_json(rf.json_schema.schema_json, "response_format.json_schema.schema")
    check_json(req.stream_options.extra_json, "stream_options")
    check_options(req.options)
    check_json(req.extra_json, "extra_json")


def check_embedding_request(req: embeddings_pb2.EmbeddingRequest) -> None:
    """``embedding_request_from_json``'s checks for a protobuf request."""
    check_request_ids(req)
    which = req.WhichOneof("input")
    rows = req.texts.values if which == "texts" else req.tokens.values if which == "tokens" else ()
    if not rows:
        raise RequestError("'input' must be a non-empty string, list of strings or token arrays", "input")
    if which == "tokens" and any(not 0 <= v <= MAX_TOKEN_ID for row in req.tokens.values for v in row.values):
        raise RequestError(f"'input' token arrays must hold integers from 0 to {MAX_TOKEN_ID}", "input")
    if req.HasField("encoding_format") and req.encoding_format not in ("float", "base64"):
        raise RequestError("'encoding_format' must be float or base64", "encoding_format")
    check_options(req.options)
    check_json(req.extra_json, "extra_json")
