"""The OpenAI Responses API (/v1/responses) with the official SDK, through the whole stack: to an
OpenAI-compatible deployment that serves the Responses API itself (`fake-chat`, natively) and to an
Anthropic deployment (`anthropic-chat`, translated); stored responses continued on any replica,
read, listed and deleted; budgets, errors and usage rows as for chat."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import openai
import pytest
from pydantic import BaseModel

from devstack import infra, stack
from e2e.router_stack import replica_sets, url
from e2e.support import MASTER_KEY, wait_for_spend
from switchyard_fakes import anthropic_server
from switchyard_fakes.anthropic_server import REPLY as ANTHROPIC_REPLY
from switchyard_fakes.openai_server import REPLY

NATIVE, TRANSLATED = "fake-chat", "anthropic-chat"
PRICES = {NATIVE: (Decimal("0.000001"), Decimal("0.000002")), TRANSLATED: (Decimal("0.000003"), Decimal("0.000015"))}
ANSWERS = {NATIVE: REPLY, TRANSLATED: ANTHROPIC_REPLY}
BOTH = pytest.mark.parametrize("model", [NATIVE, TRANSLATED])
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@pytest.fixture(scope="module")
def anthropic_fake(stack_cfg: stack.StackConfig) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{stack_cfg.fake_port + 1}", timeout=10) as c:
        yield c


def _sdk(base: str, key: str = MASTER_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0, timeout=30)


@pytest.fixture(scope="module")
def other_edge(stack_cfg: stack.StackConfig) -> Iterator[openai.OpenAI]:
    """A second edge replica beside the session's stack (same database, same peers)."""
    with replica_sets(stack_cfg, [(4, ["edge"])]) as (cfg,):
        yield _sdk(url(cfg))


def _upstream(fake: httpx.Client, path: str, marker: str) -> dict[str, Any]:
    """The last request the fake OpenAI server got at ``path`` holding ``marker``."""
    body: dict[str, Any] = next(
        e["body"] for e in reversed(fake.get("/__log").json()) if e["path"] == path and marker in json.dumps(e["body"])
    )
    return body


def _anthropic(anthropic_fake: httpx.Client, marker: str) -> dict[str, Any]:
    body: dict[str, Any] = next(
        e["body"] for e in reversed(anthropic_fake.get("/__log").json()) if marker in json.dumps(e["body"])
    )
    return body


def _script_anthropic(anthropic_fake: httpx.Client, *replies: dict[str, Any]) -> None:
    anthropic_fake.post("/__script", json={"model": "*", "replies": list(replies)}).raise_for_status()


def _cost(model: str, usage: Any) -> Decimal:
    inp, out = PRICES[model]
    return inp * usage.input_tokens + out * usage.output_tokens


# --- creating responses ----------------------------------------------------------------------------


@BOTH
def test_a_response_is_answered_billed_and_recorded_as_a_responses_call(
    client: openai.OpenAI, http: httpx.Client, fake: httpx.Client, anthropic_fake: httpx.Client, model: str
) -> None:
    marker = uuid.uuid4().hex
    raw = client.responses.with_raw_response.create(
        model=model, input=f"Say hello {marker}", instructions="Be brief.", metadata={"topic": "greeting"}
    )
    r = raw.parse()
    assert r.id.startswith("resp_") and r.status == "completed" and r.output_text == ANSWERS[model]
    assert r.metadata == {"topic": "greeting"} and r.instructions == "Be brief." and r.store is True
    assert r.usage is not None and r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    cost = Decimal(raw.headers["x-litellm-response-cost"])
    assert cost == _cost(model, r.usage)
    if model == NATIVE:
        sent = _upstream(fake, "/v1/responses", marker)
        assert sent["store"] is False and sent["instructions"] == "Be brief." and sent["model"] == "fake-chat"
        assert sent["input"] == [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": f"Say hello {marker}"}],
            }
        ]
    else:
        sent = _anthropic(anthropic_fake, marker)
        assert sent["system"] == "Be brief." or sent["system"][0]["text"] == "Be brief."
    [row] = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert row["call_type"] == "responses" and row["status"] == "success"
    assert Decimal(str(row["spend"])) == cost and row["model_group"] == model


