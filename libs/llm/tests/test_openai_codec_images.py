"""Image generation bodies ⇄ protobuf."""

from __future__ import annotations

import orjson
import pytest

from switchyard.llm.v1 import images_pb2
from switchyard_llm.errors import RequestError
from switchyard_llm.openai_codec.images import image_request_from_json, image_response_to_json


def test_request_fields_options_and_extra_keys() -> None:
    req = image_request_from_json(
        {
            "model": "gpt-image-1",
            "prompt": "a fox",
            "n": 2,
            "size": "1024x1024",
            "quality": "high",
            "response_format": "b64_json",
            "user": "u1",
            "background": "transparent",
            "timeout": 30,
            "tags": ["t"],
        }
    )
    assert (req.model, req.prompt, req.n, req.size, req.quality, req.response_format, req.user) == (
        "gpt-image-1",
        "a fox",
        2,
        "1024x1024",
        "high",
        "b64_json",
        "u1",
    )
    assert not req.HasField("style")
    assert orjson.loads(req.extra_json) == {"background": "transparent"}, "gateway controls are not forwarded"
    assert req.options.timeout_seconds == 30 and list(req.options.tags) == ["t"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"prompt": "x"}, "model"),
        ({"model": "m"}, "prompt"),
        ({"model": "m", "prompt": ""}, "prompt"),
        ({"model": "m", "prompt": "x", "n": 0}, "n"),
        ({"model": "m", "prompt": "x", "n": "2"}, "n"),
        ({"model": "m", "prompt": "x", "response_format": "png"}, "response_format"),
    ],
)
def test_bad_requests_name_the_param(body: dict[str, object], param: str) -> None:
    with pytest.raises(RequestError) as info:
        image_request_from_json(body)
    assert info.value.param == param


def test_response_with_and_without_usage() -> None:
    r = images_pb2.ImageGenerationResponse(created=5, extra_json=orjson.dumps({"output_format": "png"}))
    r.data.add(url="https://x/1.png", revised_prompt="fox")
    assert image_response_to_json(r) == {
        "created": 5,
        "data": [{"url": "https://x/1.png", "revised_prompt": "fox"}],
        "output_format": "png",
    }
    r.usage.prompt_tokens, r.usage.completion_tokens = 7, 1056
    assert image_response_to_json(r)["usage"] == {"input_tokens": 7, "output_tokens": 1056, "total_tokens": 1063}
