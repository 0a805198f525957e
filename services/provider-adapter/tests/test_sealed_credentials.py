"""Credentials go only where their deployment points: the adapter calls config.yaml deployments
as its own copy of the file defines them, opens a runtime deployment's sealed credentials only
for the definition they were sealed with, refuses os.environ/ outside config.yaml and holds
runtime deployments to the operator's allow-lists. A second fake server stands for the host an
attacker would point a deployment at; it must never receive anything."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from harness import Adapter, adapter, openai_upstream

from switchyard.llm.v1 import deployment_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.provider.v1 import provider_pb2
from switchyard_fakes import bedrock_server as fake_bedrock
from switchyard_fakes.base import Running
from switchyard_llm.model_config import parse_deployment
from switchyard_llm.openai_codec.chat import chat_request_from_json
from switchyard_llm.sealing import binding_of, generate_keypair, load_public_key, seal
from switchyard_provider_adapter.domain.allowlists import Allowlists

PRIVATE, PUBLIC = generate_keypair()
SECRET = "sk-runtime-upstream-0123456789"
CONFIG_KEY = "sk-config-upstream-0123456789"
ENV_SECRET = "adapter-environment-secret-42"


@pytest.fixture
async def upstream() -> AsyncIterator[Running]:
    async with Running(openai_upstream()) as running:
        yield running


@pytest.fixture
async def elsewhere() -> AsyncIterator[Running]:
    """The host a changed deployment would send its credential to."""
    async with Running(openai_upstream()) as running:
        yield running


def runtime(params: dict[str, Any], dep_id: str = "rt-1", name: str = "rt") -> deployment_pb2.Deployment:
    """A deployment added with /model/new, as the router hands it to the adapter: its
    credentials sealed by the edge to the adapter's key, bound to the definition."""
    cfg = parse_deployment({"model_name": name, "litellm_params": params, "model_info": {"id": dep_id}}, "test")
    dep = cfg.to_proto()
    for key, value in cfg.secret_params().items():
        dep.sealed_credentials[key] = seal(load_public_key(PUBLIC), dep_id, key, str(value), binding=binding_of(dep))
    return dep


async def chat(ad: Adapter, dep: deployment_pb2.Deployment) -> provider_pb2.ChatResponse:
    req = chat_request_from_json({"model": dep.model_group, "messages": [{"role": "user", "content": "hi"}]})
    return await ad.stub.Chat(provider_pb2.ChatRequest(deployment=dep, request=req, call_id="t"), timeout=30)


def started(tmp_path: Path, model_list: list[dict[str, Any]] | None = None, **settings: Any) -> Any:
    return adapter(
        tmp_path,
        model_list or [],
        env={"SY_TEST_ADAPTER_SECRET": ENV_SECRET},
        provider_credentials_private_key=PRIVATE,
        **settings,
    )


def _openai(base: Running, **extra: Any) -> dict[str, Any]:
    return {"model": "openai/gpt-4o-mini", "api_base": f"{base.url}/v1", "api_key": SECRET, **extra}


# --- runtime deployments: credentials bound to their definition ------------------------------


async def test_runtime_credentials_reach_the_host_they_were_sealed_for(upstream: Running, tmp_path: Path) -> None:
    dep = runtime(_openai(upstream, temperature=0.5))
    async with started(tmp_path) as ad:
        resp = await chat(ad, dep)
        assert resp.WhichOneof("result") == "completion", resp.error
        assert upstream.state.last.header("authorization") == f"Bearer {SECRET}"
        # A sampling default is no part of where the credential goes: changing it keeps them usable.
        tuned = deployment_pb2.Deployment()
        tuned.CopyFrom(dep)
        tuned.params_json = orjson.dumps({"temperature": 0.1})
        resp = await chat(ad, tuned)
        assert resp.WhichOneof("result") == "completion", resp.error


def _api_base(dep: deployment_pb2.Deployment, elsewhere: Running) -> None:
    dep.api_base = f"{elsewhere.url}/v1"


def _organization(dep: deployment_pb2.Deployment, elsewhere: Running) -> None:
    dep.params_json = orjson.dumps({"organization": "org-attacker"})


def _model(dep: deployment_pb2.Deployment, elsewhere: Running) -> None:
    dep.model = "gpt-4o"


def _provider(dep: deployment_pb2.Deployment, elsewhere: Running) -> None:
    dep.provider = "openai_like"
    dep.api_base = f"{elsewhere.url}/v1"


