"""Credentials sealed to the provider adapter's key."""

from __future__ import annotations

import pytest

from switchyard_llm.model_config import parse_deployment
from switchyard_llm.sealing import (
    SealingError,
    binding_of,
    credential_binding,
    generate_keypair,
    load_private_key,
    load_public_key,
    open_sealed,
    seal,
)

BINDING = credential_binding("openai", "gpt-4o", "https://api.example.com/v1", b'{"organization":"org-1"}')


def test_seal_and_open_round_trip_with_fresh_randomness() -> None:
    private, public = generate_keypair()
    a = seal(load_public_key(public), "dep-1", "api_key", "sk-secret", binding=BINDING)
    b = seal(load_public_key(public), "dep-1", "api_key", "sk-secret", binding=BINDING)
    assert a != b and b"sk-secret" not in a
    assert open_sealed(load_private_key(private), "dep-1", "api_key", a, binding=BINDING) == "sk-secret"


def test_value_is_bound_to_its_deployment_param_binding_and_key() -> None:
    private, public = generate_keypair()
    other_private, _ = generate_keypair()
    sealed = seal(load_public_key(public), "dep-1", "api_key", "sk-secret", binding=BINDING)
    elsewhere = credential_binding("openai", "gpt-4o", "https://attacker.example/v1", b'{"organization":"org-1"}')
    for dep, param, key, binding in (
        ("dep-2", "api_key", private, BINDING),
        ("dep-1", "aws_secret_access_key", private, BINDING),
        ("dep-1", "api_key", other_private, BINDING),
        ("dep-1", "api_key", private, elsewhere),
    ):
        with pytest.raises(SealingError) as exc:
            open_sealed(load_private_key(key), dep, param, sealed, binding=binding)
        assert "sk-secret" not in str(exc.value) and f"enter {param} again" in str(exc.value)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SealingError):
        open_sealed(load_private_key(private), "dep-1", "api_key", tampered, binding=BINDING)
    with pytest.raises(SealingError, match="unknown format"):
        open_sealed(load_private_key(private), "dep-1", "api_key", b"\x09short", binding=BINDING)


def test_values_sealed_before_binding_are_refused_with_what_to_do() -> None:
    private, _ = generate_keypair()
    unbound = b"\x01" + bytes(32 + 12 + 32)
    with pytest.raises(SealingError, match=r"stored before credentials were bound.*enter api_key again"):
        open_sealed(load_private_key(private), "dep-1", "api_key", unbound, binding=BINDING)


def _binding(**params: object) -> bytes:
    entry = {"model_name": "m", "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-x", **params}}
    return binding_of(parse_deployment(entry, "test").to_proto())


def test_binding_covers_where_and_how_a_credential_is_used_not_sampling_defaults() -> None:
    base = _binding(api_base="https://api.example.com/v1")
    assert base == _binding(api_base="https://api.example.com/v1", temperature=0.2, max_tokens=100)
    assert base == _binding(api_base="https://api.example.com/v1", api_key="sk-other", rpm=10)
    for changed in (
        {"api_base": "https://attacker.example/v1"},
        {"api_base": "https://api.example.com/v1", "organization": "org-2"},
        {"api_base": "https://api.example.com/v1", "aws_sts_endpoint": "https://attacker.example"},
        {"api_base": "https://api.example.com/v1", "model": "openai/gpt-4o-mini"},
        {"api_base": "https://api.example.com/v1", "model": "azure/gpt-4o"},
    ):
        assert _binding(**changed) != base, changed


@pytest.mark.parametrize("bad", ["not base64!", "c2hvcnQ="])
def test_bad_keys_are_refused_clearly(bad: str) -> None:
    with pytest.raises(SealingError):
        load_public_key(bad)
    with pytest.raises(SealingError):
        load_private_key(bad)
