"""The other OpenAI APIs an OpenAI-compatible deployment may serve besides chat completions: the
Responses API (``/v1/responses``) and legacy text completions (``/v1/completions``).

A deployment serves one natively when its ``model_info.supported_endpoints`` names it (and a
``text-completion-openai`` deployment serves /v1/completions by definition). Its request is then
the client's own (a NativeRequest body, or the prompts of a text completion); its answer comes
back as the chat model's completion or chunks, for usage, cost and the pipeline, with the
Responses API's own JSON kept beside it (``native_json``) for the client."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_llm.errors import make_error
from switchyard_llm.openai_codec.chat import chat_request_to_json
from switchyard_llm.openai_codec.usage import usage_from_json
from switchyard_provider_adapter.domain.errors import ProviderFailure
from switchyard_provider_adapter.domain.framing import SseEvent
from switchyard_provider_adapter.domain.providers.common.answers import StreamState, now

RESPONSES = "/v1/responses"
COMPLETIONS = "/v1/completions"
# NativeRequest.api → the endpoint it is served at.
NATIVE_ENDPOINTS = {"responses": RESPONSES}
# OpenAI's Response error codes that are the caller's (the rest are the deployment's).
_REQUEST_FAULTS = frozenset({"invalid_prompt", "invalid_image", "invalid_image_format", "invalid_base64_image"})


def serves(provider: str, endpoints: Iterable[str], endpoint: str) -> bool:
    return endpoint in endpoints or (endpoint == COMPLETIONS and provider == "text-completion-openai")


# --- the Responses API -----------------------------------------------------------------------------


def responses_body(req: chat_pb2.ChatCompletionRequest, model: str, stream: bool, reasoning: bool) -> dict[str, Any]:
    """The body for ``POST /responses``: the client's own, for the deployment's model. The
    gateway's output limit (a budgeted request that set none) becomes ``max_output_tokens``; a
    reasoning model is asked for its reasoning's encrypted content, the only way its reasoning
    items can be sent back on the next turn when the deployment stores nothing."""
    body: dict[str, Any] = orjson.loads(req.native.body_json)
    body["model"] = model
    if stream:
        body["stream"] = True
    if "max_output_tokens" not in body:
        if req.HasField("max_completion_tokens"):
            body["max_output_tokens"] = req.max_completion_tokens
        elif req.HasField("max_tokens"):
            body["max_output_tokens"] = req.max_tokens
    if reasoning:
        include = [i for i in body.get("include") or () if isinstance(i, str)]
        if "reasoning.encrypted_content" not in include:
            body["include"] = [*include, "reasoning.encrypted_content"]
    return body


def _responses_usage(u: Mapping[str, Any]) -> chat_pb2.Usage:
    usage = chat_pb2.Usage(
        prompt_tokens=int(u.get("input_tokens") or 0), completion_tokens=int(u.get("output_tokens") or 0)
    )
    usage.total_tokens = int(u.get("total_tokens") or usage.prompt_tokens + usage.completion_tokens)
    details = u.get("input_tokens_details")
    if isinstance(details, Mapping) and details.get("cached_tokens") is not None:
        usage.prompt_tokens_details.cached_tokens = int(details["cached_tokens"])
    details = u.get("output_tokens_details")
    if isinstance(details, Mapping) and details.get("reasoning_tokens") is not None:
        usage.completion_tokens_details.reasoning_tokens = int(details["reasoning_tokens"])
    return usage


def _failure(provider: str, err: Any) -> ProviderFailure:
    err = err if isinstance(err, Mapping) else {}
    code = str(err.get("code") or "server_error")
    kind = (
        ErrorKind.ERROR_KIND_BAD_REQUEST
        if code in _REQUEST_FAULTS
        else ErrorKind.ERROR_KIND_RATE_LIMIT
        if code == "rate_limit_exceeded"
        else ErrorKind.ERROR_KIND_BAD_GATEWAY
    )
    message = str(err.get("message") or "the response failed")
    return ProviderFailure(make_error(kind, f"{provider}: {message}", code=code, provider=provider))


def _finish(response: Mapping[str, Any], calls: bool) -> str:
    reason = (response.get("incomplete_details") or {}).get("reason")
    if reason == "max_output_tokens":
        return "length"
    if reason == "content_filter":
        return "content_filter"
    return "tool_calls" if calls else "stop"


def responses_completion(provider: str, raw: bytes) -> chat_pb2.ChatCompletion:
    """A Response object as the chat model sees it (its text, function calls, reasoning summary
    and usage), with the object itself as ``native_json``."""
    d = orjson.loads(raw)
    if not isinstance(d, Mapping):
        raise ValueError("the answer is not a Response object")
    if d.get("status") == "failed":
        raise _failure(provider, d.get("error"))
    c = chat_pb2.ChatCompletion(
        id=str(d.get("id") or ""), created=int(d.get("created_at") or now()), model=str(d.get("model") or "")
    )
    choice = c.choices.add(index=0)
    m = choice.message
    m.role = "assistant"
    texts, refusals, reasoning = [], [], []
    for item in d.get("output") or ():
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content") or ():
                if isinstance(part, Mapping) and part.get("type") == "output_text":
                    texts.append(str(part.get("text") or ""))
                elif isinstance(part, Mapping) and part.get("type") == "refusal":
                    refusals.append(str(part.get("refusal") or ""))
        elif kind == "function_call":
            tc = m.tool_calls.add(id=str(item.get("call_id") or ""), type="function")
            tc.function.name = str(item.get("name") or "")
            tc.function.arguments = str(item.get("arguments") or "")
        elif kind == "reasoning":
            reasoning += [str(s.get("text") or "") for s in item.get("summary") or () if isinstance(s, Mapping)]
    if texts or not m.tool_calls:
        m.text = "".join(texts)
    if refusals:
        m.refusal = "".join(refusals)
    if reasoning:
        m.reasoning_content = "\n\n".join(reasoning)
    choice.finish_reason = _finish(d, bool(m.tool_calls))
    if isinstance(d.get("usage"), Mapping):
        c.usage.CopyFrom(_responses_usage(d["usage"]))
    c.native_json = raw
    return c


class ResponsesStreamDecoder(StreamState):
    """A Responses event stream: each event passes on as it came (``native_json``), with what it
    adds to the answer in the chat model (text, refusal, reasoning, function calls), so output is
    counted and charged as in any stream; usage arrives with the final event."""

    __slots__ = ("_calls", "_created", "_id", "_model", "_provider")

    def __init__(self, provider: str) -> None:
        super().__init__()
        self._provider = provider
        self._id = ""
        self._model = ""
        self._created = now()
        # Function call item id → its index among the answer's tool calls.
        self._calls: dict[str, int] = {}

    def _chunk(self, raw: bytes) -> tuple[chat_pb2.ChatCompletionChunk, chat_pb2.ChunkChoice]:
        chunk = chat_pb2.ChatCompletionChunk(id=self._id, created=self._created, model=self._model, native_json=raw)
        return chunk, chunk.choices.add(index=0)

    def feed(self, frame: SseEvent) -> Iterable[chat_pb2.ChatCompletionChunk]:
        if not frame.data or frame.data == "[DONE]":
            return ()
        raw = frame.data.encode()
        event = orjson.loads(raw)
        kind = event.get("type") if isinstance(event, Mapping) else None
        if kind == "error":
            raise _failure(self._provider, event)
        response = event.get("response")
        if isinstance(response, Mapping):
            self._id = str(response.get("id") or self._id)
            self._model = str(response.get("model") or self._model)
            if kind == "response.failed":
                raise _failure(self._provider, response.get("error"))
        if kind in ("response.completed", "response.incomplete") and isinstance(response, Mapping):
            self._finished = True
            if isinstance(response.get("usage"), Mapping):
                self._usage = _responses_usage(response["usage"])
            chunk, choice = self._chunk(raw)
            choice.finish_reason = _finish(response, bool(self._calls))
            return (chunk,)
        chunk = chat_pb2.ChatCompletionChunk(id=self._id, created=self._created, model=self._model, native_json=raw)
        delta = str(event.get("delta") or "")
        if kind == "response.output_text.delta" and delta:
            chunk.choices.add(index=0).delta.content = delta
        elif kind == "response.refusal.delta" and delta:
            chunk.choices.add(index=0).delta.refusal = delta
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta") and delta:
            chunk.choices.add(index=0).delta.reasoning_content = delta
        elif kind == "response.output_item.added" and (event.get("item") or {}).get("type") == "function_call":
            item = event["item"]
            index = self._calls.setdefault(str(item.get("id") or len(self._calls)), len(self._calls))
            tc = chunk.choices.add(index=0).delta.tool_calls.add(index=index, type="function")
            tc.id = str(item.get("call_id") or "")
            tc.name = str(item.get("name") or "")
        elif kind == "response.function_call_arguments.delta" and delta:
            index = self._calls.get(str(event.get("item_id")), 0)
            chunk.choices.add(index=0).delta.tool_calls.add(index=index, arguments=delta)
        return (chunk,)


# --- legacy text completions -----------------------------------------------------------------------


def completions_body(req: chat_pb2.ChatCompletionRequest, model: str, stream: bool) -> dict[str, Any]:
    """The body for ``POST /completions``: the request's prompts (its messages) and parameters."""
    body = chat_request_to_json(req, model=model)
    prompts = [m.text for m in req.messages]
    del body["messages"]
    # Chat's logprobs is a flag; here it is the number of alternatives (text_completion.logprobs).
    body.pop("logprobs", None)
    body.pop("top_logprobs", None)
    body["prompt"] = prompts[0] if len(prompts) == 1 else prompts
    tc = req.text_completion
    if tc.echo:
        body["echo"] = True
    for key in ("suffix", "best_of", "logprobs"):
        if tc.HasField(key):
            body[key] = getattr(tc, key)
    if stream:
        body["stream"] = True
        body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
    else:
        body.pop("stream", None)
        body.pop("stream_options", None)
    return body


