"""A fake Google Gemini upstream: the Gemini API of AI Studio and Gemini on Vertex AI, plus the
OAuth2 token endpoint Vertex credentials are exchanged at.

- AI Studio: ``POST /{v1beta|v1|v1alpha}/models/{model}:{generateContent|streamGenerateContent|
  embedContent|batchEmbedContents}``, authenticated by ``x-goog-api-key`` (or ``?key=``). A missing
  key gets Google's 403 PERMISSION_DENIED, a wrong one its 400 API_KEY_INVALID.
- Vertex: ``POST /{v1|v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{model}:{action}``
  (also ``.../endpoints/{id}:{action}`` and ``:predict`` for embeddings), authenticated by an OAuth2
  bearer token this fake issued and that has not expired; anything else gets 401 UNAUTHENTICATED.
- ``POST /token``: the JWT-bearer grant (RFC 7523) for service accounts registered with
  ``register_service_account`` (or ``POST /__service_account {"client_email", "public_key"}``):
  the assertion's RS256 signature, issuer, audience (this endpoint's URL), scope and lifetime are
  checked like Google does; errors are Google's ``{"error": "invalid_grant", ...}`` bodies.
  The refresh-token grant is answered for registered refresh tokens.
- ``streamGenerateContent?alt=sse`` streams ``data: <GenerateContentResponse>\\r\\n\\r\\n`` events.

Every request is recorded; scripted replies (tests, or ``POST /__script``) take precedence over
the default answer: a short text (streamed word by word), a function call when the request forces
one (``toolConfig`` mode ANY), JSON when it asks for JSON, deterministic vectors for embeddings."""

from __future__ import annotations

import argparse
import hashlib
import math
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import exceptions as google_exceptions
from google.auth import jwt

from switchyard_fakes.base import STATE, Recorded, Reply, new_state_app, record, send
from switchyard_fakes.control import add_control_routes

REPLY = "Hello from the Switchyard fake Gemini. This answer went through the whole gateway."
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


@dataclass
class GeminiAuth:
    """Credentials the fake accepts."""

    # AI Studio key; None accepts any non-empty key.
    api_key: str | None = None
    # client_email → PEM public key of registered service accounts.
    service_accounts: dict[str, str] = field(default_factory=dict)
    # refresh_token → client_id of registered authorized-user credentials.
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    # Issued access token → expiry (unix seconds).
    issued: dict[str, float] = field(default_factory=dict)
    token_lifetime: int = 3599
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def register_service_account(self, client_email: str, public_key_pem: str) -> None:
        self.service_accounts[client_email] = public_key_pem

    def revoke_all(self) -> None:
        self.issued.clear()


AUTH = web.AppKey("gemini_auth", GeminiAuth)


def make_service_account(
    token_uri: str, project_id: str = "fake-project", client_email: str = "gateway@fake-project.iam.gserviceaccount.com"
) -> tuple[dict[str, str], str]:
    """A service-account key file (as the Cloud console issues it) with a fresh RSA key, and the
    PEM public key to register with this fake."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    info = {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": private_pem,
        "client_email": client_email,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    }
    return info, public_pem


def google_error(status: int, state: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": status, "message": message, "status": state}
    if details:
        err["details"] = details
    return {"error": err}


def error_reply(status: int, state: str, message: str, details: list[Any] | None = None) -> Reply:
    return Reply(status=status, body=google_error(status, state, message, details))


def _words(text: str) -> int:
    return max(1, len(text.split())) if text else 0


def _prompt_tokens(body: dict[str, Any]) -> int:
    texts = []
    for c in body.get("contents") or ():
        for p in c.get("parts") or ():
            if isinstance(p, dict) and isinstance(p.get("text"), str):
                texts.append(p["text"])
    return _words(" ".join(texts))


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "promptTokenCount": prompt,
        "candidatesTokenCount": completion,
        "totalTokenCount": prompt + completion,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }


def response(
    parts: list[dict[str, Any]], finish: str | None, usage: dict[str, Any] | None, model: str
) -> dict[str, Any]:
    cand: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        cand["finishReason"] = finish
    out: dict[str, Any] = {"candidates": [cand], "modelVersion": model, "responseId": "fake-gemini-response"}
    if usage is not None:
        out["usageMetadata"] = usage
    return out


def sse_frames(*events: dict[str, Any]) -> list[bytes]:
    """Gemini's SSE framing: one `data:` line per GenerateContentResponse, CRLF line ends."""
    return [b"data: " + orjson.dumps(e) + b"\r\n\r\n" for e in events]


