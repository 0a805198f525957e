"""Provider credentials sealed to the provider adapter's public key.

Credentials of deployments added at runtime (``/model/new``) are sealed by the edge the moment
they arrive, stored and passed around (router, PostgreSQL, plans) only as ciphertext, and opened
by the provider adapter, the one service holding the private key. The scheme is an ECIES-style
box: an ephemeral X25519 key agreement with the adapter's static key, HKDF-SHA256, AES-256-GCM.
The associated data binds each value to its deployment id and parameter name, so a sealed
value copied to another deployment or parameter does not open.

Wire format: ``version (1 byte) || ephemeral public key (32) || nonce (12) || ciphertext+tag``."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = 1
_INFO = b"switchyard sealed credential v1"
_RAW = serialization.Encoding.Raw


class SealingError(ValueError):
    """A key or sealed value that cannot be used; the message never contains secret material."""


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(_RAW, serialization.PublicFormat.Raw)


def _derive(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient, info=_INFO).derive(shared)


def _aad(deployment_id: str, param: str) -> bytes:
    return f"{deployment_id}\x00{param}".encode()


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


def seal(public_key: X25519PublicKey, deployment_id: str, param: str, value: str) -> bytes:
    ephemeral = X25519PrivateKey.generate()
    eph_raw = _raw_public(ephemeral.public_key())
    key = _derive(ephemeral.exchange(public_key), eph_raw, _raw_public(public_key))
    nonce = os.urandom(12)
    return bytes([_VERSION]) + eph_raw + nonce + AESGCM(key).encrypt(nonce, value.encode(), _aad(deployment_id, param))


def open_sealed(private_key: X25519PrivateKey, deployment_id: str, param: str, sealed: bytes) -> str:
    if len(sealed) < 1 + 32 + 12 + 16 or sealed[0] != _VERSION:
        raise SealingError(f"sealed {param} of deployment {deployment_id!r} has an unknown format")
    eph_raw, nonce, body = sealed[1:33], sealed[33:45], sealed[45:]
    try:
        shared = private_key.exchange(X25519PublicKey.from_public_bytes(eph_raw))
        key = _derive(shared, eph_raw, _raw_public(private_key.public_key()))
        return AESGCM(key).decrypt(nonce, body, _aad(deployment_id, param)).decode()
    except (InvalidTag, ValueError):
        raise SealingError(
            f"sealed {param} of deployment {deployment_id!r} does not open with this adapter's key"
        ) from None
