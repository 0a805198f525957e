"""The sampling-parameter tables every chat translator shares."""

from __future__ import annotations

import pytest

from switchyard_llm.openai_codec.chat import chat_request_from_json, chat_request_to_json
from switchyard_llm.sampling import MAX_OUTPUT_TOKENS, SamplingTable

NATIVE = SamplingTable({"temperature": "temp", MAX_OUTPUT_TOKENS: "limit", "stop": "stops", "seed": "seed"})


def _req(**body: object) -> object:
    return chat_request_from_json({"model": "m", "messages": [{"role": "user", "content": "hi"}], **body})


def test_only_what_the_request_sets_is_sent_under_the_dialects_names() -> None:
    assert NATIVE.apply(_req(temperature=0, stop=["END"]), {}) == {"temp": 0.0, "stops": ["END"]}
    assert NATIVE.apply(_req(), {}) == {}


def test_the_one_output_cap_is_max_completion_tokens_when_both_are_set() -> None:
    assert NATIVE.apply(_req(max_tokens=10, max_completion_tokens=20), {})["limit"] == 20
    assert NATIVE.apply(_req(max_tokens=10), {})["limit"] == 10


def test_openais_own_names_keep_both_caps() -> None:
    body = chat_request_to_json(_req(max_tokens=10, max_completion_tokens=20, seed=3, top_p=0.5))
    assert (body["max_tokens"], body["max_completion_tokens"], body["seed"], body["top_p"]) == (10, 20, 3, 0.5)


def test_a_table_naming_no_sampling_parameter_is_refused() -> None:
    with pytest.raises(ValueError, match="tools"):
        SamplingTable({"tools": "tools"})
