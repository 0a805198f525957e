"""Sign-in: tokens as credentials (session tokens auth minted, and the identity provider's access
tokens, JWT or opaque) and the SessionService (JWKS, OIDC login, logout).

``SignIn.principal_of_token`` is the only place a token becomes a principal; AuthService's
Authenticate hands it every credential that is not the master key or a virtual key, so there is
no other path (and no unverified one) from a token to a caller."""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc
import orjson

from switchyard.auth.v1 import auth_pb2, sessions_pb2, sessions_pb2_grpc, users_pb2
from switchyard.events.v1 import identity_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_auth.clients.oidc import OidcProvider, ProviderError, TokenRejected
from switchyard_auth.clients.repository import SessionFacts, Tenant
from switchyard_auth.clients.rows import BUDGETS, USERS, settings_from_row
from switchyard_auth.domain import limits, principal, signin
from switchyard_auth.domain.authz import Caller, Role
from switchyard_auth.domain.principal import Entity
from switchyard_auth.domain.sessions import InvalidToken, KeyRing, SessionClaims, looks_like_jwt, unverified_issuer
from switchyard_auth.domain.signin import Identity
from switchyard_auth.handlers import views
from switchyard_auth.handlers.common import Core, Refusal, refuse, rpc
from switchyard_auth.handlers.entities import Entities
from switchyard_auth.handlers.events import A, E
from switchyard_auth.handlers.users import NOUN as USER_NOUN
from switchyard_auth.handlers.users import user_target
from switchyard_llm.errors import make_error

log = logging.getLogger(__name__)

# A login must come back from the identity provider within this long.
LOGIN_MAX_AGE_SECONDS = 600

CredentialKind = auth_pb2.CredentialKind


def _unauthenticated(message: str) -> Refusal:
    return refuse(ErrorKind.ERROR_KIND_AUTHENTICATION, f"Authentication Error: {message}")


def _provider_down(exc: ProviderError) -> Refusal:
    return Refusal(make_error(ErrorKind.ERROR_KIND_BAD_GATEWAY, f"Sign-in is unavailable: {exc}"))


@dataclass(frozen=True)
class SignInConfig:
    session_ttl: int
    scopes: str
    audiences: list[str]
    org_claim: str
    roles_claim: str
    introspection_cache: int
    super_admin_emails: frozenset[str]
    # The provider's webhook signing key (empty: the webhook is refused).
    actions_signing_key: str = field(default="", repr=False)


def _user_entity(facts: SessionFacts) -> Entity[users_pb2.UserSettings] | None:
    if facts.user is None:
        return None
    budget = limits.of(settings_from_row(BUDGETS, facts.user_budget)) if facts.user_budget is not None else None
    return Entity(settings_from_row(USERS, facts.user), facts.user["version"], budget)