def _choice(ch: Mapping[str, Any], out: chat_pb2.Choice | chat_pb2.ChunkChoice) -> None:
    out.index = int(ch.get("index") or 0)
    out.finish_reason = str(ch.get("finish_reason") or "")
    if ch.get("logprobs") is not None:
        out.logprobs_json = orjson.dumps(ch["logprobs"])


def completions_completion(raw: bytes) -> chat_pb2.ChatCompletion:
    d = orjson.loads(raw)
    c = chat_pb2.ChatCompletion(
        id=str(d.get("id") or ""), created=int(d.get("created") or now()), model=str(d.get("model") or "")
    )
    if d.get("system_fingerprint"):
        c.system_fingerprint = str(d["system_fingerprint"])
    for ch in d.get("choices") or ():
        choice = c.choices.add()
        _choice(ch, choice)
        choice.message.role = "assistant"
        choice.message.text = str(ch.get("text") or "")
    if isinstance(d.get("usage"), Mapping):
        usage_from_json(d["usage"], c.usage)
    return c


class CompletionsStreamDecoder(StreamState):
    """A completions stream: each chunk's texts become chat deltas; usage comes in its own chunk."""

    __slots__ = ()

    def feed(self, frame: SseEvent) -> Iterable[chat_pb2.ChatCompletionChunk]:
        if frame.data == "[DONE]":
            self._finished = True
            return ()
        if not frame.data:
            return ()
        d = orjson.loads(frame.data)
        if "error" in d and "choices" not in d:
            raise _failure("openai", d["error"])
        if isinstance(d.get("usage"), Mapping):
            self._usage = usage_from_json(d["usage"], chat_pb2.Usage())
        if not d.get("choices"):
            return ()
        chunk = chat_pb2.ChatCompletionChunk(
            id=str(d.get("id") or ""), created=int(d.get("created") or now()), model=str(d.get("model") or "")
        )
        if d.get("system_fingerprint"):
            chunk.system_fingerprint = str(d["system_fingerprint"])
        for ch in d["choices"]:
            choice = chunk.choices.add()
            _choice(ch, choice)
            if ch.get("text"):
                choice.delta.content = str(ch["text"])
        return (chunk,)
