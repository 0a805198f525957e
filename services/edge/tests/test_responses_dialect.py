"""The Responses API codec: requests into the chat model (and the native body), answers and
streams back, checked against the official SDK's own stream accumulator."""

from __future__ import annotations

from typing import Any

import openai
import orjson
import pytest
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from switchyard.llm.v1 import chat_pb2, error_pb2
from switchyard_edge.dialects import responses
from switchyard_llm.errors import RequestError, make_error

EVENTS: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)


def _parse(**body: Any) -> responses.ResponsesRequest:
    return responses.parse_request({"model": "m", **body})


def test_a_string_input_is_one_user_message_item_with_an_id() -> None:
    req = _parse(input="hello", instructions="Be brief.")
    [item] = req.input_items
    assert item["type"] == "message" and item["role"] == "user" and item["id"].startswith("msg_")
    assert item["content"] == [{"type": "input_text", "text": "hello"}]
    assert req.store and not req.stream
    chat = responses.to_chat(req, [])
    assert [(m.role, m.text) for m in chat.messages] == [("system", "Be brief."), ("user", "hello")]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": 3}, "input"),
        ({"input": [{"role": "robot", "content": "x"}]}, "input[0]"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]"),
        ({"input": "x", "background": True}, "background"),
        ({"input": "x", "conversation": "conv_1"}, "conversation"),
        ({"input": "x", "prompt": {"id": "pmpt_1"}}, "prompt"),
        ({"input": "x", "max_output_tokens": True}, "max_output_tokens"),
        ({"input": "x", "store": "yes"}, "store"),
        ({"input": [{"type": "function_call", "call_id": "c", "name": "f"}]}, "input[0]"),
    ],
)
def test_bad_requests_name_their_parameter(body: dict[str, Any], param: str) -> None:
    with pytest.raises(RequestError) as info:
        _parse(**body)
    assert info.value.param == param


def test_items_become_chat_turns() -> None:
    thinking = [{"type": "thinking", "thinking": "Let me see.", "signature": "sig-1"}]
    encrypted = responses._encrypted(thinking)
    context = [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "weather?"}]},
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "Need a tool."}],
            "encrypted_content": encrypted,
        },
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Oslo"}'},
        {"type": "web_search_call", "id": "ws_1", "status": "completed"},
    ]
    req = _parse(
        input=[
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "and this?"},
                    {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"},
                    {"type": "input_file", "file_data": "data:application/pdf;base64,JVBE", "filename": "a.pdf"},
                ],
            },
        ],
        tools=[{"type": "function", "name": "get_weather", "parameters": {"type": "object"}, "strict": True}],
        tool_choice={"type": "function", "name": "get_weather"},
        text={"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}, "strict": True}},
        reasoning={"effort": "high", "summary": "auto"},
        max_output_tokens=300,
        parallel_tool_calls=False,
    )
    chat = responses.to_chat(req, [responses._item(i, "ctx") for i in context])
    user, assistant, tool, user2 = chat.messages
    assert user.role == "user" and user.text == "weather?"
    assert assistant.role == "assistant" and assistant.text == "Checking."
    assert assistant.reasoning_content == "Need a tool."
    assert orjson.loads(assistant.extra_json) == {"thinking_blocks": thinking}
    assert [(tc.id, tc.function.name, tc.function.arguments) for tc in assistant.tool_calls] == [
        ("call_1", "get_weather", '{"city":"Oslo"}')
    ]
    assert tool.role == "tool" and tool.tool_call_id == "call_1" and tool.text == "sunny"
    kinds = [p.WhichOneof("part") for p in user2.parts.parts]
    assert kinds == ["text", "image_url", "file"]
    assert user2.parts.parts[1].image_url.detail == "low"
    assert user2.parts.parts[2].file.filename == "a.pdf"
    assert chat.tools[0].function.name == "get_weather" and chat.tools[0].function.strict
    assert chat.tool_choice.function_name == "get_weather"
    assert chat.response_format.type == "json_schema" and chat.response_format.json_schema.name == "w"
    assert chat.reasoning_effort == "high" and chat.max_tokens == 300 and not chat.parallel_tool_calls


