"""Which OpenAI parameters a request sets, and which of them a provider can take."""

from __future__ import annotations

from typing import TYPE_CHECKING

from switchyard.llm.v1 import chat_pb2
from switchyard_provider_adapter.domain.providers.common.failures import unsupported_param

if TYPE_CHECKING:
    from switchyard_provider_adapter.domain.providers.base import CallContext

# The tool a json_schema response format is forced through on models without native structured
# output; its arguments are unwrapped back into the message content (LiteLLM's
# RESPONSE_FORMAT_TOOL_NAME, so LiteLLM users see the same name in provider logs).
JSON_TOOL_NAME = "json_tool_call"

_NOT_PARAMS = frozenset({"model", "messages", "stream", "extra_json", "options"})


def set_params(req: chat_pb2.ChatCompletionRequest) -> list[str]:
    """The OpenAI parameters a request sets (beyond model/messages/stream)."""
    return [f.name for f, _ in req.ListFields() if f.name not in _NOT_PARAMS]


def check_supported(ctx: CallContext, req: chat_pb2.ChatCompletionRequest, supported: frozenset[str]) -> set[str]:
    """Parameters to drop; raises 400 naming the first unsupported one unless drop_params."""
    dropped = set()
    for name in set_params(req):
        if name not in supported:
            if not ctx.drop_params:
                raise unsupported_param(name, ctx.provider)
            dropped.add(name)
    return dropped
