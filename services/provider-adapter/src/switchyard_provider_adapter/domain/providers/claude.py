"""What Claude asks of a request and how it answers, whichever API carries it: Anthropic's
Messages API (anthropic.py) and Bedrock's Converse API (bedrock/). The two wire shapes differ
(``tool_use`` blocks vs ``toolUse`` members), the rules do not: which models have structured
outputs, how thinking fits under the output cap, how a conversation becomes alternating turns,
how tool calls and results are identified, and how thinking blocks come back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

import orjson

from switchyard.llm.v1 import chat_pb2
from switchyard_provider_adapter.domain.providers.base import CallContext
from switchyard_provider_adapter.domain.providers.common.answers import cached_usage
from switchyard_provider_adapter.domain.providers.common.content import json_object, tool_arguments
from switchyard_provider_adapter.domain.providers.common.failures import bad_request
from switchyard_provider_adapter.domain.providers.common.params import JSON_TOOL_NAME
from switchyard_provider_adapter.domain.providers.common.turns import Turns

# --- models -------------------------------------------------------------------------------

# Model names since Claude 4: claude-<family>-<major>[-<minor>][-<date>], e.g.
# claude-sonnet-4-5-20250929 or us.anthropic.claude-opus-4-1-20250805-v1:0 (Claude 3 names put
# the version first and are all older than 4.5).
_VERSION = re.compile(r"claude-(?:opus|sonnet|haiku|mythos)-(\d+)(?:-(\d{1,2}))?(?!\d)")


def supports_native_json_schema(model: str) -> bool:
    """Structured outputs (JSON schema formats, strict tools) are generally available on Claude
    4.5 and newer and on every Claude Mythos model, on Anthropic's API
    (https://docs.anthropic.com/en/docs/build-with-claude/structured-outputs) and on Bedrock
    (https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html); older models
    get LiteLLM's forced-tool fallback."""
    if "mythos" in model:
        return True
    m = _VERSION.search(model)
    if not m:
        return False
    return (int(m.group(1)), int(m.group(2) or 0)) >= (4, 5)


# --- thinking -----------------------------------------------------------------------------

# reasoning_effort → Claude thinking budget in tokens (LiteLLM's defaults; 1024 is the minimum).
THINKING_BUDGETS = {"minimal": 1024, "low": 1024, "medium": 2048, "high": 4096}
# Tokens left for the answer after the thinking budget when the cap may grow to make room.
_ANSWER_ROOM = 1024
# The cap a thinking request gets when nothing set one (the API itself has no default).
_THINKING_CAP = 4096


def thinking_budget(budget: int, max_tokens: int) -> int:
    """The thinking budget under a ``max_tokens`` cap. Claude wants 1024 <= budget_tokens <
    max_tokens; a cap with no room for the effort's budget (e.g. the one the gateway sets on a
    budgeted request) shrinks it to leave 1024 tokens for the answer, instead of failing."""
    if budget < max_tokens:
        return budget
    return max(THINKING_BUDGETS["minimal"], max_tokens - _ANSWER_ROOM)


def thinking(provider: str, effort: str, cap: int | None, *, fixed: bool) -> tuple[int, dict[str, Any]]:
    """(the output cap to send, Claude's ``thinking`` object) for a ``reasoning_effort`` other
    than none. A cap that is not ``fixed`` grows to leave room for the answer after the budget; a
    fixed one is kept and the budget shrinks to fit under it."""
    budget = THINKING_BUDGETS.get(effort)
    if budget is None:
        raise bad_request(
            provider, f"reasoning_effort must be one of {', '.join(THINKING_BUDGETS)} or none", "reasoning_effort"
        )
    if cap is None or not fixed:
        cap = max(cap if cap is not None else _THINKING_CAP, budget + _ANSWER_ROOM)
    return cap, {"type": "enabled", "budget_tokens": thinking_budget(budget, cap)}


# --- turns --------------------------------------------------------------------------------


class TurnDialect(Protocol):
    """The blocks of one API for each kind of OpenAI message. ``extra`` holds the message's keys
    beyond OpenAI's typed fields (cache_control, thinking_blocks, is_error); ``where`` is the
    message's place (``messages[3]``) for error messages."""

    def content(
        self, ctx: CallContext, m: chat_pb2.ChatMessage, extra: Mapping[str, Any], where: str, text_only: bool = False
    ) -> list[dict[str, Any]]:
        """The blocks of a user message, or (``text_only``) of a system prompt."""
        ...

    def assistant(
        self, ctx: CallContext, m: chat_pb2.ChatMessage, extra: Mapping[str, Any], where: str
    ) -> list[dict[str, Any]]: ...

    def tool_result(
        self, ctx: CallContext, m: chat_pb2.ChatMessage, extra: Mapping[str, Any], where: str
    ) -> dict[str, Any]: ...


def build_turns(
    provider: str, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, dialect: TurnDialect
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system blocks, alternating user/assistant turns) of a conversation: system and developer
    messages become the system prompt, tool results are user turns."""
    system: list[dict[str, Any]] = []
    turns = Turns()
    for i, m in enumerate(req.messages):
        where = f"messages[{i}]"
        extra = json_object(m.extra_json)
        if m.role in ("system", "developer"):
            system.extend(dialect.content(ctx, m, extra, where, text_only=True))
        elif m.role == "user":
            turns.add("user", dialect.content(ctx, m, extra, where))
        elif m.role == "assistant":
            turns.add("assistant", dialect.assistant(ctx, m, extra, where))
        elif m.role in ("tool", "function"):
            turns.add("user", [dialect.tool_result(ctx, m, extra, where)])
        else:
            # Dropping it would change what the conversation says.
            raise bad_request(provider, f"{where}: unknown role {m.role!r}", "messages")
    if not turns.turns:
        raise bad_request(provider, "at least one user or assistant message is required", "messages")
    return system, turns.turns


def tool_uses(provider: str, m: chat_pb2.ChatMessage, where: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(id, name, input object) of an assistant message's tool calls, its legacy function_call
    last (identified as ``call_<name>``, the id its result gets in ``tool_use_id``)."""
    uses = [
        (
            tc.id,
            tc.function.name,
            tool_arguments(tc.function.arguments, provider, f"{where}.tool_calls[{j}].function.arguments", "messages"),
        )
        for j, tc in enumerate(m.tool_calls)
    ]
    if m.HasField("function_call"):
        fc = m.function_call
        uses.append(
            (
                f"call_{fc.name}",
                fc.name,
                tool_arguments(fc.arguments, provider, f"{where}.function_call.arguments", "messages"),
            )
        )
    return uses


def tool_use_id(provider: str, m: chat_pb2.ChatMessage, where: str) -> str:
    """The tool call a tool (or legacy function) message answers."""
    call_id = m.tool_call_id if m.role == "tool" else f"call_{m.name}"
    if not call_id:
        raise bad_request(provider, f"{where}.tool_call_id is required", "messages")
    return call_id


# --- answers ------------------------------------------------------------------------------

# Streamed ``error`` events carry an error type but no HTTP status; the status the same error
# has as an HTTP response (https://docs.anthropic.com/en/api/errors).
ERROR_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


def usage_from_anthropic(u: Mapping[str, Any], previous: chat_pb2.Usage | None) -> chat_pb2.Usage:
    """Anthropic usage → OpenAI usage (cache reads and writes count into ``prompt_tokens``); a
    later (message_delta) report overrides earlier counts."""
    prev = previous or chat_pb2.Usage()
    prev_plain = prev.prompt_tokens - prev.prompt_tokens_details.cached_tokens
    prev_plain -= prev.prompt_tokens_details.cache_creation_tokens

    def pick(key: str, old: int) -> int:
        v = u.get(key)
        return int(v) if v is not None else old

    return cached_usage(
        pick("input_tokens", prev_plain),
        pick("cache_read_input_tokens", prev.prompt_tokens_details.cached_tokens),
        pick("cache_creation_input_tokens", prev.prompt_tokens_details.cache_creation_tokens),
        pick("output_tokens", prev.completion_tokens),
    )


def thinking_block(text: str, signature: Any) -> dict[str, Any]:
    """A thinking block as OpenAI clients get it back (``thinking_blocks``), to return it unchanged
    (with its signature) when the turn continues with tool results."""
    return {"type": "thinking", "thinking": text, "signature": signature}


def redacted_thinking_block(data: Any) -> dict[str, Any]:
    return {"type": "redacted_thinking", "data": data}


def thinking_delta(block: dict[str, Any]) -> bytes:
    """A chunk's ``extra_json`` carrying one streamed thinking block (a signature, a redacted one)."""
    return orjson.dumps({"thinking_blocks": [block]})


def citation_delta(citation: Any) -> bytes:
    return orjson.dumps({"provider_specific_fields": {"citation": citation}})


class ClaudeMessage:
    """An answer's content blocks gathered into an OpenAI message: text, tool calls (the forced
    JSON tool's input becomes the text), reasoning, and the thinking blocks and citations OpenAI
    has no field for (under the keys LiteLLM uses)."""

    __slots__ = ("citations", "json_texts", "reasoning", "texts", "thinking_blocks")

    def __init__(self) -> None:
        self.texts: list[str] = []
        # Inputs of the forced JSON tool: the answer itself.
        self.json_texts: list[str] = []
        self.reasoning: list[str] = []
        self.thinking_blocks: list[dict[str, Any]] = []
        self.citations: list[Any] = []

    def tool_call(self, msg: chat_pb2.ChatMessage, call_id: Any, name: Any, arguments: Any) -> None:
        tc = msg.tool_calls.add(id=str(call_id or ""), type="function")
        tc.function.name = str(name or "")
        tc.function.arguments = orjson.dumps(arguments if arguments is not None else {}).decode()

    def thinking(self, text: Any, signature: Any) -> None:
        self.reasoning.append(str(text or ""))
        self.thinking_blocks.append(thinking_block(text or "", signature))

    def fill(self, msg: chat_pb2.ChatMessage) -> bool:
        """Sets the message's text, reasoning and extras; True when the JSON tool was unwrapped."""
        texts = self.json_texts or self.texts
        if texts or not msg.tool_calls:
            msg.text = "".join(texts)
        if self.reasoning:
            msg.reasoning_content = "".join(self.reasoning)
        extra: dict[str, Any] = {}
        if self.thinking_blocks:
            extra["thinking_blocks"] = self.thinking_blocks
        if self.citations:
            extra["provider_specific_fields"] = {"citations": self.citations}
        if extra:
            msg.extra_json = orjson.dumps(extra)
        return bool(self.json_texts)


class ToolBlocks:
    """The streamed content blocks that carry tool input: tool calls, numbered in OpenAI's order,
    and the forced JSON tool, whose input is streamed as the answer's text."""

    __slots__ = ("_blocks", "_json_tool", "count", "unwrapped")

    def __init__(self, json_tool: bool) -> None:
        self._json_tool = json_tool
        # content block index → tool index; -1 for the JSON tool's block.
        self._blocks: dict[int, int] = {}
        self.count = 0
        self.unwrapped = False

    def start(self, index: int, call_id: Any, name: Any, delta: chat_pb2.Delta) -> bool:
        """Records a tool block; adds its start to ``delta`` unless it is the JSON tool's
        (False: nothing to send)."""
        if self._json_tool and name == JSON_TOOL_NAME:
            self._blocks[index] = -1
            self.unwrapped = True
            return False
        self._blocks[index] = self.count
        t = delta.tool_calls.add(index=self.count, id=str(call_id or ""), type="function")
        t.name = str(name or "")
        t.arguments = ""
        self.count += 1
        return True

    def input(self, index: int, piece: str, delta: chat_pb2.Delta) -> bool:
        """Adds a piece of a block's input to ``delta``: text for the JSON tool, arguments of a
        tool call otherwise (False: nothing to send)."""
        if not piece:
            return False
        tool_index = self._blocks.get(index, 0)
        if tool_index < 0:
            delta.content = piece
        else:
            delta.tool_calls.add(index=tool_index).arguments = piece
        return True