def test_the_native_body_is_the_whole_conversation_without_our_ids() -> None:
    context = [
        {"type": "message", "id": "msg_a", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {"type": "reasoning", "id": "rs_ours", "summary": [], "encrypted_content": responses._encrypted([{}])},
        {"type": "reasoning", "id": "rs_theirs", "summary": [], "encrypted_content": "opaque"},
        {"type": "reasoning", "id": "rs_unusable", "summary": []},
    ]
    req = _parse(input="more", previous_response_id="resp_1", metadata={"tags": ["a"]}, fallbacks=["x"])
    native = responses.native_request(req, context, responses.to_chat(req, context))
    body = orjson.loads(native.native.body_json)
    assert native.native.api == "responses" and not native.messages
    assert body["store"] is False and "previous_response_id" not in body and "fallbacks" not in body
    assert "metadata" not in body, "the gateway's metadata is not OpenAI's string map"
    assert [i.get("id") for i in body["input"]] == [None, "rs_theirs", None]
    assert native.options.fallbacks == ["x"]


def _completion(**message: Any) -> chat_pb2.ChatCompletion:
    c = chat_pb2.ChatCompletion(id="x", model="gpt-x", created=1)
    choice = c.choices.add(index=0, finish_reason=message.pop("finish_reason", "stop"))
    choice.message.role = "assistant"
    for k, v in message.items():
        if k == "tool_calls":
            for tc in v:
                choice.message.tool_calls.add(id=tc[0], type="function").function.CopyFrom(
                    chat_pb2.FunctionCall(name=tc[1], arguments=tc[2])
                )
        else:
            setattr(choice.message, k, v)
    c.usage.CopyFrom(chat_pb2.Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15))
    return c


def test_a_translated_answer_is_a_response() -> None:
    req = _parse(input="x", reasoning={"summary": "auto"}, metadata={"k": "v"})
    c = _completion(text="The answer.", reasoning_content="Thought.", tool_calls=[("call_9", "f", "{}")])
    obj = responses.from_completion(req, c, "resp_1", 5)
    assert [o["type"] for o in obj["output"]] == ["reasoning", "message", "function_call"]
    assert obj["output"][0]["summary"] == [{"type": "summary_text", "text": "Thought."}]
    assert obj["output"][1]["content"][0]["text"] == "The answer."
    assert obj["output"][2]["call_id"] == "call_9"
    assert obj["usage"]["input_tokens"] == 10 and obj["usage"]["output_tokens"] == 5
    assert obj["metadata"] == {"k": "v"} and obj["status"] == "completed" and obj["store"] is True
    cut = responses.from_completion(req, _completion(text="Trunc", finish_reason="length"), "resp_2", 5)
    assert cut["status"] == "incomplete" and cut["incomplete_details"] == {"reason": "max_output_tokens"}


def _chunk(**delta: Any) -> chat_pb2.ChatCompletionChunk:
    chunk = chat_pb2.ChatCompletionChunk(id="c", model="gpt-x", created=1)
    finish = delta.pop("finish_reason", "")
    choice = chunk.choices.add(index=0, finish_reason=finish)
    for k, v in delta.items():
        if k == "tool_calls":
            for tc in v:
                choice.delta.tool_calls.add(**tc)
        else:
            setattr(choice.delta, k, v)
    return chunk


def _events(frames: list[bytes]) -> list[dict[str, Any]]:
    out = []
    for frame in b"".join(frames).split(b"\n\n"):
        if frame:
            name, data = frame.split(b"\n")
            event = orjson.loads(data.removeprefix(b"data: "))
            assert name == b"event: " + event["type"].encode()
            out.append(event)
    return out