@pytest.mark.parametrize("change", [_api_base, _organization, _model, _provider])
async def test_changed_definition_cannot_open_the_credentials(
    change: Callable[[deployment_pb2.Deployment, Running], None],
    upstream: Running,
    elsewhere: Running,
    tmp_path: Path,
) -> None:
    """What /model/update (or anyone able to change the stored row, or to call the adapter)
    changes after the credential was entered: the credential does not open and goes nowhere."""
    dep = runtime(_openai(upstream))
    change(dep, elsewhere)
    async with started(tmp_path) as ad:
        resp = await chat(ad, dep)
    err = resp.error
    assert (err.kind, err.http_status) == (ErrorKind.ERROR_KIND_AUTHENTICATION, 401)
    assert "enter api_key again with /model/update" in err.message and SECRET not in err.message
    assert not elsewhere.state.requests and not upstream.state.requests


async def test_values_sealed_before_binding_are_refused_not_used(elsewhere: Running, tmp_path: Path) -> None:
    dep = runtime({"model": "openai/gpt-4o-mini", "api_base": f"{elsewhere.url}/v1"})
    dep.sealed_credentials["api_key"] = b"\x01" + bytes(32 + 12 + 40)
    async with started(tmp_path) as ad:
        resp = await chat(ad, dep)
    assert resp.error.kind == ErrorKind.ERROR_KIND_AUTHENTICATION
    assert "stored before credentials were bound" in resp.error.message
    assert not elsewhere.state.requests


def _derived(wildcard: deployment_pb2.Deployment, model: str) -> deployment_pb2.Deployment:
    """What the router's registry makes of a wildcard deployment for a requested model."""
    dep = deployment_pb2.Deployment()
    dep.CopyFrom(wildcard)
    dep.model_group = f"team/{model}"
    dep.id = f"{wildcard.id}:{model}"
    dep.model = model
    dep.wildcard_origin.id = wildcard.id
    dep.wildcard_origin.provider = wildcard.provider
    dep.wildcard_origin.model = wildcard.model
    return dep


async def test_wildcard_runtime_deployment_uses_its_credentials_where_it_points(
    upstream: Running, elsewhere: Running, tmp_path: Path
) -> None:
    wildcard = runtime({**_openai(upstream), "model": "openai/*"}, dep_id="rt-wild", name="team/*")
    async with started(tmp_path) as ad:
        resp = await chat(ad, _derived(wildcard, "gpt-4o"))
        assert resp.WhichOneof("result") == "completion", resp.error
        assert upstream.state.last.json()["model"] == "gpt-4o"
        assert upstream.state.last.header("authorization") == f"Bearer {SECRET}"
        moved = _derived(wildcard, "gpt-4o")
        moved.api_base = f"{elsewhere.url}/v1"
        resp = await chat(ad, moved)
        assert resp.error.kind == ErrorKind.ERROR_KIND_AUTHENTICATION
        # Claiming the wildcard's credentials for another provider does not work either.
        other = _derived(wildcard, "gpt-4o")
        other.provider = "openai_like"
        resp = await chat(ad, other)
        assert resp.error.kind == ErrorKind.ERROR_KIND_BAD_REQUEST
    assert not elsewhere.state.requests


# --- os.environ/ is config.yaml's alone ------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "params"),
    [
        ("organization", {"organization": "os.environ/SY_TEST_ADAPTER_SECRET"}),
        ("api_key", {"api_key": "os.environ/SY_TEST_ADAPTER_SECRET"}),
        ("api_base", {"api_base": "os.environ/SY_TEST_ADAPTER_SECRET"}),
    ],
)
async def test_runtime_deployment_may_not_read_the_adapter_environment(
    field: str, params: dict[str, Any], elsewhere: Running, tmp_path: Path
) -> None:
    dep = runtime({"model": "openai/gpt-4o-mini", "api_base": f"{elsewhere.url}/v1", **params})
    async with started(tmp_path) as ad:
        resp = await chat(ad, dep)
    err = resp.error
    assert (err.kind, err.http_status, err.param) == (ErrorKind.ERROR_KIND_BAD_REQUEST, 400, field)
    assert f"{field}: os.environ/ references are resolved only for deployments in" in err.message
    assert ENV_SECRET not in err.message
    assert not elsewhere.state.requests


# --- config.yaml deployments: the adapter's own copy -----------------------------------------


async def test_config_deployment_is_called_as_configured_whatever_the_caller_sends(
    upstream: Running, elsewhere: Running, tmp_path: Path
) -> None:
    params = {
        "model": "openai/gpt-4o-mini",
        "api_base": f"{upstream.url}/v1",
        "api_key": "os.environ/SY_TEST_ADAPTER_SECRET",
        "organization": "org-configured",
    }
    async with started(tmp_path, [{"model_name": "cfg", "litellm_params": params}]) as ad:
        sent = ad.deployment("cfg")
        sent.api_base = f"{elsewhere.url}/v1"
        sent.provider = "openai_like"
        sent.model = "gpt-4o"
        sent.params_json = orjson.dumps({"organization": "org-attacker"})
        resp = await chat(ad, sent)
    assert resp.WhichOneof("result") == "completion", resp.error
    got = upstream.state.last
    assert got.header("authorization") == f"Bearer {ENV_SECRET}"
    assert got.header("openai-organization") == "org-configured" and got.json()["model"] == "gpt-4o-mini"
    assert not elsewhere.state.requests


