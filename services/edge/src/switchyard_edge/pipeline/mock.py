"""LiteLLM's ``mock_response``: a mocked request travels the whole pipeline (authentication, the
key's rate limits, the router's plan, the budget hold, guardrails, the usage event) but each of its
attempts answers with the request's own text instead of calling the provider adapter, so no
provider ever sees it and it costs 0. Usage is the edge's estimate (LiteLLM invents fixed counts),
so rate limits on tokens still see the call."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from switchyard.llm.v1 import chat_pb2, deployment_pb2
from switchyard.provider.v1 import provider_pb2
from switchyard_edge.clients.adapter import OpenStream
from switchyard_edge.domain.call import Attempt, Call
from switchyard_edge.domain.charging import CHARS_PER_TOKEN

# The attempt's price: a decimal string the ledger and the cost header read as zero.
_FREE = provider_pb2.CallStats(cost_usd="0")


def _usage(call: Call, text: str) -> chat_pb2.Usage:
    completion = len(text) // CHARS_PER_TOKEN + 1
    return chat_pb2.Usage(
        prompt_tokens=call.input_tokens, completion_tokens=completion, total_tokens=call.input_tokens + completion
    )


async def chat(
    call: Call, dep: deployment_pb2.Deployment, request: chat_pb2.ChatCompletionRequest, remaining: float
) -> Attempt:
    """The mocked answer as one completion."""
    text = call.options.mock_response
    answer = chat_pb2.ChatCompletion(id=f"chatcmpl-{call.call_id}", created=int(time.time()), model=dep.model)
    choice = answer.choices.add(index=0, finish_reason="stop")
    choice.message.role = "assistant"
    choice.message.text = text
    answer.usage.CopyFrom(_usage(call, text))
    return Attempt(result=answer, stats=_FREE, usage=answer.usage)


async def open_stream(
    call: Call, dep: deployment_pb2.Deployment, request: chat_pb2.ChatCompletionRequest, remaining: float
) -> Attempt:
    """The mocked answer as a stream: one chunk with the text, a finishing chunk, the end."""
    text = call.options.mock_response
    first = _chunk(call, dep)
    delta = first.choices.add(index=0).delta
    delta.role = "assistant"
    delta.content = text
    last = _chunk(call, dep)
    last.choices.add(index=0, finish_reason="stop")
    end = provider_pb2.StreamEnd(usage=_usage(call, text), stats=_FREE)
    return Attempt(
        result=OpenStream(
            _Rest([provider_pb2.ChatStreamResponse(chunk=last), provider_pb2.ChatStreamResponse(end=end)]), first, {}
        )
    )


def _chunk(call: Call, dep: deployment_pb2.Deployment) -> chat_pb2.ChatCompletionChunk:
    return chat_pb2.ChatCompletionChunk(id=f"chatcmpl-{call.call_id}", created=int(time.time()), model=dep.model)


class _Rest:
    """The messages after the first chunk, as an adapter stream would give them."""

    def __init__(self, messages: list[provider_pb2.ChatStreamResponse]) -> None:
        self._messages = messages

    def cancel(self) -> None:
        self._messages = []

    def __aiter__(self) -> AsyncIterator[provider_pb2.ChatStreamResponse]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[provider_pb2.ChatStreamResponse]:
        while self._messages:
            yield self._messages.pop(0)