def _accumulate(events: list[dict[str, Any]]) -> Any:
    """The SDK's own stream handling (responses.stream) over the events: it raises on any event
    out of place and gives back the final response."""
    state: ResponseStreamState[Any] = ResponseStreamState(input_tools=openai.omit, text_format=openai.omit)
    final = None
    for e in events:
        for handled in state.handle_event(EVENTS.validate_python(e)):
            if handled.type == "response.completed":
                final = handled.response
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return final


def test_a_translated_stream_is_the_full_event_sequence_the_sdk_accepts() -> None:
    req = _parse(input="x", reasoning={"effort": "low", "summary": "auto"})
    stream = responses.TranslatedEvents(req, "resp_1", 5, "gpt-x")
    frames = stream.start()
    for chunk in (
        _chunk(role="assistant", content=""),
        _chunk(reasoning_content="Hmm"),
        _chunk(reasoning_content=", yes."),
        _chunk(content="Hello"),
        _chunk(content=" there."),
        _chunk(tool_calls=[{"index": 0, "id": "call_1", "type": "function", "name": "f", "arguments": ""}]),
        _chunk(tool_calls=[{"index": 0, "arguments": '{"a":'}]),
        _chunk(tool_calls=[{"index": 0, "arguments": " 1}"}]),
        _chunk(finish_reason="tool_calls"),
    ):
        frames += stream.chunk(chunk)
    final, rest = stream.finish(chat_pb2.Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7))
    frames += [*rest, stream.completed_event(final)]
    events = _events(frames)
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    response = _accumulate(events)
    assert response.output_text == "Hello there."
    assert response.output[0].summary[0].text == "Hmm, yes."
    assert response.output[2].arguments == '{"a": 1}' and response.output[2].call_id == "call_1"
    assert response.usage.total_tokens == 7 and final["id"] == "resp_1"


def test_a_stream_failing_midway_ends_with_response_failed() -> None:
    stream = responses.TranslatedEvents(_parse(input="x"), "resp_1", 5, "gpt-x")
    frames = stream.start() + stream.chunk(_chunk(content="Hel"))
    err = make_error(error_pb2.ERROR_KIND_RATE_LIMIT, "slow down")
    events = _events(frames + stream.fail(err))
    assert events[-1]["type"] == "response.failed"
    failed = events[-1]["response"]
    assert failed["status"] == "failed" and failed["error"]["code"] == "rate_limit_exceeded"
    assert failed["output"][0]["content"][0]["text"] == "Hel"
    _accumulate(events)


def test_native_events_pass_on_under_our_id() -> None:
    req = _parse(input="x", previous_response_id="resp_prev")
    native = responses.NativeEvents(req, "resp_ours", 5, "gpt-x")
    created = orjson.dumps({"type": "response.created", "sequence_number": 0, "response": {"id": "resp_up"}})
    delta = b'{"type":"response.output_text.delta","sequence_number":1,"delta":"hi"}'
    done = orjson.dumps(
        {"type": "response.completed", "sequence_number": 2, "response": {"id": "resp_up", "store": False}}
    )
    out, last = native.event(created)
    assert orjson.loads(out.split(b"data: ", 1)[1])["response"]["id"] == "resp_ours" and not last
    out, last = native.event(delta)
    assert out.endswith(delta + b"\n\n") and not last
    out, last = native.event(done)
    assert last and native.final == {"id": "resp_ours", "store": True, "previous_response_id": "resp_prev"}
    assert native.sequence == 3


def test_input_items_are_listed_newest_first_in_pages() -> None:
    items = [{"id": f"i{n}"} for n in range(5)]
    page = responses.item_page(items, limit=2, order="desc", after=None)
    assert [i["id"] for i in page["data"]] == ["i4", "i3"] and page["has_more"]
    page = responses.item_page(items, limit=2, order="desc", after="i3")
    assert [i["id"] for i in page["data"]] == ["i2", "i1"] and page["last_id"] == "i1"
    page = responses.item_page(items, limit=10, order="asc", after="i3")
    assert [i["id"] for i in page["data"]] == ["i4"] and not page["has_more"]
    with pytest.raises(RequestError):
        responses.item_page(items, limit=2, order="asc", after="nope")
