"""An OpenAI-compatible server (``/v1/chat/completions``, ``/v1/responses``, ``/v1/completions``,
``/v1/embeddings``, ``/v1/images/generations``, ``/v1/models``)
that answers instantly and deterministically, streams SSE exactly like OpenAI (chat: role chunk,
content chunks, finish chunk, optional usage chunk, ``[DONE]``; responses: the named events from
``response.created`` to ``response.completed``) and fails on command:

- model ``status-<code>`` (e.g. ``status-429``) always answers with that HTTP error;
- ``POST /__script`` ``{"model": m, "responses": [{"status": 500}, {"status": 200}]}`` queues
  outcomes for model ``m`` (then normal answers resume); a chat step may also say what to answer:
  ``"content"`` (the text), ``"chunks"`` (the text as the streamed content pieces) and
  ``"tool_calls"`` (``[{"name", "arguments"}]``; streamed arguments come in pieces of
  ``"argument_chunk"`` characters, 8 by default); a Responses step the same, plus ``"reasoning"``
  (the reasoning summary text);
- ``POST /__latency`` ``{"ms": 50}`` delays every answer; ``GET /__log`` returns recorded requests;
  ``POST /__reset`` clears scripts, latency and the log.

``python -m switchyard_fakes.openai_server --port 18080``."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import time
import uuid
from collections import defaultdict, deque
from typing import Any

import orjson
from aiohttp import web

REPLY = "Hello from the Switchyard fake upstream. This answer went through the whole gateway."
# A 1x1 PNG, the image a b64_json image generation returns.
_PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def _count_tokens(text: str) -> int:
    return max(1, len(text.split()))


def _prompt_text(messages: list[Any]) -> str:
    parts = []
    for m in messages:
        c = m.get("content") if isinstance(m, dict) else None
        if isinstance(c, str):
            parts.append(c)
        elif isinstance(c, list):
            parts.extend(p.get("text", "") for p in c if isinstance(p, dict))
    return " ".join(parts)


def _error(status: int, message: str, code: str | None = None) -> web.Response:
    typ = {401: "invalid_request_error", 429: "rate_limit_exceeded", 400: "invalid_request_error"}.get(
        status, "server_error"
    )
    headers = {"retry-after": "1"} if status == 429 else {}
    if status == 400 and "context" in message:
        code = "context_length_exceeded"
    body = {"error": {"message": message, "type": typ, "param": None, "code": code}}
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json", headers=headers)


# OpenAI's rate-limit headers, as it sends them with every chat answer.
RATE_LIMIT_HEADERS = {
    "x-ratelimit-limit-requests": "10000",
    "x-ratelimit-remaining-requests": "9999",
    "x-ratelimit-reset-requests": "6ms",
    "x-ratelimit-limit-tokens": "30000000",
    "x-ratelimit-remaining-tokens": "29999950",
    "x-ratelimit-reset-tokens": "0s",
}


class FakeOpenAI:
    def __init__(self) -> None:
        self.scripts: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        self.latency_ms = 0.0
        self.log: deque[dict[str, Any]] = deque(maxlen=1000)
        self.calls: dict[str, int] = defaultdict(int)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for prefix in ("/v1", ""):
            app.router.add_post(f"{prefix}/chat/completions", self.chat)
            app.router.add_post(f"{prefix}/responses", self.responses)
            app.router.add_post(f"{prefix}/completions", self.completions)
            app.router.add_post(f"{prefix}/embeddings", self.embeddings)
            app.router.add_post(f"{prefix}/images/generations", self.images)
            app.router.add_get(f"{prefix}/models", self.models)
        app.router.add_get("/health", self.health)
        app.router.add_post("/__script", self.script)
        app.router.add_post("/__latency", self.latency)
        app.router.add_get("/__log", self.get_log)
        app.router.add_post("/__reset", self.reset)
        return app

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def script(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.scripts[body["model"]].extend(body.get("responses", []))
        return web.json_response({"queued": len(self.scripts[body["model"]])})

    async def latency(self, request: web.Request) -> web.Response:
        self.latency_ms = float((await request.json()).get("ms", 0))
        return web.json_response({"ms": self.latency_ms})

    async def get_log(self, request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(list(self.log)), content_type="application/json")

    async def reset(self, request: web.Request) -> web.Response:
        self.scripts.clear()
        self.latency_ms = 0
        self.log.clear()
        self.calls.clear()
        return web.json_response({"reset": True})

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "object": "list",
                "data": [{"id": "switchyard-fake", "object": "model", "created": 1700000000, "owned_by": "switchyard"}],
            }
        )

    async def _planned_failure(self, model: str) -> web.Response | None:
        failure, _ = await self._planned(model)
        return failure

    async def _planned(self, model: str) -> tuple[web.Response | None, dict[str, Any]]:
        """A scripted failure, or None and the scripted step (empty when none is queued)."""
        self.calls[model] += 1
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        if model.startswith("status-"):
            status = int(model.split("-", 1)[1])
            return _error(status, f"fake upstream answers {status} for model {model}"), {}
        queue = self.scripts.get(model)
        if queue:
            step = queue.popleft()
            if step.get("delay_ms"):
                await asyncio.sleep(step["delay_ms"] / 1000)
            status = int(step.get("status", 200))
            if status >= 400:
                return _error(status, step.get("message", f"scripted failure {status}")), step
            return None, step
        return None, {}

    async def chat(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _error(400, "invalid JSON body")
        self.log.append(
            {"path": request.path, "headers": {str(k): v for k, v in request.headers.items()}, "body": body}
        )
        model = str(body.get("model", ""))
        if not model or not isinstance(body.get("messages"), list):
            return _error(400, "model and messages are required")
        failure, step = await self._planned(model)
        if failure is not None:
            return failure
        prompt_tokens = _count_tokens(_prompt_text(body["messages"]))
        pieces: list[str] | None = step.get("chunks")
        text = "".join(pieces) if pieces is not None else str(step.get("content", REPLY))
        scripted_calls: list[dict[str, str]] = step.get("tool_calls") or []
        completion_tokens = _count_tokens(text)
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        tools = body.get("tools") or []
        forced = body.get("tool_choice")
        call_tool = bool(tools) and (forced == "required" or isinstance(forced, dict))
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
            finish = "stop"
            if call_tool:
                name = forced["function"]["name"] if isinstance(forced, dict) else tools[0]["function"]["name"]
                message = {
                    "role": "assistant",
                    "content": None,
                    "refusal": None,
                    "annotations": [],
                    "tool_calls": [
                        {
                            "id": "call_fake_1",
                            "type": "function",
                            "function": {"name": name, "arguments": '{"value": 42}'},
                        }
                    ],
                }
                finish = "tool_calls"
            if scripted_calls:
                message["content"] = step.get("content")
                message["tool_calls"] = [
                    {"id": f"call_fake_{i}", "type": "function", "function": c} for i, c in enumerate(scripted_calls)
                ]
                finish = "tool_calls"
            out = {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
                "usage": usage,
                "service_tier": "default",
                "system_fingerprint": "fp_switchyard_fake",
            }
            return web.Response(body=orjson.dumps(out), content_type="application/json", headers=RATE_LIMIT_HEADERS)
        resp = web.StreamResponse(
            headers={"content-type": "text/event-stream", "cache-control": "no-cache", **RATE_LIMIT_HEADERS}
        )
        await resp.prepare(request)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        base = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": "fp_switchyard_fake",
        }

        async def send(obj: dict[str, Any]) -> None:
            if include_usage and "usage" not in obj:
                obj = {**obj, "usage": None}
            await resp.write(b"data: " + orjson.dumps(obj) + b"\n\n")

        await send(
            {
                **base,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": "", "refusal": None},
                        "logprobs": None,
                        "finish_reason": None,
                    }
                ],
            }
        )
        if pieces is None:
            words = text.split(" ")
            pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
        for piece in pieces:
            await send(
                {
                    **base,
                    "choices": [{"index": 0, "delta": {"content": piece}, "logprobs": None, "finish_reason": None}],
                }
            )
        size = int(step.get("argument_chunk", 8))
        for i, c in enumerate(scripted_calls):
            start = {
                "index": i,
                "id": f"call_fake_{i}",
                "type": "function",
                "function": {"name": c["name"], "arguments": ""},
            }
            await send({**base, "choices": [{"index": 0, "delta": {"tool_calls": [start]}, "finish_reason": None}]})
            args = c["arguments"]
            for at in range(0, len(args), size):
                delta = {"tool_calls": [{"index": i, "function": {"arguments": args[at : at + size]}}]}
                await send({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
        finish = "tool_calls" if scripted_calls else "stop"
        await send({**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": finish}]})
        if include_usage:
            await send({**base, "choices": [], "usage": usage})
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def _body(self, request: web.Request) -> dict[str, Any] | web.Response:
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return _error(400, "invalid JSON body")
        if not isinstance(body, dict):
            return _error(400, "the body must be a JSON object")
        self.log.append(
            {"path": request.path, "headers": {str(k): v for k, v in request.headers.items()}, "body": body}
        )
        return body

    # --- the Responses API ------------------------------------------------------------------------
    async def responses(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        model = str(body.get("model", ""))
        items = body.get("input")
        if not model or not isinstance(items, str | list):
            return _error(400, "model and input are required")
        if body.get("previous_response_id") is not None:
            return _error(400, "this fake stores nothing: previous_response_id is not supported")
        failure, step = await self._planned(model)
        if failure is not None:
            return failure
        output, text = _responses_output(body, step)
        prompt_tokens = _count_tokens(_input_text(items) + " " + str(body.get("instructions") or ""))
        output_tokens = _count_tokens(text) if text else 1
        reasoning_tokens = 5 if body.get("reasoning") else 0
        response: dict[str, Any] = {
            "id": f"resp_fake{uuid.uuid4().hex}",
            "object": "response",
            "created_at": int(time.time()),
            "status": "completed",
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "model": f"{model}-2025-01-01",
            "output": output,
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "previous_response_id": None,
            "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
            "store": body.get("store", True),
            "temperature": body.get("temperature", 1.0),
            "text": body.get("text") or {"format": {"type": "text"}},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools") or [],
            "top_p": body.get("top_p", 1.0),
            "truncation": "disabled",
            "usage": {
                "input_tokens": prompt_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": output_tokens + reasoning_tokens,
                "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
                "total_tokens": prompt_tokens + output_tokens + reasoning_tokens,
            },
            "user": body.get("user"),
            "metadata": body.get("metadata") or {},
        }
        if not body.get("stream"):
            return web.Response(
                body=orjson.dumps(response), content_type="application/json", headers=RATE_LIMIT_HEADERS
            )
        resp = web.StreamResponse(
            headers={"content-type": "text/event-stream", "cache-control": "no-cache", **RATE_LIMIT_HEADERS}
        )
        await resp.prepare(request)
        for event in _response_events(response, step):
            await resp.write(f"event: {event['type']}\n".encode() + b"data: " + orjson.dumps(event) + b"\n\n")
        await resp.write_eof()
        return resp

    # --- legacy completions -----------------------------------------------------------------------
    async def completions(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        model = str(body.get("model", ""))
        prompt = body.get("prompt")
        prompts = [prompt] if isinstance(prompt, str) else prompt
        if not model or not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
            return _error(400, "model and prompt are required")
        failure, step = await self._planned(model)
        if failure is not None:
            return failure
        n = int(body.get("n") or 1)
        reply = str(step.get("content", COMPLETION_REPLY))
        logprobs = body.get("logprobs")
        choices: list[dict[str, Any]] = []
        for p in prompts:
            for _ in range(n):
                text = (p if body.get("echo") else "") + reply
                choice: dict[str, Any] = {"text": text, "index": len(choices), "finish_reason": "stop"}
                choice["logprobs"] = _completion_logprobs(text, int(logprobs)) if logprobs is not None else None
                choices.append(choice)
        prompt_tokens = sum(_count_tokens(p) for p in prompts)
        completion_tokens = _count_tokens(reply) * len(choices)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        cid = f"cmpl-{uuid.uuid4().hex[:24]}"
        base = {"id": cid, "object": "text_completion", "created": int(time.time()), "model": model}
        if not body.get("stream"):
            out = {**base, "choices": choices, "usage": usage, "system_fingerprint": "fp_switchyard_fake"}
            return web.Response(body=orjson.dumps(out), content_type="application/json", headers=RATE_LIMIT_HEADERS)
        resp = web.StreamResponse(headers={"content-type": "text/event-stream", **RATE_LIMIT_HEADERS})
        await resp.prepare(request)
        for choice in choices:
            words = choice["text"].split(" ")
            for i, w in enumerate(words):
                piece = w if i == 0 else " " + w
                last = i == len(words) - 1
                chunk = {
                    "text": piece,
                    "index": choice["index"],
                    "logprobs": None,
                    "finish_reason": "stop" if last else None,
                }
                await resp.write(b"data: " + orjson.dumps({**base, "choices": [chunk]}) + b"\n\n")
        if (body.get("stream_options") or {}).get("include_usage"):
            await resp.write(b"data: " + orjson.dumps({**base, "choices": [], "usage": usage}) + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def embeddings(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        self.log.append(
            {"path": request.path, "headers": {str(k): v for k, v in request.headers.items()}, "body": body}
        )
        model = str(body.get("model", ""))
        failure = await self._planned_failure(model)
        if failure is not None:
            return failure
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else [str(x) for x in inputs or []]
        dims = int(body.get("dimensions") or 8)
        data = []
        for i, t in enumerate(texts):
            seed = hashlib.sha256(t.encode()).digest()
            vec = [round(math.sin(seed[j % 32] + j), 6) for j in range(dims)]
            data.append({"object": "embedding", "index": i, "embedding": vec})
        tokens = sum(_count_tokens(t) for t in texts)
        out = {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return web.Response(body=orjson.dumps(out), content_type="application/json")

    async def images(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        self.log.append(
            {"path": request.path, "headers": {str(k): v for k, v in request.headers.items()}, "body": body}
        )
        model = str(body.get("model", ""))
        failure = await self._planned_failure(model)
        if failure is not None:
            return failure
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            return _error(400, "prompt is required")
        n = int(body.get("n") or 1)
        if body.get("response_format") == "b64_json":
            item: dict[str, Any] = {"b64_json": _PNG_B64}
        else:
            item = {
                "url": f"https://fake-images.invalid/{hashlib.sha256(body['prompt'].encode()).hexdigest()[:16]}.png"
            }
        out: dict[str, Any] = {
            "created": int(time.time()),
            "data": [{**item, "revised_prompt": body["prompt"]} for _ in range(n)],
        }
        if model.startswith("gpt-image"):
            # gpt-image models report token usage; dall-e models do not.
            tokens = _count_tokens(body["prompt"])
            out["usage"] = {
                "input_tokens": tokens,
                "output_tokens": 1056 * n,
                "total_tokens": tokens + 1056 * n,
                "input_tokens_details": {"text_tokens": tokens, "image_tokens": 0},
            }
        return web.Response(body=orjson.dumps(out), content_type="application/json")


COMPLETION_REPLY = " and that is the fake completion."


def _input_text(items: str | list[Any]) -> str:
    if isinstance(items, str):
        return items
    parts = []
    for item in items:
        if not isinstance(item, dict):
            continue
        content = item.get("content", item.get("output"))
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return " ".join(parts)


def _responses_output(body: dict[str, Any], step: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The output items of a Responses answer (reasoning, then a message or function calls) and
    the text they hold."""
    output: list[dict[str, Any]] = []
    reasoning = body.get("reasoning") or {}
    if reasoning.get("effort") or step.get("reasoning"):
        item: dict[str, Any] = {"id": f"rs_fake{uuid.uuid4().hex[:16]}", "type": "reasoning", "summary": []}
        if reasoning.get("summary"):
            item["summary"] = [{"type": "summary_text", "text": str(step.get("reasoning", "Thinking it over."))}]
        if "reasoning.encrypted_content" in (body.get("include") or []):
            item["encrypted_content"] = "fake-openai-encrypted-reasoning"
        output.append(item)
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") == "function"]
    forced = body.get("tool_choice")
    calls: list[dict[str, Any]] = list(step.get("tool_calls") or [])
    if not calls and tools and (forced == "required" or isinstance(forced, dict)):
        name = forced["name"] if isinstance(forced, dict) else tools[0]["name"]
        calls = [{"name": name, "arguments": '{"value": 42}'}]
    if calls:
        for i, c in enumerate(calls):
            output.append(
                {
                    "id": f"fc_fake{i}{uuid.uuid4().hex[:12]}",
                    "type": "function_call",
                    "status": "completed",
                    "call_id": f"call_fake_{i}",
                    "name": c["name"],
                    "arguments": c["arguments"],
                }
            )
        return output, " ".join(c["arguments"] for c in calls)
    fmt = (body.get("text") or {}).get("format") or {}
    text = str(step.get("content", '{"answer": 42}' if fmt.get("type") == "json_schema" else REPLY))
    content = [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]
    output.append(
        {
            "id": f"msg_fake{uuid.uuid4().hex[:16]}",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": content,
        }
    )
    return output, text


