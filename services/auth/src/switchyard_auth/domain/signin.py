"""Sign-in rules that need no I/O: who a verified identity-provider token says the user is, who
is a super admin, PKCE, and where a browser may be sent back to."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SUPER_ADMIN_ROLE = "super_admin"


@dataclass(frozen=True)
class Identity:
    """A user as a verified ID token, access token or introspection answer describes them."""

    subject: str
    email: str
    email_verified: bool
    org_id: str
    name: str
    roles: frozenset[str]

    @property
    def email_domain(self) -> str:
        """The domain of a verified e-mail (an unverified one proves nothing about it)."""
        if not self.email_verified or "@" not in self.email:
            return ""
        return self.email.rsplit("@", 1)[1].lower()


def identity_of(claims: Mapping[str, Any], *, org_claim: str, roles_claim: str) -> Identity:
    """Standard claims plus the provider's organisation and project roles (Zitadel:
    ``urn:zitadel:iam:user:resourceowner:id`` and ``urn:zitadel:iam:org:project:roles``, whose
    value maps each role to the organisations granting it). Introspection answers name the
    user ``username`` where ID tokens say ``preferred_username``."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        email = ""
    roles = claims.get(roles_claim)
    return Identity(
        subject=str(claims.get("sub", "")),
        email=email.strip(),
        # Zitadel sends a boolean; some providers send the string "true".
        email_verified=claims.get("email_verified") in (True, "true"),
        org_id=str(claims.get(org_claim, "") or ""),
        name=str(claims.get("name") or claims.get("preferred_username") or claims.get("username") or ""),
        roles=frozenset(roles) if isinstance(roles, dict | list) else frozenset(),
    )


def is_super_admin(identity: Identity, super_admin_emails: frozenset[str]) -> bool:
    """A listed e-mail (verified: anyone may type any address into an unverified one), or the
    provider's ``super_admin`` project role."""
    listed = identity.email_verified and identity.email.lower() in super_admin_emails
    return listed or SUPER_ADMIN_ROLE in identity.roles


def parse_emails(value: str) -> frozenset[str]:
    return frozenset(e.strip().lower() for e in value.split(",") if e.strip())


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def safe_return_to(value: str) -> str | None:
    """A path on this gateway to send the browser to after sign-in, or None: never another
    origin (``//evil.example``, ``/\\evil.example``, ``https://...``), which would make the
    login an open redirect."""
    if not value:
        return "/ui/"
    if not value.startswith("/") or value.startswith(("//", "/\\")) or any(c in value for c in "\r\n\\"):
        return None
    return value


# Zitadel Actions v2 signs its calls like this and refuses older ones
# (zitadel/zitadel-go pkg/actions/signing.go); so do we, against replays.
ACTION_SIGNATURE_TOLERANCE_SECONDS = 300
# Events after which the user may no longer sign in or use a token of the provider.
ENDED_USER_EVENTS = frozenset({"user.removed", "user.deactivated", "user.locked"})


def action_signature_problem(header: str, body: bytes, key: str, now: float) -> str | None:
    """Why a ``ZITADEL-Signature`` (``t=<unix>,v1=<hex>[,v1=<hex>]``, each ``v1`` an
    HMAC-SHA256 with the signing key over ``"<t>.<body>"``) does not vouch for ``body``, or None."""
    parts = [p.strip().partition("=") for p in header.split(",")]
    stamps = [v for k, _, v in parts if k == "t"]
    sigs = [v for k, _, v in parts if k == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not sigs:
        return "the signature header is malformed"
    if abs(now - int(stamps[0])) > ACTION_SIGNATURE_TOLERANCE_SECONDS:
        return "the signature is too old (or from the future)"
    expected = hmac.new(key.encode(), stamps[0].encode() + b"." + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, s.lower()) for s in sigs):
        return "the signature does not match"
    return None
