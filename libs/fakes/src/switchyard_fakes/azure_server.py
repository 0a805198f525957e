"""A fake Azure OpenAI resource plus a fake Microsoft Entra ID token endpoint.

- ``POST /openai/deployments/{deployment}/{chat/completions|embeddings|images/generations}
  ?api-version=...`` and the version-less ``/openai/v1/...`` API (deployment in ``model``);
- ``api-key`` header or ``Authorization: Bearer <token>`` (a token this fake issued, or the
  configured Entra token); a wrong key gets Azure's 401 body, a missing ``api-version`` its 404;
- answers name the base model (``gpt-4o-2024-08-06``) like Azure does, carry
  ``prompt_filter_results``/``content_filter_results``, and streams start with Azure's id-less
  prompt-filter chunk;
- ``POST /{tenant}/oauth2/v2.0/token`` (client-credentials grant) issues tokens for the
  configured client, else answers ``invalid_client`` like Entra ID.

Requests are recorded and replies can be scripted per deployment (``switchyard_fakes.base``).
``python -m switchyard_fakes.azure_server --port 18186``."""

from __future__ import annotations

import argparse
import hashlib
import itertools
import math
import time
from typing import Any
from urllib.parse import parse_qs

import orjson
from aiohttp import web

from switchyard_fakes.base import STATE, Reply, new_state_app, record, send, sse

DEFAULT_API_KEY = "azure-fake-key-0123456789"
DEFAULT_AD_TOKEN = "azure-fake-entra-token-0123456789"
DEFAULT_CLIENT_ID = "00000000-0000-0000-0000-00000000c11e"
DEFAULT_CLIENT_SECRET = "azure-fake-client-secret-0123456789"
BASE_MODEL = "gpt-4o-2024-08-06"
REPLY = "Hello from the fake Azure OpenAI resource. This answer went through the whole gateway."

_FILTER_OK = {
    "hate": {"filtered": False, "severity": "safe"},
    "self_harm": {"filtered": False, "severity": "safe"},
    "sexual": {"filtered": False, "severity": "safe"},
    "violence": {"filtered": False, "severity": "safe"},
}
_ids = itertools.count(1)


def azure_error(status: int, code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def unauthorized() -> Reply:
    return Reply(
        status=401,
        body=azure_error(
            401,
            "401",
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid "
            "key for an active subscription and use a correct regional API endpoint for your resource.",
        ),
    )


def content_filter_error() -> Reply:
    """Azure's answer when the prompt trips the content filter."""
    return Reply(
        status=400,
        body={
            "error": {
                "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management "
                "policy. Please modify your prompt and retry.",
                "type": None,
                "param": "prompt",
                "code": "content_filter",
                "status": 400,
                "innererror": {
                    "code": "ResponsibleAIPolicyViolation",
                    "content_filter_result": {**_FILTER_OK, "violence": {"filtered": True, "severity": "medium"}},
                },
            }
        },
    )


def usage(p: int, c: int, cached: int = 0) -> dict[str, Any]:
    return {
        "prompt_tokens": p,
        "completion_tokens": c,
        "total_tokens": p + c,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def completion(message: dict[str, Any], finish: str, u: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-AZ{next(_ids):010d}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": BASE_MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"refusal": None, "annotations": [], **message},
                "logprobs": None,
                "finish_reason": finish,
                "content_filter_results": _FILTER_OK,
            }
        ],
        "usage": u,
        "system_fingerprint": "fp_azure",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": _FILTER_OK}],
    }


def stream_frames(deltas: list[dict[str, Any]], finish: str, u: dict[str, Any] | None) -> list[bytes]:
    """Azure's stream: the id-less prompt-filter chunk, then OpenAI-shaped chunks (with content
    filter results), the finish chunk, the usage chunk when asked, ``[DONE]``."""
    cid = f"chatcmpl-AZ{next(_ids):010d}"
    base = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": BASE_MODEL}
    events: list[Any] = [
        {
            "choices": [],
            "created": 0,
            "id": "",
            "model": "",
            "object": "",
            "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}],
        }
    ]
    events += [
        {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": d,
                    "logprobs": None,
                    "finish_reason": None,
                    "content_filter_results": _FILTER_OK if "content" in d else {},
                }
            ],
            "system_fingerprint": "fp_azure",
        }
        for d in deltas
    ]
    events.append(
        {
            **base,
            "choices": [
                {"index": 0, "delta": {}, "logprobs": None, "finish_reason": finish, "content_filter_results": {}}
            ],
        }
    )
    if u is not None:
        events.append({**base, "choices": [], "usage": u})
    return sse(*events, done=True)


