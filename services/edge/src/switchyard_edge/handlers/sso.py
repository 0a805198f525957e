"""Sign-in for browsers: ``/sso/login`` → the identity provider → ``/sso/callback`` (the session
token becomes the ``token`` cookie), ``/sso/logout`` and ``/sso/events`` (the provider's signed
webhook: users removed there are blocked here); ``/.well-known/jwks.json`` publishes
the public keys that verify session tokens. The auth service does the OIDC work (PKCE, state,
nonce, ID token verification, the user's account); these routes only carry the browser.

Cookies are HttpOnly (no script reads a session), Secure, and SameSite=Lax: sent on the
identity provider's redirect back (a top-level GET) but not on cross-site posts."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response

from switchyard.auth.v1 import sessions_pb2
from switchyard_edge.errors import GatewayError
from switchyard_edge.handlers.httpio import SESSION_COOKIE, credential_of, detail, json_response

if TYPE_CHECKING:
    from switchyard_edge.app import Edge

# The login's state, between /sso/login and /sso/callback (login CSRF: a callback must come back
# to the browser that started the login).
STATE_COOKIE = "sso_state"
STATE_COOKIE_SECONDS = 600


def register(app: FastAPI, edge: Edge) -> None:
    def base_url(request: Request) -> str:
        return edge.settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")

    def callback_url(request: Request) -> str:
        return f"{base_url(request)}/sso/callback"

    async def login(request: Request) -> Response:
        try:
            url, state = await edge.sessions.begin(callback_url(request), request.query_params.get("return_to", ""))
        except GatewayError as exc:
            return detail(exc.error.http_status or 500, exc.error.message)
        out = RedirectResponse(url, status_code=302)
        out.set_cookie(
            STATE_COOKIE,
            state,
            max_age=STATE_COOKIE_SECONDS,
            path="/sso",
            httponly=True,
            secure=True,
            samesite="lax",
        )
        return out

    async def callback(request: Request) -> Response:
        q = request.query_params
        req = sessions_pb2.CompleteLoginRequest(
            state=q.get("state", ""),
            code=q.get("code", ""),
            browser_state=request.cookies.get(STATE_COOKIE, ""),
            redirect_uri=callback_url(request),
            issuer_error=q.get("error", ""),
        )
        try:
            done = await edge.sessions.complete(req)
        except GatewayError as exc:
            out = detail(exc.error.http_status or 500, exc.error.message)
            out.delete_cookie(STATE_COOKIE, path="/sso", secure=True, httponly=True, samesite="lax")
            return out
        out = RedirectResponse(done.return_to or "/ui/", status_code=303)
        out.set_cookie(
            SESSION_COOKIE,
            done.session_token,
            max_age=max(0, done.expires_at - int(time.time())),
            path="/",
            httponly=True,
            secure=True,
            samesite="lax",
        )
        out.delete_cookie(STATE_COOKIE, path="/sso", secure=True, httponly=True, samesite="lax")
        return out

    async def logout(request: Request) -> Response:
        try:
            end = await edge.sessions.logout(credential_of(request), f"{base_url(request)}/ui/")
        except GatewayError as exc:
            return detail(exc.error.http_status or 500, exc.error.message)
        out = RedirectResponse(end or "/ui/", status_code=303)
        out.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
        return out

    async def jwks(request: Request) -> Response:
        try:
            body = await edge.sessions.jwks()
        except GatewayError as exc:
            return detail(exc.error.http_status or 500, exc.error.message)
        return Response(body, media_type="application/json", headers={"cache-control": "public, max-age=300"})

    async def provider_events(request: Request) -> Response:
        """The identity provider's webhook (a Zitadel Actions v2 target): auth checks the
        signature over the exact body, so the body is passed on unparsed."""
        limit = edge.settings.max_management_body_bytes
        body = await request.body()
        if len(body) > limit:
            return detail(413, f"request body larger than {limit} bytes")
        try:
            blocked = await edge.sessions.provider_event(body, request.headers.get("zitadel-signature", ""))
        except GatewayError as exc:
            return detail(exc.error.http_status or 500, exc.error.message)
        return json_response({"users_blocked": blocked})

    app.add_api_route("/sso/login", login, methods=["GET"], include_in_schema=False)
    app.add_api_route("/sso/events", provider_events, methods=["POST"], include_in_schema=False)
    app.add_api_route("/sso/callback", callback, methods=["GET"], include_in_schema=False)
    app.add_api_route("/sso/logout", logout, methods=["GET", "POST"], include_in_schema=False)
    app.add_api_route("/.well-known/jwks.json", jwks, methods=["GET"], include_in_schema=False)