async def test_config_wildcard_deployment_serves_requested_models_with_its_credentials(
    upstream: Running, elsewhere: Running, tmp_path: Path
) -> None:
    entry = {
        "model_name": "team/*",
        "litellm_params": {"model": "openai/*", "api_base": f"{upstream.url}/v1", "api_key": CONFIG_KEY},
        "model_info": {"id": "wild"},
    }
    async with started(tmp_path, [entry]) as ad:
        derived = _derived(ad.deployment("team/*"), "gpt-4o")
        derived.api_base = f"{elsewhere.url}/v1"
        resp = await chat(ad, derived)
    assert resp.WhichOneof("result") == "completion", resp.error
    assert upstream.state.last.header("authorization") == f"Bearer {CONFIG_KEY}"
    assert upstream.state.last.json()["model"] == "gpt-4o"
    assert not elsewhere.state.requests


# --- allow-lists for runtime deployments ------------------------------------------------------


def _bedrock(base: Running, **extra: Any) -> dict[str, Any]:
    return {
        "model": "bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0",
        "api_base": base.url,
        "aws_region_name": "us-east-1",
        "aws_role_name": fake_bedrock.ROLE_ARN,
        **extra,
    }


@pytest.mark.parametrize(
    ("field", "extra"),
    [
        ("aws_sts_endpoint", {"aws_web_identity_token": "runtime-token", "aws_sts_endpoint": "ELSEWHERE"}),
        ("aws_web_identity_token_file", {"aws_web_identity_token_file": "TOKEN_FILE"}),
        ("aws_web_identity_token_file", {"aws_web_identity_token_file": "/var/run/secrets/../../etc/passwd"}),
        ("vertex_credentials", {"model": "vertex_ai/gemini-2.5-pro", "vertex_credentials": "/etc/switchyard/sa.json"}),
        ("aws_region_name", {"aws_region_name": "attacker.example/#", "aws_web_identity_token": "runtime-token"}),
    ],
)
async def test_runtime_deployment_is_held_to_the_allow_lists(
    field: str, extra: dict[str, Any], elsewhere: Running, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("the pod's service-account token")
    values = {k: {"ELSEWHERE": elsewhere.url, "TOKEN_FILE": str(token_file)}.get(v, v) for k, v in extra.items()}
    dep = runtime(_bedrock(elsewhere, **values))
    async with started(tmp_path) as ad:
        resp = await chat(ad, dep)
    err = resp.error
    assert (err.kind, err.http_status, err.param) == (ErrorKind.ERROR_KIND_BAD_REQUEST, 400, field)
    assert field in err.message
    assert not elsewhere.state.requests


async def test_allowed_sts_endpoint_and_token_file_work_for_runtime_deployments(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(fake_bedrock.WEB_IDENTITY_TOKEN)
    async with Running(fake_bedrock.create_app()) as fake:
        dep = runtime(_bedrock(fake, aws_web_identity_token_file=str(token_file), aws_sts_endpoint=fake.url))
        async with started(
            tmp_path, allowed_aws_sts_endpoints=[fake.url], allowed_web_identity_token_files=[str(token_file)]
        ) as ad:
            resp = await chat(ad, dep)
        assert resp.WhichOneof("result") == "completion", resp.error
        assert fake.state.requests[0].path == "/" and b"AssumeRoleWithWebIdentity" in fake.state.requests[0].body


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://sts.amazonaws.com", True),
        ("https://sts.us-east-1.amazonaws.com/", True),
        ("https://sts-fips.us-gov-west-1.amazonaws.com", True),
        ("https://sts.cn-north-1.amazonaws.com.cn", True),
        ("https://sts.internal.example", True),  # listed by the operator
        ("http://sts.us-east-1.amazonaws.com", False),
        ("https://sts.us-east-1.amazonaws.com.attacker.example", False),
        ("https://sts.amazonaws.com@attacker.example", False),
        ("https://attacker.example/sts.amazonaws.com", False),
        ("https://sts.us-east-1.amazonaws.com:8443", False),
        ("https://sts.amazonaws.com/?next=https://attacker.example", False),
    ],
)
def test_sts_endpoints_allowed(url: str, allowed: bool) -> None:
    assert Allowlists.build(aws_sts_endpoints=["https://sts.internal.example/"]).sts_endpoint_allowed(url) is allowed
