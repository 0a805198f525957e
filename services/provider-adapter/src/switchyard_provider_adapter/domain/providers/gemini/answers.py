"""Gemini answers → OpenAI completions and chunks. Each streamed SSE event is a whole
``GenerateContentResponse`` whose parts are the new pieces."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_llm.errors import make_error
from switchyard_provider_adapter.domain.errors import ProviderFailure, provider_error
from switchyard_provider_adapter.domain.framing import SseEvent
from switchyard_provider_adapter.domain.providers.base import CallContext
from switchyard_provider_adapter.domain.providers.common.answers import (
    StreamState,
    completion_id,
    new_tool_call_id,
    now,
)
from switchyard_provider_adapter.domain.providers.gemini.request import THOUGHT_SEPARATOR

# Gemini finish reasons that mean a safety or policy filter stopped the answer.
_FILTERED = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
    }
)

# reasoning_effort → thinking budget of Gemini 2.5 models (LiteLLM's mapping); Gemini 3 models


def map_finish(reason: str, has_tool_calls: bool) -> str:
    if has_tool_calls and reason in ("STOP", ""):
        return "tool_calls"
    if reason == "MAX_TOKENS":
        return "length"
    if reason in _FILTERED:
        return "content_filter"
    return "stop" if reason else ""


def usage_from_metadata(meta: Mapping[str, Any]) -> chat_pb2.Usage:
    """usageMetadata → OpenAI usage. promptTokenCount already includes cached content;
    candidatesTokenCount leaves out thoughts, which OpenAI counts inside completion_tokens;
    tool-use prompt tokens (e.g. search results fed back to the model) are billed as input."""
    prompt = int(meta.get("promptTokenCount") or 0) + int(meta.get("toolUsePromptTokenCount") or 0)
    candidates = int(meta.get("candidatesTokenCount") or 0)
    thoughts = int(meta.get("thoughtsTokenCount") or 0)
    u = chat_pb2.Usage(prompt_tokens=prompt, completion_tokens=candidates + thoughts)
    u.total_tokens = u.prompt_tokens + u.completion_tokens
    cached = int(meta.get("cachedContentTokenCount") or 0)
    if cached:
        u.prompt_tokens_details.cached_tokens = cached
    for item in meta.get("promptTokensDetails") or ():
        modality = str(item.get("modality") or "").upper()
        field = {"TEXT": "text_tokens", "IMAGE": "image_tokens", "AUDIO": "audio_tokens"}.get(modality)
        if field:
            setattr(u.prompt_tokens_details, field, int(item.get("tokenCount") or 0))
    if thoughts:
        u.completion_tokens_details.reasoning_tokens = thoughts
    return u


def _logprobs(result: Mapping[str, Any]) -> dict[str, Any]:
    tops = result.get("topCandidates") or []
    content = []
    for i, chosen in enumerate(result.get("chosenCandidates") or ()):
        token = str(chosen.get("token", ""))
        alternatives = tops[i].get("candidates") or [] if i < len(tops) else []
        content.append(
            {
                "token": token,
                "logprob": float(chosen.get("logProbability", 0.0)),
                "bytes": list(token.encode()),
                "top_logprobs": [
                    {
                        "token": str(c.get("token", "")),
                        "logprob": float(c.get("logProbability", 0.0)),
                        "bytes": list(str(c.get("token", "")).encode()),
                    }
                    for c in alternatives
                ],
            }
        )
    return {"content": content, "refusal": None}


def _blocked(provider: str, feedback: Mapping[str, Any]) -> ProviderFailure:
    reason = str(feedback.get("blockReason"))
    detail = feedback.get("blockReasonMessage")
    message = f"{provider}: the prompt was blocked by Gemini's safety system ({reason})"
    if detail:
        message += f": {detail}"
    return ProviderFailure(
        make_error(
            ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION,
            message,
            code="content_policy_violation",
            provider=provider,
            details_json=orjson.dumps({"promptFeedback": feedback}),
        )
    )


def _tool_call_id(call: Mapping[str, Any], signature: str | None) -> str:
    base = str(call.get("id") or new_tool_call_id())
    return f"{base}{THOUGHT_SEPARATOR}{signature}" if signature else base


def _tool_call_extra(signature: str | None) -> bytes:
    return orjson.dumps({"provider_specific_fields": {"thought_signature": signature}}) if signature else b""


_CANDIDATE_METADATA = (
    ("groundingMetadata", "vertex_ai_grounding_metadata"),
    ("urlContextMetadata", "vertex_ai_url_context_metadata"),
    ("safetyRatings", "vertex_ai_safety_results"),
    ("citationMetadata", "vertex_ai_citation_metadata"),
)


def _metadata(candidates: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Candidate metadata OpenAI has no field for, under the keys LiteLLM uses."""
    out: dict[str, Any] = {}
    for native, key in _CANDIDATE_METADATA:
        values = [c[native] for c in candidates if c.get(native)]
        if values:
            out[key] = values
    return out