class SignIn:
    def __init__(self, core: Core, config: SignInConfig, keys: KeyRing | None, provider: OidcProvider | None) -> None:
        self._core = core
        self._config = config
        self._keys = keys
        self._provider = provider
        self._users = Entities(core, USER_NOUN, views.users, user_target)

    # --- tokens as credentials ------------------------------------------------------------

    def handles(self, credential: str) -> bool:
        """Whether a credential is a token (rather than a key): every JWT, and every other
        non-``sk-`` credential when opaque tokens are introspected."""
        if looks_like_jwt(credential):
            return True
        return self._provider is not None and self._provider.introspects and not credential.startswith("sk-")

    async def principal_of_token(self, token: str) -> auth_pb2.Principal:
        """The principal of a token, or a Refusal (AUTHENTICATION) for one that does not verify
        or whose session or user may not be used now."""
        if looks_like_jwt(token):
            issuer = unverified_issuer(token)
            if self._keys is not None and issuer == self._keys.issuer:
                return await self._session_principal(token)
            if self._provider is not None and issuer.rstrip("/") == self._provider.issuer:
                try:
                    claims = await self._provider.verify_jwt(token, self._config.audiences)
                except TokenRejected as exc:
                    raise _unauthenticated(str(exc)) from None
                except ProviderError as exc:
                    raise _provider_down(exc) from None
                return await self._provider_principal(claims, token, cache=self._core.cache_ttl)
            raise _unauthenticated("the token was not issued by this gateway or its identity provider.")
        assert self._provider is not None
        try:
            claims = await self._provider.introspect(token)
        except TokenRejected as exc:
            raise _unauthenticated(str(exc)) from None
        except ProviderError as exc:
            raise _provider_down(exc) from None
        return await self._provider_principal(claims, token, cache=self._config.introspection_cache)

    async def _session_principal(self, token: str) -> auth_pb2.Principal:
        assert self._keys is not None
        try:
            c = self._keys.verify(token, time.time())
        except InvalidToken as exc:
            raise _unauthenticated(f"{exc}.") from None
        facts = await self._core.repo.session_facts(c.session_id)
        if facts is None or facts.account_id != c.account_id:
            raise _unauthenticated("this session is not known.")
        if facts.user is not None and facts.user["user_id"] != c.user_id:
            raise _unauthenticated("this session belongs to another user.")
        user = _user_entity(facts)
        why = principal.user_refusal(facts.account_status, user, facts.revoked)
        if why is not None:
            raise refuse(ErrorKind.ERROR_KIND_AUTHENTICATION, why)
        assert user is not None
        return principal.of_user(
            c.account_id,
            c.user_id,
            user,
            kind=auth_pb2.CREDENTIAL_KIND_SESSION,
            super_admin=c.super_admin,
            session_id=c.session_id,
            expires_at=c.expires_at,
            cache_ttl=self._core.cache_ttl,
        )

    async def _provider_principal(self, claims: dict[str, Any], token: str, *, cache: int) -> auth_pb2.Principal:
        """An identity-provider access token's principal: its user (created at first sight like
        at sign-in), cached at most ``cache`` seconds and never past the token's ``exp``."""
        assert self._provider is not None
        ident = signin.identity_of(claims, org_claim=self._config.org_claim, roles_claim=self._config.roles_claim)
        if not ident.subject:
            raise _unauthenticated("the token names no subject.")
        known = await self._core.repo.user_by_sso_any(ident.subject)
        if known is not None:
            account_id, user_id = known["account_id"], known["user_id"]
        else:
            if not ident.email:
                try:
                    ident = signin.identity_of(
                        {**await self._provider.userinfo(token), **claims},
                        org_claim=self._config.org_claim,
                        roles_claim=self._config.roles_claim,
                    )
                except ProviderError as exc:
                    raise _provider_down(exc) from None
            account_id, user_id = await self._sign_in_user(ident)
        facts = await self._core.repo.user_facts(account_id, user_id)
        if facts is None:
            raise _unauthenticated("the token's account no longer exists.")
        user = _user_entity(facts)
        why = principal.user_refusal(facts.account_status, user, False)
        if why is not None:
            raise refuse(ErrorKind.ERROR_KIND_AUTHENTICATION, why)
        assert user is not None
        exp = claims.get("exp")
        expires_at = int(exp) if isinstance(exp, int | float) and exp > 0 else 0
        ttl = min(cache, self._core.cache_ttl)
        if expires_at:
            ttl = max(0, min(ttl, expires_at - int(time.time())))
        return principal.of_user(
            account_id,
            user_id,
            user,
            kind=auth_pb2.CREDENTIAL_KIND_OIDC_TOKEN,
            super_admin=signin.is_super_admin(ident, self._config.super_admin_emails),
            session_id="",
            expires_at=expires_at,
            cache_ttl=ttl,
        )

    # --- users of the identity provider ---------------------------------------------------

    async def _sign_in_user(self, ident: Identity) -> tuple[str, str]:
        """The account and user of a verified identity: the account by the provider's
        organisation, else the verified e-mail's domain, else the accounts listing the e-mail
        among their admins (a super admin with none lands in the default account); the user by
        the provider's id, else by verified e-mail, else created (an account admin by e-mail
        becomes proxy_admin). Publishes the user's CREATED or UPDATED event."""
        repo = self._core.repo
        found = await repo.account_for_identity(
            ident.org_id, ident.email_domain, ident.email if ident.email_verified else ""
        )
        if found is not None:
            account_id = found[0]
        elif signin.is_super_admin(ident, self._config.super_admin_emails):
            account_id = self._core.default_account
        else:
            raise _unauthenticated("no account of this gateway belongs to your organization or e-mail domain.")
        # Sign-in acts for the account like a super admin would; `created_by` says "sso".
        caller = Caller(account_id=account_id, role=Role.SUPER_ADMIN, user_id="sso")
        async with repo.write(Tenant(account_id)) as tx:
            row = await tx.user_by_sso(ident.subject)
            if row is None and ident.email and ident.email_verified:
                row = await tx.user_by_email(ident.email)
            if row is None:
                admin = (
                    bool(ident.email) and ident.email_verified and await repo.is_account_admin(account_id, ident.email)
                )
                settings = users_pb2.UserSettings(
                    user_email=ident.email,
                    user_alias=ident.name[:256],
                    user_role="proxy_admin" if admin else "internal_user",
                    sso_user_id=ident.subject,
                )
                row = await self._users.insert(tx, caller, "", settings)
                action = A.IDENTITY_ACTION_CREATED
            elif row["sso_user_id"] != ident.subject:
                row, _ = await self._users.update(
                    tx, caller, row["user_id"], users_pb2.UserSettings(sso_user_id=ident.subject), ["sso_user_id"]
                )
                action = A.IDENTITY_ACTION_UPDATED
            else:
                return account_id, row["user_id"]
            msg = await self._users.one(tx, row)
        self._core.events.publish([self._users.event(action, msg)])
        log.info("user signed in for the first time", extra={"account_id": account_id, "user_id": msg.user_id})
        return account_id, msg.user_id

    # --- sessions -------------------------------------------------------------------------

    async def mint(self, account_id: str, user_id: str, role: str, super_admin: bool) -> tuple[str, int]:
        assert self._keys is not None
        now = int(time.time())
        sid = uuid.uuid4().hex
        expires_at = now + self._config.session_ttl
        await self._core.repo.create_session(sid, account_id, user_id, datetime.fromtimestamp(expires_at, UTC))
        token = self._keys.mint(SessionClaims(sid, user_id, account_id, role, super_admin, now, expires_at))
        return token, expires_at

    async def revoke(self, token: str) -> bool:
        """Log a session token out: its session is revoked in the store and every edge drops it
        (IDENTITY_ENTITY_SESSION DELETED). False when the token is no session of this gateway."""
        if self._keys is None or not looks_like_jwt(token) or unverified_issuer(token) != self._keys.issuer:
            return False
        try:
            c = self._keys.verify(token, time.time())
        except InvalidToken as exc:
            raise _unauthenticated(f"{exc}.") from None
        row = await self._core.repo.revoke_session(c.session_id)
        if row is not None:
            self._core.events.publish([session_revoked(row["account_id"], c.session_id, row["user_id"])])
        return True

    # --- the OIDC login -------------------------------------------------------------------

    def _require_provider(self) -> OidcProvider:
        if self._provider is None or self._keys is None:
            raise refuse(
                ErrorKind.ERROR_KIND_BAD_REQUEST,
                "Sign-in is not configured (OIDC_ISSUER_URL and SESSION_SIGNING_KEYS on the auth service).",
            )
        return self._provider

    async def begin(self, redirect_uri: str, return_to: str) -> tuple[str, str]:
        provider = self._require_provider()
        back = signin.safe_return_to(return_to)
        if back is None:
            raise refuse(ErrorKind.ERROR_KIND_BAD_REQUEST, "'return_to' must be a path on this gateway.", "return_to")
        state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        try:
            url = await provider.authorization_url(
                state=state,
                nonce=nonce,
                code_challenge=signin.pkce_challenge(verifier),
                redirect_uri=redirect_uri,
                scope=self._config.scopes,
            )
        except ProviderError as exc:
            raise _provider_down(exc) from None
        await self._core.repo.save_login(state, verifier, nonce, redirect_uri, back)
        return url, state

    async def complete(self, req: sessions_pb2.CompleteLoginRequest) -> sessions_pb2.CompleteLoginResponse:
        provider = self._require_provider()
        if not req.state or not secrets.compare_digest(req.state, req.browser_state):
            raise _unauthenticated("this sign-in was not started in this browser; sign in again.")
        login = await self._core.repo.take_login(req.state, LOGIN_MAX_AGE_SECONDS)
        if login is None or not login["fresh"]:
            raise _unauthenticated("this sign-in has expired or was already used; sign in again.")
        if req.issuer_error:
            raise _unauthenticated(f"the identity provider refused the sign-in ({req.issuer_error[:100]}).")
        if login["redirect_uri"] != req.redirect_uri:
            raise _unauthenticated("the sign-in came back to another address than it started from.")
        try:
            tokens = await provider.exchange_code(req.code, login["code_verifier"], login["redirect_uri"])
            claims = await provider.verify_jwt(tokens["id_token"], [provider.client_id], nonce=login["nonce"])
            ident = signin.identity_of(claims, org_claim=self._config.org_claim, roles_claim=self._config.roles_claim)
            if not ident.email and isinstance(tokens.get("access_token"), str):
                # Per OIDC Core, an ID token issued with an access token may leave the profile
                # out (Zitadel does unless "User Info inside ID Token" is on): ask userinfo.
                info = await provider.userinfo(tokens["access_token"])
                if info.get("sub") == ident.subject:
                    ident = signin.identity_of(
                        {**info, **claims}, org_claim=self._config.org_claim, roles_claim=self._config.roles_claim
                    )
        except TokenRejected as exc:
            raise _unauthenticated(f"{exc}.") from None
        except ProviderError as exc:
            raise _provider_down(exc) from None
        if not ident.subject:
            raise _unauthenticated("the ID token names no subject.")
        account_id, user_id = await self._sign_in_user(ident)
        facts = await self._core.repo.user_facts(account_id, user_id)
        user = _user_entity(facts) if facts is not None else None
        why = principal.user_refusal(facts.account_status if facts else "deleted", user, False)
        if why is not None:
            raise refuse(ErrorKind.ERROR_KIND_AUTHENTICATION, why)
        assert user is not None
        super_admin = signin.is_super_admin(ident, self._config.super_admin_emails)
        token, expires_at = await self.mint(account_id, user_id, user.settings.user_role, super_admin)
        log.info("signed in", extra={"account_id": account_id, "user_id": user_id, "super_admin": super_admin})
        return sessions_pb2.CompleteLoginResponse(
            session_token=token, expires_at=expires_at, return_to=login["return_to"]
        )

    async def end_session_url(self, post_logout_redirect_uri: str) -> str:
        if self._provider is None:
            return ""
        try:
            return await self._provider.end_session_url(post_logout_redirect_uri)
        except ProviderError:
            log.warning("no end-session URL: the identity provider's discovery failed", exc_info=True)
            return ""

    # --- the provider's events -----------------------------------------------------------

    async def provider_event(self, body: bytes, signature: str) -> int:
        """Apply a webhook event of the provider once its signature verifies: a user removed,
        deactivated or locked there is blocked in every account that knows them (their sessions
        and tokens fail at once: the BLOCKED event reaches every edge). How many were blocked."""
        key = self._config.actions_signing_key
        if not key:
            raise refuse(
                ErrorKind.ERROR_KIND_BAD_REQUEST,
                "The identity provider's webhook is not configured (OIDC_ACTIONS_SIGNING_KEY on the auth service).",
            )
        why = signin.action_signature_problem(signature, body, key, time.time())
        if why is not None:
            raise _unauthenticated(f"{why}.")
        try:
            event = orjson.loads(body)
        except orjson.JSONDecodeError:
            event = None
        if not isinstance(event, dict):
            raise refuse(ErrorKind.ERROR_KIND_BAD_REQUEST, "The body is not a JSON event.")
        sub = str(event.get("aggregateID") or event.get("userID") or "")
        if event.get("event_type") not in signin.ENDED_USER_EVENTS or not sub:
            return 0
        events = []
        for known in await self._core.repo.users_by_sso(sub):
            account_id = known["account_id"]
            caller = Caller(account_id=account_id, role=Role.SUPER_ADMIN, user_id="sso")
            async with self._core.repo.write(Tenant(account_id)) as tx:
                row, fields = await self._users.update(
                    tx, caller, known["user_id"], users_pb2.UserSettings(blocked=True), ["blocked"]
                )
                events.append(self._users.changed_event(await self._users.one(tx, row), fields))
        self._core.events.publish(events)
        log.info(
            "users blocked by the identity provider", extra={"event_type": event.get("event_type"), "n": len(events)}
        )
        return len(events)

    def jwks(self) -> bytes:
        return orjson.dumps(self._keys.jwks() if self._keys is not None else {"keys": []})