def _vector(text: str, dims: int) -> list[float]:
    seed = hashlib.sha256(text.encode()).digest()
    return [round(math.sin(seed[j % 32] + j), 6) for j in range(dims)]


def default_reply(action: str, body: dict[str, Any], model: str) -> Reply:
    if action in ("embedContent", "batchEmbedContents", "predict"):
        return _embeddings(action, body)
    prompt = _prompt_tokens(body)
    mode = ((body.get("toolConfig") or {}).get("functionCallingConfig") or {}).get("mode")
    declarations = [d for t in body.get("tools") or () for d in t.get("functionDeclarations") or ()]
    gc = body.get("generationConfig") or {}
    if mode == "ANY" and declarations:
        allowed = ((body.get("toolConfig") or {}).get("functionCallingConfig") or {}).get("allowedFunctionNames")
        name = allowed[0] if allowed else declarations[0]["name"]
        parts: list[dict[str, Any]] = [{"functionCall": {"name": name, "args": {"value": 42}}}]
        text = ""
    else:
        text = '{"answer": "42"}' if gc.get("responseMimeType") == "application/json" else REPLY
        parts = [{"text": text}]
    completion = _words(text) or 5
    if action == "streamGenerateContent":
        if not text:
            return Reply(
                frames=sse_frames(response(parts, "STOP", _usage(prompt, completion), model)),
                content_type="text/event-stream",
            )
        words = text.split(" ")
        events = [
            response([{"text": w if i == 0 else " " + w}], None, _usage(prompt, 0), model) for i, w in enumerate(words)
        ]
        events[-1]["candidates"][0]["finishReason"] = "STOP"
        events[-1]["usageMetadata"] = _usage(prompt, completion)
        return Reply(frames=sse_frames(*events), content_type="text/event-stream")
    return Reply(body=response(parts, "STOP", _usage(prompt, completion), model))


def _embeddings(action: str, body: dict[str, Any]) -> Reply:
    if action == "predict":
        dims = int((body.get("parameters") or {}).get("outputDimensionality") or 8)
        preds = []
        chars = 0
        for inst in body.get("instances") or ():
            text = str(inst.get("content", ""))
            chars += len(text)
            preds.append(
                {
                    "embeddings": {
                        "values": _vector(text, dims),
                        "statistics": {"token_count": _words(text), "truncated": False},
                    }
                }
            )
        return Reply(body={"predictions": preds, "metadata": {"billableCharacterCount": chars}})

    def one(req: dict[str, Any]) -> dict[str, Any]:
        text = " ".join(p.get("text", "") for p in (req.get("content") or {}).get("parts") or ())
        return {"values": _vector(text, int(req.get("outputDimensionality") or 8))}

    if action == "embedContent":
        return Reply(body={"embedding": one(body)})
    return Reply(body={"embeddings": [one(r) for r in body.get("requests") or ()]})


# --- auth -----------------------------------------------------------------------------------


def _ai_studio_auth(request: web.Request) -> Reply | None:
    auth = request.app[AUTH]
    key = request.headers.get("x-goog-api-key") or request.query.get("key")
    if not key:
        return error_reply(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). "
            "Please use API Key or other form of API consumer identity to call this API.",
        )
    if auth.api_key is not None and key != auth.api_key:
        return error_reply(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ],
        )
    return None


def _vertex_auth(request: web.Request) -> Reply | None:
    auth = request.app[AUTH]
    header = request.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else ""
    expiry = auth.issued.get(token)
    if expiry is None or expiry < time.time():
        return error_reply(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
            "or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project.",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "ACCESS_TOKEN_EXPIRED" if expiry is not None else "CREDENTIALS_MISSING",
                    "domain": "googleapis.com",
                    "metadata": {
                        "service": "aiplatform.googleapis.com",
                        "method": "google.cloud.aiplatform.v1.PredictionService.GenerateContent",
                    },
                }
            ],
        )
    return None


def _grant_error(description: str, error: str = "invalid_grant") -> web.Response:
    return web.Response(
        status=400,
        body=orjson.dumps({"error": error, "error_description": description}),
        content_type="application/json",
    )


