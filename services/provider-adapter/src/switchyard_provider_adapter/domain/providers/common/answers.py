"""Pieces of OpenAI-shaped answers that every provider module builds the same way."""

from __future__ import annotations

import array
import base64
import math
import sys
import time
import uuid
from collections.abc import Iterable, Mapping

from switchyard.llm.v1 import chat_pb2


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def new_tool_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def now() -> int:
    return int(time.time())


def mapped_finish(table: Mapping[str, str], reason: object, json_tool_unwrapped: bool = False) -> str:
    """OpenAI's finish_reason for a provider's stop reason (``stop`` for unknown ones). An answer
    that came through the forced JSON tool stopped, for the client, with its content."""
    finish = table.get(str(reason or ""), "stop")
    return "stop" if finish == "tool_calls" and json_tool_unwrapped else finish


class StreamState:
    """What every stream decoder tells the executor: the usage reported so far, and whether the
    provider said the stream is complete."""

    __slots__ = ("_finished", "_usage")

    def __init__(self) -> None:
        self._usage: chat_pb2.Usage | None = None
        self._finished = False

    @property
    def usage(self) -> chat_pb2.Usage | None:
        return self._usage

    @property
    def finished(self) -> bool:
        return self._finished


def cached_usage(plain: int, cache_read: int, cache_write: int, output: int) -> chat_pb2.Usage:
    """Usage of APIs whose input count leaves out cache reads and writes (Claude, Converse):
    OpenAI's ``prompt_tokens`` includes them, with the cached parts in ``prompt_tokens_details``."""
    prompt = plain + cache_read + cache_write
    usage = chat_pb2.Usage(prompt_tokens=prompt, completion_tokens=output, total_tokens=prompt + output)
    usage.prompt_tokens_details.cached_tokens = cache_read
    usage.prompt_tokens_details.cache_creation_tokens = cache_write
    return usage


def floats_to_base64(values: Iterable[float]) -> str:
    """OpenAI's ``encoding_format: base64``: little-endian float32 values, base64 encoded."""
    arr = array.array("f", values)
    if sys.byteorder != "little":
        arr.byteswap()
    return base64.b64encode(arr.tobytes()).decode()


def estimate_tokens(text: str) -> int:
    """A token estimate (~4 characters per token, the rule of thumb Google and OpenAI publish) for
    APIs that return no counts, so usage and cost are not recorded as zero."""
    return max(1, math.ceil(len(text) / 4)) if text else 0
