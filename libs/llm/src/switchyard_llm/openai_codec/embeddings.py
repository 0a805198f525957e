"""OpenAI Embeddings JSON ⇄ protobuf."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchyard.llm.v1 import embeddings_pb2
from switchyard_llm.errors import RequestError
from switchyard_llm.openai_codec.checks import MAX_TOKEN_ID
from switchyard_llm.openai_codec.fields import extra_of, integer, merge_extra, model_of, string, user_of
from switchyard_llm.openai_codec.options import GATEWAY_KEYS, options_from_json
from switchyard_llm.openai_codec.usage import usage_from_json

_EMBED_KEYS = frozenset({"model", "input", "encoding_format", "dimensions", "user"})


def _token_ids(row: Any) -> Any:
    if not isinstance(row, list) or not all(
        isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= MAX_TOKEN_ID for x in row
    ):
        raise RequestError(f"'input' token arrays must hold integers from 0 to {MAX_TOKEN_ID}", "input")
    return row


def embedding_request_from_json(body: Any) -> embeddings_pb2.EmbeddingRequest:
    if not isinstance(body, Mapping):
        raise RequestError("the request body must be a JSON object")
    model = model_of(body)
    req = embeddings_pb2.EmbeddingRequest(model=model)
    inp = body.get("input")
    if isinstance(inp, str):
        req.texts.values.append(inp)
    elif isinstance(inp, list) and inp and all(isinstance(x, str) for x in inp):
        req.texts.values.extend(inp)
    elif isinstance(inp, list) and inp and all(isinstance(x, int) and not isinstance(x, bool) for x in inp):
        req.tokens.values.add().values.extend(_token_ids(inp))
    elif isinstance(inp, list) and inp and all(isinstance(x, list) for x in inp):
        for row in inp:
            req.tokens.values.add().values.extend(_token_ids(row))
    else:
        raise RequestError("'input' must be a non-empty string, list of strings or token arrays", "input")
    if (s := string(body, "encoding_format")) is not None:
        if s not in ("float", "base64"):
            raise RequestError("'encoding_format' must be float or base64", "encoding_format")
        req.encoding_format = s
    if (i := integer(body, "dimensions", bits=32)) is not None:
        req.dimensions = i
    if (s := user_of(body)) is not None:
        req.user = s
    options_from_json(body, req.options)
    req.extra_json = extra_of(body, _EMBED_KEYS | GATEWAY_KEYS)
    return req


def embedding_input_to_json(req: embeddings_pb2.EmbeddingRequest) -> Any:
    if req.WhichOneof("input") == "tokens":
        return [list(t.values) for t in req.tokens.values]
    return list(req.texts.values)


def embedding_request_to_json(req: embeddings_pb2.EmbeddingRequest, *, model: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"model": model or req.model, "input": embedding_input_to_json(req)}
    if req.HasField("encoding_format"):
        out["encoding_format"] = req.encoding_format
    if req.HasField("dimensions"):
        out["dimensions"] = req.dimensions
    if req.HasField("user"):
        out["user"] = req.user
    merge_extra(out, req.extra_json)
    return out


def embedding_response_from_json(d: Mapping[str, Any]) -> embeddings_pb2.EmbeddingResponse:
    out = embeddings_pb2.EmbeddingResponse(model=str(d.get("model") or ""))
    for i, item in enumerate(d.get("data") or ()):
        e = out.data.add(index=int(item.get("index", i)))
        vec = item.get("embedding")
        if isinstance(vec, str):
            e.base64 = vec
        else:
            e.floats.values.extend(vec or ())
    if isinstance(d.get("usage"), Mapping):
        usage_from_json(d["usage"], out.usage)
    return out


def embedding_response_to_json(r: embeddings_pb2.EmbeddingResponse) -> dict[str, Any]:
    data = []
    for e in r.data:
        vec: Any = e.base64 if e.WhichOneof("vector") == "base64" else list(e.floats.values)
        data.append({"object": "embedding", "index": e.index, "embedding": vec})
    out: dict[str, Any] = {"object": "list", "data": data, "model": r.model}
    out["usage"] = {"prompt_tokens": r.usage.prompt_tokens, "total_tokens": r.usage.total_tokens}
    return out