def parse_completion(provider: str, ctx: CallContext, data: Mapping[str, Any]) -> chat_pb2.ChatCompletion:
    candidates = list(data.get("candidates") or ())
    feedback = data.get("promptFeedback") or {}
    if not candidates and feedback.get("blockReason"):
        raise _blocked(provider, feedback)
    out = chat_pb2.ChatCompletion(
        id=f"chatcmpl-{data['responseId']}" if data.get("responseId") else completion_id(),
        created=now(),
        model=str(data.get("modelVersion") or ctx.model),
    )
    for i, cand in enumerate(candidates):
        choice = out.choices.add(index=int(cand.get("index", i)))
        msg = choice.message
        msg.role = "assistant"
        texts: list[str] = []
        thoughts: list[str] = []
        others: list[Any] = []
        text_signatures: list[str] = []
        for part in (cand.get("content") or {}).get("parts") or ():
            sig = part.get("thoughtSignature")
            if "functionCall" in part:
                call = part["functionCall"]
                tc = msg.tool_calls.add(id=_tool_call_id(call, sig), type="function")
                tc.function.name = str(call.get("name", ""))
                tc.function.arguments = orjson.dumps(call.get("args") or {}).decode()
                tc.extra_json = _tool_call_extra(sig)
            elif part.get("thought") and "text" in part:
                thoughts.append(str(part["text"]))
            elif "text" in part:
                texts.append(str(part["text"]))
                if sig:
                    text_signatures.append(str(sig))
            else:
                others.append(part)
        if texts or not msg.tool_calls:
            msg.text = "".join(texts)
        if thoughts:
            msg.reasoning_content = "".join(thoughts)
        psf: dict[str, Any] = {}
        if text_signatures:
            psf["thought_signatures"] = text_signatures
        if others:
            psf["parts"] = others
        if psf:
            msg.extra_json = orjson.dumps({"provider_specific_fields": psf})
        reason = str(cand.get("finishReason") or "")
        choice.finish_reason = map_finish(reason, bool(msg.tool_calls)) or "stop"
        if reason not in ("STOP", "MAX_TOKENS", ""):
            choice.extra_json = orjson.dumps({"provider_specific_fields": {"finish_reason": reason}})
        if cand.get("logprobsResult"):
            choice.logprobs_json = orjson.dumps(_logprobs(cand["logprobsResult"]))
    if isinstance(data.get("usageMetadata"), Mapping):
        out.usage.CopyFrom(usage_from_metadata(data["usageMetadata"]))
    extra = _metadata(candidates)
    if feedback:
        extra["vertex_ai_prompt_feedback"] = feedback
    if extra:
        out.extra_json = orjson.dumps(extra)
    return out


class GeminiStreamDecoder(StreamState):
    """Each SSE event is a GenerateContentResponse with the new parts of each candidate. The
    stream has no terminator event, so it is never ``finished``: it ends with the body (the last
    event carries the final usage, so nothing may cut it short)."""

    def __init__(self, provider: str, ctx: CallContext) -> None:
        super().__init__()
        self._provider = provider
        self._model = ctx.model
        self._id = ""
        self._created = now()
        self._started: set[int] = set()
        self._tool_counts: dict[int, int] = {}

    def feed(self, frame: SseEvent) -> Iterable[chat_pb2.ChatCompletionChunk]:
        if not frame.data:
            return ()
        data = orjson.loads(frame.data)
        if isinstance(data, list):
            data = data[0] if data else {}
        if "error" in data and "candidates" not in data:
            err = data["error"] if isinstance(data["error"], Mapping) else {}
            status = int(err.get("code") or 500)
            raise ProviderFailure(provider_error(self._provider, status, {}, frame.data.encode()))
        if isinstance(data.get("usageMetadata"), Mapping):
            self._usage = usage_from_metadata(data["usageMetadata"])
        candidates = list(data.get("candidates") or ())
        feedback = data.get("promptFeedback") or {}
        if not candidates and feedback.get("blockReason"):
            raise _blocked(self._provider, feedback)
        if not self._id:
            self._id = f"chatcmpl-{data['responseId']}" if data.get("responseId") else completion_id()
        if not candidates:
            return ()
        chunk = chat_pb2.ChatCompletionChunk(
            id=self._id, created=self._created, model=str(data.get("modelVersion") or self._model)
        )
        for i, cand in enumerate(candidates):
            index = int(cand.get("index", i))
            ch = chunk.choices.add(index=index)
            d = ch.delta
            if index not in self._started:
                self._started.add(index)
                d.role = "assistant"
            texts: list[str] = []
            thoughts: list[str] = []
            for part in (cand.get("content") or {}).get("parts") or ():
                sig = part.get("thoughtSignature")
                if "functionCall" in part:
                    call = part["functionCall"]
                    n = self._tool_counts.get(index, 0)
                    self._tool_counts[index] = n + 1
                    t = d.tool_calls.add(index=n, id=_tool_call_id(call, sig), type="function")
                    t.name = str(call.get("name", ""))
                    t.arguments = orjson.dumps(call.get("args") or {}).decode()
                    t.extra_json = _tool_call_extra(sig)
                elif part.get("thought") and "text" in part:
                    thoughts.append(str(part["text"]))
                elif "text" in part:
                    texts.append(str(part["text"]))
            if texts:
                d.content = "".join(texts)
            if thoughts:
                d.reasoning_content = "".join(thoughts)
            reason = str(cand.get("finishReason") or "")
            if reason:
                ch.finish_reason = map_finish(reason, self._tool_counts.get(index, 0) > 0)
                if reason not in ("STOP", "MAX_TOKENS"):
                    ch.extra_json = orjson.dumps({"provider_specific_fields": {"finish_reason": reason}})
            if cand.get("logprobsResult"):
                ch.logprobs_json = orjson.dumps(_logprobs(cand["logprobsResult"]))
        extra = _metadata(candidates)
        if extra:
            chunk.extra_json = orjson.dumps(extra)
        return (chunk,)
