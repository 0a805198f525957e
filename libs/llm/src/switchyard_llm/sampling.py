"""OpenAI's sampling parameters under another API's names.

Every translator of a chat request (the OpenAI codec, and the provider adapter's Gemini, Cohere,
Ollama, Anthropic and Bedrock modules) copies the same request fields into its own body under
its own names. Each names them in a table; one function applies the tables, so every dialect
reads the request the same way: a field is sent only when the request sets it, an empty ``stop``
is no stop, and one output cap is ``max_completion_tokens`` when set, else ``max_tokens``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchyard.llm.v1 import chat_pb2

# The request's output cap for APIs that have one such field: OpenAI's current name
# (max_completion_tokens) wins over the older one, as OpenAI's own API does.
MAX_OUTPUT_TOKENS = "max_output_tokens"


def max_output_tokens(req: chat_pb2.ChatCompletionRequest) -> int | None:
    """The request's output cap (``MAX_OUTPUT_TOKENS``); None when it sets none."""
    if req.HasField("max_completion_tokens"):
        return req.max_completion_tokens
    if req.HasField("max_tokens"):
        return req.max_tokens
    return None


# OpenAI's sampling parameters, in the order OpenAI's reference lists them.
SAMPLING_PARAMETERS = (
    "temperature",
    "top_p",
    "n",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logprobs",
    "top_logprobs",
    "seed",
)
_NAMES = frozenset(SAMPLING_PARAMETERS) | {MAX_OUTPUT_TOKENS}


class SamplingTable:
    """One dialect's names for the sampling parameters (OpenAI name → its own), in the order its
    body lists them; built once per dialect, at import."""

    __slots__ = ("_cap", "_optional", "_stop")

    def __init__(self, names: Mapping[str, str]) -> None:
        unknown = sorted(set(names) - _NAMES)
        if unknown:
            raise ValueError(f"not sampling parameters: {', '.join(unknown)}")
        # Optional scalar fields are copied in one loop (this runs on every request); the two
        # fields with a rule of their own are looked at apart.
        self._optional = tuple((n, k) for n, k in names.items() if n not in ("stop", MAX_OUTPUT_TOKENS))
        self._stop = names.get("stop")
        self._cap = names.get(MAX_OUTPUT_TOKENS)

    def apply(self, req: chat_pb2.ChatCompletionRequest, out: dict[str, Any]) -> dict[str, Any]:
        """Adds the parameters ``req`` sets to ``out`` under the dialect's names; returns ``out``."""
        for name, key in self._optional:
            if req.HasField(name):
                out[key] = getattr(req, name)
        if self._stop is not None and req.stop:
            out[self._stop] = list(req.stop)
        if self._cap is not None:
            cap = max_output_tokens(req)
            if cap is not None:
                out[self._cap] = cap
        return out


# OpenAI's own names: every sampling parameter a request sets, as it was given.
OPENAI = SamplingTable({name: name for name in SAMPLING_PARAMETERS})
