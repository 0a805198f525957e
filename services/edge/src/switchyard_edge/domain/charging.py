"""What an attempt is charged and what it tells the router: the usage it is billed for, the
charge of a stream the client cut short (so disconnecting is never a way around a budget), and
whether a failure counts against the deployment."""

from __future__ import annotations

from typing import NamedTuple

from switchyard.llm.v1 import chat_pb2, deployment_pb2, error_pb2, messages_pb2
from switchyard.provider.v1 import provider_pb2
from switchyard_edge.domain.call import Attempt
from switchyard_llm.errors import counts_against_deployment

# Characters per token assumed for output counted at the edge (the prompt estimate's ratio).
CHARS_PER_TOKEN = 3


def usage_of(attempt: Attempt) -> chat_pb2.Usage | None:
    """The usage an attempt is billed for: the provider's, or its result's."""
    if attempt.usage is None and attempt.result is not None and hasattr(attempt.result, "usage"):
        usage: chat_pb2.Usage = attempt.result.usage
        return usage
    return attempt.usage


def produced_chars(chunk: chat_pb2.ChatCompletionChunk | messages_pb2.AnthropicEvent) -> int:
    """Characters of model output in a streamed chunk: text, reasoning, refusals and tool calls
    (names and arguments), all of which the provider bills as output tokens. A Messages API
    event comes with its count (the provider adapter read the event)."""
    if isinstance(chunk, messages_pb2.AnthropicEvent):
        return chunk.output_chars
    n = 0
    for ch in chunk.choices:
        d = ch.delta
        n += len(d.content) + len(d.reasoning_content) + len(d.refusal)
        for tc in d.tool_calls:
            n += len(tc.name) + len(tc.arguments)
    return n


def cut_stream(
    input_tokens: int, produced: int, pricing: deployment_pb2.Pricing
) -> tuple[chat_pb2.Usage, provider_pb2.CallStats]:
    """Usage and cost of a stream that ended without the provider's usage because the client
    went away after ``produced`` characters of output: the prompt estimate and the output so
    far, at the admission prices (the highest a token of the deployment can cost)."""
    usage = chat_pb2.Usage(prompt_tokens=input_tokens, completion_tokens=produced // CHARS_PER_TOKEN + 1)
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
    cost = (
        usage.prompt_tokens * pricing.admission_input_cost_per_token
        + usage.completion_tokens * pricing.admission_output_cost_per_token
    )
    return usage, provider_pb2.CallStats(cost_usd=f"{cost:.10f}" if cost else "")


class Outcome(NamedTuple):
    """What an attempt's result says about its deployment."""

    # The failure is the deployment's (it may cool down): cached plans are stale.
    blame: bool
    # The attempt says nothing about the deployment (a success or failure of its own would):
    # its report only gives the router's admission back.
    skipped: bool


def outcome(error: error_pb2.Error | None, *, reported: bool = True) -> Outcome:
    """An attempt that failed for a reason not the deployment's (our own adapter down, the
    request's own deadline, a request that could not be sent) or that was not really made
    (``reported=False``: failed on purpose by mock_testing_fallbacks) is skipped."""
    blame = error is not None and counts_against_deployment(error)
    return Outcome(blame=blame, skipped=not reported or (error is not None and not blame))