def session_revoked(account_id: str, session_id: str, user_id: str) -> identity_pb2.IdentityEvent:
    event = identity_pb2.IdentityEvent(
        event_id=str(uuid.uuid4()),
        account_id=account_id,
        action=A.IDENTITY_ACTION_DELETED,
        entity=E.IDENTITY_ENTITY_SESSION,
        entity_id=session_id,
        member_user_id=user_id,
    )
    event.occurred_at.GetCurrentTime()
    return event


class SessionServicer(sessions_pb2_grpc.SessionServiceServicer):
    def __init__(self, signin_: SignIn) -> None:
        self._signin = signin_

    async def GetJwks(
        self, request: sessions_pb2.GetJwksRequest, context: grpc.aio.ServicerContext
    ) -> sessions_pb2.GetJwksResponse:
        return sessions_pb2.GetJwksResponse(jwks_json=self._signin.jwks())

    @rpc(sessions_pb2.BeginLoginResponse)
    async def BeginLogin(
        self, request: sessions_pb2.BeginLoginRequest, context: grpc.aio.ServicerContext
    ) -> sessions_pb2.BeginLoginResponse:
        url, state = await self._signin.begin(request.redirect_uri, request.return_to)
        return sessions_pb2.BeginLoginResponse(authorization_url=url, state=state)

    @rpc(sessions_pb2.CompleteLoginResponse)
    async def CompleteLogin(
        self, request: sessions_pb2.CompleteLoginRequest, context: grpc.aio.ServicerContext
    ) -> sessions_pb2.CompleteLoginResponse:
        return await self._signin.complete(request)

    @rpc(sessions_pb2.HandleProviderEventResponse)
    async def HandleProviderEvent(
        self, request: sessions_pb2.HandleProviderEventRequest, context: grpc.aio.ServicerContext
    ) -> sessions_pb2.HandleProviderEventResponse:
        blocked = await self._signin.provider_event(request.body, request.signature)
        return sessions_pb2.HandleProviderEventResponse(users_blocked=blocked)

    @rpc(sessions_pb2.LogoutResponse)
    async def Logout(
        self, request: sessions_pb2.LogoutRequest, context: grpc.aio.ServicerContext
    ) -> sessions_pb2.LogoutResponse:
        if not await self._signin.revoke(request.credential.strip()):
            return sessions_pb2.LogoutResponse()
        return sessions_pb2.LogoutResponse(
            end_session_url=await self._signin.end_session_url(request.post_logout_redirect_uri)
        )
