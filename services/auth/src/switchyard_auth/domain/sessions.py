"""Session tokens: JWTs auth mints at sign-in and verifies on every cache miss of an edge.

Signed with an asymmetric key (ES256 for EC P-256 keys, RS256 for RSA keys) from a PEM bundle
kept in a Secret. The first key of the bundle signs; every key verifies, so a new key is rolled
out by putting it first and the old one is removed once the last token it signed has expired
(the session lifetime): nobody is logged out by a rotation. A key's ``kid`` is its RFC 7638
thumbprint, the same on every replica without naming keys by hand.

Verification accepts only the algorithm of the key the ``kid`` names, so ``alg: none``, an HS256
token (signed with the master key or with a public key as its secret) or a token of an unknown
key never verify; ``iss``, ``aud``, ``exp``, ``iat``, ``sub``, ``sid`` and ``account`` are
required. Whether the session is still live (not logged out, its user not blocked or deleted)
is the store's to say, not the token's."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

# Tokens are refused this long after `exp` at the latest, and accepted this early before `iat`:
# clocks of auth replicas differ by at most a few seconds.
LEEWAY_SECONDS = 5

_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", re.S)

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class InvalidToken(Exception):
    """A token that does not verify; the message says why, without echoing the token."""


@dataclass(frozen=True)
class SessionClaims:
    session_id: str
    user_id: str
    account_id: str
    role: str
    super_admin: bool
    issued_at: int
    expires_at: int


@dataclass(frozen=True)
class _Key:
    kid: str
    alg: str
    private: PrivateKey
    public_jwk: dict[str, Any]


def _algorithm(key: PrivateKey) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise ValueError("session signing keys must be EC P-256 (ES256) or RSA (RS256) keys")
        return "ES256"
    if key.key_size < 2048:
        raise ValueError("RSA session signing keys must have at least 2048 bits")
    return "RS256"


def _load(pem: str) -> _Key:
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("session signing keys must be EC P-256 (ES256) or RSA (RS256) keys")
    alg = _algorithm(private)
    public = private.public_key()
    jwk: dict[str, Any] = json.loads(
        ECAlgorithm.to_jwk(public) if alg == "ES256" else RSAAlgorithm.to_jwk(public)  # type: ignore[arg-type]
    )
    kid = _thumbprint(jwk)
    return _Key(kid=kid, alg=alg, private=private, public_jwk={**jwk, "kid": kid, "alg": alg, "use": "sig"})


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 over the key's required members, sorted, without whitespace."""
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


class KeyRing:
    """The session keys: the first signs, all verify."""

    def __init__(self, pem_bundle: str, *, issuer: str, audience: str) -> None:
        pems = _PEM.findall(pem_bundle)
        if not pems:
            raise ValueError("the session signing key bundle holds no PEM private key")
        self._keys = [_load(p) for p in pems]
        self._by_kid = {k.kid: k for k in self._keys}
        if len(self._by_kid) != len(self._keys):
            raise ValueError("the session signing key bundle holds the same key twice")
        self.issuer = issuer
        self.audience = audience

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk for k in self._keys]}

    def mint(self, c: SessionClaims) -> str:
        key = self._keys[0]
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": c.user_id,
            "sid": c.session_id,
            "account": c.account_id,
            "role": c.role,
            "super_admin": c.super_admin,
            "iat": c.issued_at,
            "exp": c.expires_at,
        }
        return jwt.encode(claims, key.private, algorithm=key.alg, headers={"kid": key.kid})

    def verify(self, token: str, now: float) -> SessionClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise InvalidToken("the token is not a well-formed JWT") from None
        key = self._by_kid.get(str(header.get("kid", "")))
        if key is None:
            raise InvalidToken("the token was not signed by a session key of this gateway")
        try:
            claims = jwt.decode(
                token,
                key.private.public_key(),
                algorithms=[key.alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub", "sid"], "verify_iat": True},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the session has expired; sign in again") from None
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"the token does not verify ({type(exc).__name__})") from None
        if claims["iat"] > now + LEEWAY_SECONDS:
            raise InvalidToken("the token was issued in the future")
        account, role, sid = claims.get("account"), claims.get("role", ""), claims["sid"]
        if not isinstance(account, str) or not account or not isinstance(role, str) or not isinstance(sid, str):
            raise InvalidToken("the token's claims are incomplete")
        return SessionClaims(
            session_id=sid,
            user_id=str(claims["sub"]),
            account_id=account,
            role=role,
            super_admin=claims.get("super_admin") is True,
            issued_at=int(claims["iat"]),
            expires_at=int(claims["exp"]),
        )


def looks_like_jwt(credential: str) -> bool:
    """A compact JWS (three base64url parts, the first a JSON object): never a virtual key, which
    starts with ``sk-``."""
    return credential.startswith("eyJ") and credential.count(".") == 2


def unverified_issuer(token: str) -> str:
    """The ``iss`` a token claims, to choose the verifier that then checks it (never trusted)."""
    try:
        iss = jwt.decode(token, options={"verify_signature": False}).get("iss", "")
    except jwt.InvalidTokenError:
        return ""
    return iss if isinstance(iss, str) else ""
