"""OAuth2 access tokens for Google credentials (Vertex AI), cached until shortly before expiry.

The exchange is done here with aiohttp and google-auth's own signer rather than google-auth's
``Credentials.refresh``: that method is synchronous (it would need a worker thread plus the
`requests` package, and cannot be cancelled with the call), while the exchange itself is one
form POST (RFC 7523 JWT-bearer grant for service accounts, RFC 6749 refresh-token grant for
authorized-user credentials). google-auth still parses the credential file, loads the private
key and signs the assertion, so no key handling is written here."""

from __future__ import annotations

import ast
import asyncio
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from google.auth import crypt, jwt

from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_llm.errors import make_error
from switchyard_provider_adapter.domain.errors import ProviderFailure, connection_error, redact, timeout_error
from switchyard_provider_adapter.domain.providers.common.failures import auth_failure

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# A token is renewed this long before it expires (google-auth uses a similar margin), so a
# call never starts with a token that lapses on the way.
REFRESH_MARGIN_SECONDS = 300.0
ASSERTION_LIFETIME_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str
    expires_at: float
    project_id: str = ""


@dataclass(slots=True)
class _Credentials:
    kind: str
    info: dict[str, Any]
    signer: crypt.Signer | None
    project_id: str
    token_uri: str


class GoogleTokenSource:
    def __init__(self, *, timeout_seconds: float = 10.0, margin_seconds: float = REFRESH_MARGIN_SECONDS) -> None:
        self._timeout = timeout_seconds
        self._margin = margin_seconds
        self._tokens: dict[tuple[str, tuple[str, ...]], AccessToken] = {}
        self._parsed: dict[str, _Credentials] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @staticmethod
    def _digest(credentials: str) -> str:
        return hashlib.sha256(credentials.encode()).hexdigest()

    def _fresh(self, key: tuple[str, tuple[str, ...]]) -> AccessToken | None:
        cached = self._tokens.get(key)
        if cached is not None and cached.expires_at - time.time() > self._margin:
            return cached
        return None

    async def token(self, provider: str, credentials: str, scopes: tuple[str, ...]) -> AccessToken:
        key = (self._digest(credentials), scopes)
        cached = self._fresh(key)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(key[0], asyncio.Lock())
        async with lock:
            # One exchange per credential at a time: concurrent calls wait for it and share it.
            cached = self._fresh(key)
            if cached is not None:
                return cached
            creds = self._parse(provider, credentials, key[0])
            token = await self._exchange(provider, creds, scopes, credentials)
            self._tokens[key] = token
            return token

    def invalidate(self, credentials: str) -> None:
        digest = self._digest(credentials)
        for key in [k for k in self._tokens if k[0] == digest]:
            del self._tokens[key]

    # --- credentials --------------------------------------------------------------------
    def _parse(self, provider: str, credentials: str, digest: str) -> _Credentials:
        parsed = self._parsed.get(digest)
        if parsed is not None:
            return parsed
        text = credentials.strip()
        if not text.startswith("{"):
            # LiteLLM also accepts a path to the credential file.
            try:
                text = Path(text).read_text()
            except OSError as exc:
                raise auth_failure(provider, f"vertex_credentials file cannot be read ({type(exc).__name__})") from None
        try:
            info = orjson.loads(text)
        except orjson.JSONDecodeError:
            info = _python_literal(text)
            if info is None:
                raise auth_failure(provider, "vertex_credentials is not valid JSON") from None
        if not isinstance(info, dict):
            raise auth_failure(provider, "vertex_credentials must be a JSON object")
        kind = str(info.get("type") or "")
        signer: crypt.Signer | None = None
        if kind == "service_account":
            missing = [k for k in ("client_email", "private_key") if not info.get(k)]
            if missing:
                raise auth_failure(provider, f"service-account credentials lack {', '.join(missing)}")
            try:
                signer = crypt.RSASigner.from_service_account_info(info)
            except (ValueError, TypeError):
                raise auth_failure(provider, "the service account's private_key cannot be loaded") from None
        elif kind == "authorized_user":
            missing = [k for k in ("client_id", "client_secret", "refresh_token") if not info.get(k)]
            if missing:
                raise auth_failure(provider, f"authorized-user credentials lack {', '.join(missing)}")
        else:
            raise auth_failure(
                provider, f"vertex_credentials of type '{kind}' are not supported (service_account, authorized_user)"
            )
        parsed = _Credentials(
            kind=kind,
            info=info,
            signer=signer,
            project_id=str(info.get("project_id") or info.get("quota_project_id") or ""),
            token_uri=str(info.get("token_uri") or GOOGLE_TOKEN_URI),
        )
        self._parsed[digest] = parsed
        return parsed

    def _form(self, creds: _Credentials, scopes: tuple[str, ...]) -> dict[str, str]:
        if creds.kind == "service_account":
            assert creds.signer is not None
            issued = int(time.time())
            payload = {
                "iss": creds.info["client_email"],
                "aud": creds.token_uri,
                "scope": " ".join(scopes),
                "iat": issued,
                "exp": issued + ASSERTION_LIFETIME_SECONDS,
            }
            assertion = jwt.encode(creds.signer, payload)
            return {"grant_type": JWT_BEARER, "assertion": assertion.decode()}
        return {
            "grant_type": "refresh_token",
            "client_id": str(creds.info["client_id"]),
            "client_secret": str(creds.info["client_secret"]),
            "refresh_token": str(creds.info["refresh_token"]),
        }

    async def _exchange(self, provider: str, creds: _Credentials, scopes: tuple[str, ...], raw: str) -> AccessToken:
        form = self._form(creds, scopes)
        secrets = [raw, *(v for v in form.values())]
        started = time.time()
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout)) as session,
                session.post(creds.token_uri, data=form, headers={"accept": "application/json"}) as resp,
            ):
                body = await resp.read()
                status = resp.status
        except TimeoutError:
            raise ProviderFailure(timeout_error(provider, self._timeout, "access token request")) from None
        except aiohttp.ClientError as exc:
            raise ProviderFailure(connection_error(provider, exc, secrets)) from None
        try:
            data = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            data = {}
        if status >= 400 or not isinstance(data, dict) or not data.get("access_token"):
            reason = ""
            if isinstance(data, dict):
                reason = ": ".join(str(data[k]) for k in ("error", "error_description") if data.get(k))
            reason = redact(reason or f"HTTP {status}", secrets)
            kind = (
                ErrorKind.ERROR_KIND_AUTHENTICATION if 400 <= status < 500 else ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE
            )
            raise ProviderFailure(
                make_error(kind, f"{provider}: the token endpoint refused the credentials: {reason}", provider=provider)
            )
        lifetime = float(data.get("expires_in") or 3600)
        return AccessToken(str(data["access_token"]), started + lifetime, creds.project_id)


def _python_literal(text: str) -> Any:
    """A credential written in config.yaml as a YAML mapping reaches the credential store as the
    mapping's Python repr; literal_eval reads it back (it evaluates literals only)."""
    if not text.startswith("{"):
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
