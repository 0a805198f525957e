"""OpenAI Images (generations) JSON ⇄ protobuf."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchyard.llm.v1 import images_pb2
from switchyard_llm.errors import RequestError
from switchyard_llm.openai_codec.fields import extra_of, integer, merge_extra, model_of, string, user_of
from switchyard_llm.openai_codec.options import GATEWAY_KEYS, options_from_json

_IMAGE_KEYS = frozenset({"model", "prompt", "n", "size", "quality", "response_format", "style", "user"})


def image_request_from_json(body: Any) -> images_pb2.ImageGenerationRequest:
    """Parse and check a client's ``POST /v1/images/generations`` body."""
    if not isinstance(body, Mapping):
        raise RequestError("the request body must be a JSON object")
    model = model_of(body)
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        raise RequestError("'prompt' must be a non-empty string", "prompt")
    req = images_pb2.ImageGenerationRequest(model=model, prompt=prompt)
    if (i := integer(body, "n", bits=32)) is not None:
        if i < 1:
            raise RequestError("'n' must be at least 1", "n")
        req.n = i
    for key in ("size", "quality", "style"):
        if (s := string(body, key)) is not None:
            setattr(req, key, s)
    if (s := user_of(body)) is not None:
        req.user = s
    if (s := string(body, "response_format")) is not None:
        if s not in ("url", "b64_json"):
            raise RequestError("'response_format' must be url or b64_json", "response_format")
        req.response_format = s
    options_from_json(body, req.options)
    req.extra_json = extra_of(body, _IMAGE_KEYS | GATEWAY_KEYS)
    return req


def image_response_to_json(r: images_pb2.ImageGenerationResponse) -> dict[str, Any]:
    data = []
    for img in r.data:
        item: dict[str, Any] = {}
        for key in ("url", "b64_json", "revised_prompt"):
            if img.HasField(key):
                item[key] = getattr(img, key)
        data.append(item)
    out: dict[str, Any] = {"created": r.created, "data": data}
    if r.usage.total_tokens or r.usage.prompt_tokens or r.usage.completion_tokens:
        # The shape of OpenAI's image usage (gpt-image-1).
        out["usage"] = {
            "input_tokens": r.usage.prompt_tokens,
            "output_tokens": r.usage.completion_tokens,
            "total_tokens": r.usage.total_tokens or r.usage.prompt_tokens + r.usage.completion_tokens,
        }
    merge_extra(out, r.extra_json)
    return out