async def token_endpoint(request: web.Request) -> web.Response:
    auth = request.app[AUTH]
    form = {k: v[0] for k, v in parse_qs((await request.read()).decode()).items()}
    auth.token_requests.append(form)
    grant = form.get("grant_type")
    if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
        assertion = form.get("assertion", "")
        try:
            claims = jwt.decode(assertion, verify=False)
        except (ValueError, google_exceptions.GoogleAuthError):
            return _grant_error(
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."
            )
        issuer = str(claims.get("iss", ""))
        public_key = auth.service_accounts.get(issuer)
        if public_key is None:
            return _grant_error("Invalid grant: account not found")
        audience = f"{request.scheme}://{request.host}{request.path}"
        try:
            claims = jwt.decode(assertion, certs=public_key, audience=audience)
        except ValueError as exc:
            if "audience" in str(exc).lower():
                return _grant_error("Invalid JWT: Failed audience check.")
            if "signature" in str(exc).lower():
                return _grant_error("Invalid JWT Signature.")
            return _grant_error(
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
                "Check your iat and exp values in the JWT claim."
            )
        if int(claims.get("exp", 0)) - int(claims.get("iat", 0)) > 3600:
            return _grant_error(
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."
            )
        if CLOUD_PLATFORM not in str(claims.get("scope", "")).split():
            return _grant_error("Invalid OAuth scope or ID token audience provided.", "invalid_scope")
    elif grant == "refresh_token":
        if auth.refresh_tokens.get(form.get("refresh_token", "")) != form.get("client_id"):
            return _grant_error("Bad Request")
    else:
        return _grant_error(f"Invalid grant_type: {grant}", "unsupported_grant_type")
    token = "ya29.fake-" + secrets.token_urlsafe(24)
    auth.issued[token] = time.time() + auth.token_lifetime
    body = {"access_token": token, "expires_in": auth.token_lifetime, "token_type": "Bearer"}
    return web.Response(body=orjson.dumps(body), content_type="application/json")


async def register_service_account(request: web.Request) -> web.Response:
    spec = await request.json()
    request.app[AUTH].register_service_account(str(spec["client_email"]), str(spec["public_key"]))
    return web.json_response({"registered": spec["client_email"]})


# --- model routes ---------------------------------------------------------------------------


def _split(model_action: str) -> tuple[str, str]:
    model, _, action = model_action.rpartition(":")
    return model, action


_ACTIONS = {"generateContent", "streamGenerateContent", "embedContent", "batchEmbedContents", "predict"}


async def _answer(request: web.Request, rec: Recorded, model: str, action: str) -> web.StreamResponse:
    if action not in _ACTIONS:
        return await send(request, error_reply(404, "NOT_FOUND", f"Method not found: {action}"))
    reply = request.app[STATE].next_reply(model)
    if reply is None:
        try:
            body = rec.json() or {}
        except orjson.JSONDecodeError:
            return await send(request, error_reply(400, "INVALID_ARGUMENT", "Invalid JSON payload received."))
        reply = default_reply(action, body, model)
    return await send(request, reply)


async def ai_studio(request: web.Request) -> web.StreamResponse:
    rec = await record(request)
    denied = _ai_studio_auth(request)
    if denied is not None:
        return await send(request, denied)
    model, action = _split(request.match_info["model_action"])
    return await _answer(request, rec, model, action)


async def vertex(request: web.Request) -> web.StreamResponse:
    rec = await record(request)
    denied = _vertex_auth(request)
    if denied is not None:
        return await send(request, denied)
    model, action = _split(request.match_info["model_action"])
    return await _answer(request, rec, model, action)


def create_app(api_key: str | None = None) -> web.Application:
    app = new_state_app()
    app[AUTH] = GeminiAuth(api_key=api_key)
    for version in ("v1beta", "v1", "v1alpha"):
        app.router.add_post(f"/{version}/models/{{model_action}}", ai_studio)
        app.router.add_post(f"/{version}/tunedModels/{{model_action}}", ai_studio)
    for version in ("v1", "v1beta1"):
        prefix = f"/{version}/projects/{{project}}/locations/{{location}}"
        app.router.add_post(f"{prefix}/publishers/google/models/{{model_action}}", vertex)
        app.router.add_post(f"{prefix}/endpoints/{{model_action}}", vertex)
    app.router.add_post("/token", token_endpoint)
    app.router.add_post("/__service_account", register_service_account)
    add_control_routes(app)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18082)
    args = parser.parse_args()
    web.run_app(create_app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
