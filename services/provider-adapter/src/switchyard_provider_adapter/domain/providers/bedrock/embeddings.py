"""Bedrock embeddings through InvokeModel: Amazon Titan text embeddings and Cohere embed models
(their own request and answer bodies)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import embeddings_pb2
from switchyard_provider_adapter.domain.providers.base import CallContext
from switchyard_provider_adapter.domain.providers.bedrock.converse import NOT_MODEL_FIELDS, model_family
from switchyard_provider_adapter.domain.providers.bedrock.errors import SERVICE
from switchyard_provider_adapter.domain.providers.common.answers import floats_to_base64
from switchyard_provider_adapter.domain.providers.common.content import json_object
from switchyard_provider_adapter.domain.providers.common.failures import bad_request, unsupported_param


def embed_family(ctx: CallContext) -> str:
    family = model_family(ctx)
    if "titan-embed-text-v2" in family:
        return "titan-v2"
    if "titan-embed" in family:
        return "titan-v1"
    if "cohere.embed" in family:
        return "cohere"
    raise bad_request(
        SERVICE, f"embeddings with {family} are not supported; use an Amazon Titan text or Cohere embed model", "model"
    )


def embed_body(ctx: CallContext, req: embeddings_pb2.EmbeddingRequest) -> dict[str, Any]:
    family = embed_family(ctx)
    if req.WhichOneof("input") != "texts":
        raise bad_request(SERVICE, "Bedrock embedding models take text input, not token ids", "input")
    texts = list(req.texts.values)
    extra = json_object(req.extra_json)
    if req.HasField("user") and not ctx.drop_params:
        raise unsupported_param("user", ctx.provider)
    body: dict[str, Any]
    if family.startswith("titan"):
        if len(texts) != 1:
            raise bad_request(
                SERVICE,
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
        if key not in NOT_MODEL_FIELDS and not ctx.drop_params:
            raise unsupported_param(key, ctx.provider)
    return body


def parse_embeddings(
    ctx: CallContext, req: embeddings_pb2.EmbeddingRequest, body: bytes
) -> embeddings_pb2.EmbeddingResponse:
    d = orjson.loads(body)
    tokens: int | None = None
    if embed_family(ctx).startswith("titan"):
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
        # InvokeModel reports the input tokens of models whose answer has no count in a header.
        header = ctx.response_headers.get("x-amzn-bedrock-input-token-count")
        tokens = int(header) if header else 0
    out = embeddings_pb2.EmbeddingResponse(model=ctx.model)
    as_base64 = req.HasField("encoding_format") and req.encoding_format == "base64"
    for i, vec in enumerate(vectors):
        e = out.data.add(index=i)
        if as_base64:
            e.base64 = floats_to_base64(vec)
        else:
            e.floats.values.extend(float(x) for x in vec)
    out.usage.prompt_tokens = tokens
    out.usage.total_tokens = tokens
    return out