@BOTH
def test_a_streamed_response_is_the_full_event_sequence(client: openai.OpenAI, http: httpx.Client, model: str) -> None:
    raw = client.responses.with_raw_response.create(model=model, input="Stream please", stream=True)
    events = list(raw.parse())
    kinds = [e.type for e in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert kinds.count("response.output_text.delta") > 1, "streamed piece by piece"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    final = events[-1].response
    assert final.output_text == ANSWERS[model] and final.usage is not None
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == ANSWERS[model]
    [row] = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert row["call_type"] == "responses" and row["stream"] is True
    assert Decimal(str(row["spend"])) == _cost(model, final.usage)
    # The SDK's own stream helper accepts the sequence and rebuilds the same response.
    with client.responses.stream(model=model, input="Stream please") as stream:
        assert stream.get_final_response().output_text == ANSWERS[model]


def test_a_tool_round_trip_natively(client: openai.OpenAI, fake: httpx.Client) -> None:
    marker = uuid.uuid4().hex
    first = client.responses.create(
        model=NATIVE, input=f"Weather in Oslo? {marker}", tools=[WEATHER], tool_choice="required"
    )
    [call] = first.output
    assert call.type == "function_call" and call.name == "get_weather" and call.arguments == '{"value": 42}'
    second = client.responses.create(
        model=NATIVE,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
        tools=[WEATHER],
    )
    assert second.output_text == REPLY and second.previous_response_id == first.id
    sent = _upstream(fake, "/v1/responses", "sunny")
    assert [i["type"] for i in sent["input"]] == ["message", "function_call", "function_call_output"]
    assert sent["input"][1]["call_id"] == sent["input"][2]["call_id"] == call.call_id
    assert all("id" not in i and "status" not in i for i in sent["input"]), "Switchyard's item ids stay with it"


def test_a_tool_round_trip_translated_streaming(client: openai.OpenAI, anthropic_fake: httpx.Client) -> None:
    marker = uuid.uuid4().hex
    frames = anthropic_server.stream_frames(
        [
            ({"type": "text", "text": ""}, [{"type": "text_delta", "text": "Let me check."}]),
            (
                {"type": "tool_use", "id": "toolu_7", "name": "get_weather", "input": {}},
                [{"type": "input_json_delta", "partial_json": p} for p in ('{"city"', ': "Oslo"}')],
            ),
        ],
        "tool_use",
        20,
        9,
    )
    _script_anthropic(anthropic_fake, {"frames": [f.decode() for f in frames], "content_type": "text/event-stream"})
    with client.responses.stream(model=TRANSLATED, input=f"Weather? {marker}", tools=[WEATHER]) as stream:
        kinds = [e.type for e in stream]
        first = stream.get_final_response()
    assert "response.function_call_arguments.delta" in kinds and kinds[-1] == "response.completed"
    message, call = first.output
    assert message.type == "message" and first.output_text == "Let me check."
    assert call.type == "function_call" and call.call_id == "toolu_7" and json.loads(call.arguments) == {"city": "Oslo"}
    second = client.responses.create(
        model=TRANSLATED,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": "toolu_7", "output": f"sunny {marker}"}],
        tools=[WEATHER],
    )
    assert second.output_text == ANTHROPIC_REPLY
    sent = _anthropic(anthropic_fake, f"sunny {marker}")["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    tool_use = next(b for b in sent[1]["content"] if b["type"] == "tool_use")
    assert tool_use["id"] == "toolu_7" and tool_use["input"] == {"city": "Oslo"}
    assert sent[2]["content"][0]["type"] == "tool_result" and sent[2]["content"][0]["tool_use_id"] == "toolu_7"


class Answer(BaseModel):
    answer: int


@BOTH
def test_text_format_json_schema_comes_back_parsed(
    client: openai.OpenAI, fake: httpx.Client, anthropic_fake: httpx.Client, model: str
) -> None:
    marker = uuid.uuid4().hex
    if model == TRANSLATED:
        _script_anthropic(anthropic_fake, {"body": anthropic_server.text_message('{"answer": 42}', 5, 5)})
    parsed = client.responses.parse(model=model, input=f"The answer? {marker}", text_format=Answer)
    assert parsed.output_parsed == Answer(answer=42)
    if model == NATIVE:
        fmt = _upstream(fake, "/v1/responses", marker)["text"]["format"]
    else:
        fmt = _anthropic(anthropic_fake, marker)["output_config"]["format"]
    assert fmt["type"] == "json_schema" and fmt["schema"]["properties"]["answer"]["type"] == "integer"


def test_reasoning_natively_has_its_summary(client: openai.OpenAI) -> None:
    r = client.responses.create(model=NATIVE, input="Think", reasoning={"effort": "low", "summary": "auto"})
    reasoning, message = r.output
    assert reasoning.type == "reasoning" and reasoning.summary[0].text == "Thinking it over."
    assert message.type == "message" and r.usage is not None and r.usage.output_tokens_details.reasoning_tokens == 5


def test_reasoning_translated_keeps_claude_thinking_for_the_next_turn(
    client: openai.OpenAI, anthropic_fake: httpx.Client
) -> None:
    marker = uuid.uuid4().hex
    # The fake Anthropic checks that a thinking block comes back with the signature it gave.
    signature = anthropic_server.signature_of("The user wants a number.")
    blocks = [
        {"type": "thinking", "thinking": "The user wants a number.", "signature": signature},
        {"type": "text", "text": "Seven."},
    ]
    _script_anthropic(anthropic_fake, {"body": anthropic_server.message(blocks)})
    first = client.responses.create(
        model=TRANSLATED, input=f"Pick a number {marker}", reasoning={"effort": "medium", "summary": "detailed"}
    )
    assert anthropic_fake.get("/__log").json()[-1]["body"]["thinking"]["type"] == "enabled"
    reasoning, message = first.output
    assert message.type == "message"
    assert reasoning.type == "reasoning" and reasoning.summary[0].text == "The user wants a number."
    assert reasoning.encrypted_content and first.output_text == "Seven."
    client.responses.create(model=TRANSLATED, previous_response_id=first.id, input=f"Another {marker}")
    assistant = _anthropic(anthropic_fake, f"Another {marker}")["messages"][1]
    assert assistant["role"] == "assistant"
    assert assistant["content"][0] == {
        "type": "thinking",
        "thinking": "The user wants a number.",
        "signature": signature,
    }


@BOTH
def test_images_reach_the_provider(
    client: openai.OpenAI, fake: httpx.Client, anthropic_fake: httpx.Client, model: str
) -> None:
    marker = uuid.uuid4().hex
    content = [
        {"type": "input_text", "text": f"What is this? {marker}"},
        {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}", "detail": "low"},
    ]
    r = client.responses.create(model=model, input=[{"role": "user", "content": content}])
    assert r.output_text == ANSWERS[model]
    if model == NATIVE:
        sent = _upstream(fake, "/v1/responses", marker)["input"][0]["content"][1]
        assert sent == {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}", "detail": "low"}
    else:
        block = _anthropic(anthropic_fake, marker)["messages"][0]["content"][1]
        assert block["type"] == "image" and block["source"] == {
            "type": "base64",
            "media_type": "image/png",
            "data": PNG,
        }


def test_guardrails_see_the_translation_even_for_a_native_deployment(client: openai.OpenAI, fake: httpx.Client) -> None:
    marker = uuid.uuid4().hex
    r = client.responses.create(
        model=NATIVE,
        input=f"{marker} my key is AKIAABCDEFGHIJKLMNOP ok",
        extra_body={"guardrails": ["secret_detection"]},
    )
    assert r.output_text == REPLY
    sent = _upstream(fake, "/v1/chat/completions", marker)["messages"][0]["content"]
    assert "AKIAABCDEFGHIJKLMNOP" not in sent and "[REDACTED_AWS_ACCESS_KEY]" in sent


# --- stored responses ---------------------------------------------------------------------------------


def test_a_conversation_continues_on_another_edge_replica_and_another_provider(
    client: openai.OpenAI, other_edge: openai.OpenAI, anthropic_fake: httpx.Client
) -> None:
    marker = uuid.uuid4().hex
    first = client.responses.create(model=NATIVE, input=f"My name is Ada {marker}")
    second = other_edge.responses.create(model=TRANSLATED, previous_response_id=first.id, input="What is my name?")
    assert second.previous_response_id == first.id and second.output_text == ANTHROPIC_REPLY
    sent = _anthropic(anthropic_fake, f"My name is Ada {marker}")["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert json.dumps(sent[1]["content"]).count(REPLY) == 1, "the first answer went along"
    # Straight back on the first replica, too.
    third = client.responses.create(model=NATIVE, previous_response_id=second.id, input="And again?")
    assert client.responses.retrieve(third.id).previous_response_id == second.id
    assert other_edge.responses.retrieve(first.id).output_text == REPLY


def test_get_list_and_delete_stored_responses(client: openai.OpenAI) -> None:
    first = client.responses.create(model=NATIVE, input="first")
    second = client.responses.create(model=TRANSLATED, previous_response_id=first.id, input="second")
    got = client.responses.retrieve(second.id)
    assert got.id == second.id and got.output_text == ANTHROPIC_REPLY and got.usage == second.usage
    items = list(client.responses.input_items.list(second.id))
    texts = [json.dumps(i.model_dump()) for i in items]
    assert [i.type for i in items] == ["message", "message", "message"]
    assert "second" in texts[0] and REPLY in texts[1] and "first" in texts[2], "newest first"
    assert all(i.id for i in items)
    oldest = client.responses.input_items.list(second.id, order="asc", limit=1)
    assert len(oldest.data) == 1 and oldest.has_more and "first" in json.dumps(oldest.data[0].model_dump())
    assert [i.id for i in client.responses.input_items.list(second.id, order="asc", limit=1)] == [
        i.id for i in reversed(items)
    ], "the SDK pages through them"
    client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError) as info:
        client.responses.retrieve(first.id)
    assert info.value.body["code"] == "response_not_found"
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(first.id)
    with pytest.raises(openai.BadRequestError) as bad:
        client.responses.create(model=NATIVE, previous_response_id=first.id, input="more")
    assert bad.value.body["code"] == "previous_response_not_found" and bad.value.body["param"] == "previous_response_id"
    # What the deleted response held is gone from the conversation too.
    assert [i.type for i in client.responses.input_items.list(second.id)] == ["message"]


def test_store_false_is_not_kept(client: openai.OpenAI) -> None:
    r = client.responses.create(model=NATIVE, input="forget me", store=False)
    assert r.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)


def test_any_key_of_the_account_reads_and_continues_a_response(
    client: openai.OpenAI, http: httpx.Client, base_url: str
) -> None:
    """As in an OpenAI project: responses belong to the account, not to the key that made them
    (isolation between accounts is the repository's, services/edge/tests/test_responses_store.py)."""
    key = http.post("/key/generate", json={"key_alias": f"responses-{uuid.uuid4().hex[:8]}"}).json()["key"]
    other = _sdk(base_url, key)
    r = client.responses.create(model=NATIVE, input="shared")
    assert other.responses.retrieve(r.id).output_text == REPLY
    assert other.responses.create(model=NATIVE, previous_response_id=r.id, input="more").status == "completed"


def test_stored_responses_expire_and_are_swept(stack_cfg: stack.StackConfig) -> None:
    env = {**stack_cfg.extra_env, "edge": {"RESPONSES_RETENTION": "2s", "RESPONSES_SWEEP_SECONDS": "0.5"}}
    with replica_sets(dataclasses.replace(stack_cfg, extra_env=env), [(5, ["edge"])]) as (cfg,):
        short = _sdk(url(cfg))
        r = short.responses.create(model=NATIVE, input="short-lived")
        assert short.responses.retrieve(r.id).id == r.id
        deadline = time.monotonic() + 15
        while True:
            try:
                short.responses.retrieve(r.id)
            except openai.NotFoundError:
                break
            assert time.monotonic() < deadline, "the response never expired"
            time.sleep(0.2)

        async def rows() -> int:
            conn = await asyncpg.connect(infra.urls(stack_cfg.infra)["DATABASE_URL"])
            try:
                n: int = await conn.fetchval("SELECT count(*) FROM responses.stored_responses WHERE id = $1", r.id)
                return n
            finally:
                await conn.close()

        while asyncio.run(rows()):
            assert time.monotonic() < deadline, "the expired response was never swept"
            time.sleep(0.2)


# --- errors and budgets -----------------------------------------------------------------------------


def test_an_over_budget_key_gets_429_in_openai_shape(http: httpx.Client, base_url: str) -> None:
    key = http.post("/key/generate", json={"max_budget": "0.0001"}).json()["key"]
    user = _sdk(base_url, key)
    for _ in range(10):
        try:
            raw = user.responses.with_raw_response.create(model=NATIVE, input="count me", max_output_tokens=20)
        except openai.RateLimitError as exc:
            assert exc.status_code == 429 and exc.body["type"] == "budget_exceeded"
            with pytest.raises(openai.RateLimitError):
                user.responses.create(model=NATIVE, input="count me", max_output_tokens=20, stream=True)
            return
        wait_for_spend(http, raw.headers["x-litellm-call-id"])
    raise AssertionError("the budget was never enforced")


@pytest.mark.parametrize(
    ("kwargs", "error", "param"),
    [
        ({"model": "no-such-model", "input": "x"}, openai.BadRequestError, "model"),
        ({"model": NATIVE, "input": [{"role": "wizard", "content": "x"}]}, openai.BadRequestError, "input[0]"),
        ({"model": NATIVE, "input": "x", "background": True}, openai.BadRequestError, "background"),
        (
            {"model": NATIVE, "input": "x", "previous_response_id": "resp_nope"},
            openai.BadRequestError,
            "previous_response_id",
        ),
        ({"model": "always-429", "input": "x"}, openai.RateLimitError, None),
        ({"model": "always-500", "input": "x"}, openai.InternalServerError, None),
    ],
)
def test_errors_are_the_sdk_exception_classes(
    client: openai.OpenAI, kwargs: dict[str, Any], error: type[openai.APIStatusError], param: str | None
) -> None:
    with pytest.raises(error) as info:
        client.responses.create(**kwargs)
    body = info.value.body
    assert isinstance(body, dict) and isinstance(body["message"], str) and isinstance(body["code"], str)
    assert body.get("param") == param


def test_a_stream_failing_midway_ends_with_response_failed(client: openai.OpenAI, anthropic_fake: httpx.Client) -> None:
    frames = anthropic_server.stream_frames(
        [({"type": "text", "text": ""}, [{"type": "text_delta", "text": "Half an ans"}])], "end_turn", 5, 3
    )
    error = 'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n'
    _script_anthropic(
        anthropic_fake, {"frames": [f.decode() for f in frames[:4]] + [error], "content_type": "text/event-stream"}
    )
    events = list(client.responses.create(model=TRANSLATED, input="x", stream=True))
    assert [e.type for e in events][-2:] == ["response.output_item.done", "response.failed"]
    failed = events[-1].response
    assert failed.status == "failed" and failed.error is not None and "Overloaded" in failed.error.message
    assert failed.output[0].content[0].text == "Half an ans"
