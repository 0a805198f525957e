"""The gateway's controls in a request body (LiteLLM's extensions: fallbacks, retries, timeout,
tags, guardrails, metadata), taken into ``RequestOptions`` and never forwarded to providers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchyard.llm.v1 import chat_pb2
from switchyard_llm.errors import RequestError
from switchyard_llm.openai_codec.checks import check_event_options
from switchyard_llm.openai_codec.fields import boolean, dumps, integer, string, strings

# LiteLLM's other mock controls: each would either fake a provider failure whose fallbacks then
# reach real providers, or shape a mocked answer we do not build. Refused by name (400) rather
# than dropped, because a dropped mock control sends a "test" call to a provider and bills it.
_REFUSED_MOCKS = (
    "mock_testing_rate_limit_error",
    "mock_testing_context_fallbacks",
    "mock_testing_content_policy_fallbacks",
    "mock_timeout",
    "mock_delay",
    "mock_tool_calls",
)

# Gateway controls in the request body (LiteLLM's extensions), never forwarded to providers.
GATEWAY_KEYS = frozenset(
    {
        "fallbacks",
        "num_retries",
        "timeout",
        "disable_fallbacks",
        "mock_testing_fallbacks",
        "drop_params",
        "tags",
        "guardrails",
        "metadata",
        "litellm_metadata",
        "caching",
        "cache",
        "mock_response",
        "context_window_fallback_dict",
        "request_timeout",
        "max_retries",
        "additional_drop_params",
        *_REFUSED_MOCKS,
    }
)


def options_from_json(body: Mapping[str, Any], opts: chat_pb2.RequestOptions) -> None:
    """Take LiteLLM's request-body extensions into ``opts``."""
    fb = body.get("fallbacks")
    if fb is not None:
        if not isinstance(fb, list):
            raise RequestError("'fallbacks' must be a list", "fallbacks")
        for f in fb:
            if isinstance(f, str):
                opts.fallbacks.append(f)
            elif isinstance(f, Mapping) and isinstance(f.get("model"), str):
                opts.fallbacks.append(f["model"])
            else:
                raise RequestError("'fallbacks' entries must be model names", "fallbacks")
    if (v := integer(body, "num_retries", bits=32)) is not None:
        if v < 0:
            raise RequestError("'num_retries' must not be negative", "num_retries")
        opts.num_retries = v
    timeout = body.get("timeout", body.get("request_timeout"))
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise RequestError("'timeout' must be a positive number of seconds", "timeout")
        opts.timeout_seconds = float(timeout)
    opts.disable_fallbacks = bool(boolean(body, "disable_fallbacks"))
    opts.mock_testing_fallbacks = bool(boolean(body, "mock_testing_fallbacks"))
    _mock_options(body, opts)
    if (v2 := boolean(body, "drop_params")) is not None:
        opts.drop_params = v2
    opts.tags.extend(strings(body.get("tags"), "tags"))
    guardrails = body.get("guardrails")
    if guardrails is not None:
        opts.guardrails.extend(strings(guardrails, "guardrails"))
    meta = body.get("metadata", body.get("litellm_metadata"))
    if meta is not None:
        if not isinstance(meta, Mapping):
            raise RequestError("'metadata' must be an object", "metadata")
        opts.metadata_json = dumps(meta)
        tags = meta.get("tags")
        if isinstance(tags, list):
            opts.tags.extend(str(t) for t in tags)
    check_event_options(opts)


def _mock_options(body: Mapping[str, Any], opts: chat_pb2.RequestOptions) -> None:
    for key in _REFUSED_MOCKS:
        if body.get(key) not in (None, False):
            raise RequestError(f"'{key}' is not supported: only a text 'mock_response' is mocked", key)
    mock = string(body, "mock_response")
    if mock is None:
        return
    # LiteLLM raises the named exception for these instead of answering with the text; answering
    # with the name would pass a test that expects the failure.
    if mock.startswith("litellm.") and mock[len("litellm.") :].split("(")[0].isidentifier():
        raise RequestError(
            "'mock_response' naming an exception is not supported: only a text answer is mocked", "mock_response"
        )
    opts.mock_response = mock
