"""Charging rules (domain/charging.py): the usage an attempt is billed for, the charge of a stream
cut short, and whether a failure is the deployment's."""

from __future__ import annotations

import pytest

from switchyard.llm.v1 import chat_pb2, deployment_pb2, error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_edge.domain import charging
from switchyard_edge.domain.call import Attempt
from switchyard_llm.errors import make_error


def test_every_kind_of_output_counts_as_produced() -> None:
    chunk = chat_pb2.ChatCompletionChunk()
    d = chunk.choices.add(index=0).delta
    d.content, d.reasoning_content, d.refusal = "abc", "de", "f"
    d.tool_calls.add(index=0, name="get", arguments='{"city":"x"}')
    chunk.choices.add(index=1).delta.content = "g"
    assert charging.produced_chars(chunk) == 3 + 2 + 1 + 3 + 12 + 1


def test_a_cut_stream_is_charged_at_the_highest_prices() -> None:
    pricing = deployment_pb2.Pricing(admission_input_cost_per_token=1e-6, admission_output_cost_per_token=4e-6)
    usage, stats = charging.cut_stream(100, 30, pricing)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (100, 11, 111)
    assert stats.cost_usd == f"{100 * 1e-6 + 11 * 4e-6:.10f}"


def test_a_cut_stream_of_an_unpriced_deployment_has_no_cost() -> None:
    _, stats = charging.cut_stream(100, 0, deployment_pb2.Pricing())
    assert stats.cost_usd == ""


def test_usage_comes_from_the_attempt_or_its_result() -> None:
    completion = chat_pb2.ChatCompletion()
    completion.usage.total_tokens = 9
    assert charging.usage_of(Attempt(result=completion)) == completion.usage
    own = chat_pb2.Usage(total_tokens=3)
    assert charging.usage_of(Attempt(result=completion, usage=own)) is own
    assert charging.usage_of(Attempt(result=("not", "a", "message"))) is None


@pytest.mark.parametrize(
    ("error", "reported", "blame", "skipped"),
    [
        (None, True, False, False),
        (make_error(ErrorKind.ERROR_KIND_INTERNAL_SERVER, "upstream", provider="openai"), True, True, False),
        (make_error(ErrorKind.ERROR_KIND_TIMEOUT, "ours", source=error_pb2.FAILURE_SOURCE_REQUEST), True, False, True),
        (make_error(ErrorKind.ERROR_KIND_INTERNAL_SERVER, "mock", provider="openai"), False, True, True),
    ],
    ids=["success", "provider-failure", "request-deadline", "not-really-made"],
)
def test_only_the_deployments_own_failures_count_against_it(
    error: error_pb2.Error | None, reported: bool, blame: bool, skipped: bool
) -> None:
    assert charging.outcome(error, reported=reported) == charging.Outcome(blame=blame, skipped=skipped)
