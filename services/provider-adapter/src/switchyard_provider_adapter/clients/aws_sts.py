"""Temporary AWS credentials for Bedrock deployments that assume a role: STS ``AssumeRole`` /
``AssumeRoleWithWebIdentity`` (EKS IRSA), sent through the executor's ``CallContext.send`` (the
pooled HTTP client), cached until shortly before they expire."""

from __future__ import annotations

import asyncio
import hashlib
import time
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_provider_adapter.domain.errors import ProviderFailure, redact
from switchyard_provider_adapter.domain.providers.base import HttpCall
from switchyard_provider_adapter.domain.providers.bedrock.sigv4 import AwsCredentials, sign
from switchyard_provider_adapter.domain.providers.common.failures import failure

STS_VERSION = "2011-06-15"
_STS_NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"
# Temporary credentials are renewed this long before they expire, so a call signed with them
# never reaches AWS after the expiry.
REFRESH_MARGIN_S = 300.0
STS_TIMEOUT_S = 10.0

# (call, timeout seconds) → (HTTP status, headers, body)
StsSend = Callable[[HttpCall, float], Awaitable[tuple[int, Mapping[str, str], bytes]]]


def assume_role_call(
    *,
    endpoint: str,
    region: str,
    role_arn: str,
    session_name: str,
    duration_s: int,
    base: AwsCredentials | None,
    web_identity_token: str | None,
) -> HttpCall:
    """The STS query-API call (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
    ``AssumeRoleWithWebIdentity`` is unsigned: the OIDC token is the credential."""
    form = {
        "Action": "AssumeRoleWithWebIdentity" if web_identity_token else "AssumeRole",
        "Version": STS_VERSION,
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
        "DurationSeconds": str(duration_s),
    }
    if web_identity_token:
        form["WebIdentityToken"] = web_identity_token
    call = HttpCall(
        "POST",
        endpoint,
        {"content-type": "application/x-www-form-urlencoded; charset=utf-8", "accept": "text/xml"},
        urlencode(form).encode(),
    )
    if web_identity_token:
        return call
    if base is None:
        raise _auth_failure("AssumeRole needs aws_access_key_id and aws_secret_access_key (or aws_web_identity_token)")
    return sign(call, base, region=region, service="sts")


def _auth_failure(message: str, kind: error_pb2.ErrorKind = ErrorKind.ERROR_KIND_AUTHENTICATION) -> ProviderFailure:
    return failure(kind, "bedrock", message)


def _find(root: ET.Element, path: str) -> str:
    node = root.find(path)
    return (node.text or "").strip() if node is not None else ""


# STS answers come from the AWS endpoint the operator configured, and ElementTree neither
# resolves external entities nor (with expat >= 2.4.1) expands entities exponentially.
def parse_sts_credentials(body: bytes) -> AwsCredentials:
    root = ET.fromstring(body)  # noqa: S314
    creds = root.find(f".//{_STS_NS}Credentials")
    if creds is None:
        raise ValueError("STS answer has no Credentials")
    expiration = _find(creds, f"{_STS_NS}Expiration")
    expires_at = datetime.fromisoformat(expiration.replace("Z", "+00:00")).timestamp() if expiration else None
    return AwsCredentials(
        access_key_id=_find(creds, f"{_STS_NS}AccessKeyId"),
        secret_access_key=_find(creds, f"{_STS_NS}SecretAccessKey"),
        session_token=_find(creds, f"{_STS_NS}SessionToken") or None,
        expires_at=expires_at,
    )


def sts_error(status: int, body: bytes, secrets: list[str]) -> ProviderFailure:
    """An STS ``ErrorResponse`` as a typed error: access denied and invalid identities are auth
    failures of the deployment's configuration, throttling is a rate limit."""
    code, message = "", body.decode("utf-8", "replace")[:500]
    try:
        root = ET.fromstring(body)  # noqa: S314
        code = _find(root, f".//{_STS_NS}Code") or _find(root, ".//Code")
        message = _find(root, f".//{_STS_NS}Message") or _find(root, ".//Message") or message
    except ET.ParseError:
        pass
    kind = ErrorKind.ERROR_KIND_AUTHENTICATION
    if status == 429 or code == "Throttling":
        kind = ErrorKind.ERROR_KIND_RATE_LIMIT
    elif status >= 500:
        kind = ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE
    elif code == "AccessDenied":
        kind = ErrorKind.ERROR_KIND_PERMISSION_DENIED
    text = redact(f"STS {code or status}: {message}", secrets)
    return _auth_failure(f"could not assume the deployment's role: {text}", kind)


class RoleCredentials:
    """Temporary credentials per (role, session, identity), fetched once and reused until shortly
    before they expire; concurrent calls for the same role share one STS request."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._cache: dict[str, AwsCredentials] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(
        self,
        send: StsSend,
        *,
        endpoint: str,
        region: str,
        role_arn: str,
        session_name: str,
        duration_s: int,
        base: AwsCredentials | None,
        web_identity_token: str | None,
        web_identity_token_file: str | None = None,
    ) -> AwsCredentials:
        """``web_identity_token_file`` is read at each fetch: Kubernetes (EKS IRSA) rotates the
        projected service-account token in place."""
        identity = (
            web_identity_token
            or (f"file:{web_identity_token_file}" if web_identity_token_file else "")
            or (f"{base.access_key_id}:{base.secret_access_key}" if base else "")
        )
        key = "\0".join((endpoint, role_arn, session_name, hashlib.sha256(identity.encode()).hexdigest()))
        cached = self._cache.get(key)
        if cached is not None and self._fresh(cached):
            return cached
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._cache.get(key)
            if cached is not None and self._fresh(cached):
                return cached
            if web_identity_token_file and not web_identity_token:
                try:
                    web_identity_token = (await asyncio.to_thread(Path(web_identity_token_file).read_text)).strip()
                except OSError as exc:
                    raise _auth_failure(f"cannot read aws_web_identity_token_file: {exc.strerror}") from None
            call = assume_role_call(
                endpoint=endpoint,
                region=region,
                role_arn=role_arn,
                session_name=session_name,
                duration_s=duration_s,
                base=base,
                web_identity_token=web_identity_token,
            )
            status, _, body = await send(call, STS_TIMEOUT_S)
            secrets = [s for s in (web_identity_token, base.secret_access_key if base else None) if s]
            if status >= 400:
                raise sts_error(status, body, secrets)
            try:
                creds = parse_sts_credentials(body)
            except (ET.ParseError, ValueError) as exc:
                raise _auth_failure(f"unreadable STS answer: {exc}", ErrorKind.ERROR_KIND_BAD_GATEWAY) from None
            self._cache[key] = creds
            return creds

    def _fresh(self, creds: AwsCredentials) -> bool:
        return creds.expires_at is None or creds.expires_at - self._clock() > REFRESH_MARGIN_S
