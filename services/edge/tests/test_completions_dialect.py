"""The legacy completions codec: prompts into the chat model and choices back; the budget bound
of a request with several prompts or best_of."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard.llm.v1 import chat_pb2, deployment_pb2
from switchyard_edge.dialects import completions
from switchyard_edge.domain import estimate
from switchyard_llm.errors import RequestError


def _parse(**body: Any) -> chat_pb2.ChatCompletionRequest:
    return completions.parse_request({"model": "m", **body}, max_prompts=10)


def test_each_prompt_is_a_user_message_and_the_rest_travels_beside_it() -> None:
    req = _parse(prompt=["one", "two"], n=2, echo=True, suffix="END", best_of=3, logprobs=2, max_tokens=7, stop="\n")
    assert [(m.role, m.text) for m in req.messages] == [("user", "one"), ("user", "two")]
    tc = req.text_completion
    assert tc.echo and tc.suffix == "END" and tc.best_of == 3 and tc.logprobs == 2
    assert req.n == 2 and req.max_tokens == 7 and list(req.stop) == ["\n"]
    assert not req.HasField("logprobs"), "chat's logprobs flag is not the completions count"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "prompt"),
        ({"prompt": []}, "prompt"),
        ({"prompt": [1, 2, 3]}, "prompt"),
        ({"prompt": "x", "echo": "yes"}, "echo"),
        ({"prompt": "x", "logprobs": 9}, "logprobs"),
        ({"prompt": "x", "best_of": 1, "n": 2}, "best_of"),
        ({"prompt": ["x"] * 11}, "prompt"),
    ],
)
def test_bad_requests_name_their_parameter(body: dict[str, Any], param: str) -> None:
    with pytest.raises(RequestError) as info:
        _parse(**body)
    assert info.value.param == param


def test_the_worst_case_counts_every_prompt_and_best_of() -> None:
    dep = deployment_pb2.Deployment(max_output_tokens=100)
    assert estimate.max_output_tokens(_parse(prompt=["a", "b", "c"], max_tokens=10), dep, 50) == 30
    assert estimate.max_output_tokens(_parse(prompt="a", max_tokens=10, n=2, best_of=5), dep, 50) == 50


def test_choices_and_chunks_in_the_completions_shape() -> None:
    c = chat_pb2.ChatCompletion(id="cmpl-1", created=3, model="m")
    choice = c.choices.add(index=1, finish_reason="length", logprobs_json=b'{"tokens": ["a"]}')
    choice.message.text = "text"
    out = completions.completion_json(c)
    assert out["object"] == "text_completion"
    assert out["choices"] == [{"text": "text", "index": 1, "logprobs": {"tokens": ["a"]}, "finish_reason": "length"}]
    role_only = chat_pb2.ChatCompletionChunk(id="cmpl-1")
    role_only.choices.add(index=0).delta.role = "assistant"
    assert completions.chunk_json(role_only) is None
    piece = chat_pb2.ChatCompletionChunk(id="cmpl-1", model="m")
    piece.choices.add(index=2).delta.content = "hi"
    assert completions.chunk_json(piece)["choices"] == [  # type: ignore[index]
        {"text": "hi", "index": 2, "logprobs": None, "finish_reason": None}
    ]
