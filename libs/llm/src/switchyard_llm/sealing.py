"""Provider credentials sealed to the provider adapter's public key.

Credentials of deployments added at runtime (``/model/new``) are sealed by the edge the moment
they arrive, stored and passed around (router, PostgreSQL, plans) only as ciphertext, and opened
by the provider adapter, the one service holding the private key. The scheme is an ECIES-style
box: an ephemeral X25519 key agreement with the adapter's static key, HKDF-SHA256, AES-256-GCM.
The associated data binds each value to its deployment id, its parameter name and the
deployment's binding (``credential_binding``: a digest of provider, model, api_base and the
parameters that steer where and how the credential is used). A sealed value copied to another
deployment or parameter, or left on a deployment whose api_base (STS endpoint, region, ...) was
changed after it was sealed, does not open: whoever can change a deployment's definition still
cannot send its credential anywhere the admin who entered it did not.

Wire format: ``version (1 byte) || ephemeral public key (32) || nonce (12) || ciphertext+tag``.
Version 1 values, sealed before credentials were bound, are refused with a message asking for
the credential to be entered again (opening them would let a changed api_base use them)."""

from __future__ import annotations

import base64
import hashlib
import os

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from switchyard.llm.v1 import deployment_pb2

_VERSION = 2
_UNBOUND_VERSION = 1
_INFO = b"switchyard sealed credential v1"
_RAW = serialization.Encoding.Raw

# Deployment params that only set defaults of the request body: changing them sends the
# credential nowhere new, so they stay out of the binding (an admin may tune them without
# entering the credential again). Every other param is bound, including ones added later.
UNBOUND_PARAMS = frozenset(
    {
        "temperature",
        "top_p",
        "top_k",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "seed",
        "frequency_penalty",
        "presence_penalty",
        "n",
        "reasoning_effort",
        "logprobs",
        "top_logprobs",
    }
)


class SealingError(ValueError):
    """A key or sealed value that cannot be used; the message never contains secret material."""


def credential_binding(provider: str, model: str, api_base: str, params_json: bytes) -> bytes:
    """The digest sealed credentials are bound to: the deployment's provider, model and api_base
    and its non-secret params (``Deployment.params_json``) except ``UNBOUND_PARAMS``. The edge
    computes it from the deployment as stored, the provider adapter from the deployment it is
    about to call; any difference and the credentials do not open."""
    params = orjson.loads(params_json) if params_json else {}
    if not isinstance(params, dict):
        raise SealingError("deployment params must be a JSON object")
    bound = {k: v for k, v in params.items() if k not in UNBOUND_PARAMS}
    blob = orjson.dumps(
        {"provider": provider, "model": model, "api_base": api_base, "params": bound}, option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(blob).digest()


def binding_of(dep: deployment_pb2.Deployment) -> bytes:
    """``credential_binding`` of a deployment as defined (not one derived from a wildcard)."""
    return credential_binding(dep.provider, dep.model, dep.api_base, dep.params_json)


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(_RAW, serialization.PublicFormat.Raw)


def _derive(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient, info=_INFO).derive(shared)


def _aad(deployment_id: str, param: str, binding: bytes) -> bytes:
    return f"{deployment_id}\x00{param}\x00".encode() + binding


def generate_keypair() -> tuple[str, str]:
    """(private, public) as base64 of the raw 32-byte keys."""
    private = X25519PrivateKey.generate()
    raw_private = private.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return base64.b64encode(raw_private).decode(), base64.b64encode(_raw_public(private.public_key())).decode()


def _decode_key(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (ValueError, TypeError):
        raise SealingError(f"{what} is not valid base64") from None
    if len(raw) != 32:
        raise SealingError(f"{what} must be 32 bytes (base64 of a raw X25519 key)")
    return raw


def load_public_key(text: str) -> X25519PublicKey:
    return X25519PublicKey.from_public_bytes(_decode_key(text, "the credentials public key"))


def load_private_key(text: str) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(_decode_key(text, "the credentials private key"))


def seal(public_key: X25519PublicKey, deployment_id: str, param: str, value: str, *, binding: bytes) -> bytes:
    ephemeral = X25519PrivateKey.generate()
    eph_raw = _raw_public(ephemeral.public_key())
    key = _derive(ephemeral.exchange(public_key), eph_raw, _raw_public(public_key))
    nonce = os.urandom(12)
    aad = _aad(deployment_id, param, binding)
    return bytes([_VERSION]) + eph_raw + nonce + AESGCM(key).encrypt(nonce, value.encode(), aad)


def open_sealed(private_key: X25519PrivateKey, deployment_id: str, param: str, sealed: bytes, *, binding: bytes) -> str:
    if sealed[:1] == bytes([_UNBOUND_VERSION]):
        raise SealingError(
            f"sealed {param} of deployment {deployment_id!r} was stored before credentials were bound to "
            f"their deployment's api_base and parameters; enter {param} again with /model/update"
        )
    if len(sealed) < 1 + 32 + 12 + 16 or sealed[0] != _VERSION:
        raise SealingError(f"sealed {param} of deployment {deployment_id!r} has an unknown format")
    eph_raw, nonce, body = sealed[1:33], sealed[33:45], sealed[45:]
    try:
        shared = private_key.exchange(X25519PublicKey.from_public_bytes(eph_raw))
        key = _derive(shared, eph_raw, _raw_public(private_key.public_key()))
        return AESGCM(key).decrypt(nonce, body, _aad(deployment_id, param, binding)).decode()
    except (InvalidTag, ValueError):
        raise SealingError(
            f"sealed {param} of deployment {deployment_id!r} does not open with this adapter's key for the "
            "deployment as it is now: it was sealed for another deployment, or the deployment's provider, "
            f"model, api_base or parameters changed since; enter {param} again with /model/update"
        ) from None