def _response_events(response: dict[str, Any], step: dict[str, Any]) -> list[dict[str, Any]]:
    """A Response as OpenAI streams it: the lifecycle events around each item's events."""
    events: list[dict[str, Any]] = []

    def add(kind: str, **fields: Any) -> None:
        events.append({"type": kind, "sequence_number": len(events), **fields})

    started = {**response, "status": "in_progress", "output": [], "usage": None}
    add("response.created", response=started)
    add("response.in_progress", response=started)
    size = int(step.get("argument_chunk", 8))
    for index, item in enumerate(response["output"]):
        at = {"item_id": item["id"], "output_index": index}
        if item["type"] == "message":
            add("response.output_item.added", output_index=index, item={**item, "status": "in_progress", "content": []})
            part = item["content"][0]
            add("response.content_part.added", content_index=0, part={**part, "text": ""}, **at)
            words = part["text"].split(" ")
            for i, w in enumerate(words):
                add("response.output_text.delta", content_index=0, delta=w if i == 0 else " " + w, logprobs=[], **at)
            add("response.output_text.done", content_index=0, text=part["text"], logprobs=[], **at)
            add("response.content_part.done", content_index=0, part=part, **at)
        elif item["type"] == "function_call":
            add(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "arguments": ""},
            )
            args = item["arguments"]
            for at_char in range(0, len(args), size):
                add("response.function_call_arguments.delta", delta=args[at_char : at_char + size], **at)
            add("response.function_call_arguments.done", arguments=args, **at)
        else:
            add("response.output_item.added", output_index=index, item={**item, "summary": []})
            for si, summary in enumerate(item["summary"]):
                add("response.reasoning_summary_part.added", summary_index=si, part={**summary, "text": ""}, **at)
                add("response.reasoning_summary_text.delta", summary_index=si, delta=summary["text"], **at)
                add("response.reasoning_summary_text.done", summary_index=si, text=summary["text"], **at)
                add("response.reasoning_summary_part.done", summary_index=si, part=summary, **at)
        add("response.output_item.done", output_index=index, item=item)
    add("response.completed", response=response)
    return events


def _completion_logprobs(text: str, top: int) -> dict[str, Any]:
    tokens = [w if i == 0 else " " + w for i, w in enumerate(text.split(" "))]
    offsets, at = [], 0
    for t in tokens:
        offsets.append(at)
        at += len(t)
    return {
        "tokens": tokens,
        "token_logprobs": [-0.1] * len(tokens),
        "top_logprobs": [{t: -0.1} for t in tokens] if top else None,
        "text_offset": offsets,
    }


def create_app() -> web.Application:
    return FakeOpenAI().app()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18080)
    args = parser.parse_args()
    web.run_app(FakeOpenAI().app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
