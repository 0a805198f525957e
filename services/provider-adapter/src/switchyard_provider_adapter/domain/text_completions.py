"""Legacy text completions served through chat, for deployments that do not serve
``/v1/completions`` themselves: one chat call per prompt, their answers numbered as OpenAI numbers
a completions answer's choices (``prompt * n + i``) and their usage added up.

What chat cannot do is refused before anything is sent (unless the request or deployment drops
unsupported parameters): ``echo`` and ``suffix`` (they need the completions endpoint's own
prompt handling), ``best_of`` above ``n`` and ``logprobs`` in the completions shape."""

from __future__ import annotations

from switchyard.llm.v1 import chat_pb2
from switchyard_provider_adapter.domain.errors import ProviderFailure
from switchyard_provider_adapter.domain.providers.common.failures import unsupported


def _refused(req: chat_pb2.ChatCompletionRequest) -> list[str]:
    tc = req.text_completion
    n = req.n if req.HasField("n") else 1
    refused = []
    if tc.echo:
        refused.append("echo")
    if tc.HasField("suffix"):
        refused.append("suffix")
    if tc.HasField("best_of") and tc.best_of > n:
        refused.append("best_of")
    if tc.HasField("logprobs"):
        refused.append("logprobs")
    return refused


def by_chat(
    req: chat_pb2.ChatCompletionRequest, *, deployment: str, provider: str, drop_params: bool
) -> list[chat_pb2.ChatCompletionRequest]:
    """The chat request of each prompt (raises ProviderFailure for what chat cannot do)."""
    refused = _refused(req)
    if refused and not drop_params:
        raise ProviderFailure(
            unsupported(
                provider,
                f"'{refused[0]}' needs a deployment that serves /v1/completions itself; deployment "
                f"'{deployment}' ({provider}) answers completions through chat. Use such a deployment, or set "
                "drop_params: true to drop it.",
                refused[0],
            ).error
        )
    out = []
    for message in req.messages:
        one = chat_pb2.ChatCompletionRequest()
        one.CopyFrom(req)
        one.ClearField("text_completion")
        del one.messages[:]
        one.messages.append(message)
        out.append(one)
    return out


def add_usage(total: chat_pb2.Usage, u: chat_pb2.Usage) -> None:
    total.prompt_tokens += u.prompt_tokens
    total.completion_tokens += u.completion_tokens
    total.total_tokens += u.total_tokens
    if u.prompt_tokens_details.HasField("cached_tokens"):
        total.prompt_tokens_details.cached_tokens += u.prompt_tokens_details.cached_tokens
    if u.completion_tokens_details.HasField("reasoning_tokens"):
        total.completion_tokens_details.reasoning_tokens += u.completion_tokens_details.reasoning_tokens


def renumber(choices: list[chat_pb2.Choice] | list[chat_pb2.ChunkChoice], prompt: int, n: int) -> None:
    for choice in choices:
        choice.index = prompt * n + choice.index


def join(answers: list[chat_pb2.ChatCompletion], n: int) -> chat_pb2.ChatCompletion:
    """The answers to each prompt's call as one answer."""
    out = chat_pb2.ChatCompletion()
    out.CopyFrom(answers[0])
    del out.choices[:]
    out.ClearField("usage")
    for prompt, answer in enumerate(answers):
        choices = list(answer.choices)
        renumber(choices, prompt, n)
        out.choices.extend(choices)
        add_usage(out.usage, answer.usage)
    return out
