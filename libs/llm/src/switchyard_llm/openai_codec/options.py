"""The gateway's controls in a request body (LiteLLM's extensions: fallbacks, retries, timeout,
tags, guardrails, metadata), taken into ``RequestOptions`` and never forwarded to providers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchyard.llm.v1 import chat_pb2
from switchyard_llm.errors import RequestError
from switchyard_llm.openai_codec.checks import check_event_options
from switchyard_llm.openai_codec.fields import boolean, dumps, integer, strings

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
