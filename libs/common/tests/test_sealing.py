"""Credentials sealed to the provider adapter's key."""

from __future__ import annotations

import pytest

from switchyard_common.sealing import (
    SealingError,
    generate_keypair,
    load_private_key,
    load_public_key,
    open_sealed,
    seal,
)


def test_seal_and_open_round_trip_with_fresh_randomness() -> None:
    private, public = generate_keypair()
    a = seal(load_public_key(public), "dep-1", "api_key", "sk-secret")
    b = seal(load_public_key(public), "dep-1", "api_key", "sk-secret")
    assert a != b and b"sk-secret" not in a
    assert open_sealed(load_private_key(private), "dep-1", "api_key", a) == "sk-secret"


def test_value_is_bound_to_its_deployment_and_param_and_key() -> None:
    private, public = generate_keypair()
    other_private, _ = generate_keypair()
    sealed = seal(load_public_key(public), "dep-1", "api_key", "sk-secret")
    for dep, param, key in (
        ("dep-2", "api_key", private),
        ("dep-1", "aws_secret_access_key", private),
        ("dep-1", "api_key", other_private),
    ):
        with pytest.raises(SealingError) as exc:
            open_sealed(load_private_key(key), dep, param, sealed)
        assert "sk-secret" not in str(exc.value)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SealingError):
        open_sealed(load_private_key(private), "dep-1", "api_key", tampered)
    with pytest.raises(SealingError, match="unknown format"):
        open_sealed(load_private_key(private), "dep-1", "api_key", b"\x09short")


@pytest.mark.parametrize("bad", ["not base64!", "c2hvcnQ="])
def test_bad_keys_are_refused_clearly(bad: str) -> None:
    with pytest.raises(SealingError):
        load_public_key(bad)
    with pytest.raises(SealingError):
        load_private_key(bad)