def _embedding(text: str, dims: int) -> list[float]:
    seed = hashlib.sha256(text.encode()).digest()
    return [round(math.sin(seed[j % 32] + j), 6) for j in range(dims)]


def _default(operation: str, body: dict[str, Any]) -> Reply:
    if operation == "embeddings":
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else [str(x) for x in inputs or []]
        dims = int(body.get("dimensions") or 8)
        tokens = sum(max(1, len(t.split())) for t in texts)
        return Reply(
            body={
                "object": "list",
                "data": [
                    {"object": "embedding", "index": i, "embedding": _embedding(t, dims)} for i, t in enumerate(texts)
                ],
                "model": "text-embedding-3-small",
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )
    if operation == "images/generations":
        n = int(body.get("n") or 1)
        item: dict[str, Any] = (
            {
                "b64_json": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
            }
            if body.get("response_format") == "b64_json"
            else {"url": "https://fake.blob.core.windows.net/images/generated.png"}
        )
        return Reply(
            body={
                "created": int(time.time()),
                "data": [
                    {**item, "revised_prompt": str(body.get("prompt", "")), "content_filter_results": _FILTER_OK}
                    for _ in range(n)
                ],
            }
        )
    contents = [m.get("content") for m in body.get("messages") or [] if isinstance(m, dict)]
    prompt = " ".join(c for c in contents if isinstance(c, str))
    p = max(1, len(prompt.split()))
    words = REPLY.split(" ")
    if body.get("stream"):
        include = bool((body.get("stream_options") or {}).get("include_usage"))
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": "", "refusal": None}]
        deltas += [{"content": w if i == 0 else " " + w} for i, w in enumerate(words)]
        return Reply(
            frames=stream_frames(deltas, "stop", usage(p, len(words)) if include else None),
            content_type="text/event-stream",
        )
    return Reply(body=completion({"role": "assistant", "content": REPLY}, "stop", usage(p, len(words))))


def create_app(
    api_key: str = DEFAULT_API_KEY,
    ad_token: str = DEFAULT_AD_TOKEN,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
) -> web.Application:
    app = new_state_app()
    issued: set[str] = {ad_token}

    def authorized(request: web.Request) -> bool:
        if request.headers.get("api-key"):
            return request.headers["api-key"] == api_key
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token in issued

    async def operation(request: web.Request, deployment: str, op: str) -> web.StreamResponse:
        rec = await record(request)
        # Deployment URLs need a dated api-version; the v1 API needs none.
        if deployment and "api-version" not in request.query:
            return await send(request, Reply(status=404, body=azure_error(404, "404", "Resource not found")))
        if not authorized(request):
            return await send(request, unauthorized())
        try:
            body = rec.json()
        except orjson.JSONDecodeError:
            return await send(request, Reply(status=400, body=azure_error(400, "BadRequest", "Invalid JSON body")))
        if not isinstance(body, dict):
            return await send(request, Reply(status=400, body=azure_error(400, "BadRequest", "Body must be an object")))
        reply = request.app[STATE].next_reply(deployment or str(body.get("model", ""))) or _default(op, body)
        return await send(request, reply)

    async def deployment_op(request: web.Request) -> web.StreamResponse:
        return await operation(request, request.match_info["deployment"], request.match_info["op"])

    async def v1_op(request: web.Request) -> web.StreamResponse:
        return await operation(request, "", request.match_info["op"])

    async def token(request: web.Request) -> web.Response:
        rec = await record(request)
        form = {k: v[0] for k, v in parse_qs(rec.body.decode()).items()}
        if form.get("grant_type") != "client_credentials" or not form.get("scope"):
            return web.json_response(
                {
                    "error": "invalid_request",
                    "error_description": "AADSTS900144: The request body must contain grant_type and scope.",
                },
                status=400,
            )
        if form.get("client_id") != client_id or form.get("client_secret") != client_secret:
            return web.json_response(
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent "
                    "in the request is the client secret value, not the client secret ID.",
                    "error_codes": [7000215],
                },
                status=401,
            )
        value = f"fake-entra-{next(_ids)}-{request.match_info['tenant']}"
        issued.add(value)
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": value}
        )

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    for op in ("chat/completions", "embeddings", "images/generations"):
        app.router.add_post(f"/openai/deployments/{{deployment}}/{{op:{op}}}", deployment_op)
        app.router.add_post(f"/openai/v1/{{op:{op}}}", v1_op)
    app.router.add_post("/{tenant}/oauth2/v2.0/token", token)
    app.router.add_get("/health", health)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18186)
    args = parser.parse_args()
    web.run_app(create_app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
