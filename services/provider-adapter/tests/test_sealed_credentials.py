"""Credentials of runtime deployments: opened from the sealed values in the Deployment proto."""

from __future__ import annotations

import pytest

from switchyard.llm.v1 import deployment_pb2
from switchyard_common.model_config import parse_config
from switchyard_common.sealing import generate_keypair, load_public_key, seal
from switchyard_provider_adapter.clients.credentials import CredentialStore
from switchyard_provider_adapter.clients.sealed import SealedCredentials

CONFIG = parse_config(
    {
        "model_list": [
            {
                "model_name": "cfg",
                "litellm_params": {"model": "openai/x", "api_key": "sk-config"},
                "model_info": {"id": "cfg-1"},
            }
        ]
    }
)


def runtime_dep(public: str, dep_id: str = "rt-1", **secrets: str) -> deployment_pb2.Deployment:
    dep = deployment_pb2.Deployment(id=dep_id, model_group="rt", provider="openai", model="x")
    for name, value in secrets.items():
        dep.sealed_credentials[name] = seal(load_public_key(public), dep_id, name, value)
    return dep


def test_runtime_credentials_are_opened_and_config_ones_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    private, public = generate_keypair()
    monkeypatch.setenv("SY_TEST_RUNTIME_KEY", "sk-from-env")
    store = CredentialStore(CONFIG, SealedCredentials(private))
    dep = runtime_dep(public, api_key="sk-runtime", api_token="os.environ/SY_TEST_RUNTIME_KEY")
    assert store.problem_for(dep) is None
    assert dict(store.get("rt-1")) == {"api_key": "sk-runtime", "api_token": "sk-from-env"}
    cfg_dep = deployment_pb2.Deployment(id="cfg-1")
    assert store.problem_for(cfg_dep) is None and store.get("cfg-1") == {"api_key": "sk-config"}


def test_rotated_credentials_replace_the_opened_ones() -> None:
    private, public = generate_keypair()
    store = CredentialStore(CONFIG, SealedCredentials(private))
    store.problem_for(runtime_dep(public, api_key="old"))
    store.problem_for(runtime_dep(public, api_key="new"))
    assert store.get("rt-1")["api_key"] == "new"


def test_missing_key_or_foreign_ciphertext_is_a_clear_problem() -> None:
    _, public = generate_keypair()
    other_private, _ = generate_keypair()
    dep = runtime_dep(public, api_key="sk-runtime")
    no_key = CredentialStore(CONFIG).problem_for(dep)
    assert no_key is not None and "PROVIDER_CREDENTIALS_PRIVATE_KEY" in no_key
    wrong = CredentialStore(CONFIG, SealedCredentials(other_private))
    problem = wrong.problem_for(dep)
    assert problem is not None and "does not open" in problem and "sk-runtime" not in problem
    assert wrong.get("rt-1") == {}
    # A value sealed for another deployment does not open for this one.
    private, public2 = generate_keypair()
    moved = runtime_dep(public2, "rt-1", api_key="sk")
    moved.id = "rt-2"
    assert CredentialStore(CONFIG, SealedCredentials(private)).problem_for(moved) is not None
